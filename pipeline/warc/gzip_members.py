"""Split a gzip stream into members, each readable as its own decompressed stream.

Common Crawl writes every WARC record as its own gzip member, and the CC index
points at member offsets. Reading member by member means a corrupt or truncated
member costs only the records inside it: on a decompression error the reader
re-scans the bytes after the member's start for the next gzip header.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 64 * 1024
# Raw bytes of the current member kept for re-scanning after an error. Per-record
# members are far smaller; a longer member keeps only its latest raw chunk, so
# recovery rescans from where decoding failed instead of from the member's start.
_MAX_HISTORY = 8 * 1024 * 1024
# A gzip bomb: deflate inflates at most ~1032:1, web records ~4-10:1 (HTML) and
# rarely past 50:1. A member whose output passes _BOMB_MIN_OUTPUT bytes at more
# than _MAX_INFLATION times its input is abandoned, so skipping a record costs at
# most ~100x its compressed size in inflation, not ~1000x (2 s per GiB here).
_BOMB_MIN_OUTPUT = 64 * 1024 * 1024
_MAX_INFLATION = 100


class TruncatedMemberError(EOFError):
    """The stream ended inside a gzip member."""


class CorruptMemberError(ValueError):
    """A gzip member failed to decompress."""


class InflationBombError(CorruptMemberError):
    """A gzip member inflates far beyond what any web record does (a decompression bomb)."""


class RawStream:
    """A forward-only byte stream with push-back and an absolute offset."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._pending = bytearray()
        self.offset = 0  # absolute offset of the next byte `read` returns

    def read(self, n: int = _CHUNK) -> bytes:
        if self._pending:
            data = bytes(self._pending[:n])
            del self._pending[:n]
        else:
            data = self._stream.read(n)
        self.offset += len(data)
        return data

    def unread(self, data: bytes) -> None:
        if data:
            self._pending[:0] = data
            self.offset -= len(data)

    def peek(self, n: int) -> bytes:
        while len(self._pending) < n:
            chunk = self._stream.read(max(_CHUNK, n - len(self._pending)))
            if not chunk:
                break
            self._pending += chunk
        return bytes(self._pending[:n])

    def skip_to_gzip_header(self) -> int:
        """Discard bytes up to the next gzip header (or the end); return how many were skipped."""
        skipped = 0
        while True:
            head = self.peek(_CHUNK)
            if not head:
                return skipped
            at = head.find(GZIP_MAGIC)
            if at == 0:
                return skipped
            if at < 0:
                # keep the last two bytes: the magic may straddle the chunk boundary
                at = max(len(head) - (len(GZIP_MAGIC) - 1), 1) if len(head) >= len(GZIP_MAGIC) else len(head)
            self.read(at)
            skipped += at


class MemberReader:
    """File-like view of one gzip member's decompressed bytes.

    Reading past the member's end returns b"" and leaves the raw stream at the
    next member. Raises `CorruptMemberError` (`InflationBombError` for a bomb) /
    `TruncatedMemberError`.
    """

    def __init__(self, raw: RawStream):
        self._raw = raw
        self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._start = raw.offset
        self._history = bytearray()  # raw bytes fed so far, for recovery
        self._history_from_start = True  # False once only the latest chunk is kept
        self._tail = b""  # input not yet consumed because of max_length
        self._fed = 0  # raw bytes read for this member
        self._inflated = 0  # bytes it decompressed to so far
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        if self.eof:
            return b""
        if size is None or size < 0:
            size = 1 << 30
        out = bytearray()
        while len(out) < size and not self.eof:
            data = self._tail or self._next_raw()
            try:
                chunk = self._decompressor.decompress(data, size - len(out))
            except zlib.error as err:
                raise CorruptMemberError(str(err)) from err
            out += chunk
            self._inflated += len(chunk)
            if self._inflated > _BOMB_MIN_OUTPUT and self._inflated > _MAX_INFLATION * self._fed:
                raise InflationBombError(f"inflates over {_MAX_INFLATION}x past {_BOMB_MIN_OUTPUT >> 20} MiB")
            self._tail = self._decompressor.unconsumed_tail
            if self._decompressor.eof:
                self.eof = True
                self._raw.unread(self._decompressor.unused_data)
        return bytes(out)

    def _next_raw(self) -> bytes:
        data = self._raw.read(_CHUNK)
        if not data:
            raise TruncatedMemberError("stream ended inside a gzip member")
        self._fed += len(data)
        if len(self._history) + len(data) > _MAX_HISTORY:
            self._history = bytearray()
            self._history_from_start = False
        self._history += data
        return data

    def drain(self) -> None:
        """Consume the rest of the member (bounded memory; output discarded)."""
        while not self.eof:
            self.read(_CHUNK)

    def recover(self) -> None:
        """After an error, move the raw stream to the next member.

        A member that decompressed to its end already left the stream at the next
        member. Otherwise the bytes after this member's first byte are pushed back
        and scanned for the next gzip header: a cut member followed by a good one
        fails only once the decompressor has eaten into the good one. A member too
        long to keep whole is rescanned from the latest chunk it read.
        """
        if not self.eof:
            self._raw.unread(bytes(self._history[1:] if self._history_from_start else self._history))
            self._history = bytearray()
        self._raw.skip_to_gzip_header()

    def close(self) -> None:
        pass

    def readable(self) -> bool:
        return True
