from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gristmill.cli import main

DOLMA = "warc/dolma/sample-0001.warc.gz"


def test_bad_config_key_is_named(tmp_path, shared_data, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("extract:\n  backend: trafilatura\n  timeout: 3\n")
    code = main(["run", "--config", str(config), "--input", str(shared_data / DOLMA), "--output", str(tmp_path / "o")])
    assert code == 2
    assert "extract.timeout: unknown key; allowed: backend, timeout_s" in capsys.readouterr().err


def test_missing_input_is_named(tmp_path, capsys):
    code = main(["run", "--input", str(tmp_path / "nothing*.warc.gz"), "--output", str(tmp_path / "o")])
    assert code == 2
    assert "nothing*.warc.gz' matches no WARC/ARC/WET file" in capsys.readouterr().err


def test_bad_crawl_spec(tmp_path, capsys):
    assert main(["run", "--input", "cc:2024-22", "--output", str(tmp_path / "o")]) == 2
    assert "expected cc:CC-MAIN-YYYY-WW[:N]" in capsys.readouterr().err


@pytest.mark.slow
def test_run_refuses_to_mix_runs_then_overwrites(tmp_path, shared_data, capsys):
    out = tmp_path / "o"
    args = [
        "run",
        "--input",
        str(shared_data / DOLMA),
        "--output",
        str(out),
        "--no-progress",
        "--direct_running_mode=in_memory",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "records read 34 = kept" in printed and "conserved" in printed
    first = json.loads((out / "manifest.json").read_text())
    assert main(args) == 2
    assert "already holds a run" in capsys.readouterr().err
    stale = next((out / "data").glob("domain=*")) / "stale.parquet"
    stale.write_bytes(b"old")
    assert main(args + ["--overwrite"]) == 0
    second = json.loads((out / "manifest.json").read_text())
    assert not stale.exists()
    for key in ("config_hash", "shards", "domains", "totals"):
        assert first[key] == second[key]


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "gristmill.cli", "run", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "cc:CC-MAIN-YYYY-WW:N" in result.stdout
