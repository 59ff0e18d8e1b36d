"""Tests for pipeline/warc/gzip_members.py: member splitting and recovery after bad members."""

from __future__ import annotations

import gzip
import io
import random

import pytest

from pipeline.warc import gzip_members
from pipeline.warc.gzip_members import (
    GZIP_MAGIC,
    CorruptMemberError,
    InflationBombError,
    MemberReader,
    RawStream,
    TruncatedMemberError,
)


def _text(seed: int, size: int) -> bytes:
    """Deterministic, poorly compressible text (so members span several raw chunks)."""
    rng = random.Random(seed)
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz \n") for _ in range(size))


def _member(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)


def _garbage(size: int, seed: int = 7) -> bytes:
    """Random bytes that cannot contain a gzip header (no 0x1f)."""
    rng = random.Random(seed)
    return bytes(rng.choice(range(0x20, 0x100)) for _ in range(size))


def _flip(member: bytes, position: int) -> bytes:
    data = bytearray(member)
    data[position] ^= 0x40
    return bytes(data)


def _read_all(raw: RawStream, size: int = -1) -> bytes:
    member = MemberReader(raw)
    out = bytearray()
    while chunk := member.read(size):
        out += chunk
    assert member.eof
    return bytes(out)


# RawStream


def test_raw_stream_tracks_offset_through_read_peek_and_unread():
    raw = RawStream(io.BytesIO(b"0123456789"))
    assert raw.peek(3) == b"012"
    assert raw.offset == 0
    assert raw.read(4) == b"0123"
    assert raw.offset == 4
    raw.unread(b"23")
    assert raw.offset == 2
    assert raw.read(3) == b"234"
    assert raw.read() == b"56789"
    assert raw.offset == 10
    assert raw.read() == b""
    assert raw.peek(1) == b""


def test_unread_of_nothing_is_a_no_op():
    raw = RawStream(io.BytesIO(b"abc"))
    raw.read(2)
    raw.unread(b"")
    assert raw.offset == 2
    assert raw.read() == b"c"


def test_skip_to_gzip_header_counts_the_bytes_skipped():
    member = _member(b"payload")
    raw = RawStream(io.BytesIO(_garbage(1000) + member))
    assert raw.skip_to_gzip_header() == 1000
    assert raw.offset == 1000
    assert raw.peek(3) == GZIP_MAGIC
    assert raw.skip_to_gzip_header() == 0  # already at a header


def test_skip_to_gzip_header_finds_a_magic_straddling_the_chunk_boundary():
    for before in (gzip_members._CHUNK - 1, gzip_members._CHUNK - 2, gzip_members._CHUNK, 3 * gzip_members._CHUNK + 1):
        raw = RawStream(io.BytesIO(_garbage(before) + _member(b"x")))
        assert raw.skip_to_gzip_header() == before
        assert _read_all(raw) == b"x"


def test_skip_to_gzip_header_without_a_header_consumes_everything():
    for size in (0, 1, 2, 3, 5000):
        raw = RawStream(io.BytesIO(_garbage(size)))
        assert raw.skip_to_gzip_header() == size
        assert raw.peek(1) == b""


# MemberReader: splitting


def test_members_are_split_exactly():
    contents = [b"first record", b"", _text(1, 200_000), b"last"]
    data = b"".join(_member(c) for c in contents)
    raw = RawStream(io.BytesIO(data))
    starts = []
    for content in contents:
        starts.append(raw.offset)
        assert _read_all(raw) == content
    assert raw.offset == len(data)
    assert raw.peek(1) == b""
    lengths = [len(_member(c)) for c in contents]
    assert starts == [sum(lengths[:i]) for i in range(len(contents))]


@pytest.mark.parametrize("size", [1, 7, 4096, 16384, 65536, 1 << 20])
def test_small_reads_round_trip_and_stop_at_the_member_end(size):
    content = _text(2, 150_000)
    raw = RawStream(io.BytesIO(_member(content) + _member(b"next")))
    assert _read_all(raw, size) == content
    assert _read_all(raw) == b"next"


def test_read_returns_exactly_the_size_asked_until_the_end():
    content = _text(3, 100_000)
    member = MemberReader(RawStream(io.BytesIO(_member(content))))
    assert len(member.read(16384)) == 16384
    assert len(member.read(0)) == 0
    assert member.read() == content[16384:]
    assert member.read(10) == b""


