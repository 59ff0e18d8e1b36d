"""Page metadata: exact declarations from inline pages (good, broken and hostile), then real pages."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from filters.page_metadata import (
    FORMAT_EVIDENCE,
    WEAK_EVIDENCE,
    PageMetadata,
    format_evidence,
    read_page_metadata,
)
from filters.taxonomy import Taxonomy

EVAL = "extraction/trafilatura-eval"


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body><p>Text.</p>{body}</body></html>"


def ld(text: str) -> str:
    return f'<script type="application/ld+json">{text}</script>'


NEWS_GRAPH = ld("""{"@context": "https://schema.org", "@graph": [
    {"@type": "WebSite", "name": "Example"},
    {"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 1}]},
    {"@type": "NewsArticle", "articleSection": "Sport", "datePublished": "2024-01-02",
     "author": {"@type": "Person", "name": "A. Writer"}, "publisher": {"@type": "Organization"}}]}""")


def types(html: str) -> tuple[str, ...]:
    return read_page_metadata(html).schema_types


def test_graph_gives_top_level_types_in_order_and_the_most_specific_label():
    meta = read_page_metadata(page(NEWS_GRAPH))
    assert meta == PageMetadata(
        schema_types=("WebSite", "BreadcrumbList", "NewsArticle"), article_section="Sport", has_published_time=True
    )
    assert format_evidence(meta) == ("news_article", "schema:NewsArticle")


def test_root_list_type_list_and_prefixed_type_names():
    block = ld("""[{"@context": "http://schema.org", "@type": "http://schema.org/Organization"},
                   {"@context": "http://schema.org", "@type": ["Article", "schema:ReportageNewsArticle"]},
                   {"@type": "https://schema.org/itemList"}, {"@type": "contao:Page"}]""")
    assert types(page(block)) == ("Organization", "Article", "ReportageNewsArticle", "ItemList")
    assert format_evidence(read_page_metadata(page(block))) == ("news_article", "schema:ReportageNewsArticle")


def test_main_entity_counts_only_under_a_plain_web_page():
    wrapped = ld("""{"@context": "http://schema.org", "@type": "WebPage",
                     "mainEntity": {"@type": "NewsArticle", "headline": "h"}}""")
    assert types(page(wrapped)) == ("WebPage", "NewsArticle")
    faq = ld("""{"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": [
                 {"@type": "Question", "acceptedAnswer": {"@type": "Answer"}}]}""")
    assert types(page(faq)) == ("FAQPage",)
    assert format_evidence(read_page_metadata(page(faq))) is None  # an SEO FAQ is not a forum


def test_repairable_json_ld_is_parsed_so_nested_types_stay_out():
    block = ld("""<!-- {"@context": "https://schema.org", /* generated */ "@type": "Recipe",
                   "author": {"@type": "Person", "url": "https://example.com/a",},  // trailing comma
                   "recipeIngredient": ["flour", "eggs",],
                 }; -->""")
    assert types(page(block)) == ("Recipe",)


def test_several_values_in_one_block_and_html_entities():
    assert types(page(ld('{"@context":"https://schema.org","@type":"WebSite"}\n{"@type":"BlogPosting"}'))) == (
        "WebSite",
        "BlogPosting",
    )
    escaped = ld("{&quot;@context&quot;: &quot;https://schema.org&quot;, &quot;@type&quot;: &quot;Product&quot;,}")
    assert types(page(escaped)) == ("Product",)


def test_unrepairable_json_ld_falls_back_to_every_type_value():
    # Unquoted values, single quotes and a raw quote in a string: as on energetyka24.com and eluniversal.com.
    block = ld("""{"@context": "http://schema.org", "@type": "NewsArticle", "@author": Daniel Czyzewski,
                   "headline": 'Senador califica a Biden de "incapacitado"', "articleSection": "Welt",
                   "publisher": {"@type": "Organization"}}""")
    meta = read_page_metadata(page(block))
    assert meta.schema_types == ("NewsArticle", "Organization")
    assert meta.article_section == "Welt"
    assert format_evidence(meta) == ("news_article", "schema:NewsArticle")


def test_blocks_and_microdata_merge_in_document_order_without_duplicates():
    html = page(
        ld('{"@context":"https://schema.org","@type":"WebSite"}'),
        '<div itemscope itemtype="https://schema.org/BlogPosting"></div>'
        + ld('{"@context":"https://schema.org","@type":["WebSite","BreadcrumbList"]}'),
    )
    assert types(html) == ("WebSite", "BlogPosting", "BreadcrumbList")


def test_microdata_top_level_items_only():
    body = """<article itemscope itemType="http://schema.org/Article">
      <span itemprop="author" itemscope itemtype="http://schema.org/Person">A</span>
      <div itemscope itemprop="mainEntity" itemtype='https://schema.org/Question'></div>
      <ol itemscope itemtype="https://schema.org/BreadcrumbList"><li itemProp="itemListElement" itemscope
          itemtype="https://schema.org/ListItem">x</li></ol>
      <div itemscope itemtype="http://data-vocabulary.org/Review"></div><div itemscope itemtype="review"></div>
    </article>"""
    assert types(page(body=body)) == ("Article", "Question", "BreadcrumbList")


def test_open_graph_type_in_any_attribute_order_and_case():
    assert read_page_metadata(page("<meta content='Product' property='og:type' />")).og_type == "product"
    assert read_page_metadata(page('<META NAME="og:type" CONTENT="video.other">')).og_type == "video.other"
    meta = read_page_metadata(page('<meta property="og:type" content="article"><meta property="og:title" content="x">'))
    assert format_evidence(meta) == ("news_article", "og:article")
    assert "og:article" in WEAK_EVIDENCE


def test_meta_keys_section_published_time_and_citation():
    head = """<meta property="article:tag" content="x">
              <meta property="article:section" content=" Wirtschaft &amp; Finanzen ">
              <meta property="article:published_time" content="2023-11-06T10:00:00Z">
              <meta name="citation_title" content="On Things"><meta name="citation_doi" content="10.1/x">"""
    meta = read_page_metadata(page(head, NEWS_GRAPH))
    assert meta == PageMetadata(
        schema_types=("WebSite", "BreadcrumbList", "NewsArticle"),
        article_section="Wirtschaft & Finanzen",
        has_citation_meta=True,
        has_published_time=True,
    )  # the meta section wins over JSON-LD's "Sport"
    assert format_evidence(meta) == ("academic_writing", "meta:citation")
    assert not read_page_metadata(page('<meta name="bepress_citation_title" content="x">')).has_citation_meta
    assert read_page_metadata(page('<meta name="citation_journal_title" content="Annals">')).has_citation_meta


def test_meta_tags_in_the_body_are_not_read():
    assert read_page_metadata(page(body='<meta property="og:type" content="article">')).og_type is None


@pytest.mark.parametrize(
    "declared, expected",
    [
        (["WebSite", "BreadcrumbList", "NewsArticle"], ("news_article", "schema:NewsArticle")),
        (["BlogPosting", "Recipe"], ("tutorial_howto", "schema:Recipe")),
        (["NewsArticle", "ItemList"], ("news_article", "schema:NewsArticle")),
        (["Product", "Review"], ("product_page", "schema:Product")),
        (["Article", "Review"], ("news_article", "schema:Article")),
        (["ScholarlyArticle", "WebPage"], ("academic_writing", "schema:ScholarlyArticle")),
        (["QAPage", "Question"], ("qa_forum", "schema:QAPage")),
        (["TechArticle"], ("documentation", "schema:TechArticle")),
        (["ProfilePage", "Person"], ("about_page", "schema:ProfilePage")),
        (["CollectionPage", "ItemList"], ("listing_index", "schema:CollectionPage")),
        (["ItemList"], ("listing_index", "schema:ItemList")),
        (["MedicalWebPage"], ("knowledge_article", "schema:MedicalWebPage")),
        (["Blog", "FAQPage", "WebSite", "Organization"], None),
    ],
)
def test_priority_between_declared_types(declared, expected):
    assert format_evidence(PageMetadata(schema_types=tuple(declared))) == expected


def test_open_graph_product_beats_generic_schema_article_but_not_specific_types():
    assert format_evidence(PageMetadata(og_type="product", schema_types=("Article",))) == ("product_page", "og:product")
    assert format_evidence(PageMetadata(og_type="product", schema_types=("NewsArticle",)))[1] == "schema:NewsArticle"
    assert format_evidence(PageMetadata(og_type="website")) is None


def test_table_uses_only_pipeline_labels():
    assert {label for label, _ in FORMAT_EVIDENCE} <= set(Taxonomy.load().formats)
    evidence = [e for _, row in FORMAT_EVIDENCE for e in row]
    assert len(evidence) == len(set(evidence)) and WEAK_EVIDENCE <= set(evidence)


@pytest.mark.parametrize("html", ["", "plain text, no markup", page(), "<html><head><title>x"])
def test_nothing_declared(html):
    assert read_page_metadata(html) == PageMetadata()
    assert format_evidence(PageMetadata()) is None


def test_hostile_input_never_raises():
    rng = random.Random(0)
    junk = bytes(rng.randrange(256) for _ in range(200_000)).decode("latin-1")
    fragments = [
        "<",
        ">",
        '"',
        "'",
        "<script type='application/ld+json'>",
        "</script>",
        "{",
        "}",
        "[",
        "]",
        '"@type":',
        "schema.org",
        "itemtype=",
        "itemprop=",
        "<meta property='og:type'",
        "content=",
        "</head>",
        "/*",
        "//",
        ",",
        "\x00",
        "&quot;",
        "\ud800",
        "\U0001f600",
    ]
    for _ in range(300):
        read_page_metadata("".join(rng.choice(fragments) for _ in range(rng.randrange(1, 80))))
    assert read_page_metadata(junk) == PageMetadata()
    deep = ld('{"@context": "https://schema.org", "@type": "WebSite", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert read_page_metadata(page(deep)) == PageMetadata(schema_types=("WebSite",))
    unclosed = '<html><head><meta property="og:type" content="article' + ld('{"@context":"https://schema.org",')
    assert read_page_metadata(unclosed) == PageMetadata()


def test_huge_page_and_huge_block_are_read_within_bounds():
    filler = "<p>" + "lorem ipsum dolor sit amet " * 40 + "</p>\n"
    huge = page(NEWS_GRAPH, filler * 4_000)  # ~4.4 M characters
    assert types(huge) == ("WebSite", "BreadcrumbList", "NewsArticle")
    assert types(huge + ld('{"@context":"https://schema.org","@type":"Recipe"}')) == types(huge)  # past the scan cap
    reviews = ",".join('{"@type": "Review", "reviewBody": "fine"}' for _ in range(5_000))  # ~200 k characters
    product = ld('{"@context": "https://schema.org", "@type": "Product", "review": [' + reviews + "]}")
    meta = read_page_metadata(page(product))
    assert meta.schema_types == ("Product", "Review")  # too big to parse: scanned for its @type values
    assert format_evidence(meta) == ("product_page", "schema:Product")


# Real pages, checked by eye: URL -> (format_evidence, schema_types, og_type, article_section).
REAL_PAGES = {
    "https://www.tagesspiegel.de/wirtschaft/abstandsregeln-und-fieberkontrollen-wie-firmen-ihre-beschaeftigten-"
    "vor-dem-coronavirus-schuetzen/25784520.html": (
        ("news_article", "schema:NewsArticle"),
        ("WebPage", "NewsArticle"),
        "article",
        None,
    ),
    "https://www.rp.pl/Polityka/305049888-Unijne-fundusze-coraz-blizej-Sejm-zaglosowal-za.html":  # via mainEntity
    (("news_article", "schema:NewsArticle"), ("WebPage", "NewsArticle"), "article", "Polityka"),
    "https://energetyka24.com/rosjanie-sugeruja-natychmiastowe-odciecie-polski-od-gazu":  # broken JSON-LD
    (("news_article", "schema:NewsArticle"), ("NewsArticle",), "website", None),
    "https://www.corkbeo.ie/news/local-news/level-3-live-cork-ireland-19056312": (
        ("news_article", "schema:LiveBlogPosting"),
        ("BreadcrumbList", "LiveBlogPosting"),
        "article",
        "Local News",
    ),
    "https://www.phillyvoice.com/sixers-76ers-score-record-news-analysis-celtics-joel-embiid-tyrese-maxey-jayson-"
    "tatum/": (("news_article", "og:article"), (), "article", "Sports"),
    "https://german.stackexchange.com/questions/10376/when-to-use-wurde-versus-war-eg-ich-wurde-ausgeraubt-vs-ich-"
    "war-ausgerau": (("qa_forum", "schema:QAPage"), ("QAPage", "Question"), "website", None),
    "https://link.springer.com/article/10.1007/s11926-017-0626-z": (
        ("academic_writing", "meta:citation"),
        ("ScholarlyArticle",),
        "article",
        None,
    ),
    "https://www.acpjournals.org/doi/10.7326/M19-3075": (("academic_writing", "meta:citation"), (), None, None),
    "https://www.chefkoch.de/rezepte/607331160490733/Mandarinen-Schmand-Kuchen.html": (
        ("tutorial_howto", "schema:Recipe"),
        ("WebSite", "Recipe", "BreadcrumbList"),
        "article",
        None,
    ),
    "https://pythonspeed.com/articles/pipenv-docker/": (
        ("personal_blog", "schema:BlogPosting"),
        ("BlogPosting",),
        "article",
        None,
    ),
    "https://www.zooroyal.de/trixie-natura-kleintierstall-mit-freilaufgehege": (
        ("product_page", "schema:Product"),
        ("BreadcrumbList", "Product"),
        "product",
        None,
    ),
    "https://www.healthline.com/nutrition/ways-to-measure-body-fat": (
        ("knowledge_article", "schema:MedicalWebPage"),
        ("MedicalWebPage",),
        "article",
        "Uncategorized",
    ),
    # Metadata that misleads, kept here so a change in how it is read shows up:
    "https://www.kaieteurnewsonline.com/2022/05/06/essequibo-hunter-found-dead-with-gunshot-wounds/":  # theme: Review
    (("review", "schema:Review"), ("WebPage", "Review"), "article", None),
    "https://www.pcgamer.com/through-the-darkest-of-times-review/":  # a review, its Review nested in a Product
    (("product_page", "schema:Product"), ("Product", "Organization", "WebSite"), "article", None),
    "http://sibenlab.blogspot.com/2018/06/sibenlab-privacy-policy.html":  # Blogger marks every page BlogPosting
    (("personal_blog", "schema:BlogPosting"), ("BlogPosting",), None, None),
    "https://en.wikipedia.org/wiki/T-distributed_stochastic_neighbor_embedding":  # knowledge, declared Article
    (("news_article", "schema:Article"), ("Article",), None, None),
}


@pytest.fixture(scope="module")
def eval_files(shared_data) -> dict[str, str]:
    return {url: entry["file"] for url, entry in json.loads((shared_data / EVAL / "evaldata.json").read_text()).items()}


def read_eval_page(shared_data, file: str) -> str:
    return gzip.decompress((shared_data / EVAL / "html" / f"{file}.gz").read_bytes()).decode("utf-8", errors="replace")


@pytest.mark.parametrize("url", REAL_PAGES)
def test_real_page(url, shared_data, eval_files):
    meta = read_page_metadata(read_eval_page(shared_data, eval_files[url]))
    evidence, schema_types, og_type, section = REAL_PAGES[url]
    assert (format_evidence(meta), meta.schema_types, meta.og_type, meta.article_section) == (
        evidence,
        schema_types,
        og_type,
        section,
    )


def test_every_real_page_reads_and_maps_to_a_pipeline_label(shared_data):
    paths = sorted((shared_data / EVAL / "html").glob("*.gz"))
    assert len(paths) == 1033
    labels = [format_evidence(read_page_metadata(read_eval_page(shared_data, p.name[:-3]))) for p in paths]
    assert {e[0] for e in labels if e} <= set(Taxonomy.load().formats)
    assert sum(e == ("news_article", "schema:NewsArticle") for e in labels) == 202
