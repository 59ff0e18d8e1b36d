"""Tests for pipeline/warc/reader.py: one Capture or Rejection per record, with the exact reason.

WARCs are built with warcio's WARCWriter (one gzip member per record, as Common
Crawl writes them) and damaged by byte surgery. Record ids and dates are fixed so
the compressed bytes, and so the damage, are the same on every run.
"""

from __future__ import annotations

import collections
import dataclasses
import gzip
import io
import random
import re
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.config import IngestConfig
from pipeline.core.records import Capture, DropReason, Rejection
from pipeline.warc import gzip_members
from pipeline.warc.reader import read_archive, record_id

KEPT = "kept"
HTML = b"<html><head><title>t</title></head><body><p>%s</p></body></html>"


@dataclasses.dataclass(frozen=True)
class Spec:
    """One WARC record to write."""

    url: str = "http://example.com/"
    body: bytes = HTML % b"hello"
    kind: str = "response"
    status: str = "200 OK"
    content_type: str | None = "text/html; charset=utf-8"
    http: tuple[tuple[str, str], ...] = ()  # extra HTTP headers
    warc: tuple[tuple[str, str], ...] = ()  # extra WARC headers
    with_http: bool = True


def _page(n: int, body: bytes | None = None) -> Spec:
    return Spec(url=f"http://example.com/{n}", body=body if body is not None else HTML % f"page {n}".encode())


def _member(spec: Spec, n: int = 0, compress: bool = True) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=compress)
    http = None
    if spec.with_http:
        headers = ([("Content-Type", spec.content_type)] if spec.content_type else []) + list(spec.http)
        http = StatusAndHeaders(spec.status, headers, protocol="HTTP/1.1")
    warc = {"WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>", "WARC-Date": "2024-05-18T01:58:10Z"}
    warc.update(spec.warc)
    content_type = "application/warc-fields" if spec.kind == "warcinfo" else ""
    record = writer.create_warc_record(
        spec.url,
        spec.kind,
        payload=io.BytesIO(spec.body),
        http_headers=http,
        warc_headers_dict=warc,
        warc_content_type=content_type,
    )
    writer.write_record(record)
    return out.getvalue()


def _members(specs: list[Spec], compress: bool = True) -> list[bytes]:
    return [_member(spec, n, compress) for n, spec in enumerate(specs)]


def _read(data: bytes, source: str = "test.warc.gz", **config) -> list[Capture | Rejection]:
    return list(read_archive(io.BytesIO(data), source, IngestConfig(**config)))


def _outcomes(results: list[Capture | Rejection]) -> list[str | DropReason]:
    return [KEPT if isinstance(r, Capture) else r.reason for r in results]


def _read_one(spec: Spec, **config) -> Capture | Rejection:
    (result,) = _read(_member(spec), **config)
    return result


def _shift_content_length(record: bytes, delta: int) -> bytes:
    """The uncompressed record with its WARC Content-Length off by `delta`."""
    match = re.search(rb"Content-Length: (\d+)", record)
    return record[: match.start(1)] + str(int(match.group(1)) + delta).encode() + record[match.end(1) :]


def _with_content_length(member: bytes, delta: int) -> bytes:
    return gzip.compress(_shift_content_length(gzip.decompress(member), delta), mtime=0)


def _flip(data: bytes, position: int) -> bytes:
    flipped = bytearray(data)
    flipped[position] ^= 0x10
    return bytes(flipped)


def _garbage(size: int) -> bytes:
    """Random bytes that cannot hold a gzip header (no 0x1f)."""
    rng = random.Random(size)
    return bytes(rng.choice(range(0x20, 0x100)) for _ in range(size))


