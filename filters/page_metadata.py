"""What a page says it is: Open Graph, schema.org (JSON-LD, microdata) and Highwire metadata.

`read_page_metadata(html)` reads the few declarations that tell a page's format and
topic; `format_evidence(meta)` maps them onto the pipeline's format labels through
the one table below, so a format classifier can start from what the site declares.

It runs on every page, so it never parses the document: `str.find` locates where
metadata lives and only bounded pieces around it are read: meta tags in <head>, and
each "schema.org", which every JSON-LD block names in its @context and every
microdata itemtype in its URL. Broken JSON-LD (trailing commas, comments, `;`,
entities, several values in a block) is repaired where cheap, else scanned for its
`@type` values; nothing raises on bad input. Not read: JSON-LD without a schema.org
@context, other vocabularies (data-vocabulary.org, itemtype="article"), RDFa,
meta keys in upper case or after </head>. bench/bench_page_metadata.py: ~4,000 pages/s, one core.

Only top-level entities count: JSON-LD roots, `@graph` and list members, a plain
WebPage's `mainEntity`; microdata items without `itemprop` or held by a main-content
one. Nested ones (an author `Person`, a product's `Review`s, an SEO `FAQPage`'s
`Question`s, a paper's cited `ScholarlyArticle`s) describe parts of the page.
"""

from __future__ import annotations

import dataclasses
import html as html_entities
import json
import re
from collections.abc import Mapping

# Evidence -> format label, one row per choice. Row order is priority: when a page declares
# several, the earliest row wins (WebSite + BreadcrumbList + NewsArticle is a news article).
# Specific content types come first, page containers next, generic "article" declarations
# last. Not listed, as they tell no format: WebSite, WebPage, BreadcrumbList, Organization,
# Person, ImageObject, VideoObject, Event, og:website (every home page); Blog (WordPress themes
# put it on the <body> of every page, news sites' too); FAQPage (an SEO add-on on loan, product
# and article pages alike). Figures quoted are from the 1,033 trafilatura-eval pages.
FORMAT_EVIDENCE: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Highwire/Google Scholar tags: set by scholarly publishers and repositories for indexing.
    (
        "academic_writing",
        ("meta:citation", "schema:ScholarlyArticle", "schema:MedicalScholarlyArticle", "schema:Thesis"),
    ),
    # Forum threads and Q&A; Question only top-level (QAPage's main entity, not FAQPage's list).
    ("qa_forum", ("schema:QAPage", "schema:DiscussionForumPosting", "schema:Question")),
    # Step by step: beats the BlogPosting or Article a recipe blog declares alongside.
    ("tutorial_howto", ("schema:Recipe", "schema:HowTo")),
    ("documentation", ("schema:TechArticle", "schema:APIReference")),
    # Reviews in so many words; a plain Review is weak (below).
    ("review", ("schema:ReviewNewsArticle", "schema:CriticReview")),
    # LiveBlogPosting: the live tickers of news sites, not blogs. ClaimReview: fact checks.
    (
        "news_article",
        (
            "schema:NewsArticle",
            "schema:ReportageNewsArticle",
            "schema:AnalysisNewsArticle",
            "schema:OpinionNewsArticle",
            "schema:BackgroundNewsArticle",
            "schema:LiveBlogPosting",
            "schema:ClaimReview",
        ),
    ),
    # Company blogs included. Of the 30 here, 4 are news posts, 1 a Blogger privacy policy, 1 a shop page.
    ("personal_blog", ("schema:BlogPosting",)),
    # Health information pages (Healthline, Onmeda).
    ("knowledge_article", ("schema:MedicalWebPage",)),
    # After the article types, as affiliate posts and reviews carry Product boxes; even so, 2 of
    # the 11 Product pages here are editorial (a game review, a magazine piece with star ratings).
    (
        "product_page",
        ("schema:Product", "schema:ProductGroup", "schema:IndividualProduct", "schema:Offer", "schema:AggregateOffer"),
    ),
    ("about_page", ("schema:AboutPage", "schema:ProfilePage", "schema:ContactPage")),
    # Page-level declarations of a listing (category, archive and search pages).
    ("listing_index", ("schema:CollectionPage", "schema:SearchResultsPage")),
    # Shop systems (Shopify, WooCommerce) set og:type=product on product pages only.
    ("product_page", ("og:product", "og:product.item", "og:product.group")),
    ("about_page", ("og:profile",)),
    # Weak from here on (WEAK_EVIDENCE). Generic Article: Yoast's default for every WordPress post,
    # Wikipedia's too; of 30 sampled pages with it as best evidence, about 20 were news.
    ("news_article", ("schema:Article",)),
    # Top-level Review: both pages here with one lie (a theme marking every post a Review,
    # reader comments marked up as Reviews); real reviews mostly nest it in a Product.
    ("review", ("schema:Review",)),
    # og:type=article: CMSs set it on every post; of 40 sampled pages with nothing more specific,
    # about 17 were news, 15 blog posts, the rest service, knowledge and shop pages.
    ("news_article", ("og:article",)),
    # An ItemList carousel of related links: all 7 pages here with one are articles.
    ("listing_index", ("schema:ItemList",)),
)
# Evidence that says little more than "an article" or "a list": a caller should weigh it below the rest.
WEAK_EVIDENCE = frozenset({"schema:Article", "schema:Review", "og:article", "schema:ItemList"})
CITATION_EVIDENCE = "meta:citation"
# evidence -> (priority, label)
_RANKED = {evidence: (rank, label) for rank, (label, row) in enumerate(FORMAT_EVIDENCE) for evidence in row}

