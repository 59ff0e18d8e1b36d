"""`ApplySafety`: URL blocklist, toxicity, then PII redaction.

Cheapest first: a blocked URL costs a set lookup, toxicity one fastText pass,
and PII redaction (the expensive part) runs only on documents that survived.
Toxicity is scored on the original text; the kept document carries the redacted
text, its per-type PII counts and its toxicity score. Drops name no PII.
"""

from __future__ import annotations

import dataclasses

import apache_beam as beam

from classifiers.toxicity import ToxicityScorer
from filters.pii import PiiRedactor, judge_pii
from filters.url_blocklist import UrlBlocklist
from pipeline.accounting.guard import BeamCounter, StageFn, StageOutput, rejected, run_stage
from pipeline.config import SafetyConfig
from pipeline.core.records import Document, DropReason, Rejection

STAGE = "ApplySafety"


class _ApplySafetyFn(StageFn):
    stage = STAGE

    def __init__(self, config: SafetyConfig):
        self._config = config

    def setup(self) -> None:
        config = self._config
        self._counter = BeamCounter(STAGE)
        self._blocklist = UrlBlocklist.from_files(config.blocklist.domain_files, config.blocklist.url_substring_files)
        self._toxicity = ToxicityScorer(config.toxicity.model_path) if config.toxicity.enabled else None
        self._pii = PiiRedactor(config.pii) if config.pii.enabled else None

    def process_one(self, doc: Document):
        # PCollection[Document] -> PCollection[Document] (redacted, with toxicity_score and pii_counts)
        verdict = self._blocklist.check(doc.url)
        if not verdict.keep:
            yield rejected(Rejection(STAGE, verdict.reason, doc.id, doc.url), self._counter)
            return
        toxicity = None
        if self._toxicity is not None:
            toxicity = round(self._toxicity.score(doc.text), 4)
            if toxicity > self._config.toxicity.max_score:
                yield rejected(
                    Rejection(STAGE, DropReason.TOXIC, doc.id, doc.url, f"score={toxicity:.3f}"), self._counter
                )
                return
        text, counts = doc.text, {}
        if self._pii is not None:
            redaction = self._pii.redact(doc.text, doc.lang)
            verdict = judge_pii(redaction, len(doc.text.split()), self._config.pii)
            if not verdict.keep:
                detail = f"entities={sum(redaction.counts.values())}"  # a count, never the PII itself
                yield rejected(Rejection(STAGE, verdict.reason, doc.id, doc.url, detail), self._counter)
                return
            text, counts = redaction.text, redaction.counts
            for entity, n in counts.items():
                self._counter.inc(f"pii_{entity}", n)
        yield dataclasses.replace(doc, text=text, pii_counts=counts, toxicity_score=toxicity)


class ApplySafety(beam.PTransform):
    def __init__(self, config: SafetyConfig):
        super().__init__()
        self._config = config

    def expand(self, docs) -> StageOutput:
        return run_stage(docs, "Apply", _ApplySafetyFn(self._config))