def test_drain_leaves_the_stream_at_the_next_member():
    raw = RawStream(io.BytesIO(_member(_text(4, 300_000)) + _member(b"second")))
    member = MemberReader(raw)
    member.read(10)
    member.drain()
    assert member.eof
    assert _read_all(raw) == b"second"


def test_recover_after_a_clean_end_stays_at_the_next_member():
    raw = RawStream(io.BytesIO(_member(b"one") + _member(b"two")))
    member = MemberReader(raw)
    member.drain()
    member.recover()
    assert _read_all(raw) == b"two"


# MemberReader: errors and recovery


def test_truncated_member_raises_and_recover_reaches_the_end():
    data = _member(_text(5, 50_000))
    raw = RawStream(io.BytesIO(data[: len(data) // 2]))
    member = MemberReader(raw)
    with pytest.raises(TruncatedMemberError):
        member.drain()
    member.recover()
    assert raw.peek(1) == b""


def test_missing_trailer_is_a_truncation():
    data = _member(b"complete content, no crc")
    member = MemberReader(RawStream(io.BytesIO(data[:-8])))
    with pytest.raises(TruncatedMemberError):
        member.read()


@pytest.mark.parametrize("where", ["crc", "size", "deflate"])
def test_corrupt_member_raises_and_recover_skips_to_the_next_member(where):
    first, second, third = _member(_text(6, 20_000)), _member(b"second"), _member(b"third")
    position = {"crc": len(first) - 6, "size": len(first) - 2, "deflate": len(first) // 2}[where]
    raw = RawStream(io.BytesIO(_flip(first, position) + second + third))
    member = MemberReader(raw)
    with pytest.raises(CorruptMemberError):
        member.drain()
    member.recover()
    assert raw.offset == len(first)
    assert _read_all(raw) == b"second"
    assert _read_all(raw) == b"third"


def test_cut_member_followed_by_a_good_one_recovers_the_good_one():
    # The decompressor eats into the next member before failing; recover() must
    # push those bytes back and find the header again.
    cut = _member(_text(8, 40_000))[:5000]
    good = _member(b"the good member")
    raw = RawStream(io.BytesIO(cut + good + _member(b"after")))
    member = MemberReader(raw)
    with pytest.raises((CorruptMemberError, TruncatedMemberError)):
        member.drain()
    member.recover()
    assert raw.offset == len(cut)
    assert _read_all(raw) == b"the good member"
    assert _read_all(raw) == b"after"


def test_garbage_header_is_corrupt_and_recover_skips_it():
    fake = GZIP_MAGIC + _garbage(500)
    raw = RawStream(io.BytesIO(fake + _member(b"real")))
    member = MemberReader(raw)
    with pytest.raises(CorruptMemberError):
        member.read()
    member.recover()
    assert raw.offset == len(fake)
    assert _read_all(raw) == b"real"


def test_recover_past_the_history_limit_rescans_from_where_reading_stopped(monkeypatch):
    monkeypatch.setattr(gzip_members, "_MAX_HISTORY", 1000)
    first = _member(_text(9, 200_000))
    raw = RawStream(io.BytesIO(_flip(first, len(first) - 6) + _member(b"next")))
    member = MemberReader(raw)
    with pytest.raises(CorruptMemberError):
        member.drain()
    member.recover()
    assert raw.offset == len(first)
    assert _read_all(raw) == b"next"


def test_a_member_inflating_past_the_limit_is_a_bomb_and_recover_reaches_the_next(monkeypatch):
    monkeypatch.setattr(gzip_members, "_BOMB_MIN_OUTPUT", 1 << 20)
    raw = RawStream(io.BytesIO(_member(bytes(4 << 20)) + _member(b"next")))  # 4 MiB of zeros in ~4 KB
    member = MemberReader(raw)
    with pytest.raises(InflationBombError):
        member.drain()
    member.recover()
    assert _read_all(raw) == b"next"


def test_a_large_member_at_an_ordinary_ratio_is_not_a_bomb(monkeypatch):
    monkeypatch.setattr(gzip_members, "_BOMB_MIN_OUTPUT", 64 * 1024)
    content = _text(4, 300_000)
    assert _read_all(RawStream(io.BytesIO(_member(content)))) == content


def test_member_reader_is_file_like():
    member = MemberReader(RawStream(io.BytesIO(_member(b"abc"))))
    assert member.readable()
    assert member.read(None) == b"abc"
    member.close()
