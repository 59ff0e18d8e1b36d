"""A WARC of bad records between good ones: every bad one counted, every good one kept, no crash."""

from __future__ import annotations

import gzip
import io

import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gristmill import __version__
from pipeline.config import config_from_dict
from pipeline.runner import run_pipeline
from tests.conftest import STAGES_OFF

pytestmark = pytest.mark.slow

GOOD = (
    "<html><head><title>Harbour</title></head><body><nav><a href='/'>Home</a></nav><article>"
    + "".join(
        f"<p>Story {{n}}, part {i}: the harbour master counted the boats that came in before the storm, "
        f"and the fishermen tied their nets to the old stone wall by the lighthouse.</p>"
        for i in range(5)
    )
    + "</article></body></html>"
)


def _record(url: str, payload: bytes, content_type: str = "text/html; charset=utf-8", status: str = "200 OK") -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http))
    return buffer.getvalue()


def test_bad_records_are_counted_and_good_ones_kept(tmp_path):
    good = [_record(f"https://good.example/{n}", GOOD.replace("{n}", str(n)).encode()) for n in range(6)]
    # ~4 MB of link-laden paragraphs: trafilatura needs seconds (about 1.3 s/MB here)
    slow = (
        "<html><body>"
        + "".join(
            f"<div class='c{i % 7}'><p>Line {i} about boats and nets.</p><a href='/x{i}'>link {i}</a></div>"
            for i in range(40000)
        )
        + "</body></html>"
    )
    members = [
        good[0],
        _record("https://bad.example/binary", bytes(range(256)) * 40),  # binary labelled HTML
        good[1],
        b"\x00garbage between members\xff" * 100,  # random bytes between members
        _record(
            "https://bad.example/huge", b"<html><body>" + b"<p>big page</p>" * 1_400_000 + b"</body></html>"
        ),  # ~21 MB
        good[2],
        _record("https://bad.example/empty", b""),
        _record("https://bad.example/slow", slow.encode()),  # over the time limit
        good[3],
        _record(
            "https://bad.example/charset",
            "<html><body><p>Ъ</p></body></html>".encode("utf-16-le"),
            content_type="text/html; charset=klingon",
        ),
        good[4],
        gzip.compress(  # Content-Length promises more than the member holds
            b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://bad.example/short\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: 999\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>short</body></html>"
        ),
        good[5],
        good[0][: len(good[0]) // 2],  # file ends inside a member
    ]
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(b"".join(members))
    # the good pages are near-duplicates of each other: only ingest and extraction are under test
    config = config_from_dict({"extract": {"timeout_s": 1.0}, "ingest": {"max_payload_bytes": 8_000_000}, **STAGES_OFF})
    funnel = run_pipeline(
        [str(path)],
        str(tmp_path / "out"),
        config,
        ["--direct_running_mode=in_memory"],
        version=__version__,
        progress=False,
    )
    assert funnel["conserved"]
    assert funnel["kept"] == 6
    urls = sorted(pq.read_table(tmp_path / "out" / "data").column("url").to_pylist())
    assert urls == [f"https://good.example/{n}" for n in range(6)]
    reasons = funnel["dropped_by_reason"]
    assert reasons["binary_payload"] == 2  # the binary page and the UTF-16 page with an unknown charset
    assert reasons["too_large"] == 1
    assert reasons["empty_payload"] == 1
    assert reasons["extraction_timeout"] == 1
    assert reasons["corrupt_record"] == 1  # the garbage run
    assert reasons["truncated_record"] == 2  # lying Content-Length, and the cut last member
    assert funnel["records_read"] == 6 + sum(reasons.values())
