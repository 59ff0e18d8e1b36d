"""Taxonomy, URL/section signals, topic vocabularies and the evidence that decides topic and format."""

from __future__ import annotations

import pytest

from filters.content_evidence import ARTICLE_FORMATS, format_of, topic_of
from filters.domain_rules import DomainRules
from filters.page_metadata import PageMetadata, from_metadata, read_page_metadata, to_metadata
from filters.taxonomy import Taxonomy, TaxonomyError, _load
from filters.topic_words import topic_from_words, topic_votes
from filters.url_signals import path_format, path_topic, section_topic

RULES = DomainRules.load()
TAXONOMY = Taxonomy.load()
NONE = PageMetadata()


def test_taxonomy_has_two_axes_and_maps_the_ten_tags():
    assert TAXONOMY.version == 2
    assert {"news_article", "product_page", "qa_forum", "tutorial_howto"} <= set(TAXONOMY.formats)
    assert {"sports", "politics", "computing", "health"} <= set(TAXONOMY.topics)
    assert all(TAXONOMY.topics.values()) and all(TAXONOMY.formats.values())  # every class has its one line
    assert TAXONOMY.legacy_format("encyclopedia") == "knowledge_article"
    assert TAXONOMY.legacy_topic("code") == "computing" and TAXONOMY.legacy_format("other") is None
    assert TAXONOMY.domain_for_format("news_article") == "news"
    assert set(TAXONOMY.from_domain) <= set(RULES.taxonomy)  # only taxonomy-1 tags
    assert set(TAXONOMY.to_domain.values()) <= set(RULES.taxonomy)


def test_a_broken_taxonomy_file_names_the_key(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("taxonomy_version: 2\ntopics: {a: x, B-: y}\nformats: {f: x, g: y}\nlegacy: {}\n")
    with pytest.raises(TaxonomyError, match=r"topics\.B-"):
        _load(str(path))
    path.write_text(
        "taxonomy_version: 2\ntopics: {a: x, b: y}\nformats: {f: x, g: y}\n"
        "legacy: {from_domain: {news: {format: nope}}}\n"
    )
    with pytest.raises(TaxonomyError, match="legacy.from_domain.news.format: unknown class 'nope'"):
        _load(str(path))


@pytest.mark.parametrize(
    ("url", "topic"),
    [
        ("https://www.spiegel.de/sport/fussball/bayern-gewinnt-a-123.html", "sports"),
        ("https://www.lemonde.fr/politique/article/2024/05/01/x.html", "politics"),
        ("https://example.com/wirtschaft/", None),  # the last segment names the page itself
        ("https://example.com/item/3342/details", None),  # "item" is not "it"
        ("https://example.com/sportswear/red-shirt", None),  # words match whole
        ("https://www.tagesschau.de/gesundheit/gesundheit-und-pflege/impfung-100.html", "health"),
    ],
)
def test_path_topics(url, topic):
    found = path_topic(url)
    assert (found[0] if found else None) == topic


def test_sections_name_topics_in_several_languages():
    assert section_topic("Sport") == "sports" and section_topic("Politik & Wirtschaft") == "politics"
    assert section_topic("Économie") == "business_finance" and section_topic("Meinung") is None


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("https://example.de/impressum", "legal_notice"),
        ("https://example.com/privacy-policy/", "legal_notice"),
        ("https://example.com/about-us", "about_page"),
        ("https://example.com/tag/python/", "listing_index"),
        ("https://example.com/", "listing_index"),
        ("https://example.com/rezepte/apfelkuchen", "tutorial_howto"),
        ("https://example.com/2024/05/01/a-story", None),
    ],
)
def test_path_formats(url, fmt):
    found = path_format(url)
    assert (found[0] if found else None) == fmt


def test_topic_vocabulary_votes_and_abstains():
    sports = (
        "Der FC Bayern gewann das Spiel in der Bundesliga. Der Trainer lobte die Mannschaft nach dem Sieg im Stadion."
    )
    assert topic_from_words(sports)[0] == "sports"
    recipe = (
        "Mix the ingredients for the cake, bake at 180 degrees; this vegan recipe makes a fine dessert for the family."
    )
    assert topic_from_words(recipe)[0] == "lifestyle"
    assert topic_from_words("A short note with nothing in it.") is None
    assert topic_votes("Fussballtrainer") == {"sports": 1}  # German compounds count by their stem


def _meta(html: str) -> PageMetadata:
    return read_page_metadata(html)


def test_declared_format_wins_over_the_url():
    meta = _meta(
        '<head><script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product"}'
        "</script></head>"
    )
    evidence = format_of("https://en.wikipedia.org/wiki/X", "en.wikipedia.org", meta, "", RULES, TAXONOMY)
    assert evidence.decided.label == "product_page" and evidence.decided.source == "schema:Product"


def test_url_rules_and_paths_decide_where_nothing_is_declared():
    wiki = format_of("https://en.wikipedia.org/wiki/X", "en.wikipedia.org", NONE, "", RULES, TAXONOMY)
    assert (wiki.decided.label, wiki.decided.source) == ("knowledge_article", "domain:wikipedia.org")
    forum = format_of("https://stackoverflow.com/questions/1/x", "stackoverflow.com", NONE, "", RULES, TAXONOMY)
    assert forum.decided.label == "qa_forum"
    legal = format_of("https://unknown-host.example/impressum", "unknown-host.example", NONE, "", RULES, TAXONOMY)
    assert legal.decided.label == "legal_notice"
    # a dated path names no format (news sites write them as much as blogs)
    dated = format_of("https://unknown.example/2024/05/01/a-story", "unknown.example", NONE, "", RULES, TAXONOMY)
    assert dated.decided is None
    hidden = format_of("https://en.wikipedia.org/wiki/X", "en.wikipedia.org", NONE, "", RULES, TAXONOMY, use_url=False)
    assert hidden.decided is None


def test_a_generic_article_narrows_the_choice():
    meta = _meta('<head><meta property="og:type" content="article"></head>')
    evidence = format_of("https://unknown.example/a", "unknown.example", meta, "plain text", RULES, TAXONOMY)
    assert evidence.decided is None and evidence.allowed == ARTICLE_FORMATS


def test_topic_evidence_in_order():
    meta = PageMetadata(article_section="Sport")
    assert topic_of("https://x.example/politik/a", "x.example", meta, RULES, TAXONOMY).label == "sports"
    assert topic_of("https://x.example/politik/a", "x.example", NONE, RULES, TAXONOMY).source == "path:politik"
    code = topic_of("https://github.com/a/b", "github.com", NONE, RULES, TAXONOMY)
    assert code.label == "computing" and code.source.startswith("domain:")
    assert topic_of("https://x.example/a", "x.example", NONE, RULES, TAXONOMY) is None


def test_declarations_survive_the_document_metadata():
    meta = PageMetadata("article", ("WebSite", "NewsArticle"), "Sport", True, True)
    assert from_metadata(to_metadata(meta)) == meta
    assert from_metadata({}) == PageMetadata()
