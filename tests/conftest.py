"""Shared fixtures: where the shared third-party data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_warcs(shared_data: Path) -> list[Path]:
    files = sorted(p for p in (shared_data / "warc").rglob("*") if p.name.endswith((".warc.gz", ".arc.gz", ".wet.gz")))
    assert files, "no WARC/ARC/WET files under shared/data/warc"
    return files


# Later stages switched off, for tests about ingest, extraction and accounting.
STAGES_OFF = {
    "safety": {"pii": {"enabled": False}, "toxicity": {"enabled": False}},
    "dedup": {"url": False, "exact": False, "near": False},
    "quality": {"enabled": False},
}
