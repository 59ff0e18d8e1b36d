"""The records that flow through the pipeline, and the accounting vocabulary.

Two record kinds: a `Capture` is one HTTP response as read from a WARC (raw HTML,
decoded to `str`); a `Document` is extracted text plus everything later stages
learn about it. Both are frozen: a stage returns `dataclasses.replace(doc, ...)`.

Every record read ends in exactly one place: kept, or dropped with exactly one
`DropReason` by exactly one stage. `Rejection` is what a stage emits on its
dropped output; the funnel is computed from those (see `pipeline/accounting/funnel.py`).
"""

from __future__ import annotations

import dataclasses
import enum
import os
import traceback
from collections.abc import Mapping


class DropReason(str, enum.Enum):
    """Why a record left the pipeline, named for the failure."""

    # ingest: a file that could not be opened or read to its end (after retries)
    UNREADABLE_INPUT = "unreadable_input"
    # ingest: WARC record kinds that are not pages
    REQUEST_RECORD = "request_record"
    METADATA_RECORD = "metadata_record"
    REVISIT_RECORD = "revisit_record"
    WARCINFO_RECORD = "warcinfo_record"
    OTHER_RECORD_TYPE = "other_record_type"
    # ingest: responses that are not usable HTML pages
    HTTP_STATUS = "http_status"
    NOT_HTML = "not_html"
    TOO_LARGE = "too_large"
    TRUNCATED_RECORD = "truncated_record"
    CORRUPT_RECORD = "corrupt_record"
    DECOMPRESSION_BOMB = "decompression_bomb"  # a gzip member inflating >100x past 64 MiB
    DECODE_ERROR = "decode_error"
    BINARY_PAYLOAD = "binary_payload"
    EMPTY_PAYLOAD = "empty_payload"
    # extraction
    EXTRACTION_TIMEOUT = "extraction_timeout"
    EXTRACTION_ERROR = "extraction_error"
    EMPTY_TEXT = "empty_text"
    # language identification
    LANGUAGE_SCORE_TOO_LOW = "language_score_too_low"
    LANGUAGE_NOT_WANTED = "language_not_wanted"
    # safety
    BLOCKED_DOMAIN = "blocked_domain"
    BLOCKED_URL = "blocked_url"
    TOO_MUCH_PII = "too_much_pii"
    TOXIC = "toxic"
    # line deduplication: what was left after removing lines repeated across the group was too short
    TOO_SHORT_AFTER_LINE_DEDUP = "too_short_after_line_dedup"
    # deduplication
    URL_DUPLICATE = "url_duplicate"
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    # quality: C4 page rules (after its line cleaning)
    LOREM_IPSUM = "lorem_ipsum"
    CURLY_BRACE = "curly_brace"
    TOO_FEW_SENTENCES = "too_few_sentences"
    ALL_LINES_REMOVED = "all_lines_removed"
    # quality: FineWeb
    TOO_FEW_PUNCTUATED_LINES = "too_few_punctuated_lines"
    TOO_MANY_SHORT_LINES = "too_many_short_lines"
    TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB = "too_many_duplicate_line_chars_fineweb"
    TOO_MANY_NEWLINES = "too_many_newlines"
    # quality: Gopher
    TOO_FEW_WORDS = "too_few_words"
    TOO_MANY_WORDS = "too_many_words"
    WORDS_TOO_SHORT = "words_too_short"
    WORDS_TOO_LONG = "words_too_long"
    TOO_MANY_HASHES = "too_many_hashes"
    TOO_MANY_ELLIPSES = "too_many_ellipses"
    TOO_MANY_BULLET_LINES = "too_many_bullet_lines"
    TOO_MANY_ELLIPSIS_LINES = "too_many_ellipsis_lines"
    TOO_FEW_ALPHA_WORDS = "too_few_alpha_words"
    TOO_FEW_STOP_WORDS = "too_few_stop_words"
    # quality: Gopher repetition
    TOO_MANY_DUPLICATE_LINES = "too_many_duplicate_lines"
    TOO_MANY_DUPLICATE_PARAGRAPHS = "too_many_duplicate_paragraphs"
    TOO_MANY_DUPLICATE_LINE_CHARS = "too_many_duplicate_line_chars"
    TOO_MANY_DUPLICATE_PARAGRAPH_CHARS = "too_many_duplicate_paragraph_chars"
    TOP_2GRAM_TOO_FREQUENT = "top_2gram_too_frequent"
    TOP_3GRAM_TOO_FREQUENT = "top_3gram_too_frequent"
    TOP_4GRAM_TOO_FREQUENT = "top_4gram_too_frequent"
    TOO_MANY_DUPLICATE_5GRAMS = "too_many_duplicate_5grams"
    TOO_MANY_DUPLICATE_6GRAMS = "too_many_duplicate_6grams"
    TOO_MANY_DUPLICATE_7GRAMS = "too_many_duplicate_7grams"
    TOO_MANY_DUPLICATE_8GRAMS = "too_many_duplicate_8grams"
    TOO_MANY_DUPLICATE_9GRAMS = "too_many_duplicate_9grams"
    TOO_MANY_DUPLICATE_10GRAMS = "too_many_duplicate_10grams"
    # quality: fastText classifier
    QUALITY_SCORE_TOO_LOW = "quality_score_too_low"
    BELOW_QUALITY_TOP_FRACTION = "below_quality_top_fraction"
    # decontamination: shares n-grams with an evaluation set item (a benchmark's test data)
    CONTAMINATED = "contaminated"
    # any stage: an unexpected exception on one document (it goes to dead_letter/)
    STAGE_ERROR = "stage_error"


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """A filter's decision: keep (reason is None) or drop with one reason."""

    reason: DropReason | None = None

    @property
    def keep(self) -> bool:
        return self.reason is None


