"""The evidence a page carries for its topic and format, before any model looks at its text.

High-precision signals, in the order they are trusted:

- format: what the page declares (schema.org types, Open Graph, Highwire citation tags:
  filters/page_metadata.py), then the URL rules' tag where it names a format (a forum host,
  `/wiki/`, a shop subdomain: filters/domain_rules.yaml, mapped by filters/taxonomy.yaml),
  then path words for the formats those rules cannot name (filters/url_signals.py), then
  the content signals (code lines, prices, forum markers: filters/domain_content.py).
- topic: the section the page declares (article:section), then a section word in its path,
  then the URL rules' tag where it names a topic (a code host: computing).

A generic declaration (og:type=article, schema Article) decides nothing but narrows the
format to the kinds of article (`ARTICLE_FORMATS`), among which the format model chooses.
The same functions label pages for training (classifiers/labelling.py) and tag documents
in the pipeline (pipeline/stages/tag_domains.py), so the two never disagree on a rule.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from filters.domain_content import judge_content, measure_content
from filters.domain_rules import DomainRules, Rule
from filters.page_metadata import WEAK_EVIDENCE, PageMetadata, format_evidence
from filters.taxonomy import Taxonomy
from filters.url_signals import path_format, path_topic, section_topic

# What a generic "article" declaration leaves open.
ARTICLE_FORMATS = frozenset(
    {"news_article", "knowledge_article", "personal_blog", "review", "tutorial_howto", "academic_writing"}
)
# URL rule kinds precise enough to name a page's format; a TLD (.gov, .edu) names an owner, not a format.
FORMAT_RULE_KINDS = ("host", "domain", "subdomain", "path")


@dataclasses.dataclass(frozen=True, slots=True)
class Evidence:
    label: str
    source: str  # what decided, e.g. "schema:NewsArticle", "host:wikipedia.org", "section:sport", "content:code"


@dataclasses.dataclass(frozen=True, slots=True)
class FormatEvidence:
    decided: Evidence | None  # the format, when a signal decides it
    allowed: frozenset[str] | None = None  # otherwise, the formats a generic declaration leaves open


def content_tag_of(text: str, enabled: bool = True) -> Callable[[], str | None]:
    """The content signals' taxonomy-1 tag of `text`, measured on the first call only (or never)."""
    return functools.cache(lambda: judge_content(measure_content(text)) if enabled and text else None)


def decide_format(
    meta: PageMetadata, url: str, url_rule: Rule | None, content_tag: Callable[[], str | None], taxonomy: Taxonomy
) -> FormatEvidence:
    """The format evidence of one page, from what was measured of it: its declarations, its URL ("" when
    hidden) and deciding URL rule, and its content signals' tag (asked only when nothing before decides)."""
    declared = format_evidence(meta)
    if declared is not None and declared[1] not in WEAK_EVIDENCE:
        return FormatEvidence(Evidence(declared[0], declared[1]))
    if url_rule is not None and url_rule.kind in FORMAT_RULE_KINDS and not taxonomy.names_no_format(url_rule.id):
        fmt = taxonomy.legacy_format(url_rule.tag)
        if fmt is not None:
            return FormatEvidence(Evidence(fmt, url_rule.id))
    by_path = path_format(url) if url else None
    if by_path is not None:
        return FormatEvidence(Evidence(*by_path))
    tag = content_tag()
    fmt = taxonomy.legacy_format(tag) if tag else None
    if fmt is not None:
        return FormatEvidence(Evidence(fmt, f"content:{tag}"))
    if declared is not None and declared[0] in ARTICLE_FORMATS:
        return FormatEvidence(None, ARTICLE_FORMATS)
    return FormatEvidence(None)


def decide_topic(meta: PageMetadata, url: str, url_rule: Rule | None, taxonomy: Taxonomy) -> Evidence | None:
    """The topic a page's declared section, path ("" when hidden) or deciding URL rule names, or None."""
    if meta.article_section:
        topic = section_topic(meta.article_section)
        if topic is not None:
            return Evidence(topic, "section")
    by_path = path_topic(url) if url else None
    if by_path is not None:
        return Evidence(*by_path)
    topic = taxonomy.legacy_topic(url_rule.tag) if url_rule is not None else None
    if topic is not None:
        return Evidence(topic, url_rule.id)
    return None


def format_of(
    url: str,
    host: str,
    meta: PageMetadata,
    text: str,
    rules: DomainRules,
    taxonomy: Taxonomy,
    *,
    use_url: bool = True,
    content_signals: bool = True,
) -> FormatEvidence:
    """`decide_format` measuring what it needs; `use_url=False` ignores the URL (to measure content alone)."""
    url, rule = (url, rules.match_url(url, host)) if use_url and url else ("", None)
    return decide_format(meta, url, rule, content_tag_of(text, content_signals), taxonomy)


def topic_of(
    url: str, host: str, meta: PageMetadata, rules: DomainRules, taxonomy: Taxonomy, *, use_url: bool = True
) -> Evidence | None:
    """`decide_topic` measuring what it needs; `use_url=False` ignores the URL."""
    url, rule = (url, rules.match_url(url, host)) if use_url and url else ("", None)
    return decide_topic(meta, url, rule, taxonomy)
