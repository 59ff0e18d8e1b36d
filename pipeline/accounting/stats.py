"""Distribution stats of the kept documents, computed as data and written as `stats/*.parquet`.

`DocumentStatsFn` is a `CombineFn` whose accumulator has a fixed size per metric
(fixed-bin histograms) plus counters keyed by language, domain, (language, domain)
and PII entity, all bounded by small vocabularies (lid.176's 176 languages, the
domain tags, presidio's entity types); accumulators merge by addition, so any
runner can combine them across workers. `RecordStats` writes one Parquet file per
table (columns in the README's "Stats files" section) through Beam's filesystems,
so s3:// and gs:// outputs work. Dashboards and `gristmill report` read these files
and never the shards, so a report costs the same for a run of any size.
"""

from __future__ import annotations

import bisect
import dataclasses
import math

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.accounting.commit import write_file
from pipeline.core.layout import stats_table_path, under
from pipeline.core.records import MODEL_SOURCE, Document
from pipeline.core.schema import estimate_tokens, safe_domain

STATS_FORMAT_VERSION = 1


def _log_edges(decades: int, per_decade: int) -> tuple[float, ...]:
    """0, then 10^(k/per_decade) for k = 0..decades*per_decade, then +inf (open-ended last bin)."""
    return (0.0, *(round(10 ** (k / per_decade), 6) for k in range(decades * per_decade + 1)), math.inf)


def _score_edges(bins: int) -> tuple[float, ...]:
    return tuple(round(k / bins, 6) for k in range(bins + 1))


@dataclasses.dataclass(frozen=True, slots=True)
class Histogram:
    """Fixed bins: [edges[i], edges[i+1]), the last bin closed on the right."""

    metric: str
    edges: tuple[float, ...]
    unit: str

    def bin_of(self, value: float) -> int:
        # values outside [edges[0], edges[-1]] land in the first or last bin
        return min(max(bisect.bisect_right(self.edges, value) - 1, 0), len(self.edges) - 2)


# Log bins for lengths (web documents span five decades: a 200-character page to a
# 2 MB dump); powers of two for cluster sizes (1 = unique, then 2, 3-4, 5-8, ...).
HISTOGRAMS = (
    Histogram("quality_score", _score_edges(20), "P(high quality)"),
    Histogram("toxicity_score", _score_edges(20), "P(toxic)"),
    Histogram("length_chars", _log_edges(7, 4), "characters"),
    Histogram("token_estimate", _log_edges(6, 4), "tokens (estimate)"),
    Histogram("dup_cluster_size", (1.0, *(2.0**k + 1 for k in range(17)), math.inf), "documents per cluster"),
)
_BY_METRIC = {h.metric: h for h in HISTOGRAMS}


def measure(doc: Document) -> dict[str, float | None]:
    """The per-document values the histograms bin (None: not scored)."""
    return {
        "quality_score": doc.quality_score,
        "toxicity_score": doc.toxicity_score,
        "length_chars": float(len(doc.text)),
        "token_estimate": float(estimate_tokens(doc.text)),
        "dup_cluster_size": float(doc.dup_cluster_size),
    }


def _exact_add(partials: list[float], x: float) -> None:
    """Add x to a sum held exactly as non-overlapping partials (Shewchuk; the recipe behind math.fsum)."""
    kept = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        low = y - (high - x)
        if low:
            partials[kept] = low
            kept += 1
        x = high
    partials[kept:] = [x]


