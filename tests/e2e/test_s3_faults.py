"""S3 that fails a share of requests (503 SlowDown, 500, dropped connections, cut-off reads):
the run completes and writes exactly what the fault-free run writes.

Both runs read the same s3:// inputs (document ids hash the source path) and
write to s3://; the faulty one talks to SeaweedFS through `FaultProxy`, for
reads (gristmill's boto3 reader, Beam's S3 filesystem) and writes (Beam's
multipart uploads, copies, deletes) alike.
"""

from __future__ import annotations

import io
import json
import logging
import time

import pyarrow.parquet as pq
import pytest

# tests/ is on sys.path: pytest puts conftest.py's folder there
from fault_proxy import FaultPlan, FaultProxy
from s3_server import SeaweedS3, seeded_s3

from gristmill import __version__
from pipeline.config import config_from_dict
from pipeline.runner import run_pipeline
from tests.conftest import STAGES_OFF

pytestmark = pytest.mark.slow

INPUTS = {
    "crawl/sample-0000.warc.gz": "dolma/sample-0000.warc.gz",
    "crawl/sample-0001.warc.gz": "dolma/sample-0001.warc.gz",
    "crawl/whirlwind.warc.gz": "whirlwind/whirlwind.warc.gz",
}
IN_BUCKET, OUT_BUCKET = "warcs-in", "runs-out"
BEAM_ARGS = ["--direct_running_mode=in_memory"]
# ~15% of requests of every kind fail at random; the first requests of each kind fail
# for sure, so every kind meets a fault whatever the draws (object reads are few: one
# streamed GET per WARC, the first cut off midway)
PLAN = FaultPlan.uniform(
    0.15,
    first={
        "get": ("truncate", "drop", "slow_down", "internal"),
        "head": ("slow_down",),
        "multipart": ("drop", "internal"),
        "copy": ("internal",),
        "delete": ("drop",),
    },
)
SEED = 11
_RETRY_LOGGERS = (
    "botocore.retryhandler",
    "botocore.retries.standard",
    "pipeline.warc.sources",
    "apache_beam.utils.retry",
    "pipeline.accounting.commit",
)


class _RetryCounter(logging.Handler):
    """Counts the retries each layer logs: botocore (legacy and standard/adaptive modes),
    ResumableStream, and, once botocore has given up on a call, Beam's retry decorator
    and `write_file`'s whole-write retry."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.botocore = self.resumed = self.beam = self.commit = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name.startswith("botocore") and message.startswith("Retry needed"):
            self.botocore += 1
        elif record.name == "pipeline.warc.sources" and "; retry " in message:
            self.resumed += 1
        elif record.name == "apache_beam.utils.retry" and message.startswith("Retry with exponential backoff"):
            self.beam += 1
        elif record.name == "pipeline.accounting.commit" and "; retry " in message:
            self.commit += 1

    def total(self) -> int:
        return self.botocore + self.resumed + self.beam + self.commit


@pytest.fixture(scope="module")
def s3(tmp_path_factory, shared_data):
    uploads = {(IN_BUCKET, key): shared_data / "warc" / source for key, source in INPUTS.items()}
    with seeded_s3(tmp_path_factory.mktemp("seaweedfs"), [IN_BUCKET, OUT_BUCKET], uploads) as server:
        yield server


def _run(endpoint_url: str, prefix: str, s3: SeaweedS3) -> tuple[dict, float]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in s3.env().items():
            env.setenv(name, value)
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        start = time.perf_counter()
        funnel = run_pipeline(
            [f"s3://{IN_BUCKET}/crawl/"],
            f"s3://{OUT_BUCKET}/{prefix}",
            config_from_dict(STAGES_OFF),
            [*BEAM_ARGS, f"--s3_endpoint_url={endpoint_url}"],
            version=__version__,
            progress=False,
        )
        return funnel, time.perf_counter() - start


@pytest.fixture(scope="module")
def runs(s3):
    """The fault-free run straight to SeaweedFS, then the same run through the faulty proxy."""
    clean, clean_s = _run(s3.endpoint_url, "clean", s3)
    counter = _RetryCounter()
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).propagate) for name in _RETRY_LOGGERS}
    for name in _RETRY_LOGGERS:
        logging.getLogger(name).addHandler(counter)
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).propagate = False
    try:
        with FaultProxy(s3.endpoint_url, PLAN, seed=SEED) as proxy:
            faulty, faulty_s = _run(proxy.endpoint_url, "faulty", s3)
    finally:
        for name, (level, propagate) in saved.items():
            logging.getLogger(name).removeHandler(counter)
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).propagate = propagate
    print(
        f"\nfault-free run {clean_s:.1f} s; faulty run {faulty_s:.1f} s; proxy: {proxy.summary()}; "
        f"botocore retries {counter.botocore}, stream resumes {counter.resumed}, "
        f"Beam retries {counter.beam}, whole-write retries {counter.commit}"
    )
    return {"clean": clean, "faulty": faulty, "proxy": proxy, "retries": counter, "client": s3.client()}


def _json(client, key: str) -> dict:
    return json.loads(client.get_object(Bucket=OUT_BUCKET, Key=key)["Body"].read())


def _parquet(client, key: str):
    return pq.read_table(io.BytesIO(client.get_object(Bucket=OUT_BUCKET, Key=key)["Body"].read()))


def _keys(client, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=OUT_BUCKET, Prefix=f"{prefix}/")
    return sorted(obj["Key"].removeprefix(f"{prefix}/") for page in pages for obj in page.get("Contents", []))


def test_every_kind_of_fault_was_injected_and_retried(runs):
    proxy, retries = runs["proxy"], runs["retries"]
    injected = proxy.faults()
    assert all(injected[fault] > 0 for fault in ("slow_down", "internal", "drop", "truncate")), proxy.summary()
    for kind in (
        "get",
        "head",
        "multipart",
        "copy",
        "delete",
    ):  # Beam writes by multipart upload and renames by copy + delete
        assert sum(proxy.faults(kind).values()) > 0, (kind, proxy.summary())
    # every failed call was retried somewhere: botocore, ResumableStream, Beam's own retry
    # or write_file's (a call whose botocore retries all failed is retried by a layer above)
    assert retries.total() >= sum(injected.values()) - injected["truncate"] > 0
    assert retries.resumed > 0  # a cut-off WARC read resumed with a Range request


def test_the_faulty_run_has_the_fault_free_funnel(runs):
    clean, faulty = runs["clean"], runs["faulty"]
    assert clean["conserved"] and clean["records_read"] > 0
    assert faulty == clean


def test_the_faulty_run_writes_the_same_objects_manifest_and_rows(runs):
    client = runs["client"]
    assert _keys(client, "faulty") == _keys(client, "clean")  # no temporaries left, none missing
    clean, faulty = _json(client, "clean/manifest.json"), _json(client, "faulty/manifest.json")
    # config_hash covers ingest.s3.endpoint_url, the proxy's in the faulty run
    assert {**faulty, "created_at": None, "config_hash": None} == {**clean, "created_at": None, "config_hash": None}
    for shard in clean["shards"]:
        assert _parquet(client, f"faulty/{shard['path']}").equals(_parquet(client, f"clean/{shard['path']}")), shard[
            "path"
        ]
    for key in _keys(client, "clean"):
        if key.startswith("stats/") and key.endswith(".parquet"):
            assert _parquet(client, f"faulty/{key}").equals(_parquet(client, f"clean/{key}")), key
