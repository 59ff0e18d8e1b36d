"""`TagDomains`: every document's domain (taxonomy 1), topic and format, and what decided each.

The decisions are classifiers/content_tagging.py's: a page's own evidence (declarations,
URL rules, path words, content signals) first, the content models where it is silent;
taxonomy 1's domain from the URL rules, content signals and the optional domain model, or
from the format where they all say "other". The stage never drops a document; it counts
documents per domain, topic, format and kind of deciding rule.
"""

from __future__ import annotations

import dataclasses
import os

import apache_beam as beam

from classifiers.content_tagging import ContentTagger, ZeroShotTopicModel
from pipeline.accounting.guard import BeamCounter, StageFn, StageOutput, run_stage
from pipeline.config import DomainClassifierConfig, DomainsConfig
from pipeline.core.records import Document

STAGE = "TagDomains"


def classifier_rule(model_path: str) -> str:
    """The `domain_rule` of a document the domain model tagged, e.g. "classifier:domain.ftz"."""
    return f"classifier:{os.path.basename(model_path)}"


def domain_model_of(classifier, settings: DomainClassifierConfig):
    """Taxonomy 1's optional domain model as ContentTagger asks for it: (text, tag, rule) -> (tag, rule),
    the model's tag where it reaches `min_score`, else the tag and rule given."""

    def decide(text: str, tag: str, rule: str) -> tuple[str, str]:
        model_tag, score = classifier.predict(text)
        if model_tag is not None and score >= settings.min_score:
            return model_tag, classifier_rule(settings.model_path)
        return tag, rule

    return decide


def load_tagger(config: DomainsConfig) -> ContentTagger:
    """The rules, the taxonomy and the models `config` asks for (in DoFn.setup: once per worker)."""
    from classifiers.content import DEFAULT_MODEL_PATHS, ContentClassifier
    from classifiers.domain import DomainClassifier
    from filters.domain_rules import DomainRules
    from filters.taxonomy import Taxonomy

    rules, taxonomy = DomainRules.load(config.rules_files), Taxonomy.load()
    topic_model = format_model = None
    if config.content_model != "none":
        format_path = config.format_model_path or DEFAULT_MODEL_PATHS["format"]
        format_model = ContentClassifier(format_path, "format", classes=taxonomy.formats)
        if config.content_model == "embedding":
            topic_model = ZeroShotTopicModel(taxonomy)
        else:
            topic_path = config.topic_model_path or DEFAULT_MODEL_PATHS["topic"]
            topic_model = ContentClassifier(topic_path, "topic", classes=taxonomy.topics)
    settings = config.classifier
    domain_model = None
    if settings.model_path:
        domain_model = domain_model_of(DomainClassifier(settings.model_path, tags=rules.taxonomy), settings)
    return ContentTagger(
        rules,
        taxonomy,
        topic_model=topic_model,
        format_model=format_model,
        content_signals=config.content_signals,
        domain_model=domain_model,
        domain_model_first=settings.mode == "replace",
    )


class _TagDomainsFn(StageFn):
    stage = STAGE

    def __init__(self, config: DomainsConfig):
        self._config = config

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)
        self._tagger = load_tagger(self._config) if self._config.enabled else None

    def process_one(self, doc: Document):
        # PCollection[Document] -> PCollection[Document] with domain, topic, format and their sources
        if self._tagger is None:
            yield doc
            return
        tags = self._tagger.tag(doc.url, doc.host, doc.text, doc.metadata)
        self._counter.inc(f"domain_{tags.domain}")
        self._counter.inc(f"topic_{tags.topic}")
        self._counter.inc(f"format_{tags.format}")
        self._counter.inc(f"rule_{tags.domain_rule.split(':', 1)[0]}")
        yield dataclasses.replace(doc, **dataclasses.asdict(tags))


class TagDomains(beam.PTransform):
    def __init__(self, config: DomainsConfig):
        super().__init__()
        self._config = config

    def expand(self, docs) -> StageOutput:
        return run_stage(docs, "Tag", _TagDomainsFn(self._config))
