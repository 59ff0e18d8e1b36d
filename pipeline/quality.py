"""`ApplyQuality`: C4 line cleaning, then the heuristic quality rules, cheapest first.

Per document: C4 cleaning rewrites the text (lines removed, citation markers
deleted) and its page rules judge it; then FineWeb, Gopher quality and Gopher
repetition judge the cleaned text, in that order, and the first failing rule is
the drop's reason. The order is by cost (bench/bench_quality.py: FineWeb is ~4x
cheaper than either Gopher family; those two cost about the same, and quality,
which drops more, goes first). The kept set does not depend on the order. Every family that is off in the config is skipped, and so is the whole
stage when `quality.enabled` is false. A kept document carries the cleaned text
and a few measurements as strings in `metadata` (see `METADATA_KEYS`).

Then the fastText quality classifier (QualityConfig.classifier, classifiers/quality.py)
scores the documents the heuristics keep, in the languages it was trained on,
setting `quality_score`; it drops nothing unless `min_score` (a fixed threshold,
QUALITY_SCORE_TOO_LOW) or `keep_top_fraction` is set. The top fraction is taken
over the whole run, as DCLM does: an approximate quantile of every score
(Beam's ApproximateQuantiles, 1/1000 resolution) is the cut, passed as a side
input to a second filter (BELOW_QUALITY_TOP_FRACTION); documents tied at the cut
are kept. Documents without a score pass both.
"""

from __future__ import annotations

import dataclasses

import apache_beam as beam

from filters import c4, fineweb, gopher
from pipeline.config import QualityConfig
from pipeline.document import Document, DropReason, Rejection
from pipeline.stage import DEAD_LETTER, DROPPED, BeamCounter, StageFn, StageOutput, flatten_outputs, rejected, run_stage

STAGE = "ApplyQuality"
_QUANTILES = 1001  # the top-fraction cut: score quantiles every 0.1%

# What a kept document's metadata gains, when the family that measures it ran.
METADATA_KEYS = ("c4_lines_removed", "sentences", "punctuated_line_frac", "words", "mean_word_length", "stop_words",
                 "duplicate_5gram_char_frac")

