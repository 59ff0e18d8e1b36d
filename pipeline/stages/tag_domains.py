"""`TagDomains`: set every document's domain tag and the rule (or model) that decided it.

URL rules first, then content signals, then "other" (`filters/domain_rules.py`);
a fastText domain model, when configured, backs the rules up on what they leave
"other" or replaces them where it is confident (`domains.classifier.mode`). The
stage never drops a document; it counts documents per tag and per kind of rule.
"""

from __future__ import annotations

import dataclasses
import os

import apache_beam as beam

from classifiers.domain import DomainClassifier
from filters.domain_rules import OTHER, DomainRules
from pipeline.accounting.guard import BeamCounter, StageFn, StageOutput, run_stage
from pipeline.config import DomainsConfig
from pipeline.core.records import Document

STAGE = "TagDomains"


def classifier_rule(model_path: str) -> str:
    """The `domain_rule` of a document the model tagged, e.g. "classifier:domain.ftz"."""
    return f"classifier:{os.path.basename(model_path)}"


def decide_domain(
    doc: Document, rules: DomainRules, classifier: DomainClassifier | None, config: DomainsConfig
) -> tuple[str, str]:
    """`(tag, rule_id)` for one document, by the rules and the optional model as `config` says."""
    settings = config.classifier
    if classifier is not None and settings.mode == "replace":
        tag, score = classifier.predict(doc.text)
        if tag is not None and score >= settings.min_score:
            return tag, classifier_rule(settings.model_path)
    tag, rule = rules.tag(doc.url, doc.host, doc.text, content_signals=config.content_signals)
    if tag == OTHER and classifier is not None and settings.mode == "backup":
        model_tag, score = classifier.predict(doc.text)
        if model_tag is not None and score >= settings.min_score:
            return model_tag, classifier_rule(settings.model_path)
    return tag, rule


class _TagDomainsFn(StageFn):
    stage = STAGE

    def __init__(self, config: DomainsConfig):
        self._config = config

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)
        self._rules = DomainRules.load(self._config.rules_files)
        model_path = self._config.classifier.model_path
        self._classifier = DomainClassifier(model_path, tags=self._rules.taxonomy) if model_path else None

    def process_one(self, doc: Document):
        # PCollection[Document] -> PCollection[Document] with domain, domain_rule
        if not self._config.enabled:
            yield doc
            return
        tag, rule = decide_domain(doc, self._rules, self._classifier, self._config)
        self._counter.inc(f"domain_{tag}")
        self._counter.inc(f"rule_{rule.split(':', 1)[0]}")
        yield dataclasses.replace(doc, domain=tag, domain_rule=rule)


class TagDomains(beam.PTransform):
    def __init__(self, config: DomainsConfig):
        super().__init__()
        self._config = config

    def expand(self, docs) -> StageOutput:
        return run_stage(docs, "Tag", _TagDomainsFn(self._config))