@dataclasses.dataclass(slots=True)
class StatsAccumulator:
    """Everything the stats files hold, for a part of the run; `merge` adds two parts.

    counts: metric -> per-bin counts; summary: metric -> [count, nulls, min, max, sum partials]
    (the sum kept exact, so the mean does not depend on how the runner split and merged the parts);
    languages / domains: key -> [documents, tokens, characters];
    lang_domain: (lang, domain) -> [documents, tokens]; pii: entity -> [documents, redactions];
    topics / formats: key -> [documents, tokens, characters, decided by the model];
    topic_format: (topic, format) -> [documents, tokens].
    """

    counts: dict[str, list[int]] = dataclasses.field(
        default_factory=lambda: {h.metric: [0] * (len(h.edges) - 1) for h in HISTOGRAMS}
    )
    summary: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: {h.metric: [0, 0, math.inf, -math.inf, []] for h in HISTOGRAMS}
    )
    languages: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    domains: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    lang_domain: dict[tuple[str, str], list[int]] = dataclasses.field(default_factory=dict)
    pii: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    topics: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    formats: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    topic_format: dict[tuple[str, str], list[int]] = dataclasses.field(default_factory=dict)

    def add(self, doc: Document) -> StatsAccumulator:
        for metric, value in measure(doc).items():
            summary = self.summary[metric]
            if value is None or math.isnan(value):
                summary[1] += 1
                continue
            self.counts[metric][_BY_METRIC[metric].bin_of(value)] += 1
            summary[0] += 1
            summary[2] = min(summary[2], value)
            summary[3] = max(summary[3], value)
            _exact_add(summary[4], value)
        tokens, chars = estimate_tokens(doc.text), len(doc.text)
        lang, domain = doc.lang or "unknown", safe_domain(doc.domain)
        _add(self.languages, lang, (1, tokens, chars))
        _add(self.domains, domain, (1, tokens, chars))
        _add(self.lang_domain, (lang, domain), (1, tokens))
        for entity, n in doc.pii_counts.items():
            if n:
                _add(self.pii, entity, (1, n))
        _add(self.topics, doc.topic, (1, tokens, chars, int(doc.topic_source == MODEL_SOURCE)))
        _add(self.formats, doc.format, (1, tokens, chars, int(doc.format_source == MODEL_SOURCE)))
        _add(self.topic_format, (doc.topic, doc.format), (1, tokens))
        return self

    def merge(self, other: StatsAccumulator) -> StatsAccumulator:
        for metric, counts in other.counts.items():
            self.counts[metric] = [a + b for a, b in zip(self.counts[metric], counts)]
            mine, theirs = self.summary[metric], other.summary[metric]
            for partial in theirs[4]:
                _exact_add(mine[4], partial)
            self.summary[metric] = [
                mine[0] + theirs[0],
                mine[1] + theirs[1],
                min(mine[2], theirs[2]),
                max(mine[3], theirs[3]),
                mine[4],
            ]
        for name in ("languages", "domains", "lang_domain", "pii", "topics", "formats", "topic_format"):
            table = getattr(self, name)
            for key, values in getattr(other, name).items():
                _add(table, key, values)
        return self


def _add(table: dict, key, values) -> None:
    current = table.get(key)
    table[key] = list(values) if current is None else [a + b for a, b in zip(current, values)]


class DocumentStatsFn(beam.CombineFn):
    """PCollection[Document] -> one StatsAccumulator."""

    def create_accumulator(self) -> StatsAccumulator:
        return StatsAccumulator()

    def add_input(self, accumulator: StatsAccumulator, doc: Document) -> StatsAccumulator:
        return accumulator.add(doc)

    def merge_accumulators(self, accumulators) -> StatsAccumulator:
        merged = StatsAccumulator()
        for accumulator in accumulators:
            merged.merge(accumulator)
        return merged

    def extract_output(self, accumulator: StatsAccumulator) -> StatsAccumulator:
        return accumulator


def _by_documents(table: dict) -> list:
    return sorted(table.items(), key=lambda kv: (-kv[1][0], kv[0]))


def stats_tables(stats: StatsAccumulator, funnel: dict) -> dict[str, pa.Table]:
    """The stats files as Arrow tables, keyed by file name (without `.parquet`)."""
    histograms = [
        {"metric": h.metric, "unit": h.unit, "bin": i, "bin_lo": h.edges[i], "bin_hi": h.edges[i + 1], "count": count}
        for h in HISTOGRAMS
        for i, count in enumerate(stats.counts[h.metric])
    ]
    summary = [
        {
            "metric": h.metric,
            "unit": h.unit,
            "count": int(s[0]),
            "nulls": int(s[1]),
            "min": s[2] if s[0] else None,
            "max": s[3] if s[0] else None,
            "mean": math.fsum(s[4]) / s[0] if s[0] else None,
        }
        for h in HISTOGRAMS
        for s in [stats.summary[h.metric]]
    ]
    languages = [
        {"lang": k, "documents": v[0], "tokens_estimate": v[1], "characters": v[2]}
        for k, v in _by_documents(stats.languages)
    ]
    domains = [
        {"domain": k, "documents": v[0], "tokens_estimate": v[1], "characters": v[2]}
        for k, v in _by_documents(stats.domains)
    ]
    lang_domain = [
        {"lang": k[0], "domain": k[1], "documents": v[0], "tokens_estimate": v[1]}
        for k, v in _by_documents(stats.lang_domain)
    ]
    pii = [{"entity": k, "documents": v[0], "redactions": v[1]} for k, v in _by_documents(stats.pii)]
    axes = {
        name: [
            {
                name.removesuffix("s"): k,
                "documents": v[0],
                "tokens_estimate": v[1],
                "characters": v[2],
                "by_model": v[3],
            }
            for k, v in _by_documents(getattr(stats, name))
        ]
        for name in ("topics", "formats")
    }
    topic_format = [
        {"topic": k[0], "format": k[1], "documents": v[0], "tokens_estimate": v[1]}
        for k, v in _by_documents(stats.topic_format)
    ]
    # long form: a stage's `in` is the sum of its rows, the first stage's is the records read
    funnel_rows = [
        {"stage": s["stage"], "position": i, "outcome": outcome, "reason": reason, "count": count}
        for i, s in enumerate(funnel["stages"])
        for outcome, reason, count in [
            ("kept", None, s["out"]),
            *(("dropped", r, n) for r, n in s["dropped_by_reason"].items()),
        ]
    ]
    return {
        "histograms": pa.Table.from_pylist(histograms, schema=_HISTOGRAMS),
        "summary": pa.Table.from_pylist(summary, schema=_SUMMARY),
        "languages": pa.Table.from_pylist(languages, schema=_LANGUAGES),
        "domains": pa.Table.from_pylist(domains, schema=_DOMAINS),
        "lang_domain": pa.Table.from_pylist(lang_domain, schema=_LANG_DOMAIN),
        "pii": pa.Table.from_pylist(pii, schema=_PII),
        "topics": pa.Table.from_pylist(axes["topics"], schema=_TOPICS),
        "formats": pa.Table.from_pylist(axes["formats"], schema=_FORMATS),
        "topic_format": pa.Table.from_pylist(topic_format, schema=_TOPIC_FORMAT),
        "funnel": pa.Table.from_pylist(funnel_rows, schema=_FUNNEL),
    }


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema(fields, metadata={"gristmill_stats_format_version": str(STATS_FORMAT_VERSION)})


