"""Shared fixtures: where the shared third-party data lives.

Outside CI a missing prerequisite (the shared data folder, Debian chromium) skips the tests
that need it, with the reason printed (`-rs`). In CI (`CI` set, as `.ci/run` and every CI
service set it) it fails them instead: a green run there means every test ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose prerequisite is missing; in CI, fail it."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} (CI must run every test)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        skip_or_fail(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_warcs(shared_data: Path) -> list[Path]:
    files = sorted(p for p in (shared_data / "warc").rglob("*") if p.name.endswith((".warc.gz", ".arc.gz", ".wet.gz")))
    assert files, "no WARC/ARC/WET files under shared/data/warc"
    return files


# Later stages switched off, for tests about ingest, extraction and accounting.
STAGES_OFF = {
    "safety": {"pii": {"enabled": False}, "toxicity": {"enabled": False}},
    "lines": {"enabled": False},
    "dedup": {"url": False, "exact": False, "near": False},
    "quality": {"enabled": False},
}
