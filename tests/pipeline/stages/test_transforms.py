"""Each Beam transform on its own, with TestPipeline and assert_that."""

from __future__ import annotations

import io
import os

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.config import ExtractConfig, GristmillConfig, IngestConfig, LangIdConfig, OutputConfig
from pipeline.core.records import Capture, Document, Provenance
from pipeline.graph import UNKNOWN_WORKERS, planned_workers
from pipeline.runner import pipeline_options
from pipeline.stages.extract_text import ExtractText
from pipeline.stages.identify_language import IdentifyLanguage
from pipeline.stages.read_warc import ReadWarc, spreads_records
from pipeline.stages.write_shards import WriteShards, assign_shard

PROSE_EN = " ".join(
    ["The committee met on Tuesday to discuss the new library, which will open next spring near the river."] * 8
)
PROSE_DE = " ".join(
    ["Der Ausschuss traf sich am Dienstag, um über die neue Bibliothek zu sprechen, die im Frühling eröffnet wird."] * 8
)
PROV = Provenance("test.warc.gz", 0, 0)


def _page(body: str) -> str:
    return (
        "<html><head><title>t</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><p>{body}</p><p>{body}</p></article></body></html>"
    )


def _warc(path, pages: dict[str, tuple[int, str, bytes]]) -> None:
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, (status, content_type, payload) in pages.items():
            http = StatusAndHeaders(f"{status} X", [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http)
            )


def _reason(r):
    return (r.stage, r.reason.value)


def test_read_warc(tmp_path):
    path = tmp_path / "a.warc.gz"
    _warc(
        path,
        {
            "https://a.example/1": (200, "text/html; charset=utf-8", _page(PROSE_EN).encode()),
            "https://a.example/2": (404, "text/html", b"<html>gone</html>"),
            "https://a.example/3": (200, "image/png", b"\x89PNG\r\n"),
        },
    )
    with TestPipeline() as p:
        out = p | ReadWarc([str(path)], IngestConfig())
        assert_that(out.kept | beam.Map(lambda c: c.url), equal_to(["https://a.example/1"]), label="kept")
        assert_that(
            out.dropped | beam.Map(_reason),
            equal_to([("ReadWarc", "http_status"), ("ReadWarc", "not_html")]),
            label="dropped",
        )


@pytest.mark.parametrize(
    "setting, workers, spread",
    [("always", 1, True), ("never", 4, False), ("auto", 1, False), ("auto", 2, False), ("auto", 3, True)],
)
def test_read_warc_spreads_records_only_when_files_are_too_few(tmp_path, setting, workers, spread):
    """Two files: spread over the workers (packed, reshuffled) only when asked, or when 2 files cannot feed the workers:
    one worker, or at least one file per worker, gains nothing from it; either way the same records come out."""
    for name, url in (("a", "https://a.example/1"), ("b", "https://b.example/1")):
        _warc(tmp_path / f"{name}.warc.gz", {url: (200, "text/html; charset=utf-8", _page(PROSE_EN).encode())})
    assert spreads_records(setting, 2, workers) is spread
    with TestPipeline() as p:
        out = p | "ReadWarc" >> ReadWarc([str(tmp_path)], IngestConfig(spread_records=setting), workers=workers)
        assert_that(
            out.kept | beam.Map(lambda c: (c.url, PROSE_EN[:40] in c.content)),
            equal_to([("https://a.example/1", True), ("https://b.example/1", True)]),
        )
        names = {t.unique_name for t in p.to_runner_api().components.transforms.values()}
    assert ("ReadWarc/SpreadRecords" in names) is spread


@pytest.mark.parametrize(
    "args, workers",
    [
        (["--direct_num_workers=3"], 3),
        (["--runner=DataflowRunner", "--max_num_workers=50"], 50),
        (["--runner=DataflowRunner", "--num_workers=8"], 8),
        (["--runner=PortableRunner"], UNKNOWN_WORKERS),
    ],
)
def test_planned_workers_reads_the_runner_options(args, workers):
    assert planned_workers(PipelineOptions(args)) == workers


@pytest.mark.parametrize(
    "args, mode, workers",
    [
        (["--direct_num_workers=1"], "in_memory", 1),
        (["--direct_num_workers=2"], "multi_processing", 2),
        (["--direct_num_workers=1", "--direct_running_mode=multi_processing"], "multi_processing", 1),
        (["--direct_running_mode=multi_threading"], "multi_threading", os.cpu_count() or 1),
    ],
)
def test_local_runs_default_to_the_cheapest_mode_for_their_workers(args, mode, workers):
    """One worker runs in the runner's process; more get processes; what the user sets wins."""
    direct = pipeline_options(args, GristmillConfig())[0].view_as(DirectOptions)
    assert (direct.direct_running_mode, direct.direct_num_workers) == (mode, workers)


