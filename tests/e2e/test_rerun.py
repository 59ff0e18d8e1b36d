"""Reruns into the same output are idempotent, and a killed run leaves nothing a reader could take for data.

A run is complete when manifest.json exists (it is written last); shards and
stats files appear only under their final names, whole. The same input path in
every run keeps document ids (which hash the source path) equal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml

from gristmill import __version__
from pipeline.config import config_from_dict
from pipeline.runner import run_pipeline
from tests.conftest import REPO, STAGES_OFF

pytestmark = pytest.mark.slow

INPUT = "warc/aut/example.warc.gz"  # 822 records, 90 kept with the later stages off
# small shards: ~40 files, so the kill lands while shards are being written
CONFIG = {**STAGES_OFF, "output": {"rows_per_shard": 3}}
BEAM_ARGS = ["--direct_running_mode=in_memory"]
_KILL_POLL_S = 0.002


def _run(source: Path, out: Path, *, overwrite: bool = False) -> dict:
    return run_pipeline(
        [str(source)],
        str(out),
        config_from_dict(CONFIG),
        BEAM_ARGS,
        version=__version__,
        overwrite=overwrite,
        progress=False,
    )


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _manifest_without_time(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest.pop("created_at")
    return manifest


@pytest.fixture(scope="module")
def source(shared_data) -> Path:
    return shared_data / INPUT


@pytest.fixture(scope="module")
def clean(source, tmp_path_factory) -> Path:
    """One uninterrupted run: what every other run must reproduce."""
    out = tmp_path_factory.mktemp("clean") / "out"
    funnel = _run(source, out)
    assert funnel["conserved"] and funnel["kept"] > 0
    return out


def test_a_rerun_with_overwrite_reproduces_the_run(source, clean, tmp_path):
    out = tmp_path / "out"
    first = _run(source, out)
    before = _files(out)
    second = _run(source, out, overwrite=True)
    after = _files(out)
    assert second == first
    assert _manifest_without_time(out) == _manifest_without_time(clean)
    # shards, stats Parquet and the funnel are byte-identical; only the manifest's created_at may move
    assert sorted(after) == sorted(before) == sorted(_files(clean))
    for name, content in after.items():
        if name != "manifest.json":
            assert content == before[name] == _files(clean)[name], name
    assert pq.read_table(out / "data").sort_by("id").equals(pq.read_table(clean / "data").sort_by("id"))


def _kill_while_writing(source: Path, out: Path, config_path: Path) -> dict:
    """Start `gristmill run` (DirectRunner, its default multi-process mode) and SIGKILL its whole
    process group as soon as the first shard is renamed to its final name, while the others are
    being written; return what was under data/ then."""
    command = [
        sys.executable,
        "-m",
        "gristmill.cli",
        "run",
        "--input",
        str(source),
        "--output",
        str(out),
        "--config",
        str(config_path),
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    data = out / "data"
    try:
        deadline = time.monotonic() + 240
        while process.poll() is None and time.monotonic() < deadline:
            seen = sorted(p.name for p in data.rglob("*") if p.is_file()) if data.is_dir() else []
            if any(not name.startswith(".") for name in seen):
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(_KILL_POLL_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, (
        f"the run ended before it was killed ({process.returncode}):\n{stderr.decode()[-2000:]}"
    )
    return {"seen_at_kill": seen}


def test_a_killed_run_leaves_no_complete_looking_shard_and_a_rerun_completes(source, clean, tmp_path):
    out = tmp_path / "out"
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(CONFIG))
    killed = _kill_while_writing(source, out, config_path)
    time.sleep(0.5)  # anything the dying workers had in flight has landed (or not) by now
    left = _files(out)
    clean_files = _files(clean)
    final = {name: content for name, content in left.items() if not Path(name).name.startswith(".")}
    temporary = sorted(set(left) - set(final))
    print(
        f"\nkilled with {killed['seen_at_kill']} under data/; left {len(final)} final-named files "
        f"of {len(clean_files)}, {len(temporary)} temporary: {temporary[:5]}"
    )

    assert "manifest.json" not in left  # the run is visibly incomplete
    assert all(".tmp-" in name for name in temporary), temporary
    # every file under a final name is whole: exactly the clean run's file of that name
    for name, content in final.items():
        assert content == clean_files.get(name), name
    # and the ways readers find shards skip the temporaries
    globbed = sorted(p.relative_to(out).as_posix() for p in out.glob("data/**/*.parquet"))
    discovered = (
        sorted(Path(f).relative_to(out).as_posix() for f in ds.dataset(out / "data", format="parquet").files)
        if (out / "data").is_dir()
        else []
    )
    assert globbed == discovered == sorted(name for name in final if name.startswith("data/"))

    funnel = _run(source, out, overwrite=True)
    assert funnel == json.loads((clean / "stats" / "funnel.json").read_text())
    assert _manifest_without_time(out) == _manifest_without_time(clean)
    rerun = _files(out)
    assert sorted(rerun) == sorted(clean_files)  # the killed run's temporaries went with --overwrite
    assert all(rerun[name] == clean_files[name] for name in rerun if name != "manifest.json")
