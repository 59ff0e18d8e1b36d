"""Distant supervision: label real pages with topic and format, to train the content models.

Labellers, none of them a person, in the order they are trusted:

1. The page's own evidence (filters/content_evidence.py): its schema.org / Open Graph
   declarations, its declared section, its URL (taxonomy-1 rules, path words) and its
   content signals. Precise where present, silent on most pages.
2. For the topic, the topic vocabularies (filters/topic_words.py) in seven languages: a
   page whose words clearly favour one topic. On the 157 shared pages whose section or
   path names a topic it agrees with them on 57 of 80 it labels (71%).
3. Optionally (`zero_shot`), a zero-shot embedding model for the topic
   (classifiers/embedding.py, the packaged all-MiniLM-L6-v2): the page's first words
   against one sentence per topic built from the taxonomy's definitions; English only,
   taken when confident (`ZERO_SHOT_MIN_PROBABILITY`) and clear of the runner-up
   (`ZERO_SHOT_MIN_MARGIN`). Measured on the 37 English shared pages whose section or path
   names a topic, it agrees on 17 (46%; "adult" attracts any page about people), so it is
   off by default in `gristmill classifiers label-pages`.

A page gets no label on an axis when none speaks; it is then not used to train that axis.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from filters.content_evidence import format_of, topic_of
from filters.domain_rules import DomainRules
from filters.page_metadata import PageMetadata
from filters.taxonomy import Taxonomy
from filters.topic_words import topic_from_words

ZERO_SHOT_LANGUAGES = ("en",)
ZERO_SHOT_MIN_PROBABILITY = 0.5
ZERO_SHOT_MIN_MARGIN = 0.2
ZERO_SHOT_WORDS = 200  # the words of a page the embedding sees (its 256 word pieces hold about this many)
TOPIC_PROMPT = "This web page is about {definition}."


@dataclasses.dataclass(frozen=True, slots=True)
class PageLabels:
    topic: str | None
    topic_source: str  # "" when unlabelled; else the evidence, or "zero_shot"
    format: str | None
    format_source: str


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """One real page as the labellers see it."""

    url: str
    host: str
    text: str  # extracted main text
    lang: str
    meta: PageMetadata


def evidence_labels(page: Page, rules: DomainRules, taxonomy: Taxonomy) -> PageLabels:
    """Labels from the page's evidence (URL included), and its topic vocabulary where that names no topic."""
    fmt = format_of(page.url, page.host, page.meta, page.text, rules, taxonomy).decided
    topic = topic_of(page.url, page.host, page.meta, rules, taxonomy)
    if topic is not None:
        topic_label, topic_source = topic.label, topic.source
    else:
        by_words = topic_from_words(page.text)
        topic_label, topic_source = (by_words[0], f"words:{by_words[1]}") if by_words else (None, "")
    return PageLabels(topic_label, topic_source, fmt.label if fmt else None, fmt.source if fmt else "")


class ZeroShotTopics:
    """The embedding labeller: `label(texts)` -> per text (topic or None, probability)."""

    def __init__(self, taxonomy: Taxonomy, encoder=None):
        if encoder is None:
            from classifiers.embedding import SentenceEncoder

            encoder = SentenceEncoder()
        self._encoder = encoder
        self.topics = list(taxonomy.topics)
        prompts = [TOPIC_PROMPT.format(definition=taxonomy.topics[t]) for t in self.topics]
        self._label_embeddings = encoder.encode(prompts)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(N, topics) probabilities."""
        from classifiers.embedding import zero_shot

        heads = [" ".join(text.split()[:ZERO_SHOT_WORDS]) for text in texts]
        return zero_shot(self._encoder.encode(heads), self._label_embeddings)

    def label(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        out = []
        for row in self.probabilities(texts):
            order = np.argsort(row)[::-1]
            best, second = float(row[order[0]]), float(row[order[1]])
            confident = best >= ZERO_SHOT_MIN_PROBABILITY and best - second >= ZERO_SHOT_MIN_MARGIN
            out.append((self.topics[order[0]] if confident else None, best))
        return out


def label_pages(
    pages: Sequence[Page], rules: DomainRules, taxonomy: Taxonomy, zero_shot: ZeroShotTopics | None
) -> list[PageLabels]:
    """Evidence and vocabulary labels for every page; the zero-shot topic, when given, where they name
    none (English pages)."""
    labels = [evidence_labels(page, rules, taxonomy) for page in pages]
    if zero_shot is None:
        return labels
    todo = [
        i for i, (page, lab) in enumerate(zip(pages, labels)) if lab.topic is None and page.lang in ZERO_SHOT_LANGUAGES
    ]
    for i, (topic, _) in zip(todo, zero_shot.label([pages[i].text for i in todo])):
        if topic is not None:
            labels[i] = dataclasses.replace(labels[i], topic=topic, topic_source="zero_shot")
    return labels
