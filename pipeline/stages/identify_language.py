"""`IdentifyLanguage`: lid.176 language and score on every document, kept by threshold."""

from __future__ import annotations

import dataclasses

import apache_beam as beam

from classifiers.langid import LanguageIdentifier, judge_language
from pipeline.accounting.guard import BeamCounter, StageFn, StageOutput, rejected, run_stage
from pipeline.config import LangIdConfig
from pipeline.core.records import Document, Rejection

STAGE = "IdentifyLanguage"


class _IdentifyLanguageFn(StageFn):
    stage = STAGE

    def __init__(self, config: LangIdConfig):
        self._config = config

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)
        self._identifier = LanguageIdentifier()

    def process_one(self, doc: Document):
        # PCollection[Document] -> PCollection[Document] with lang, lang_score
        prediction = self._identifier.predict(doc.text)
        verdict = judge_language(
            prediction,
            min_score=self._config.min_score,
            languages=self._config.languages,
            thresholds=self._config.thresholds,
        )
        if not verdict.keep:
            detail = f"{prediction.lang}:{prediction.score:.2f}"
            yield rejected(Rejection(STAGE, verdict.reason, doc.id, doc.url, detail), self._counter)
            return
        self._counter.inc(f"lang_{prediction.lang}")
        yield dataclasses.replace(doc, lang=prediction.lang, lang_score=round(prediction.score, 4))


class IdentifyLanguage(beam.PTransform):
    def __init__(self, config: LangIdConfig):
        super().__init__()
        self._config = config

    def expand(self, docs) -> StageOutput:
        return run_stage(docs, "Identify", _IdentifyLanguageFn(self._config))
