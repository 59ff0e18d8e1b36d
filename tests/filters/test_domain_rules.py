"""Domain rules: each kind, precedence, user files, bad files, and the shipped rules on real URLs."""

from __future__ import annotations

import collections
import glob
import json
import textwrap
from pathlib import Path

import pytest

from filters.domain_rules import DEFAULT_RULES_PATH, DomainRules, DomainRulesError, read_rules_file

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
EVALDATA = SHARED / "extraction" / "trafilatura-eval" / "evaldata.json"

TAXONOMY = """
taxonomy_version: 3
taxonomy:
  encyclopedia: encyclopedias
  news: news
  forum_qa: forums
  code: code
  academic: academic
  government_legal: government
  commerce: shops
  blog_personal: blogs
  other: the rest
"""

RULES = (
    TAXONOMY
    + """
rules:
  - {host: shop.example.org, tag: commerce}
  - {domain: [example.org, example.co.uk], tag: encyclopedia}
  - {domain: news.example.org, tag: news}
  - {domain: amazon.*, tag: commerce}
  - {subdomain: [blog, forum*], tag: blog_personal}
  - {subdomain: code, tag: code}
  - {path: ['/forums?/', '/thread/'], tag: forum_qa}
  - {path: '/products?/', tag: commerce}
  - {tld: [gov, gov.uk], tag: government_legal}
  - {tld: uk, tag: news}
"""
)


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> DomainRules:
    return DomainRules.load(default_file=_write(tmp_path_factory.mktemp("rules"), "rules.yaml", RULES))


@pytest.mark.parametrize(
    "url, expected",
    [
        # host: exact, a leading www. ignored, not its subdomains
        ("https://shop.example.org/anything", ("commerce", "host:shop.example.org")),
        ("https://www.shop.example.org/", ("commerce", "host:shop.example.org")),
        ("https://a.shop.example.org/", ("encyclopedia", "domain:example.org")),
        # domain: the host and every subdomain, the longest suffix winning; never a look-alike
        ("https://example.org/", ("encyclopedia", "domain:example.org")),
        ("https://de.m.example.org/x", ("encyclopedia", "domain:example.org")),
        ("https://live.news.example.org/x", ("news", "domain:news.example.org")),
        ("https://badexample.org/", ("other", "default")),
        ("https://www.example.co.uk/", ("encyclopedia", "domain:example.co.uk")),
        # name.*: the registered name under any public suffix (multi-label ones too)
        ("https://www.amazon.co.uk/dp/B000", ("commerce", "domain:amazon.*")),
        ("https://smile.amazon.de/", ("commerce", "domain:amazon.*")),
        ("https://amazon.example.com/", ("other", "default")),
        # subdomain: labels left of the registered domain, shell-style patterns
        ("https://blog.site.com/", ("blog_personal", "subdomain:blog")),
        ("https://forums.site.com/", ("blog_personal", "subdomain:forum*")),
        ("https://code.blog.site.co.uk/", ("blog_personal", "subdomain:blog")),  # first rule in order wins
        ("https://blog.com/", ("other", "default")),  # a registered name is no subdomain
        # path: a regex on the lower-cased path, first rule in order
        ("https://site.com/Forum/123", ("forum_qa", "path:/forums?/")),
        ("https://site.com/products/thread/9", ("forum_qa", "path:/thread/")),
        ("https://site.com/product/9", ("commerce", "path:/products?/")),
        ("https://site.com/x?next=/forum/", ("other", "default")),  # the query is not the path
        # tld: a public suffix or a parent of one, the longest winning
        ("https://agency.gov/", ("government_legal", "tld:gov")),
        ("https://www.service.gov.uk/", ("government_legal", "tld:gov.uk")),
        ("https://paper.co.uk/", ("news", "tld:uk")),
        # nothing matches, or no URL to speak of
        ("https://site.com/", ("other", "default")),
        ("hard::not-a-url", ("other", "default")),
        ("", ("other", "default")),
    ],
)
def test_each_rule_kind(rules, url, expected):
    assert rules.tag(url, content_signals=False) == expected


def test_precedence_most_specific_kind_first(rules):
    # every kind below matches this URL's host or path; each line removes the winner's reason
    assert rules.tag("https://shop.example.org/forum/")[1] == "host:shop.example.org"
    assert rules.tag("https://blog.example.org/forum/")[1] == "domain:example.org"
    assert rules.tag("https://blog.site.gov/forum/")[1] == "subdomain:blog"
    assert rules.tag("https://site.gov/forum/")[1] == "path:/forums?/"
    assert rules.tag("https://site.gov/x", text="def f(x):\n" * 8)[1] == "tld:gov"
    assert rules.tag("https://site.com/x", text="def f(x):\n" * 8) == ("code", "content:code")
    assert rules.tag("https://site.com/x", text="def f(x):\n" * 8, content_signals=False) == ("other", "default")


