"""Real pages plus planted duplicates: the pipeline loses exactly the planted ones."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gristmill import __version__
from pipeline.config import ExtractConfig, config_from_dict
from pipeline.extraction.extractors import make_extractor
from pipeline.runner import run_pipeline
from tests.conftest import STAGES_OFF

pytestmark = pytest.mark.slow


def _english_pages(shared_data, n: int) -> list[bytes]:
    pages = []
    for path in sorted((shared_data / "extraction" / "trafilatura-eval" / "html").glob("*.gz")):
        html = gzip.decompress(path.read_bytes())
        if html.count(b" the ") >= 40 and len(html) < 300_000:
            pages.append(html)
        if len(pages) == n:
            return pages
    raise AssertionError("not enough English pages")


def _edit(html: bytes) -> bytes:
    """Three word swaps in the middle of the page (the main text, not the navigation):
    the Jaccard of 5-gram shingles stays far above 0.8, yet the texts differ."""
    starts = [i for i in range(len(html)) if html.startswith(b" the ", i)]
    for at in reversed(starts[len(starts) // 2 : len(starts) // 2 + 3]):
        html = html[:at] + b" one " + html[at + 5 :]
    return html


def test_planted_duplicates_are_removed_and_nothing_else(shared_data, tmp_path):
    originals = _english_pages(shared_data, 30)
    captures = [(f"https://site{i}.example/page", html) for i, html in enumerate(originals)]
    captures += [(f"https://mirror{i}.example/copy", originals[i]) for i in range(4)]  # exact copies
    # near copies: pages whose edit lands in the extracted main text (checked, not assumed)
    extract = make_extractor(ExtractConfig())
    near = [
        i
        for i in range(10, 30)
        if extract(_edit(originals[i]).decode("utf-8", "replace"), "")
        != extract(originals[i].decode("utf-8", "replace"), "")
    ][:6]
    assert len(near) == 6
    captures += [(f"https://near{n}.example/edited", _edit(originals[i])) for n, i in enumerate(near)]
    captures += [("https://site0.example/page", originals[0])]  # a refetch of a URL already seen
    path = tmp_path / "planted.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, html in captures:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=http))
    config = config_from_dict({**STAGES_OFF, "dedup": {"write_clusters": True}})  # dedup on, safety and quality off
    funnel = run_pipeline(
        [str(path)],
        str(tmp_path / "out"),
        config,
        ["--direct_running_mode=in_memory"],
        version=__version__,
        progress=False,
    )
    assert funnel["conserved"]
    dedup = next(s for s in funnel["stages"] if s["stage"] == "Deduplicate")
    assert dedup["dropped_by_reason"] == {"url_duplicate": 1, "exact_duplicate": 4, "near_duplicate": 6}
    rows = pq.read_table(tmp_path / "out" / "data").to_pylist()
    assert len(rows) == dedup["out"] == dedup["in"] - 11
    hosts = {r["host"].split(".")[0] for r in rows}
    for i in range(4):  # one of each exact pair survives, with the pair counted
        assert (f"site{i}" in hosts) != (f"mirror{i}" in hosts)
    for n, i in enumerate(near):
        assert (f"site{i}" in hosts) != (f"near{n}" in hosts)
    assert sorted(r["dup_cluster_size"] for r in rows if r["dup_cluster_size"] > 1) == [2] * 10
    # the audit file: one line per step and survivor, naming exactly the dropped ids
    clusters = [
        json.loads(line)
        for path in sorted((tmp_path / "out" / "dedup_clusters").glob("part-*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    by_step = {
        step: sorted(len(c["duplicates"]) for c in clusters if c["step"] == step) for step in ("url", "exact", "near")
    }
    assert by_step == {"url": [1], "exact": [1] * 4, "near": [1] * 6}
    kept_ids = {r["id"] for r in rows}
    assert {c["survivor"] for c in clusters if c["step"] != "url"} <= kept_ids
    assert not {d for c in clusters for d in c["duplicates"]} & kept_ids
