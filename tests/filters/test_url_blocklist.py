import pytest

from filters.url_blocklist import UrlBlocklist, read_list
from pipeline.core.records import DropReason


@pytest.fixture
def blocklist(tmp_path):
    domains = tmp_path / "domains"
    domains.write_text("# UT1-style list\nexample.com\n*.casino.test\n\nBadSite.ORG  # upper case is fine\n")
    urls = tmp_path / "urls"
    urls.write_text("forum.test/adult/\n/wp-login.php\n")
    return UrlBlocklist.from_files([str(domains)], [str(urls)])


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://example.com/a", DropReason.BLOCKED_DOMAIN),
        ("http://www.example.com/", DropReason.BLOCKED_DOMAIN),
        ("https://a.b.example.com:8443/x", DropReason.BLOCKED_DOMAIN),
        ("https://EXAMPLE.com./", DropReason.BLOCKED_DOMAIN),
        ("https://spin.casino.test/", DropReason.BLOCKED_DOMAIN),
        ("https://casino.test/", DropReason.BLOCKED_DOMAIN),
        ("https://badsite.org/page", DropReason.BLOCKED_DOMAIN),
        ("https://forum.test/adult/thread-1", DropReason.BLOCKED_URL),
        ("https://blog.test/wp-login.php?x=1", DropReason.BLOCKED_URL),
        ("https://badexample.com/", None),
        ("https://example.com.evil.test/", None),
        ("https://forum.test/adults-only-in-name", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_check(blocklist, url, reason):
    assert blocklist.check(url).reason is reason


def test_read_list_strips_comments_and_blanks(tmp_path):
    path = tmp_path / "l"
    path.write_text("  A.com \n# whole-line comment\n\nb.org # trailing\n")
    assert read_list(str(path)) == ["a.com", "b.org"]


def test_empty_blocklist_keeps_everything():
    blocklist = UrlBlocklist()
    assert blocklist.empty and blocklist.check("https://example.com/").keep