def _chunked(body: bytes, size: int = 100) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def _gzip_bomb(megabytes: int) -> bytes:
    """A valid gzip stream of `megabytes` MiB of zeros, about 1000x smaller (built without compressing it all)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    mib = bytes(1 << 20)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, repeatable
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * megabytes + compressor.flush() + struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)


# The shared real files: per-reason counts as observed, and every record accounted for.

REAL_FILES = {
    "aut/example.warc.gz": {
        KEPT: 94,
        DropReason.WARCINFO_RECORD: 1,
        DropReason.REQUEST_RECORD: 261,
        DropReason.METADATA_RECORD: 261,
        DropReason.NOT_HTML: 158,
        DropReason.HTTP_STATUS: 47,
    },
    "aut/example.arc.gz": {
        KEPT: 94,
        DropReason.WARCINFO_RECORD: 1,
        DropReason.NOT_HTML: 158,
        DropReason.HTTP_STATUS: 47,
    },
    "dolma/sample-0000.warc.gz": {
        KEPT: 22,
        DropReason.WARCINFO_RECORD: 1,
        DropReason.REQUEST_RECORD: 22,
        DropReason.METADATA_RECORD: 1,
        DropReason.OTHER_RECORD_TYPE: 2,
    },
    "dolma/sample-0001.warc.gz": {
        KEPT: 15,
        DropReason.WARCINFO_RECORD: 1,
        DropReason.REQUEST_RECORD: 15,
        DropReason.METADATA_RECORD: 1,
        DropReason.OTHER_RECORD_TYPE: 2,
    },
    "jwarc/cc.warc.gz": {KEPT: 1},
    "whirlwind/whirlwind.warc.gz": {
        KEPT: 1,
        DropReason.WARCINFO_RECORD: 1,
        DropReason.REQUEST_RECORD: 1,
        DropReason.METADATA_RECORD: 1,
    },
    "whirlwind/whirlwind.warc.wat.gz": {DropReason.WARCINFO_RECORD: 1, DropReason.METADATA_RECORD: 1},
    "whirlwind/whirlwind.warc.wet.gz": {KEPT: 1, DropReason.WARCINFO_RECORD: 1},
}


def _real(shared_data: Path, name: str) -> Path:
    return shared_data / "warc" / name


def _read_file(path: Path) -> list[Capture | Rejection]:
    with path.open("rb") as stream:
        return list(read_archive(stream, str(path), IngestConfig()))


def _warcio_count(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in ArchiveIterator(stream, arc2warc=True))


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_funnel(shared_data, name):
    path = _real(shared_data, name)
    results = _read_file(path)
    assert dict(collections.Counter(_outcomes(results))) == REAL_FILES[name]
    assert len(results) == sum(REAL_FILES[name].values()) == _warcio_count(path)
    assert len({r.id for r in results}) == len(results)


def test_every_shared_file_is_fully_accounted_for(shared_warcs):
    names = {p.relative_to(p.parents[1]).as_posix() for p in shared_warcs}
    assert names <= set(REAL_FILES), f"add the counts of {sorted(names - set(REAL_FILES))} to REAL_FILES"
    for path in shared_warcs:
        results = _read_file(path)
        assert len(results) == _warcio_count(path), path
        assert [r.id for r in results] == [r.id for r in _read_file(path)], path


def test_real_aut_files_keep_the_same_pages(shared_data):
    warc = {c.url for c in _read_file(_real(shared_data, "aut/example.warc.gz")) if isinstance(c, Capture)}
    arc = {c.url for c in _read_file(_real(shared_data, "aut/example.arc.gz")) if isinstance(c, Capture)}
    assert warc == arc
    assert len(warc) == 94


def test_real_crawl_id_comes_from_warcinfo(shared_data):
    for name in ("whirlwind/whirlwind.warc.gz", "whirlwind/whirlwind.warc.wet.gz"):
        (capture,) = [r for r in _read_file(_real(shared_data, name)) if isinstance(r, Capture)]
        assert capture.provenance.crawl == "CC-MAIN-2024-22"
        assert capture.url == "https://an.wikipedia.org/wiki/Escopete"


def test_real_wet_record_is_text(shared_data):
    (capture,) = [
        r for r in _read_file(_real(shared_data, "whirlwind/whirlwind.warc.wet.gz")) if isinstance(r, Capture)
    ]
    assert capture.is_text
    assert capture.charset == "utf-8"
    assert "Escopete" in capture.content
    assert "<" not in capture.content[:200]


# Record kinds and HTTP-level reasons


def test_record_types_get_their_reasons_and_the_page_is_kept():
    specs = [
        Spec(kind="warcinfo", url="", body=b"software: test\r\nisPartOf: CC-MAIN-2024-10\r\n", with_http=False),
        Spec(kind="request", body=b"", status="GET / HTTP/1.1", content_type=None),
        _page(1),
        Spec(kind="metadata", body=b"fetchTimeMs: 12\r\n", with_http=False),
        Spec(
            kind="revisit",
            body=b"",
            warc=(("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"),),
        ),
        Spec(kind="resource", url="urn:x:file", body=b"some resource", with_http=False),
    ]
    results = _read(b"".join(_members(specs)))
    assert _outcomes(results) == [
        DropReason.WARCINFO_RECORD,
        DropReason.REQUEST_RECORD,
        KEPT,
        DropReason.METADATA_RECORD,
        DropReason.REVISIT_RECORD,
        DropReason.OTHER_RECORD_TYPE,
    ]
    assert results[5].detail == "resource"
    assert results[2].provenance.crawl == "CC-MAIN-2024-10"
    assert results[2].provenance.fetch_time == "2024-05-18T01:58:10Z"
    assert results[2].provenance.warc_record_id == "urn:uuid:00000000-0000-0000-0000-000000000002"


@pytest.mark.parametrize(
    "status", ["404 Not Found", "301 Moved Permanently", "500 Internal Server Error", "206 Partial Content"]
)
def test_non_200_status_is_http_status(status):
    result = _read_one(Spec(status=status))
    assert result.reason == DropReason.HTTP_STATUS
    assert result.detail == f"status={status[:3]}"
    assert result.url == "http://example.com/"


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/pdf", "text/plain; charset=utf-8", "application/json"]
)
def test_non_html_content_type_is_not_html(content_type):
    result = _read_one(Spec(content_type=content_type, body=b"\x89PNG\r\n\x1a\n" + bytes(100)))
    assert result.reason == DropReason.NOT_HTML
    assert result.detail == content_type.split(";")[0]


@pytest.mark.parametrize("content_type", ["text/html", "TEXT/HTML; charset=UTF-8", "application/xhtml+xml"])
def test_html_content_types_are_kept(content_type):
    assert isinstance(_read_one(Spec(content_type=content_type)), Capture)


def test_missing_content_type_is_sniffed():
    assert isinstance(_read_one(Spec(content_type=None, body=b"<!DOCTYPE html><html><body>x</body></html>")), Capture)
    result = _read_one(Spec(content_type=None, body=b"just some text, no markup"))
    assert result.reason == DropReason.NOT_HTML
    assert result.detail == "no content type, not HTML"


def test_response_without_http_is_not_html():
    assert (
        _read_one(Spec(url="dns:example.com", with_http=False, body=b"example.com. 300 IN A 1.2.3.4")).reason
        == DropReason.NOT_HTML
    )


def test_warc_truncated_is_dropped_unless_kept_by_config():
    spec = Spec(warc=(("WARC-Truncated", "length"),))
    result = _read_one(spec)
    assert result.reason == DropReason.TRUNCATED_RECORD
    assert result.detail == "WARC-Truncated"
    kept = _read_one(spec, keep_truncated=True)
    assert isinstance(kept, Capture)
    assert "hello" in kept.content


def test_payload_above_the_limit_is_too_large_and_the_next_page_is_kept():
    big = HTML % (b"word " * (4 << 20))  # 20 MiB against the 5 MiB default
    results = _read(b"".join(_members([_page(0, big), _page(1)])))
    assert _outcomes(results) == [DropReason.TOO_LARGE, KEPT]
    assert results[0].detail == f">{5 * 1024 * 1024} bytes"


def test_payload_limit_is_inclusive():
    body = HTML % b"x"
    assert isinstance(_read_one(Spec(body=body), max_payload_bytes=len(body)), Capture)
    assert _read_one(Spec(body=body), max_payload_bytes=len(body) - 1).reason == DropReason.TOO_LARGE


@pytest.mark.parametrize("body", [b"", b"   \r\n\t  "])
def test_empty_payload(body):
    assert _read_one(Spec(body=body)).reason == DropReason.EMPTY_PAYLOAD


def test_binary_bytes_labelled_html_are_binary_payload():
    body = b"<html>" + bytes(range(256)) * 4
    assert _read_one(Spec(body=body)).reason == DropReason.BINARY_PAYLOAD


def test_chunked_transfer_encoding_is_decoded():
    body = HTML % ("chunked page " * 40).encode()
    result = _read_one(Spec(body=_chunked(body), http=(("Transfer-Encoding", "chunked"),)))
    assert isinstance(result, Capture)
    assert result.content == body.decode()


def test_gzip_content_encoding_is_decoded():
    body = HTML % ("compressed page " * 40).encode()
    result = _read_one(Spec(body=gzip.compress(body), http=(("Content-Encoding", "gzip"),)))
    assert isinstance(result, Capture)
    assert result.content == body.decode()


def test_chunked_and_gzip_together_are_decoded():
    body = HTML % "caf\u00e9 ".encode() * 50
    spec = Spec(
        body=_chunked(gzip.compress(body), 37), http=(("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked"))
    )
    result = _read_one(spec)
    assert isinstance(result, Capture)
    assert result.content == body.decode()


def test_gzip_bomb_stays_bounded():
    bomb = _gzip_bomb(1024)  # 1 GiB of zeros in about 1 MB
    specs = [Spec(body=bomb, http=(("Content-Encoding", "gzip"),)), _page(1)]
    data = b"".join(_members(specs))
    tracemalloc.start()
    try:
        results = _read(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert _outcomes(results) == [DropReason.TOO_LARGE, KEPT]
    assert peak < 64 << 20


def test_a_record_whose_gzip_member_is_a_bomb_is_dropped_and_the_next_is_kept(monkeypatch):
    monkeypatch.setattr(gzip_members, "_BOMB_MIN_OUTPUT", 1 << 20)
    members = _members([_page(0), _page(1, b" " * (8 << 20)), _page(2)])  # 8 MiB of spaces in ~8 KB
    results = _read(b"".join(members))
    assert _outcomes(results) == [KEPT, DropReason.DECOMPRESSION_BOMB, KEPT]
    assert results[1].detail == "inflates over 100x past 1 MiB"


def test_charset_from_the_http_header_is_used():
    text = "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! " * 20
    result = _read_one(
        Spec(body=(HTML.decode() % text).encode("windows-1251"), content_type="text/html; charset=windows-1251")
    )
    assert result.charset == "cp1251"
    assert text in result.content


# Damaged files: a bad member costs its own record, nothing else


@pytest.mark.parametrize("cut", [5, 40, 150, -12, -8, -1])  # bytes kept (from the end when negative)
def test_file_cut_inside_the_last_member(cut):
    members = _members([_page(0), _page(1), _page(2)])
    last = members[2]
    assert len(last) > 200
    results = _read(members[0] + members[1] + last[:cut])
    assert _outcomes(results) == [KEPT, KEPT, DropReason.TRUNCATED_RECORD]
    assert results[2].detail == "file ends inside a gzip member"


def _aligned_member() -> bytes:
    """A record whose payload ends exactly on warcio's 16 KiB read boundary.

    Its payload is fully read before the gzip trailer is: damage to the trailer
    shows only after the record was classified.
    """
    spec = Spec(url="http://example.com/aligned", body=HTML % (b"x" * 30000))
    size = len(gzip.decompress(_member(spec)))
    pad = (2 * 16384 + 4 - size) % 16384  # the record ends with 4 bytes of blank lines
    spec = dataclasses.replace(spec, body=HTML % (b"x" * (30000 + pad)))
    member = _member(spec)
    assert (len(gzip.decompress(member)) - 4) % 16384 == 0
    return member


@pytest.mark.parametrize("cut", [8, 4, 1])
def test_cut_trailer_after_a_boundary_aligned_record_counts_it_once(cut):
    aligned = _aligned_member()
    results = _read(_member(_page(0)) + aligned[:-cut])
    assert _outcomes(results) == [KEPT, DropReason.TRUNCATED_RECORD]


@pytest.mark.parametrize("from_end", [6, 2])
def test_bad_trailer_after_a_boundary_aligned_record_counts_it_once(from_end):
    aligned = _aligned_member()
    members = [_member(_page(0)), _flip(aligned, len(aligned) - from_end), _member(_page(2))]
    results = _read(b"".join(members))
    assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD, KEPT]
    assert results[1].detail == "CorruptMemberError"


def test_garbage_between_members_counts_once():
    members = _members([_page(0), _page(1), _page(2)])
    results = _read(members[0] + _garbage(1000) + members[1] + members[2])
    assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD, KEPT, KEPT]
    assert results[1].detail == "1000 bytes of garbage between members"
    assert [r.url for r in results if isinstance(r, Capture)] == [f"http://example.com/{i}" for i in range(3)]


def test_garbage_before_the_first_member_costs_no_record():
    members = _members([_page(0), _page(1)])
    results = _read(_garbage(500) + b"".join(members))
    assert _outcomes(results) == [DropReason.CORRUPT_RECORD, KEPT, KEPT]


def test_garbage_at_the_end_counts_once():
    members = _members([_page(0), _page(1)])
    results = _read(b"".join(members) + _garbage(70_000))
    assert _outcomes(results) == [KEPT, KEPT, DropReason.CORRUPT_RECORD]


def test_bit_flips_in_a_middle_member_cost_only_that_record():
    members = _members([_page(0), _page(1, HTML % (b"middle page " * 400)), _page(2)])
    middle = members[1]
    # skip the header's mtime/xfl/os bytes (ignored by zlib) and the last deflate
    # byte, whose padding bits may be unused
    for position in range(10, len(middle) - 9):
        results = _read(members[0] + _flip(middle, position) + members[2])
        assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD, KEPT], position
        assert results[2].url == "http://example.com/2"


def test_corrupt_member_running_on_to_the_end_of_the_file_is_corrupt_not_truncated():
    # A stored deflate block claiming 65535 bytes swallows the members after it and
    # reaches the end of the file: the file is whole, this member is corrupt.
    runaway = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + b"\x00" + struct.pack("<HH", 0xFFFF, 0x0000)
    members = _members([_page(0), _page(2)])
    results = _read(members[0] + runaway + members[1])
    assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD, KEPT]
    assert results[1].detail == "TruncatedMemberError"
    assert results[2].url == "http://example.com/2"


def test_corrupt_magic_makes_the_member_garbage():
    members = _members([_page(0), _page(1), _page(2)])
    results = _read(members[0] + _flip(members[1], 1) + members[2])
    assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD, KEPT]
    assert results[1].detail == f"{len(members[1])} bytes of garbage between members"


@pytest.mark.parametrize("delta", [-1, -10, -200])
def test_content_length_too_small(delta):
    # The bytes left over after the short payload are either skipped with warcio's
    # warning (one line) or fail to parse as the next record: the record is lost
    # either way, and the next member is read as usual.
    members = _members([_page(0), _page(1, HTML % (b"line\n" * 100)), _page(2)])
    results = _read(members[0] + _with_content_length(members[1], delta) + members[2])
    assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD, KEPT]
    assert results[2].url == "http://example.com/2"


def test_content_length_too_small_by_one_line_is_named():
    members = _members([_page(0), _page(1), _page(2)])
    results = _read(members[0] + _with_content_length(members[1], -10) + members[2])
    assert results[1].detail == "Content-Length too short"
    assert results[1].url == "http://example.com/1"


@pytest.mark.parametrize("delta", [10, 1000])
def test_content_length_too_large(delta):
    members = _members([_page(0), _page(1), _page(2)])
    results = _read(members[0] + _with_content_length(members[1], delta) + members[2])
    assert _outcomes(results) == [KEPT, DropReason.TRUNCATED_RECORD, KEPT]
    assert results[1].detail == "shorter than Content-Length"


def test_empty_file_yields_nothing():
    assert _read(b"") == []


def test_empty_gzip_member_holds_no_record():
    assert _outcomes(_read(gzip.compress(b"") + _member(_page(0)))) == [KEPT]


# Uncompressed files


def test_uncompressed_warc_reads_like_the_gzip_one():
    specs = [
        Spec(kind="warcinfo", url="", body=b"isPartOf: CC-MAIN-2023-50\r\n", with_http=False),
        _page(1),
        Spec(status="404 Not Found"),
        Spec(kind="request", body=b"", status="GET / HTTP/1.1", content_type=None),
        _page(4),
    ]
    plain = _read(b"".join(_members(specs, compress=False)), "test.warc")
    packed = _read(b"".join(_members(specs)), "test.warc.gz")
    assert (
        _outcomes(plain)
        == _outcomes(packed)
        == [DropReason.WARCINFO_RECORD, KEPT, DropReason.HTTP_STATUS, DropReason.REQUEST_RECORD, KEPT]
    )
    assert [c.content for c in plain if isinstance(c, Capture)] == [c.content for c in packed if isinstance(c, Capture)]
    assert plain[1].provenance.crawl == "CC-MAIN-2023-50"
    assert len({r.id for r in plain}) == len(plain)


def test_uncompressed_warc_with_a_short_content_length_keeps_the_rest():
    members = _members([_page(0), _page(1), _page(2)], compress=False)
    results = _read(members[0] + _shift_content_length(members[1], -10) + members[2], "test.warc")
    assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD, KEPT]


def test_uncompressed_warc_that_cannot_be_resynchronized_ends_in_one_corrupt_record():
    # Leftover lines that do not parse as a record end an uncompressed file: no
    # member boundary to skip to (documented in read_archive).
    members = _members([_page(0), _page(1, HTML % (b"line\n" * 100)), _page(2)], compress=False)
    results = _read(members[0] + _shift_content_length(members[1], -20) + members[2], "test.warc")
    assert _outcomes(results) == [KEPT, DropReason.CORRUPT_RECORD]


def test_uncompressed_warc_cut_in_the_last_record():
    members = _members([_page(0), _page(1), _page(2)], compress=False)
    results = _read(members[0] + members[1] + members[2][:-60], "test.warc")
    assert _outcomes(results) == [KEPT, KEPT, DropReason.TRUNCATED_RECORD]


def test_uncompressed_garbage_is_one_corrupt_record():
    results = _read(_garbage(500), "junk.warc")
    assert _outcomes(results) == [DropReason.CORRUPT_RECORD]


# WET, crawl ids, record ids


def test_wet_conversion_record_is_a_text_capture():
    text = "Plain text that Common Crawl extracted.\nSecond line, caf\u00e9."
    spec = Spec(
        kind="conversion",
        url="https://example.org/a",
        body=text.encode(),
        with_http=False,
        warc=(("Content-Type", "text/plain"),),
    )
    result = _read_one(spec)
    assert isinstance(result, Capture)
    assert result.is_text
    assert result.content == text
    assert result.charset == "utf-8"
    assert result.url == "https://example.org/a"


def test_empty_wet_record_is_empty_payload():
    assert _read_one(Spec(kind="conversion", body=b"\n\n", with_http=False)).reason == DropReason.EMPTY_PAYLOAD


def test_crawl_id_from_the_path_wins_over_warcinfo():
    specs = [Spec(kind="warcinfo", url="", body=b"isPartOf: CC-MAIN-2024-10\r\n", with_http=False), _page(1)]
    data = b"".join(_members(specs))
    path = "crawl-data/CC-MAIN-2023-14/segments/1/warc/x.warc.gz"
    assert _read(data, path)[1].provenance.crawl == "CC-MAIN-2023-14"
    assert _read(data, "local.warc.gz")[1].provenance.crawl == "CC-MAIN-2024-10"
    assert _read(b"".join(_members([_page(1)])), "local.warc.gz")[0].provenance.crawl == ""


def test_ids_are_stable_and_distinct():
    members = _members([_page(i) for i in range(5)])
    data = members[0] + _garbage(300) + b"".join(members[1:])
    first, second = _read(data), _read(data)
    assert [r.id for r in first] == [r.id for r in second]
    assert len({r.id for r in first}) == len(first) == 6
    assert {r.id for r in _read(data, "other.warc.gz")}.isdisjoint(r.id for r in first)


def test_provenance_points_at_the_member():
    members = _members([_page(i) for i in range(3)])
    results = _read(b"".join(members), "f.warc.gz")
    offsets = [0, len(members[0]), len(members[0]) + len(members[1])]
    assert [r.provenance.source_offset for r in results] == offsets
    assert [r.provenance.record_index for r in results] == [0, 0, 0]
    assert [r.id for r in results] == [record_id("f.warc.gz", offset, 0) for offset in offsets]
    assert all(r.provenance.source_file == "f.warc.gz" for r in results)


def test_a_target_uri_with_spaces_is_fixed_without_logging_its_value(caplog):
    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>A page.</p></body></html>"
    record = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.com/a private words\r\n"
        b"WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
        + b"\r\n\r\n"
    )
    with caplog.at_level("DEBUG"):
        (capture,) = _read(gzip.compress(record))
    assert capture.url == "http://example.com/a%20private%20words"
    assert "private" not in caplog.text


def test_arc_records_read_the_same_twice(shared_data):
    """ARC has no record ids (warcio invents a random one per read): the column is left empty, so reruns match."""
    path = _real(shared_data, "aut/example.arc.gz")
    first, second = _read_file(path), _read_file(path)
    captures = [r for r in first if isinstance(r, Capture)]
    assert captures and {c.provenance.warc_record_id for c in captures} == {""}
    assert first == second
