import math

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.accounting.funnel import build_funnel
from pipeline.accounting.stats import (
    HISTOGRAMS,
    DocumentStatsFn,
    Histogram,
    RecordStats,
    StatsAccumulator,
    stats_tables,
)
from pipeline.core.records import Document, Provenance

PROVENANCE = Provenance("sample.warc.gz", 0, 0)
FUNNEL = build_funnel(
    [(("ReadWarc", "__kept__"), 3), (("ReadWarc", "request_record"), 4), (("ApplySafety", "__kept__"), 3)],
    ["ReadWarc", "ApplySafety"],
)


def doc(
    i,
    text="word " * 40,
    lang="en",
    domain="news",
    quality=None,
    toxicity=0.1,
    pii=None,
    cluster=1,
    topic="sports",
    fmt="news_article",
    by_model=False,
):
    return Document(
        topic=topic,
        topic_source="model" if by_model else "section",
        format=fmt,
        format_source="model" if by_model else "schema:NewsArticle",
        id=f"d{i}",
        url=f"https://x/{i}",
        host="x",
        text=text,
        provenance=PROVENANCE,
        lang=lang,
        domain=domain,
        quality_score=quality,
        toxicity_score=toxicity,
        pii_counts=pii or {},
        dup_cluster_size=cluster,
    )


