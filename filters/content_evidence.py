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
# A date in the path (/2023/11/08/slug) says "a dated post", which news sites write as much as blogs:
# taxonomy 1 tags it blog_personal for want of better, but it names no format.
_DATED_PATH = r"\d{4}"


@dataclasses.dataclass(frozen=True, slots=True)
class Evidence:
    label: str
    source: str  # what decided, e.g. "schema:NewsArticle", "host:wikipedia.org", "section:sport", "content:code"


@dataclasses.dataclass(frozen=True, slots=True)
class FormatEvidence:
    decided: Evidence | None  # the format, when a signal decides it
    allowed: frozenset[str] | None = None  # otherwise, the formats a generic declaration leaves open


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
    content_tag: str | None | object = ...,
    url_rule: Rule | None | object = ...,
) -> FormatEvidence:
    """The format evidence of one page; `use_url=False` ignores the URL (to measure content alone).
    `content_tag`, `url_rule`: the content signals' tag and the deciding URL rule, when the caller has
    them already (None: there is none)."""
    declared = format_evidence(meta)
    if declared is not None and declared[1] not in WEAK_EVIDENCE:
        return FormatEvidence(Evidence(declared[0], declared[1]))
    if use_url and url:
        rule = rules.match_url(url, host) if url_rule is ... else url_rule
        if rule is not None and rule.kind in FORMAT_RULE_KINDS and _DATED_PATH not in rule.pattern:
            fmt = taxonomy.legacy_format(rule.tag)
            if fmt is not None:
                return FormatEvidence(Evidence(fmt, rule.id))
        by_path = path_format(url)
        if by_path is not None:
            return FormatEvidence(Evidence(*by_path))
    if content_signals and text:
        tag = judge_content(measure_content(text)) if content_tag is ... else content_tag
        fmt = taxonomy.legacy_format(tag) if tag else None
        if fmt is not None:
            return FormatEvidence(Evidence(fmt, f"content:{tag}"))
    if declared is not None and declared[0] in ARTICLE_FORMATS:
        return FormatEvidence(None, ARTICLE_FORMATS)
    return FormatEvidence(None)


def topic_of(
    url: str,
    host: str,
    meta: PageMetadata,
    rules: DomainRules,
    taxonomy: Taxonomy,
    *,
    use_url: bool = True,
    url_rule: Rule | None | object = ...,
) -> Evidence | None:
    """The topic a page's declared section, path or URL rule names, or None (`url_rule` as in format_of)."""
    if meta.article_section:
        topic = section_topic(meta.article_section)
        if topic is not None:
            return Evidence(topic, "section")
    if use_url and url:
        by_path = path_topic(url)
        if by_path is not None:
            return Evidence(*by_path)
        rule = rules.match_url(url, host) if url_rule is ... else url_rule
        topic = taxonomy.legacy_topic(rule.tag) if rule is not None else None
        if topic is not None:
            return Evidence(topic, rule.id)
    return None
