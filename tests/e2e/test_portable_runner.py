"""The same graph on Beam's PortableRunner against the Python local job service.

This exercises the Job API and Fn API exactly as the Flink and Spark runners do
(their job servers download jars at run time, which these machines cannot).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from gristmill import __version__
from pipeline.config import GristmillConfig
from pipeline.runner import run_pipeline

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def job_endpoint():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("local job service did not start")
        yield f"localhost:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_portable_runner_matches_direct_runner(job_endpoint, shared_data, tmp_path):
    inputs = [
        str(shared_data / "warc" / "dolma" / "sample-0000.warc.gz"),
        str(shared_data / "warc" / "whirlwind" / "whirlwind.warc.wet.gz"),
    ]
    portable_args = ["--runner=PortableRunner", f"--job_endpoint={job_endpoint}", "--environment_type=LOOPBACK"]
    portable = run_pipeline(inputs, str(tmp_path / "portable"), GristmillConfig(), portable_args, version=__version__)
    direct = run_pipeline(
        inputs, str(tmp_path / "direct"), GristmillConfig(), ["--direct_running_mode=in_memory"], version=__version__
    )
    assert portable["conserved"] and portable["records_read"] == 50
    assert {k: v for k, v in portable.items()} == direct
    ids = lambda out: sorted(pq.read_table(tmp_path / out / "data").column("id").to_pylist())  # noqa: E731
    assert ids("portable") == ids("direct") and len(ids("portable")) == portable["kept"]
    manifest = json.loads((tmp_path / "portable" / "manifest.json").read_text())
    assert manifest["totals"]["documents"] == portable["kept"]
