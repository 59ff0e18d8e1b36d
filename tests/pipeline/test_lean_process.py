"""`lean_pipeline_process`: a run's process never loads pandas and uses Arrow's system allocator,
and writes what a run with both writes. Each case runs in a fresh interpreter: pytest's own
process has long since imported pandas and pyarrow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from pipeline.lean_process import REFUSED

pytestmark = pytest.mark.slow


def _python(code: str, **env) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON line last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_cli_run_never_loads_pandas_and_pandas_comes_back_after(tmp_path):
    result = _python(
        f"""
        import json, sys
        from gristmill.cli import main
        rc = main(["demo", "--output", {str(tmp_path)!r}])
        seen = {{"rc": rc, "pandas_during_run": "pandas" in sys.modules}}
        import pyarrow as pa
        seen["pool"] = pa.default_memory_pool().backend_name
        import pandas  # allowed again once main() returns
        seen["to_pandas"] = pa.table({{"a": [1, 2]}}).to_pandas().shape[0]
        print(json.dumps(seen))
        """
    )
    assert result == {"rc": 0, "pandas_during_run": False, "pool": "system", "to_pandas": 2}
    funnel = json.loads((tmp_path / "out" / "stats" / "funnel.json").read_text())
    assert funnel["conserved"] and funnel["kept"] > 0  # Parquet written by pyarrow without pandas
    assert any((tmp_path / "out" / "data").rglob("part-*.parquet"))


def test_the_finder_raises_importerror_and_steps_aside_when_pandas_is_loaded():
    result = _python(
        f"""
        import json
        from pipeline.lean_process import allow_pandas, refuse_pandas
        seen = {{"installed": refuse_pandas(), "again": refuse_pandas()}}
        try:
            import {REFUSED}
        except ImportError as err:
            seen["error"] = str(err)
        import apache_beam, pyarrow as pa
        pa.Table.from_pylist([{{"text": "x"}}])  # pyarrow's pandas check takes the ImportError
        seen["loaded"] = "{REFUSED}" in __import__("sys").modules
        allow_pandas()
        import {REFUSED}
        seen["late"] = refuse_pandas()  # too late once pandas is in: says so, installs nothing
        print(json.dumps(seen))
        """
    )
    assert result["installed"] and result["again"]
    assert "without pandas" in result["error"]
    assert result["loaded"] is False and result["late"] is False


def test_a_users_arrow_pool_setting_wins(tmp_path):
    result = _python(
        """
        import json
        from pipeline.lean_process import lean_pipeline_process
        lean_pipeline_process()
        import pyarrow as pa
        print(json.dumps({"pool": pa.default_memory_pool().backend_name}))
        """,
        ARROW_DEFAULT_MEMORY_POOL="mimalloc",
    )
    assert result == {"pool": "mimalloc"}
