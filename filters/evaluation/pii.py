"""Span-level precision and recall of PII detection on labelled sentences.

The data is presidio-research's synthetic set (`synth_dev.json`: a list of
`{"full_text", "spans": [{"entity_type", "start_position", "end_position", ...}]}`).
Its labels are mapped onto presidio's entity names (`SYNTH_TO_PRESIDIO`).

A predicted span is correct when at least half of it lies inside one labelled span
of the same type; a labelled span is found when at least half of it is covered by
one predicted span of the same type. So redacting "+46 (0)8 928 571 38" without
its "+" counts, a city found inside a labelled street address is a correct
LOCATION but does not find the address, and half a card number finds nothing.

`PlainPresidio` is the baseline: presidio's `AnalyzerEngine` as shipped (every
predefined recognizer for English) on a blank spaCy pipeline.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from presidio_analyzer import RecognizerResult

SYNTH_TO_PRESIDIO = {"GPE": "LOCATION", "STREET_ADDRESS": "LOCATION", "DOMAIN_NAME": "URL"}
_MIN_OVERLAP = 0.5


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    entity_type: str
    start: int
    end: int


@dataclasses.dataclass(frozen=True, slots=True)
class Example:
    text: str
    spans: tuple[Span, ...]


@dataclasses.dataclass(slots=True)
class TypeScore:
    predicted: int = 0
    correct: int = 0  # predicted spans that are right
    support: int = 0  # labelled spans
    found: int = 0  # labelled spans found

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: TypeScore) -> None:
        self.predicted += other.predicted
        self.correct += other.correct
        self.support += other.support
        self.found += other.found


def load_synth(path: str | Path) -> list[Example]:
    with open(path, encoding="utf-8") as f:
        records = json.load(f)
    return [
        Example(
            r["full_text"],
            tuple(
                Span(SYNTH_TO_PRESIDIO.get(s["entity_type"], s["entity_type"]), s["start_position"], s["end_position"])
                for s in r["spans"]
            ),
        )
        for r in records
    ]


def _covers(a: Span | RecognizerResult, b: Span | RecognizerResult) -> bool:
    """At least half of `b` lies inside `a`."""
    overlap = min(a.end, b.end) - max(a.start, b.start)
    return overlap > 0 and overlap >= _MIN_OVERLAP * (b.end - b.start)


def score_spans(
    examples: Iterable[Example], analyze: Callable[[str], Sequence[RecognizerResult]], entity_types: Iterable[str]
) -> dict[str, TypeScore]:
    """Per entity type in `entity_types`: predicted, correct, support, found."""
    scores = {t: TypeScore() for t in entity_types}
    for example in examples:
        predicted = [p for p in analyze(example.text) if p.entity_type in scores]
        gold = [g for g in example.spans if g.entity_type in scores]
        for p in predicted:
            score = scores[p.entity_type]
            score.predicted += 1
            score.correct += any(g.entity_type == p.entity_type and _covers(g, p) for g in gold)
        for g in gold:
            score = scores[g.entity_type]
            score.support += 1
            score.found += any(p.entity_type == g.entity_type and _covers(p, g) for p in predicted)
    return scores


def total(scores: dict[str, TypeScore], entity_types: Iterable[str]) -> TypeScore:
    """Micro-averaged over `entity_types`."""
    summed = TypeScore()
    for t in entity_types:
        if t in scores:
            summed.add(scores[t])
    return summed


def format_table(scores: dict[str, TypeScore], totals: dict[str, Iterable[str]]) -> str:
    """A Markdown table: one row per type that has labels or predictions, then total rows."""
    lines = ["| type | precision | recall | F1 | support | predicted |", "|---|---:|---:|---:|---:|---:|"]

    def row(name: str, s: TypeScore) -> str:
        precision = f"{s.precision:.3f}" if s.predicted else "-"
        return f"| {name} | {precision} | {s.recall:.3f} | {s.f1:.3f} | {s.support} | {s.predicted} |"

    for name in sorted(scores):
        if scores[name].support or scores[name].predicted:
            lines.append(row(name, scores[name]))
    for name, types in totals.items():
        lines.append(row(f"**{name}**", total(scores, types)))
    return "\n".join(lines)


class PlainPresidio:
    """presidio's AnalyzerEngine as shipped, offline: a blank spaCy English pipeline
    (pattern recognizers need tokens only for context words) and the predefined
    recognizers; the email recognizer's tldextract reads its bundled suffix list."""

    def __init__(self, entities: Sequence[str] | None = None):
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        from filters.pii_recognizers import OfflineEmailRecognizer

        engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
        engine.nlp = {"en": spacy.blank("en")}  # set before AnalyzerEngine would call load()
        self._analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
        self._analyzer.registry.remove_recognizer("EmailRecognizer")
        self._analyzer.registry.add_recognizer(OfflineEmailRecognizer())
        self._entities = list(entities) if entities else None

    @property
    def entities(self) -> tuple[str, ...]:
        """What it can find: not the NER types, which a blank pipeline never yields."""
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        recognizers = [r for r in self._analyzer.get_recognizers("en") if not isinstance(r, SpacyRecognizer)]
        found = {entity for r in recognizers for entity in r.supported_entities}
        return tuple(sorted(found & set(self._entities) if self._entities else found))

    def analyze(self, text: str, lang: str = "en") -> list[RecognizerResult]:
        from filters.pii import resolve_overlaps

        return resolve_overlaps(self._analyzer.analyze(text, language="en", entities=self._entities))