_SCAN_MAX_CHARS = 2_000_000  # payloads are cut at 1 MiB in Common Crawl; beyond this, metadata is unlikely
_HEAD_MAX_CHARS = 1_000_000  # meta tags are read up to </head>, which 4 pages here put past 300 k chars
_JSON_LD_MAX_CHARS = 64_000  # per block; larger ones (product reviews) are scanned, not parsed
_MAX_JSON_LD_BLOCKS = 32
_MAX_SCHEMA_TAGS = 256  # tags naming schema.org: listings mark up every row; the page's item comes first
_MAX_HITS = 1_000  # per searched string: bounds pages that repeat it in text or script (~0.1 s at 100k)
_MAX_TAG_CHARS = 2_000  # a tag longer than this around a hit is not a tag
_MAX_NODES = 512  # JSON-LD nodes visited per page
_MAX_TEXT_CHARS = 100  # article_section and og_type are labels, not text
# Meta keys whose values are read, each from the first tag that carries it. Keys are found by
# a shared prefix, one str.find pass per prefix (case-sensitive: lower-casing a non-ASCII head
# costs more than all the rest of the work).
_OG_TYPE, _SECTION, _PUBLISHED = "og:type", "article:section", "article:published_time"
# Highwire keys only scholarly platforms set (Atypon journals set citation_journal_title, not citation_title).
_CITATION_KEYS = ("citation_title", "citation_doi", "citation_journal_title")
_META_KEYS_BY_PREFIX = {"og:type": (_OG_TYPE,), "article:": (_SECTION, _PUBLISHED), "citation_": _CITATION_KEYS}
# Properties through which a microdata item is the page's main content rather than a part of it.
_MAIN_ITEMPROPS = frozenset({"mainentity", "mainentityofpage", "blogpost", "maincontentofpage"})