_HISTOGRAMS = _schema(
    ("metric", pa.string()),
    ("unit", pa.string()),
    ("bin", pa.int32()),
    ("bin_lo", pa.float64()),
    ("bin_hi", pa.float64()),
    ("count", pa.int64()),
)
_SUMMARY = _schema(
    ("metric", pa.string()),
    ("unit", pa.string()),
    ("count", pa.int64()),
    ("nulls", pa.int64()),
    ("min", pa.float64()),
    ("max", pa.float64()),
    ("mean", pa.float64()),
)
_LANGUAGES = _schema(
    ("lang", pa.string()), ("documents", pa.int64()), ("tokens_estimate", pa.int64()), ("characters", pa.int64())
)
_TOPICS = _schema(
    ("topic", pa.string()),
    ("documents", pa.int64()),
    ("tokens_estimate", pa.int64()),
    ("characters", pa.int64()),
    ("by_model", pa.int64()),
)
_FORMATS = _schema(
    ("format", pa.string()),
    ("documents", pa.int64()),
    ("tokens_estimate", pa.int64()),
    ("characters", pa.int64()),
    ("by_model", pa.int64()),
)
_TOPIC_FORMAT = _schema(
    ("topic", pa.string()), ("format", pa.string()), ("documents", pa.int64()), ("tokens_estimate", pa.int64())
)
_DOMAINS = _schema(
    ("domain", pa.string()), ("documents", pa.int64()), ("tokens_estimate", pa.int64()), ("characters", pa.int64())
)
_LANG_DOMAIN = _schema(
    ("lang", pa.string()), ("domain", pa.string()), ("documents", pa.int64()), ("tokens_estimate", pa.int64())
)
_PII = _schema(("entity", pa.string()), ("documents", pa.int64()), ("redactions", pa.int64()))
_FUNNEL = _schema(
    ("stage", pa.string()),
    ("position", pa.int32()),
    ("outcome", pa.string()),
    ("reason", pa.string()),
    ("count", pa.int64()),
)


def write_parquet(path: str, table: pa.Table) -> None:
    """Write one Parquet file through Beam's filesystems, via a hidden temporary name."""
    write_file(path, lambda sink: pq.write_table(table, sink, compression="zstd"))


def write_stats(stats: StatsAccumulator, funnel: dict, output_dir: str) -> list[str]:
    """Write every stats table to OUT/stats/<name>.parquet; return the paths written."""
    paths = []
    for name, table in stats_tables(stats, funnel).items():
        path = under(output_dir, stats_table_path(name))
        write_parquet(path, table)
        paths.append(path)
    return paths


class RecordStats(beam.PTransform):
    """PCollection[Document] (the kept documents) -> PCollection[list of paths written] (one element).

    `funnel` is the one-element PCollection RecordFunnel returns; it becomes `funnel.parquet`.
    """

    def __init__(self, output_dir: str, funnel: beam.PCollection):
        super().__init__()
        self._output_dir = output_dir
        self._funnel = funnel

    def expand(self, docs):
        return (
            docs
            | "CombineStats" >> beam.CombineGlobally(DocumentStatsFn())
            | "WriteStats"
            >> beam.Map(write_stats, funnel=beam.pvalue.AsSingleton(self._funnel), output_dir=self._output_dir)
        )