DOCS = [
    doc(1, quality=0.93, pii={"EMAIL_ADDRESS": 2}),
    doc(2, text="x" * 5000, lang="de", quality=0.12, toxicity=1.0, cluster=3, topic="health", by_model=True),
    doc(3, lang="de", domain="forum", pii={"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}, cluster=40, fmt="qa_forum"),
]


def test_topic_and_format_tables():
    tables = stats_tables(StatsAccumulator().add(DOCS[0]).add(DOCS[1]).add(DOCS[2]), FUNNEL)
    topics = {r["topic"]: (r["documents"], r["by_model"]) for r in tables["topics"].to_pylist()}
    assert topics == {"sports": (2, 0), "health": (1, 1)}
    formats = {r["format"]: r["documents"] for r in tables["formats"].to_pylist()}
    assert formats == {"news_article": 2, "qa_forum": 1}
    cells = {(r["topic"], r["format"]): r["documents"] for r in tables["topic_format"].to_pylist()}
    assert cells == {("sports", "news_article"): 1, ("health", "news_article"): 1, ("sports", "qa_forum"): 1}
    assert sum(r["tokens_estimate"] for r in tables["topic_format"].to_pylist()) == sum(
        r["tokens_estimate"] for r in tables["languages"].to_pylist()
    )


def _rows(table, key):
    return {row[key]: row for row in table.to_pylist()}


def _bin(metric, value):
    histogram = next(h for h in HISTOGRAMS if h.metric == metric)
    return histogram.bin_of(value)


def test_histogram_bins_clamp_and_close_the_last_bin():
    h = Histogram("score", (0.0, 0.5, 1.0), "p")
    assert [h.bin_of(v) for v in (-1.0, 0.0, 0.49, 0.5, 1.0, 7.0)] == [0, 0, 0, 1, 1, 1]
    assert _bin("dup_cluster_size", 1) == 0 and _bin("dup_cluster_size", 2) == 1
    assert _bin("dup_cluster_size", 3) == _bin("dup_cluster_size", 4) == 2 and _bin("dup_cluster_size", 5) == 3
    lengths = next(h for h in HISTOGRAMS if h.metric == "length_chars")
    assert lengths.edges[0] == 0 and lengths.edges[-1] == math.inf and lengths.edges[5] == 10.0  # four bins per decade


def test_tables_count_every_document_once():
    tables = stats_tables(StatsAccumulator().add(DOCS[0]).add(DOCS[1]).add(DOCS[2]), FUNNEL)
    histograms = tables["histograms"].to_pylist()
    for h in HISTOGRAMS:
        counted = sum(r["count"] for r in histograms if r["metric"] == h.metric)
        assert counted == (2 if h.metric == "quality_score" else 3), h.metric
    quality = [r for r in histograms if r["metric"] == "quality_score" and r["count"]]
    assert [(r["bin_lo"], r["bin_hi"]) for r in quality] == [(0.1, 0.15), (0.9, 0.95)]
    toxic = [r for r in histograms if r["metric"] == "toxicity_score" and r["count"]]
    assert [(r["bin_lo"], r["count"]) for r in toxic] == [(0.1, 2), (0.95, 1)]  # 1.0 falls in the last, closed bin
    summary = _rows(tables["summary"], "metric")
    assert summary["quality_score"]["nulls"] == 1 and summary["quality_score"]["count"] == 2
    assert math.isclose(summary["quality_score"]["mean"], (0.93 + 0.12) / 2)
    assert summary["length_chars"]["max"] == 5000 and summary["dup_cluster_size"]["max"] == 40
    assert _rows(tables["languages"], "lang") == {
        "de": {"lang": "de", "documents": 2, "tokens_estimate": 1250 + 50, "characters": 5200},
        "en": {"lang": "en", "documents": 1, "tokens_estimate": 50, "characters": 200},
    }
    assert tables["languages"].column("lang").to_pylist() == ["de", "en"]  # most documents first
    assert _rows(tables["domains"], "domain")["news"]["documents"] == 2
    assert {(r["lang"], r["domain"]): r["documents"] for r in tables["lang_domain"].to_pylist()} == {
        ("en", "news"): 1,
        ("de", "news"): 1,
        ("de", "forum"): 1,
    }
    assert tables["pii"].to_pylist() == [
        {"entity": "EMAIL_ADDRESS", "documents": 2, "redactions": 3},
        {"entity": "PHONE_NUMBER", "documents": 1, "redactions": 1},
    ]
    assert tables["funnel"].to_pylist() == [
        {"stage": "ReadWarc", "position": 0, "outcome": "kept", "reason": None, "count": 3},
        {"stage": "ReadWarc", "position": 0, "outcome": "dropped", "reason": "request_record", "count": 4},
        {"stage": "ApplySafety", "position": 1, "outcome": "kept", "reason": None, "count": 3},
    ]


def test_merged_accumulators_equal_one_pass():
    fn = DocumentStatsFn()
    parts = [fn.add_input(fn.create_accumulator(), d) for d in DOCS]
    merged = fn.extract_output(
        fn.merge_accumulators([fn.merge_accumulators(parts[:2]), parts[2], fn.create_accumulator()])
    )
    one_pass = StatsAccumulator()
    for d in DOCS:
        one_pass.add(d)
    assert stats_tables(merged, FUNNEL) == stats_tables(one_pass, FUNNEL)


def test_empty_run_writes_empty_tables():
    tables = stats_tables(StatsAccumulator(), FUNNEL)
    assert sum(tables["histograms"].column("count").to_pylist()) == 0
    assert tables["languages"].num_rows == tables["pii"].num_rows == 0
    assert tables["summary"].to_pylist()[0]["mean"] is None


def test_record_stats_in_beam(tmp_path):
    with TestPipeline() as p:
        funnel = p | "Funnel" >> beam.Create([FUNNEL])
        p | "Docs" >> beam.Create(DOCS) | RecordStats(str(tmp_path), funnel)
    names = sorted(path.name for path in (tmp_path / "stats").iterdir())
    assert names == [
        "domains.parquet",
        "formats.parquet",
        "funnel.parquet",
        "histograms.parquet",
        "lang_domain.parquet",
        "languages.parquet",
        "pii.parquet",
        "summary.parquet",
        "topic_format.parquet",
        "topics.parquet",
    ]
    languages = pq.read_table(tmp_path / "stats" / "languages.parquet")
    assert languages.column("documents").to_pylist() == [2, 1]
    assert languages.schema.metadata[b"gristmill_stats_format_version"] == b"1"


def test_mean_does_not_depend_on_how_parts_were_merged():
    # 0.1 summed in different groupings gives different floats; the exact sum does not
    docs = [doc(i, quality=q) for i, q in enumerate([0.1] * 7 + [1e-17, 0.3, 0.7] * 5)]
    one_by_one = StatsAccumulator()
    for d in docs:
        one_by_one.add(d)
    parts = [StatsAccumulator() for _ in range(3)]
    for i, d in enumerate(reversed(docs)):
        parts[i % 3].add(d)
    merged = parts[2].merge(parts[0]).merge(parts[1])
    means = [
        {r["metric"]: r["mean"] for r in stats_tables(acc, FUNNEL)["summary"].to_pylist()}["quality_score"]
        for acc in (one_by_one, merged)
    ]
    assert means[0] == means[1] == math.fsum(d.quality_score for d in docs) / len(docs)