KEEP = Verdict()


def drop(reason: DropReason) -> Verdict:
    return Verdict(reason)


MODEL_SOURCE = "model"  # a Document's topic_source / format_source when a model, not evidence, decided


@dataclasses.dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from: enough to find it again in the crawl."""

    source_file: str  # the WARC/ARC/WET path or URL as given
    source_offset: int  # byte offset of the gzip member (Common Crawl index convention)
    record_index: int  # position of the record inside that member (usually 0)
    warc_record_id: str = ""
    crawl: str = ""  # e.g. "CC-MAIN-2024-22", from warcinfo or the path; "" if unknown
    fetch_time: str = ""  # WARC-Date, ISO 8601 UTC


@dataclasses.dataclass(frozen=True, slots=True)
class Capture:
    """One HTTP 200 HTML (or WET text) capture, decoded to Unicode."""

    id: str
    url: str
    content: str  # HTML, or plain text when `is_text` (WET conversion records)
    provenance: Provenance
    charset: str = ""  # the charset the payload was decoded with
    is_text: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    """Extracted text and what the stages learned about it.

    Score fields are None until the stage that sets them exists in the run.
    """

    id: str
    url: str
    host: str
    text: str
    provenance: Provenance
    charset: str = ""
    lang: str = ""
    lang_score: float = 0.0
    domain: str = "unknown"
    domain_rule: str = ""  # which rule or model set `domain` (e.g. "host:wikipedia.org"); empty until TagDomains runs
    topic: str = "unknown"  # what the page is about (filters/taxonomy.yaml); set by TagDomains
    topic_source: str = ""  # the evidence that decided it ("section", "path:sport", ...) or "model"
    topic_score: float | None = None  # the model's probability when the model decided
    format: str = "unknown"  # what kind of page it is (filters/taxonomy.yaml); set by TagDomains
    format_source: str = ""
    format_score: float | None = None
    quality_score: float | None = None
    toxicity_score: float | None = None
    pii_counts: Mapping[str, int] = dataclasses.field(default_factory=dict)
    dup_cluster_size: int = 1
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)


def describe_error(err: BaseException) -> str:
    """An exception as a Rejection's detail: its type and where it was raised, never its message
    (a message may quote the page), e.g. "ValueError at gopher.py:120 in measure_quality"."""
    frames = traceback.extract_tb(err.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return f"{type(err).__name__}{where}"


@dataclasses.dataclass(frozen=True, slots=True)
class Rejection:
    """What a stage emits for a dropped record: no text, so no PII in audit or logs."""

    stage: str
    reason: DropReason
    id: str = ""
    url: str = ""
    detail: str = ""  # short, machine-made (e.g. "status=404"); never page content