# The measurement a drop's detail names, by reason (FineWeb's short-line share depends on the rule, so it has none).
_MEASURED = {
    **{reason: measured for reason, measured, *_ in (*c4.RULES, *gopher.QUALITY_RULES, *gopher.REPETITION_RULES)},
    DropReason.ALL_LINES_REMOVED: "lines",
    DropReason.TOO_FEW_PUNCTUATED_LINES: "punctuated_line_frac",
    DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB: "duplicate_line_char_frac",
    DropReason.TOO_MANY_NEWLINES: "newlines_per_word",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome for one text: kept (reason None) with its cleaned text, or dropped."""

    text: str  # after C4 cleaning
    reason: DropReason | None = None
    detail: str = ""  # for a drop: the family and the measured value, e.g. "gopher_quality_v1 words=12"
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    removed_lines: dict[str, int] = dataclasses.field(default_factory=dict)  # C4 line removals by cause


def _number(value: float | int | bool) -> str:
    return str(value) if isinstance(value, (int, bool)) else f"{value:.4g}"


def _dropped(text: str, family: str, stats, reason: DropReason, removed_lines: dict[str, int]) -> Assessment:
    measured = _MEASURED.get(reason)
    detail = f"{family} {measured}={_number(getattr(stats, measured))}" if measured else family
    return Assessment(text, reason, detail, removed_lines=removed_lines)


def assess(text: str, lang: str, config: QualityConfig) -> Assessment:
    """C4 cleaning, then each enabled family in order until one drops the text."""
    metadata: dict[str, str] = {}
    removed: dict[str, int] = {}
    if config.c4.enabled:
        cleaning = c4.clean(text, config.c4, lang)
        text, removed = cleaning.text, cleaning.removed_lines
        verdict = c4.judge(cleaning, config.c4, lang)
        if not verdict.keep:
            return _dropped(text, c4.NAME, cleaning, verdict.reason, removed)
        metadata["c4_lines_removed"] = str(cleaning.lines - cleaning.kept_lines)
        metadata["sentences"] = str(cleaning.sentences)
    if config.fineweb.enabled:
        stats = fineweb.measure(text, lang)
        verdict = fineweb.judge(stats, config.fineweb, lang)
        if not verdict.keep:
            return _dropped(text, fineweb.NAME, stats, verdict.reason, removed)
        metadata["punctuated_line_frac"] = _number(stats.punctuated_line_frac)
    if config.gopher.enabled:
        stats = gopher.measure_quality(text, lang)
        verdict = gopher.judge_quality(stats, config.gopher, lang)
        if not verdict.keep:
            return _dropped(text, gopher.QUALITY, stats, verdict.reason, removed)
        metadata["words"] = str(stats.words)
        metadata["mean_word_length"] = f"{stats.mean_word_length:.2f}"
        if stats.stop_words is not None:
            metadata["stop_words"] = str(stats.stop_words)
    if config.repetition.enabled:
        stats = gopher.measure_repetition(text, lang)
        verdict = gopher.judge_repetition(stats, config.repetition, lang)
        if not verdict.keep:
            return _dropped(text, gopher.REPETITION, stats, verdict.reason, removed)
        metadata["duplicate_5gram_char_frac"] = _number(stats.duplicate_5gram_char_frac)
    return Assessment(text, metadata=metadata, removed_lines=removed)


class _ApplyQualityFn(StageFn):
    stage = STAGE

    def __init__(self, config: QualityConfig):
        self._config = config

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)
        classifier = self._config.classifier
        self._scorer = None
        if self._config.enabled and classifier.enabled:
            from classifiers.quality import QualityScorer

            self._scorer = QualityScorer(classifier.model_path)
        self._languages = frozenset(classifier.languages)

    def process_one(self, doc: Document):
        # PCollection[Document] -> PCollection[Document] with cleaned text, quality metadata and quality_score
        if not self._config.enabled:
            yield doc
            return
        result = assess(doc.text, doc.lang, self._config)
        for cause, n in result.removed_lines.items():
            if n:
                self._counter.inc(f"c4_lines_removed_{cause}", n)
        if result.reason is not None:
            yield rejected(Rejection(STAGE, result.reason, doc.id, doc.url, result.detail), self._counter)
            return
        doc = dataclasses.replace(doc, text=result.text, metadata={**doc.metadata, **result.metadata})
        if self._scorer is not None and (not self._languages or doc.lang in self._languages):
            score = self._scorer.score(doc.text)
            min_score = self._config.classifier.min_score
            if min_score is not None and score < min_score:
                detail = f"quality_classifier quality_score={score:.4g}"
                yield rejected(Rejection(STAGE, DropReason.QUALITY_SCORE_TOO_LOW, doc.id, doc.url, detail), self._counter)
                return
            doc = dataclasses.replace(doc, quality_score=score)
        yield doc


def top_fraction_cut(quantiles: list[float], fraction: float) -> float | None:
    """The score at or above which `fraction` of the run lies, from evenly spaced quantiles
    (min ... max); None when nothing was scored."""
    if not quantiles:
        return None
    return quantiles[round((1.0 - fraction) * (len(quantiles) - 1))]


class _KeepTopFn(StageFn):
    stage = STAGE

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def process_one(self, doc: Document, cut: float | None):
        if cut is None or doc.quality_score is None or doc.quality_score >= cut:
            yield doc
        else:
            detail = f"quality_classifier quality_score={doc.quality_score:.4g} < cut={cut:.4g}"
            yield rejected(Rejection(STAGE, DropReason.BELOW_QUALITY_TOP_FRACTION, doc.id, doc.url, detail), self._counter)


class ApplyQuality(beam.PTransform):
    def __init__(self, config: QualityConfig):
        super().__init__()
        self._config = config

    def expand(self, docs) -> StageOutput:
        applied = run_stage(docs, "Apply", _ApplyQualityFn(self._config))
        fraction = self._config.classifier.keep_top_fraction
        if not self._config.enabled or fraction is None:
            return applied
        cut = (
            applied.kept
            | "Scores" >> beam.FlatMap(lambda doc: [] if doc.quality_score is None else [doc.quality_score])
            | "Quantiles" >> beam.transforms.stats.ApproximateQuantiles.Globally(_QUANTILES)
            | "Cut" >> beam.Map(top_fraction_cut, fraction)
        )
        top = applied.kept | "KeepTop" >> beam.ParDo(_KeepTopFn(), beam.pvalue.AsSingleton(cut)).with_outputs(
            DROPPED, DEAD_LETTER, main="kept")
        return flatten_outputs("Drops", top.kept, [applied, StageOutput(top.kept, top[DROPPED], top[DEAD_LETTER])])
