"""`ApplyQuality`: the heuristic quality rule families, then the fastText quality classifier.

Per document, `filters.quality.assess` runs every enabled family in the registry's
order (C4 cleaning rewrites the text and its page rules judge it; then FineWeb,
Gopher quality and Gopher repetition judge the cleaned text); the first failing
rule is the drop's reason. The whole stage is skipped when `quality.enabled` is
false. A kept document carries the cleaned text and the families' measurements as
strings in `metadata` (`filters.quality.METADATA_KEYS`).

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

from filters.quality import assess
from pipeline.accounting.guard import (
    DEAD_LETTER,
    DROPPED,
    BeamCounter,
    StageFn,
    StageOutput,
    flatten_outputs,
    rejected,
    run_stage,
)
from pipeline.config import QualityConfig
from pipeline.core.records import Document, DropReason, Rejection

STAGE = "ApplyQuality"
_QUANTILES = 1001  # the top-fraction cut: score quantiles every 0.1%


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
                yield rejected(
                    Rejection(STAGE, DropReason.QUALITY_SCORE_TOO_LOW, doc.id, doc.url, detail), self._counter
                )
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
            yield rejected(
                Rejection(STAGE, DropReason.BELOW_QUALITY_TOP_FRACTION, doc.id, doc.url, detail), self._counter
            )


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
            DROPPED, DEAD_LETTER, main="kept"
        )
        return flatten_outputs("Drops", top.kept, [applied, StageOutput(top.kept, top[DROPPED], top[DEAD_LETTER])])