def test_host_given_by_the_document_is_used(rules):
    assert rules.tag("https://ignored.example/", host="WWW.Example.ORG.") == ("encyclopedia", "domain:example.org")


def test_wayback_urls_are_tagged_by_the_archived_page(rules):
    assert rules.tag("https://web.archive.org/web/20160526181643/http://blog.site.com/x", host="web.archive.org") == (
        "blog_personal",
        "subdomain:blog",
    )
    assert rules.tag("https://web.archive.org/web/2016id_/example.org/x") == ("encyclopedia", "domain:example.org")


def test_user_files_take_precedence_within_each_kind(tmp_path):
    default = _write(tmp_path, "default.yaml", RULES)
    user = _write(
        tmp_path,
        "user.yaml",
        """
        taxonomy:
          recipes: cooking
        rules:
          - {domain: example.org, tag: academic}
          - {host: WWW.Special.Example.org, tag: code}
          - {path: '/thread/', tag: recipes}
          - {tld: gov, tag: news}
        """,
    )
    rules = DomainRules.load([user], default_file=default)
    assert rules.taxonomy_version == 3
    assert "recipes" in rules.taxonomy and "news" in rules.taxonomy
    assert rules.tag("https://a.example.org/") == ("academic", "domain:example.org")
    assert rules.tag("http://www.special.example.org/") == ("code", "host:special.example.org")
    assert rules.tag("https://news.example.org/") == ("news", "domain:news.example.org")  # longer suffix still wins
    assert rules.tag("https://site.com/forum/thread/1") == ("recipes", "path:/thread/")
    assert rules.tag("https://agency.gov/") == ("news", "tld:gov")
    assert rules.tag("https://x.gov.uk/") == ("government_legal", "tld:gov.uk")
    # two user files: the first given wins
    second = _write(tmp_path, "second.yaml", "rules:\n  - {domain: example.org, tag: code}\n")
    assert DomainRules.load([second, user], default_file=default).tag("https://example.org/")[0] == "code"


@pytest.mark.parametrize(
    "rules_text, message",
    [
        (
            "rules:\n  - {domain: a.org, tag: news}\n  - {domain: b.org, tag: newz}\n",
            "rules[1]: unknown tag 'newz'; allowed: encyclopedia, news,",
        ),
        ("rules:\n  - {path: '/a(', tag: news}\n", "rules[0]: bad path regex '/a(':"),
        ("rules:\n  - {domain: 'exa mple.org', tag: news}\n", "rules[0]: domain 'exa mple.org' is not a host name"),
        ("rules:\n  - {domain: '*.example.org', tag: news}\n", "('name.*' is the only wildcard)"),
        ("rules:\n  - {host: a.org, domain: a.org, tag: news}\n", "rules[0]: needs exactly one of host, domain"),
        ("rules:\n  - {url: a.org, tag: news}\n", "rules[0]: needs exactly one of"),
        ("rules:\n  - {domain: a.org}\n", "rules[0]: tag must be a string"),
        ("rules:\n  - {subdomain: a.b, tag: news}\n", "rules[0]: subdomain 'a.b' must be one label"),
        ("rules:\n  - {tld: [], tag: news}\n", "rules[0]: tld list is empty"),
        ("rules:\n  - news.org\n", "rules[0]: must be a mapping"),
        ("rulez: []\n", "unknown key 'rulez'"),
        ("rules: [unclosed\n", "not valid YAML"),
        ("taxonomy_version: 2\nrules: []\n", "exactly one rules file (the default one) sets taxonomy_version; found 2"),
        ("taxonomy:\n  Bad Tag: x\n", "taxonomy tag 'Bad Tag' must be lower-case"),
    ],
)
def test_bad_user_file_names_file_and_rule(tmp_path, rules_text, message):
    default = _write(tmp_path, "default.yaml", RULES)
    user = _write(tmp_path, "user.yaml", rules_text)
    with pytest.raises(DomainRulesError) as err:
        DomainRules.load([user], default_file=default)
    assert message in str(err.value)
    if "rules[" in message:
        assert str(err.value).startswith(f"{user}: rules[")


def test_missing_file_and_missing_other_tag(tmp_path):
    with pytest.raises(DomainRulesError, match="rules file not found"):
        DomainRules.load([str(tmp_path / "nope.yaml")])
    no_other = _write(tmp_path, "d.yaml", "taxonomy_version: 1\ntaxonomy:\n  news: news\n")
    with pytest.raises(DomainRulesError, match="must hold the tag 'other'"):
        DomainRules.load(default_file=no_other)


