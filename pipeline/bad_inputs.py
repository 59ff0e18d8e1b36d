"""A generated corpus of bad inputs, each case a WARC file with the outcome it must have.

`write_corpus(folder)` writes one `<case>.warc.gz` per case and returns the
`BadInputCase`s: which drop reasons the file's records must end in, and which
URLs must come out kept (with a phrase their text must contain). Every case
but `only_non_html` holds good pages around its bad records, so "every good
record kept" is checked next to every kind of damage. The bytes are the same on
every run (fixed seeds, gzip mtime 0, fixed record ids and dates).

Records are written by hand, not with warcio, so a case can lie where a writer
would not (Content-Length, charsets, gzip members). Pure code: no Beam.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import random
import struct
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

GOOD_PER_CASE = 2
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, mtime 0, best compression, unknown OS
_MIB = 1 << 20


@dataclasses.dataclass(frozen=True, slots=True)
class BadInputCase:
    """One file of the corpus and what reading it must come to."""

    name: str
    description: str
    drops: Mapping[str, int]  # DropReason value -> records dropped for it
    kept: Mapping[str, str]  # URL -> a phrase its kept text contains (good pages, and bad ones that must survive)

    @property
    def records(self) -> int:
        return sum(self.drops.values()) + len(self.kept)


def _warc_head(url: str, warc_type: str, block_type: str, length: int) -> bytes:
    """A record's WARC header block, blank line included."""
    uuid = hashlib.md5(f"{warc_type} {url}".encode()).hexdigest()
    headers = [
        "WARC/1.0", f"WARC-Type: {warc_type}", f"WARC-Record-ID: <urn:uuid:{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}>",
        "WARC-Date: 2024-05-18T01:58:10Z", f"Content-Type: {block_type}", f"Content-Length: {length}",
    ]
    if url:
        headers.insert(2, f"WARC-Target-URI: {url}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode()


def _http_head(status: str = "200 OK", content_type: str = "text/html; charset=utf-8",
               http_headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + ([f"Content-Type: {content_type}"] if content_type else [])
    lines += [f"{name}: {value}" for name, value in http_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


_RESPONSE = "application/http; msgtype=response"


def _record(url: str, payload: bytes, *, warc_type: str = "response", content_type: str = "text/html; charset=utf-8",
            status: str = "200 OK", http_headers: tuple[tuple[str, str], ...] = (), length_delta: int = 0) -> bytes:
    """One WARC record, uncompressed; `length_delta` makes its Content-Length lie."""
    if warc_type == "response":
        block, block_type = _http_head(status, content_type, http_headers) + payload, _RESPONSE
    elif warc_type == "request":
        block, block_type = payload, "application/http; msgtype=request"
    else:
        block, block_type = payload, "application/warc-fields"
    return _warc_head(url, warc_type, block_type, len(block) + length_delta) + block + b"\r\n\r\n"


def _member(record: bytes) -> bytes:
    return gzip.compress(record, mtime=0)


def _repeated_member(prefix: bytes, unit: bytes, times: int, suffix: bytes) -> bytes:
    """A gzip member of prefix + unit * times + suffix, built in time linear in the *compressed*
    size: after a full flush deflate forgets its history, so every unit compresses to the same block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH) == block  # the unit's block repeats
    tail = compressor.compress(suffix) + compressor.flush()
    crc = zlib.crc32(prefix)
    for _ in range(times):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + len(unit) * times + len(suffix)
    return _GZIP_HEADER + head + block * times + tail + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _page(title: str, sentences: list[str]) -> str:
    paragraphs = "".join(f"<p>{s}</p>" for s in sentences)
    return f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav><article>{paragraphs}</article></body></html>"


def _good_page(case: str, n: int) -> tuple[str, bytes, str]:
    """(url, payload, phrase) of a plain English page that every stage keeps."""
    phrase = f"harbour log {case} {n}"
    sentences = [f"Entry {i} of the {phrase}: the harbour master counted {3 + i + n} boats that came in before the storm, "
                 f"and the fishermen of pier {n} tied their nets to the old stone wall by the lighthouse." for i in range(6)]
    return f"https://good.example/{case}/{n}", _page(f"Harbour {case} {n}", sentences).encode(), phrase


def _good_members(case: str) -> tuple[list[bytes], dict[str, str]]:
    members, kept = [], {}
    for n in range(GOOD_PER_CASE):
        url, payload, phrase = _good_page(case, n)
        members.append(_member(_record(url, payload)))
        kept[url] = phrase
    return members, kept


def _around(case: str, bad: list[bytes]) -> tuple[bytes, dict[str, str]]:
    """The case's file: a good page, the bad members, the other good page(s)."""
    good, kept = _good_members(case)
    return b"".join([good[0], *bad, *good[1:]]), kept


def _bad_url(case: str, what: str = "") -> str:
    return f"https://bad.example/{case}" + (f"/{what}" if what else "")


def _truncated_member() -> tuple[bytes, BadInputCase]:
    good, kept = _good_members("truncated_member")
    _, payload, _ = _good_page("cut", 0)
    cut = _member(_record(_bad_url("truncated_member"), payload))
    data = b"".join(good) + cut[: len(cut) // 2]
    return data, BadInputCase("truncated_member", "the file ends halfway through a gzip member", {"truncated_record": 1}, kept)


def _garbage_between_members() -> tuple[bytes, BadInputCase]:
    garbage = random.Random(9).randbytes(5000).replace(b"\x1f\x8b", b"\x1f\x00")  # no accidental gzip header
    data, kept = _around("garbage_between_members", [garbage])
    return data, BadInputCase("garbage_between_members", "5,000 random bytes between two members", {"corrupt_record": 1}, kept)


def _content_length(name: str, delta: int, reason: str) -> tuple[bytes, BadInputCase]:
    _, payload, _ = _good_page("lying-length", 0)
    data, kept = _around(name, [_member(_record(_bad_url(name), payload, length_delta=delta))])
    return data, BadInputCase(name, f"Content-Length off by {delta:+d} bytes", {reason: 1}, kept)


def _empty_payload() -> tuple[bytes, BadInputCase]:
    data, kept = _around("empty_payload", [_member(_record(_bad_url("empty_payload"), b""))])
    return data, BadInputCase("empty_payload", "HTTP 200 text/html with no body", {"empty_payload": 1}, kept)


def _huge_payload() -> tuple[bytes, BadInputCase]:
    # 50 MiB of paragraphs; the reader stops at ingest.max_payload_bytes (5 MiB) and skips the rest
    unit, times = b"<p>a big page says the same thing again and again.</p>\n" * 1024, 50 * _MIB // (56 * 1024)
    start, end = b"<html><body>", b"</body></html>"
    body_length = len(start) + len(unit) * times + len(end)
    http = _http_head()
    head = _warc_head(_bad_url("huge_payload"), "response", _RESPONSE, len(http) + body_length)
    bad = _repeated_member(head + http + start, unit, times, end + b"\r\n\r\n")
    data, kept = _around("huge_payload", [bad])
    return data, BadInputCase("huge_payload", f"a {body_length / _MIB:.0f} MiB page", {"too_large": 1}, kept)


def _deep_nesting() -> tuple[bytes, BadInputCase]:
    _, good_html, _ = _good_page("deep", 0)
    text = good_html[good_html.index(b"<article>"):good_html.index(b"</article>")]
    payload = b"<html><body>" + b"<div>" * 100_000 + text + b"</div>" * 100_000 + b"</body></html>"
    data, kept = _around("deep_nesting", [_member(_record(_bad_url("deep_nesting"), payload))])
    # libxml2 stops building the tree at depth 256: the page parses quickly, with no text left
    return data, BadInputCase("deep_nesting", "text inside 100,000 nested <div>s", {"empty_text": 1}, kept)


def _charsets() -> tuple[bytes, BadInputCase]:
    """Bad labels on good pages: each must be kept, decoded right."""
    french = "Le café du port sert une crème brûlée aux pêcheurs après la tempête. " * 8
    russian = "Рыбаки привязали сети к старой каменной стене у маяка перед бурей. " * 8
    cases = [
        ("invalid-label", french.encode(), "text/html; charset=klingon", "crème brûlée"),
        ("latin1-label-on-utf8", french.encode(), "text/html; charset=iso-8859-1", "crème brûlée"),
        ("utf8-label-on-cp1251", russian.encode("cp1251"), "text/html; charset=utf-8", "каменной стене"),
        ("meta-shift-jis-on-utf8", b"<meta charset='shift_jis'>" + french.encode(), "text/html", "crème brûlée"),
    ]
    bad, kept_bad = [], {}
    for what, text, content_type, phrase in cases:
        url = _bad_url("charsets", what)
        bad.append(_member(_record(url, b"<html><body><p>" + text + b"</p></body></html>", content_type=content_type)))
        kept_bad[url] = phrase
    data, kept = _around("charsets", bad)
    return data, BadInputCase("charsets", "invalid and lying charset labels (kept, decoded right)", {}, {**kept, **kept_bad})


def _binary_as_html() -> tuple[bytes, BadInputCase]:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(1).randbytes(4000)
    noise = random.Random(2).randbytes(8000)
    bad = [_member(_record(_bad_url("binary_as_html", name), payload)) for name, payload in (("png", png), ("noise", noise))]
    data, kept = _around("binary_as_html", bad)
    return data, BadInputCase("binary_as_html", "a PNG and random bytes labelled text/html", {"binary_payload": 2}, kept)


def _gzip_bombs() -> tuple[bytes, BadInputCase]:
    # a WARC member inflating to 2 GiB of spaces (~2 MB on disk)
    times = 2048
    http = _http_head(content_type="text/html")
    head = _warc_head(_bad_url("gzip_bomb", "member"), "response", _RESPONSE, len(http) + times * _MIB)
    member_bomb = _repeated_member(head + http, b" " * _MIB, times, b"\r\n\r\n")
    # a page sent with Content-Encoding: gzip that inflates to 1 GiB (~1 MB in the WARC)
    payload = _repeated_member(b"", b"\0" * _MIB, 1024, b"")
    encoded_bomb = _member(_record(_bad_url("gzip_bomb", "content-encoding"), payload, http_headers=(("Content-Encoding", "gzip"),)))
    data, kept = _around("gzip_bomb", [member_bomb, encoded_bomb])
    drops = {"decompression_bomb": 1, "too_large": 1}
    return data, BadInputCase("gzip_bomb", "a gzip member inflating to 2 GiB; a 1 GiB Content-Encoding bomb", drops, kept)


def _only_non_html() -> tuple[bytes, BadInputCase]:
    records = [
        _record("", b"software: gristmill bad_inputs\r\nisPartOf: CC-MAIN-2024-22\r\n", warc_type="warcinfo"),
        _record(_bad_url("only_non_html", "page"), b"GET /page HTTP/1.1\r\nHost: bad.example\r\n\r\n", warc_type="request"),
        _record(_bad_url("only_non_html", "page"), b"fetchTimeMs: 120\r\n", warc_type="metadata"),
        _record(_bad_url("only_non_html", "logo.png"), b"\x89PNG\r\n\x1a\n\x00\x00", content_type="image/png"),
        _record(_bad_url("only_non_html", "doc.pdf"), b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", content_type="application/pdf"),
        _record(_bad_url("only_non_html", "gone"), b"<html><body>gone</body></html>", status="404 Not Found"),
    ]
    drops = {"warcinfo_record": 1, "request_record": 1, "metadata_record": 1, "not_html": 2, "http_status": 1}
    data = b"".join(_member(r) for r in records)
    return data, BadInputCase("only_non_html", "a WARC without a single HTML page", drops, {})


CASES: tuple[Callable[[], tuple[bytes, BadInputCase]], ...] = (
    _truncated_member,
    _garbage_between_members,
    lambda: _content_length("content_length_too_long", 1000, "truncated_record"),
    lambda: _content_length("content_length_too_short", -10, "corrupt_record"),
    _empty_payload,
    _huge_payload,
    _deep_nesting,
    _charsets,
    _binary_as_html,
    _gzip_bombs,
    _only_non_html,
)


def write_corpus(folder: Path) -> list[BadInputCase]:
    """Write every case as `folder/<name>.warc.gz`; return the cases in order."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for build in CASES:
        data, case = build()
        (folder / f"{case.name}.warc.gz").write_bytes(data)
        cases.append(case)
    return cases
