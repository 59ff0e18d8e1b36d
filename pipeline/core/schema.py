"""The Parquet schema of `data/domain=<tag>/part-*.parquet`: the contract with readers.

Change it only by adding nullable columns; bump `SCHEMA_VERSION` when you do.
The README's schema table lists exactly these fields (a test checks).
"""

from __future__ import annotations

import datetime
import math
import re

import pyarrow as pa

from pipeline.core.records import Document

SCHEMA_VERSION = 3  # 2: domain_rule and the quality measurements; 3: topic and format
CHARS_PER_TOKEN_BYTES = 4  # GPT-2-class BPE averages ~4 UTF-8 bytes per token on English web text
_DOMAIN_SAFE = re.compile(r"[^a-z0-9_\-]")


def _field(name: str, type_: pa.DataType, doc: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


PII_COUNT = pa.struct([("entity", pa.string()), ("count", pa.int32())])

# ApplyQuality's measurements (pipeline/stages/apply_quality.py METADATA_KEYS), typed: column -> (type, parse, meaning).
# Null when the family measuring it is off, or for rows written before the quality stage existed.
QUALITY_COLUMNS = {
    "words": (pa.int32(), int, "Non-symbol words of the kept text (Gopher quality; per character for zh/ja/th)"),
    "mean_word_length": (pa.float32(), float, "Mean length of non-symbol words in characters (Gopher quality)"),
    "stop_words": (pa.int32(), int, "Stop words of the document's language (Gopher quality); null without a list"),
    "sentences": (pa.int32(), int, "Sentences after C4 line cleaning"),
    "c4_lines_removed": (pa.int32(), int, "Lines C4 cleaning removed from the extracted text"),
    "punctuated_line_frac": (pa.float32(), float, "Share of lines ending in terminal punctuation (FineWeb)"),
    "duplicate_5gram_char_frac": (
        pa.float32(),
        float,
        "Share of characters in duplicated word 5-grams (Gopher repetition)",
    ),
}

SCHEMA = pa.schema(
    [
        _field(
            "id",
            pa.string(),
            "Stable document id: blake2b of (source file, member offset, record index), 20 hex chars",
            False,
        ),
        _field("text", pa.string(), "Extracted main text, UTF-8", False),
        _field("url", pa.string(), "WARC-Target-URI of the capture"),
        _field("host", pa.string(), "Lower-cased host name of the URL"),
        # dictionary-typed so it merges with the `domain=<tag>` hive partition readers infer
        _field(
            "domain",
            pa.dictionary(pa.int32(), pa.string()),
            "Domain tag of taxonomy 1, the `domain=<tag>` folder with the default mixture axis "
            "('unknown' until domain tagging runs)",
        ),
        _field(
            "domain_rule",
            pa.string(),
            "The rule or model that set `domain`, e.g. host:wikipedia.org, tld:gov, content:code, format:news_article",
        ),
        _field(
            "topic",
            pa.dictionary(pa.int32(), pa.string()),
            "What the page is about: a topic of filters/taxonomy.yaml ('unknown' when nothing decided)",
        ),
        _field(
            "topic_source",
            pa.string(),
            "What decided `topic`: section (declared), path:<word>, a URL rule, or model",
        ),
        _field("topic_score", pa.float32(), "The topic model's probability when the model decided; else null"),
        _field(
            "format",
            pa.dictionary(pa.int32(), pa.string()),
            "What kind of page it is: a format of filters/taxonomy.yaml ('unknown' when nothing decided)",
        ),
        _field(
            "format_source",
            pa.string(),
            "What decided `format`: a declaration (schema:NewsArticle, og:product, meta:citation), a URL rule, "
            "path:<pattern>, content:<signal>, or model",
        ),
        _field("format_score", pa.float32(), "The format model's probability when the model decided; else null"),
        _field("lang", pa.string(), "fastText lid.176 language code (ISO 639-1 where one exists)"),
        _field("lang_score", pa.float32(), "lid.176 top-1 probability"),
        _field(
            "quality_score",
            pa.float32(),
            "P(high quality) from the fastText quality classifier; "
            "null when not scored (other languages, classifier off)",
        ),
        _field("toxicity_score", pa.float32(), "Toxicity classifier score in [0, 1]; null until the safety stage runs"),
        _field(
            "pii_counts",
            pa.list_(PII_COUNT),
            "PII redactions per entity type (e.g. EMAIL_ADDRESS: 2); empty until the safety stage runs",
        ),
        _field(
            "dup_cluster_size", pa.int32(), "Size of the near-duplicate cluster this survivor stands for (1 = unique)"
        ),
        _field("token_estimate", pa.int32(), "ceil(UTF-8 bytes / 4): a tokenizer-free token estimate"),
        _field(
            "crawl", pa.string(), "Crawl id such as CC-MAIN-2024-22 (from warcinfo or the file path); empty if unknown"
        ),
        _field("fetch_time", pa.timestamp("us", tz="UTC"), "WARC-Date of the capture"),
        _field("source_file", pa.string(), "The WARC/ARC/WET file as given (path, s3:// or https:// URI)"),
        _field(
            "source_offset",
            pa.int64(),
            "Byte offset of the record's gzip member in source_file (Common Crawl index convention)",
        ),
        _field("warc_record_id", pa.string(), "WARC-Record-ID (urn:uuid:...); empty for ARC records, which have none"),
        _field("charset", pa.string(), "Codec the HTML was decoded with"),
        _field("extractor", pa.string(), "Text extraction backend: trafilatura, resiliparse or wet"),
        *(_field(name, type_, doc) for name, (type_, _, doc) in QUALITY_COLUMNS.items()),
    ],
    metadata={"gristmill_schema_version": str(SCHEMA_VERSION)},
)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / CHARS_PER_TOKEN_BYTES)