def test_shipped_rules_file():
    shipped = read_rules_file(DEFAULT_RULES_PATH)
    assert shipped.taxonomy_version == 1
    assert list(shipped.taxonomy) == [
        "encyclopedia",
        "news",
        "forum_qa",
        "code",
        "academic",
        "government_legal",
        "reference_docs",
        "commerce",
        "blog_personal",
        "other",
    ]
    rules = DomainRules.load()
    cases = {
        "https://en.wikipedia.org/wiki/Beam": ("encyclopedia", "domain:wikipedia.org"),
        "https://stackoverflow.com/questions/1/x": ("forum_qa", "domain:stackoverflow.com"),
        "https://unix.stackexchange.com/q/2": ("forum_qa", "domain:stackexchange.com"),
        "https://news.ycombinator.com/item?id=1": ("forum_qa", "host:news.ycombinator.com"),
        "https://github.com/apache/beam": ("code", "domain:github.com"),
        "https://someone.github.io/": ("blog_personal", "domain:github.io"),
        "https://arxiv.org/abs/2406.17557": ("academic", "domain:arxiv.org"),
        "https://www.cs.washington.edu/people": ("academic", "tld:edu"),
        "https://www.ox.ac.uk/research": ("academic", "tld:ac.uk"),
        "https://www.law.cornell.edu/uscode": ("government_legal", "host:law.cornell.edu"),
        "https://www.legislation.gov.uk/ukpga/2018/12": ("government_legal", "tld:gov.uk"),
        "https://www.economie.gouv.fr/": ("government_legal", "tld:gouv.fr"),
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj": ("government_legal", "host:eur-lex.europa.eu"),
        "https://beam.apache.org/documentation/": ("reference_docs", "path:/documentation/"),
        "https://docs.python.org/3/library/re.html": ("reference_docs", "subdomain:docs"),
        "https://requests.readthedocs.io/en/latest/": ("reference_docs", "domain:readthedocs.io"),
        "https://www.bbc.co.uk/news/world-1": ("news", "domain:bbc.co.uk"),
        "https://www.spiegel.de/politik/a-1.html": ("news", "domain:spiegel.de"),
        "https://www.reddit.com/r/python/comments/x/": ("forum_qa", "domain:reddit.com"),
        "https://www.amazon.de/dp/B0000000": ("commerce", "domain:amazon.*"),
        "https://www.etsy.com/listing/1": ("commerce", "domain:etsy.com"),
        "https://shop.example.com/cart": ("commerce", "subdomain:shop"),
        "https://example.com/products/blue-mug": ("commerce", "path:/products?/"),
        "https://someone.blogspot.com/2020/01/post.html": ("blog_personal", "domain:blogspot.*"),
        "https://someone.substack.com/p/post": ("blog_personal", "domain:substack.com"),
        "https://example.com/2019/10/21/a-post/": ("blog_personal", r"path:/\d{4}/\d{2}/(\d{2}/)?[a-z0-9%_-]+"),
        "https://example.com/forum/viewtopic.php?t=1": ("forum_qa", "path:/forums?/"),
        "https://example.com/wiki/Main_Page": ("encyclopedia", "path:/wiki/"),
        "https://example.com/about": ("other", "default"),
    }
    assert {url: rules.tag(url, content_signals=False) for url in cases} == cases


def test_shipped_rules_on_real_urls(shared_data):
    rules = DomainRules.load()
    urls = [u for u in json.loads(EVALDATA.read_text(encoding="utf-8")) if "://" in u]  # 36 keys are file names
    tags = collections.Counter(rules.tag(u, content_signals=False)[0] for u in urls)
    # 954 URLs of German and English articles and blog posts: measured 62% other, 18% blog_personal, 15% news
    assert len(urls) == 954
    assert tags["other"] / len(urls) < 0.7
    assert tags["blog_personal"] / len(urls) > 0.1 and tags["news"] / len(urls) > 0.1
    assert len(tags) >= 8  # all but one or two tags turn up


def test_shipped_rules_on_shared_warc_urls(shared_data):
    from warcio.archiveiterator import ArchiveIterator

    rules = DomainRules.load()
    tagged = {}
    for path in sorted(glob.glob(str(SHARED / "warc" / "*" / "*.warc.gz"))):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    tagged[url] = rules.tag(url, content_signals=False)
    assert tagged["https://an.wikipedia.org/wiki/Escopete"] == ("encyclopedia", "domain:wikipedia.org")
    assert tagged["https://www.cs.washington.edu/people/faculty/weld"] == ("academic", "tld:edu")
    assert tagged["https://www.semanticscholar.org/about"] == ("academic", "domain:semanticscholar.org")
    assert tagged["https://maria-antoniak.github.io/2020/03/25/pip.html"] == ("blog_personal", "domain:github.io")
    assert tagged["https://commoncrawl.org/blog/march-april-2024-newsletter"] == ("blog_personal", "path:/blogs?/")
    assert tagged["http://www.archive.org/"] == ("other", "default")