def test_extract_text():
    captures = [
        Capture("a", "https://a.example/x", _page(PROSE_EN), PROV),
        Capture("b", "https://a.example/y", "<html><body><script>var x = 1;</script></body></html>", PROV),
        Capture("c", "https://a.example/z", "already text from a WET record", PROV, is_text=True),
    ]
    with TestPipeline() as p:
        out = p | beam.Create(captures) | ExtractText(ExtractConfig())
        assert_that(
            out.kept | beam.Map(lambda d: (d.id, d.host, d.metadata["extractor"], "committee met" in d.text or d.text)),
            equal_to(
                [("a", "a.example", "trafilatura", True), ("c", "a.example", "wet", "already text from a WET record")]
            ),
            label="kept",
        )
        assert_that(out.dropped | beam.Map(_reason), equal_to([("ExtractText", "empty_text")]), label="dropped")


def test_identify_language():
    docs = [
        Document(id=i, url="", host="", text=t, provenance=PROV)
        for i, t in [("en", PROSE_EN), ("de", PROSE_DE), ("x", "1234 5678 90")]
    ]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | IdentifyLanguage(LangIdConfig(languages=("en", "fr")))
        assert_that(
            out.kept | beam.Map(lambda d: (d.id, d.lang, d.lang_score > 0.9)),
            equal_to([("en", "en", True)]),
            label="kept",
        )
        assert_that(
            out.dropped | beam.Map(lambda r: (r.id, r.reason.value)),
            equal_to([("de", "language_not_wanted"), ("x", "language_score_too_low")]),
            label="dropped",
        )


def test_write_shards_splits_by_domain_and_size(tmp_path):
    docs = [
        Document(
            id=f"{i:020x}",
            url=f"https://e.org/{i}",
            host="e.org",
            text=f"text {i}",
            provenance=PROV,
            domain="news" if i % 3 else "Forum/QA",
            lang="en",
            lang_score=0.9,
        )
        for i in range(25)
    ]
    with TestPipeline() as p:
        shards = p | beam.Create(docs) | WriteShards(str(tmp_path), OutputConfig(rows_per_shard=5, row_group_rows=2))
        assert_that(
            shards | beam.Map(lambda s: s["domain"]) | beam.combiners.Count.PerElement(),
            equal_to([("news", 4), ("forum_qa", 2)]),
        )
    news = sorted((tmp_path / "data" / "domain=news").glob("*.parquet"))
    assert [p.name for p in news] == [f"part-0000{i}-of-00004.parquet" for i in range(4)]
    assert sum(pq.read_metadata(p).num_rows for p in news) == 16
    assert max(pq.read_metadata(p).row_group(0).num_rows for p in news) <= 2
    assert pq.read_metadata(news[0]).row_group(0).column(1).compression == "ZSTD"
    assert pq.read_table(tmp_path / "data").num_rows == 25


def test_assign_shard_is_stable():
    row = ("news", "3f9a" * 5, b"packed row")
    key, (doc_id, same) = assign_shard(row, {"news": 100}, 30)
    assert key[0] == "news" and key[2] == 4 and 0 <= key[1] < 4 and (doc_id, same) == row[1:] and same is row[2]
    assert assign_shard(tuple(row), {"news": 100}, 30)[0] == key
    assert assign_shard(row, {"news": 1}, 30)[0] == ("news", 0, 1)
    assert [assign_shard(("news", f"doc-{n}", b""), {"news": 100}, 30)[0][1] for n in range(40)].count(
        0
    ) < 40  # ids spread


def test_write_shards_groups_by_the_mixture_axis(tmp_path):
    """With mixture.axis topic_format, a shard folder per (topic, format) pair; readers see every column."""
    docs = [
        Document(
            id=f"d{i:02d}",
            url=f"https://example.com/{i}",
            host="example.com",
            text=f"document {i} " * 20,
            provenance=PROV,
            domain="news",
            topic="sports" if i % 2 else "science",
            format="news_article",
        )
        for i in range(6)
    ]
    with TestPipeline() as p:
        shards = p | beam.Create(docs) | WriteShards(str(tmp_path), OutputConfig(), axis="topic_format")
        assert_that(
            shards | beam.Map(lambda s: (s["domain"], s["path"].split("/")[1], s["rows"])),
            equal_to(
                [
                    ("sports.news_article", "topic_format=sports.news_article", 3),
                    ("science.news_article", "topic_format=science.news_article", 3),
                ]
            ),
        )
    table = pq.read_table(tmp_path / "data")
    assert sorted(set(table.column("topic").to_pylist())) == ["science", "sports"]
    assert set(table.column("topic_format").to_pylist()) == {"sports.news_article", "science.news_article"}
