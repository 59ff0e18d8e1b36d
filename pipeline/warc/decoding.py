"""Bytes to Unicode for HTML payloads: HTTP header charset, then <meta>, then detection.

Declared charsets map to their WHATWG supersets (a page labelled GB2312 is read
as GB18030, Shift_JIS as cp932, ISO-8859-1 as windows-1252), because that is
what browsers do and what the pages were written for.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.IGNORECASE)
_META_SCAN_BYTES = 4096  # HTML5 puts the <meta> in the first 1024 bytes; leave room for long heads
_DETECT_BYTES = 64 * 1024  # detection on a prefix: it is slow on large pages
_MAX_CHAR_BYTES = 4  # longest character in the multi-byte charsets of the web (UTF-8, GB18030)
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "big5": "big5hkscs",
    # WHATWG reads a UTF-16 label on ASCII-compatible bytes as UTF-8; real UTF-16
    # HTML is full of NUL bytes and decodes through its BOM or detection instead.
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}
# Python's cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; WHATWG
# windows-1252 maps them to the C1 controls of the same value, so a page labelled
# Latin-1 always decodes (instead of falling through to detection, which guesses
# a Mac or DOS code page from a single stray byte).
_CP1252_UNDEFINED_TO_C1 = {0xDC00 + byte: byte for byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def charset_from_content_type(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def normalize_charset(label: str | None) -> str | None:
    """A Python codec name for a declared label, or None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def meta_charset(payload: bytes) -> str | None:
    match = _META_CHARSET.search(payload[:_META_SCAN_BYTES])
    return match.group(1).decode("ascii", "replace") if match else None


def is_binary(payload: bytes) -> bool:
    """NUL bytes early on mean binary data (no text encoding the web uses has them, bar UTF-16)."""
    head = payload[:4096]
    return b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def decode_html(payload: bytes, header_charset: str | None = None) -> tuple[str, str] | None:
    """Decode an HTML payload; return (text, codec name) or None when nothing fits.

    A declared charset that fails strict decoding is a lie and is skipped (a
    multi-byte character cut off at the very end, as in a truncated payload, is
    dropped instead). Any other label on bytes that are valid UTF-8 with non-ASCII
    characters is also a lie (Latin-1 is a common server default; a stale <meta>
    survives a site's move to UTF-8): text in other multi-byte encodings is
    practically never valid UTF-8, so UTF-8 wins there.
    """
    if payload.startswith(codecs.BOM_UTF8):
        return payload[3:].decode("utf-8", "replace"), "utf-8"
    for label in (header_charset, meta_charset(payload)):
        codec = normalize_charset(label)
        if codec is None:
            continue
        if codec != "utf-8" and not payload.isascii():
            utf8 = _try_decode(payload, "utf-8")
            if utf8 is not None and not utf8.isascii():
                return utf8, "utf-8"
        text = _try_decode(payload, codec)
        if text is not None:
            return text, codec
    text = _try_decode(payload, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = charset_normalizer.from_bytes(payload[:_DETECT_BYTES]).best()
    if best is None:
        return None
    codec = normalize_charset(best.encoding) or best.encoding
    return payload.decode(codec, "replace"), codec


def _try_decode(payload: bytes, codec: str) -> str | None:
    if codec == "cp1252":
        return payload.decode(codec, "surrogateescape").translate(_CP1252_UNDEFINED_TO_C1)
    try:
        return payload.decode(codec)
    except UnicodeDecodeError as err:
        if err.end == len(payload) and len(payload) - err.start < _MAX_CHAR_BYTES:
            return _try_decode(payload[: err.start], codec)
        return None
    except LookupError:
        return None
