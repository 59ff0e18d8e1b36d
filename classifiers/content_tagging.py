"""One document's domain, topic and format: evidence first, the content models where it is silent.

    format  the page's declarations, URL rules, path words, content signals
            (filters/content_evidence.py); else the format model, restricted to the kinds of
            article when the page only declares "an article"
    topic   the declared section, a section word in the path, a URL rule; else the topic
            vocabularies where one topic clearly dominates the words (filters/topic_words.py);
            else the topic model (fastText, or zero-shot embeddings when configured)
    domain  taxonomy 1's tag: URL rules, then content signals, then the optional domain model;
            where all say "other", the tag the format maps to (filters/taxonomy.yaml), so the
            ten-tag mixtures keep working on pages from hosts no rule knows

Pure: the models are passed in, loaded once per worker by TagDomains.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

from classifiers.content import ContentClassifier, model_words
from filters.content_evidence import content_tag_of, decide_format, decide_topic
from filters.domain_rules import OTHER, DomainRules
from filters.page_metadata import from_metadata
from filters.taxonomy import Taxonomy
from filters.topic_words import topic_from_words
from pipeline.core.records import MODEL_SOURCE

UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True, slots=True)
class Tags:
    domain: str
    domain_rule: str
    topic: str
    topic_source: str
    topic_score: float | None
    format: str
    format_source: str
    format_score: float | None


class TopicModel:
    """What `ContentTagger` asks for a topic: `predict(text) -> (topic or None, probability)`."""

    def predict(self, text: str) -> tuple[str | None, float]:  # pragma: no cover - a protocol
        raise NotImplementedError


class ZeroShotTopicModel(TopicModel):
    """The embedding path: classifiers/labelling.py's zero-shot topics, one document at a time."""

    def __init__(self, taxonomy: Taxonomy):
        from classifiers.labelling import ZeroShotTopics

        self._zero_shot = ZeroShotTopics(taxonomy)

    def predict(self, text: str) -> tuple[str | None, float]:
        row = self._zero_shot.probabilities([text])[0]
        best = int(row.argmax())
        return self._zero_shot.topics[best], float(row[best])


class ContentTagger:
    def __init__(
        self,
        rules: DomainRules,
        taxonomy: Taxonomy,
        *,
        topic_model: ContentClassifier | TopicModel | None,
        format_model: ContentClassifier | None,
        content_signals: bool = True,
        domain_model=None,
        domain_model_first: bool = False,
    ):
        """`domain_model`: taxonomy 1's optional model as a callable (text, tag, rule) -> (tag, rule), asked
        where the rules say "other", or first (`domain_model_first`, its "replace" mode: it keeps the
        rules' tag when it is not confident)."""
        self._rules, self._taxonomy = rules, taxonomy
        self._topic_model, self._format_model = topic_model, format_model
        self._content_signals = content_signals
        self._domain_model, self._domain_model_first = domain_model, domain_model_first

    def tag(self, url: str, host: str, text: str, metadata: Mapping[str, str]) -> Tags:
        meta = from_metadata(metadata)
        url_rule = self._rules.match_url(url, host) if url else None  # asked once, for all three axes
        content_tag = content_tag_of(text, self._content_signals)  # measured when first asked, then kept
        words = functools.cache(lambda: model_words(text))  # read once, for the vocabularies and both models
        fmt_evidence = decide_format(meta, url, url_rule, content_tag, self._taxonomy)
        if fmt_evidence.decided is not None:
            fmt, fmt_source, fmt_score = fmt_evidence.decided.label, fmt_evidence.decided.source, None
        else:
            fmt, fmt_source, fmt_score = self._predict(self._format_model, text, words(), fmt_evidence.allowed)
        topic_evidence = decide_topic(meta, url, url_rule, self._taxonomy)
        by_words = topic_from_words(text, words()) if topic_evidence is None else None
        if topic_evidence is not None:
            topic, topic_source, topic_score = topic_evidence.label, topic_evidence.source, None
        elif by_words is not None:
            topic, topic_source, topic_score = by_words[0], f"words:{by_words[1]}", None
        else:
            topic, topic_source, topic_score = self._predict(self._topic_model, text, words(), None)
        domain, rule = self._domain(text, url_rule, content_tag)
        if domain == OTHER and fmt != UNKNOWN:
            mapped = self._taxonomy.domain_for_format(fmt)
            if mapped is not None:
                domain, rule = mapped, f"format:{fmt}"
        return Tags(domain, rule, topic, topic_source, topic_score, fmt, fmt_source, fmt_score)

    def _domain(self, text: str, url_rule, content_tag) -> tuple[str, str]:
        """Taxonomy 1's tag as DomainRules.tag gives it, with the optional domain model before or after."""
        if self._domain_model is not None and self._domain_model_first:
            tag, rule = self._domain_model(text, OTHER, "")
            if rule:
                return tag, rule
        tag, rule = self._rules.decide(url_rule, content_tag)
        if tag == OTHER and self._domain_model is not None and not self._domain_model_first:
            return self._domain_model(text, tag, rule)
        return tag, rule

    @staticmethod
    def _predict(model, text: str, words, allowed) -> tuple[str, str, float | None]:
        if model is None:
            return UNKNOWN, "", None
        if isinstance(model, ContentClassifier):
            label, score = model.predict(text, allowed, words)
        else:
            label, score = model.predict(text)
        if label is None:
            return UNKNOWN, "", None
        return label, MODEL_SOURCE, score