_META_TAG = re.compile(r"""<meta\s(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
# Microdata attributes, read from one tag (no full attribute parse: nested items are the many).
_ITEMTYPE = re.compile(r"""\bitemtype\s*=\s*["']?([^"'>]*)""", re.IGNORECASE)
_ITEMPROP = re.compile(r"""\bitemprop\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_SCHEMA_ORG = "schema.org"
# Repairs, string-aware (group 1 keeps strings): comments and commas before a closing bracket.
# An unclosed comment runs to the end, so each pattern consumes what it scans (linear time).
_JSON_NOISE = re.compile(r'("(?:[^"\\]|\\.)*")|/\*.*?(?:\*/|\Z)|//[^\n]*|,(?=\s*[}\]])', re.DOTALL)
_JSON_TYPE = re.compile(r'"@type"\s*:\s*(\[[^\]]{0,1000}\]|"[^"]{0,200}")')
_JSON_SECTION = re.compile(r'"articleSection"\s*:\s*\[?\s*"([^"]*)"')
_QUOTED = re.compile(r'"([^"]*)"')
_JSON = json.JSONDecoder(strict=False)  # strict=False: raw newlines and tabs inside strings are common
_JSON_WRAPPERS = ("<!--", "-->", "//<![CDATA[", "//]]>", "<![CDATA[", "]]>")


@dataclasses.dataclass(frozen=True, slots=True)
class PageMetadata:
    """What a page declares about itself; empty fields where it declares nothing."""

    og_type: str | None = None  # lower-cased og:type content: "article", "website", "product", ...
    schema_types: tuple[str, ...] = ()  # top-level schema.org types, document order, no duplicates
    article_section: str | None = None  # article:section or JSON-LD articleSection: a topic hint
    has_citation_meta: bool = False  # Highwire citation_title, citation_doi or citation_journal_title
    has_published_time: bool = False  # article:published_time or JSON-LD datePublished


def read_page_metadata(html: str) -> PageMetadata:
    """The page's declarations; reads only bounded pieces around literal hits, never raises on bad markup."""
    html = html[:_SCAN_MAX_CHARS]
    meta = _read_meta_tags(html[: _head_end(html)])
    typed, section, published = _read_schema(html)
    typed.sort(key=lambda pair: pair[0])
    citation = any(key in meta for key in _CITATION_KEYS)
    og_type = meta.get(_OG_TYPE, "").strip().lower()[:_MAX_TEXT_CHARS]
    return PageMetadata(
        og_type=og_type or None,
        schema_types=tuple(dict.fromkeys(name for _, name in typed)),
        article_section=_clean_text(meta.get(_SECTION)) or _clean_text(section),
        has_citation_meta=citation,
        has_published_time=_PUBLISHED in meta or published,
    )


def format_evidence(meta: PageMetadata) -> tuple[str, str] | None:
    """(format label, evidence) for the highest-priority declaration in FORMAT_EVIDENCE, or None.

    Evidence in WEAK_EVIDENCE only says "article"; the label then is a guess at the commonest kind.
    """
    present = [f"schema:{name}" for name in meta.schema_types]
    if meta.og_type:
        present.append(f"og:{meta.og_type}")
    if meta.has_citation_meta:
        present.append(CITATION_EVIDENCE)
    ranked = [(*_RANKED[evidence], evidence) for evidence in present if evidence in _RANKED]
    return min(ranked)[1:] if ranked else None


_METADATA_KEYS = ("og_type", "schema_types", "article_section", "citation", "published")
"""What a Document's metadata carries of a page's declarations (ExtractText reads them from the HTML)."""


def to_metadata(meta: PageMetadata) -> dict[str, str]:
    """The declarations as Document metadata strings (only those present)."""
    out = {}
    if meta.og_type:
        out["og_type"] = meta.og_type
    if meta.schema_types:
        out["schema_types"] = " ".join(meta.schema_types)
    if meta.article_section:
        out["article_section"] = meta.article_section
    if meta.has_citation_meta:
        out["citation"] = "1"
    if meta.has_published_time:
        out["published"] = "1"
    return out


def from_metadata(metadata: Mapping[str, str]) -> PageMetadata:
    """The inverse of `to_metadata`."""
    return PageMetadata(
        og_type=metadata.get("og_type") or None,
        schema_types=tuple(metadata.get("schema_types", "").split()),
        article_section=metadata.get("article_section") or None,
        has_citation_meta=metadata.get("citation") == "1",
        has_published_time=metadata.get("published") == "1",
    )


def _head_end(html: str) -> int:
    """Where <head> ends: at </head>, else at <body>, else _HEAD_MAX_CHARS in."""
    for marker in ("</head", "</HEAD", "<body", "<BODY"):
        end = html.find(marker, 0, _HEAD_MAX_CHARS)
        if end >= 0:
            return end
    return _HEAD_MAX_CHARS


def _read_meta_tags(head: str) -> dict[str, str]:
    """{key: content} for the first meta tag of each key (by property=, name= or itemprop=)."""
    found: dict[str, str] = {}
    for prefix, keys in _META_KEYS_BY_PREFIX.items():
        hit = head.find(prefix)
        for _ in range(_MAX_HITS):
            if hit < 0 or all(key in found for key in keys):
                break
            key = next((k for k in keys if k not in found and head.startswith(k, hit)), None)
            start = head.rfind("<", max(0, hit - _MAX_TAG_CHARS), hit) if key else -1
            tag = _META_TAG.match(head, start) if start >= 0 else None
            if tag is not None and tag.end() > hit:
                attributes = _attributes(tag.group())
                names = {attributes.get(a, "").strip().lower() for a in ("property", "name", "itemprop")}
                if key in names and "content" in attributes:
                    found[key] = html_entities.unescape(attributes["content"])
            hit = head.find(prefix, hit + len(prefix))
    return found


def _attributes(tag: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(tag):
        name, *values = match.groups()
        attributes.setdefault(name.lower(), next((v for v in values if v is not None), ""))
    return attributes


def _read_schema(html: str) -> tuple[list[tuple[int, str]], str | None, bool]:
    """(position, type) of top-level schema.org items, first articleSection, any JSON-LD datePublished.

    One pass for "schema.org" (two, for "ld+json" and "itemtype", took twice as long): a hit inside a
    tag is a microdata item, any other is looked up in the JSON-LD block around it, if any. Nothing
    before `done` is looked at again, so the look-backs add at most one more pass.
    """
    typed: list[tuple[int, str]] = []
    section: str | None = None
    published = False
    blocks = tags = 0
    done = 0  # everything before this is read
    hit = html.find(_SCHEMA_ORG)
    for _ in range(_MAX_HITS):
        if hit < 0 or blocks == _MAX_JSON_LD_BLOCKS or tags == _MAX_SCHEMA_TAGS:
            break
        start = html.rfind("<", max(0, hit - _MAX_TAG_CHARS), hit)
        tag_end = html.find(">", hit, hit + _MAX_TAG_CHARS)
        # Inside a tag: a "<" opening a tag name, and no ">" between it and the hit.
        in_tag = start >= 0 and tag_end >= 0 and html[start + 1 : start + 2].isalpha()
        if in_tag and html.find(">", start, hit) < 0:
            tags += 1
            typed.extend((start, name) for name in _microdata_types(html[start:tag_end]))
            done = tag_end
        else:
            block = _json_ld_around(html, hit, done)
            done = hit + len(_SCHEMA_ORG)
            if block is not None:
                blocks += 1
                start, text_start, done = block
                text = html[text_start:done]
                names, block_section = _json_ld_block(text)
                typed.extend((start, name) for name in names)
                section = section or block_section
                published = published or '"datePublished"' in text
        hit = html.find(_SCHEMA_ORG, done)
    return typed, section, published


def _microdata_types(tag: str) -> list[str]:
    """The item's types if it is top-level: no itemprop, or a main-content one (_MAIN_ITEMPROPS)."""
    itemtype = _ITEMTYPE.search(tag)
    if itemtype is None:
        return []
    itemprop = _ITEMPROP.search(tag)
    if itemprop is not None and itemprop.group(1).lower() not in _MAIN_ITEMPROPS:
        return []
    return _schema_names(itemtype.group(1).split())


def _json_ld_around(html: str, hit: int, done: int) -> tuple[int, int, int] | None:
    """(script tag start, text start, text end) of the JSON-LD block holding `hit`, or None.
    Looks back no further than `done`, nor more than a block's length."""
    marker = html.rfind("ld+json", max(done, hit - _JSON_LD_MAX_CHARS), hit)
    if marker < 0:
        return None
    start = html.rfind("<", max(0, marker - _MAX_TAG_CHARS), marker)
    text_start = html.find(">", marker, hit) + 1
    if start < 0 or text_start <= 0 or html[start : start + 7].lower() != "<script":
        return None
    end = _script_end(html, text_start)
    return (start, text_start, end) if end > hit else None


def _script_end(html: str, start: int) -> int:
    """Where the script starting at `start` ends (its "</script"), at most _JSON_LD_MAX_CHARS on."""
    limit = min(len(html), start + _JSON_LD_MAX_CHARS)
    end = html.find("</", start, limit)
    while end >= 0 and html[end : end + 8].lower() != "</script":
        end = html.find("</", end + 2, limit)
    return limit if end < 0 else end


def _json_ld_block(text: str) -> tuple[list[str], str | None]:
    """(top-level schema types, articleSection) of one block; a regex scan where JSON cannot be read."""
    values = _parse_json_values(text)
    if not values:
        names = [name for value in _JSON_TYPE.findall(text) for name in _QUOTED.findall(value)]
        section = _JSON_SECTION.search(text)
        return _schema_names(names), section.group(1) if section else None
    names: list[str] = []
    section: str | None = None
    stack = list(reversed(values))
    visited = 0
    while stack and visited < _MAX_NODES:
        node = stack.pop()
        visited += 1
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        node_types = _schema_names(_as_strings(node.get("@type")))
        names.extend(node_types)
        if section is None:
            section = next(iter(_as_strings(node.get("articleSection"))), None)
        children = [node.get("@graph")]
        if node_types == ["WebPage"]:  # a plain page wrapper: its main entity is what the page is
            children.append(node.get("mainEntity"))
        stack.extend(reversed([child for child in children if isinstance(child, (dict, list))]))
    return names, section


def _parse_json_values(text: str) -> list:
    """The JSON values of a block, as is or after cheap repairs; [] when neither reads."""
    text = text.strip()
    for wrapper in _JSON_WRAPPERS:
        text = text.removeprefix(wrapper).removesuffix(wrapper).strip()
    text = text.rstrip(";").strip()
    if not text:
        return []
    try:
        return [_JSON.decode(text)]
    except (ValueError, RecursionError):
        pass
    if "&quot;" in text:
        text = html_entities.unescape(text)
    text = _JSON_NOISE.sub(lambda m: m.group(1) or "", text)
    values = []
    position = 0
    while position < len(text):  # several values in one block: {...}{...} or {...},{...}
        try:
            value, position = _JSON.raw_decode(text, position)
        except (ValueError, RecursionError):
            return []
        values.append(value)
        while position < len(text) and text[position] in " \t\r\n,;":
            position += 1
    return values


def _as_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _schema_names(values: list[str]) -> list[str]:
    """schema.org type names from "NewsArticle", "schema:NewsArticle" or "https://schema.org/NewsArticle";
    other vocabularies dropped. The first letter is upper-cased ("itemList" -> "ItemList")."""
    names = []
    for value in values:
        value = value.strip()
        if ":" in value or "/" in value:
            lowered = value.lower()
            if not lowered.startswith("schema:") and _SCHEMA_ORG not in lowered:
                continue
            value = re.split(r"[/:#]", value.rstrip("/"))[-1]
        if _TYPE_NAME.fullmatch(value):
            names.append(value[0].upper() + value[1:])
    return names


def _clean_text(value: str | None) -> str | None:
    if not value:
        return None
    text = " ".join(html_entities.unescape(value).split())[:_MAX_TEXT_CHARS]
    return text or None