def safe_domain(tag: str) -> str:
    """Domain tags become folder names (`domain=<tag>`): lower-case, [a-z0-9_-] only."""
    return _DOMAIN_SAFE.sub("_", tag.lower()) or "unknown"


def parse_warc_date(value: str) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def document_to_row(doc: Document) -> dict:
    """One Parquet row (a plain dict: cheap to encode across Beam shuffles)."""
    prov = doc.provenance
    return {
        "id": doc.id,
        "text": doc.text,
        "url": doc.url,
        "host": doc.host,
        "domain": safe_domain(doc.domain),
        "domain_rule": doc.domain_rule,
        "topic": doc.topic,
        "topic_source": doc.topic_source,
        "topic_score": doc.topic_score,
        "format": doc.format,
        "format_source": doc.format_source,
        "format_score": doc.format_score,
        "lang": doc.lang,
        "lang_score": doc.lang_score,
        "quality_score": doc.quality_score,
        "toxicity_score": doc.toxicity_score,
        "pii_counts": [{"entity": k, "count": v} for k, v in sorted(doc.pii_counts.items())],
        "dup_cluster_size": doc.dup_cluster_size,
        "token_estimate": estimate_tokens(doc.text),
        "crawl": prov.crawl,
        "fetch_time": parse_warc_date(prov.fetch_time),
        "source_file": prov.source_file,
        "source_offset": prov.source_offset,
        "warc_record_id": prov.warc_record_id,
        "charset": doc.charset,
        "extractor": doc.metadata.get("extractor", ""),
        **{name: _parse(parse, doc.metadata.get(name)) for name, (_, parse, _) in QUALITY_COLUMNS.items()},
    }


def _parse(parse, value: str | None):
    return None if value is None else parse(value)


def schema_markdown() -> str:
    """The README table, generated from SCHEMA."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for field in SCHEMA:
        doc = field.metadata[b"doc"].decode()
        lines.append(f"| `{field.name}` | `{field.type}`{'' if field.nullable else ' not null'} | {doc} |")
    return "\n".join(lines)
