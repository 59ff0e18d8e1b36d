"""Tests for pipeline/warc/decoding.py: header charset, then <meta>, then detection."""

from __future__ import annotations

import codecs
import random

import pytest

from pipeline.warc.decoding import charset_from_content_type, decode_html, is_binary, meta_charset, normalize_charset

RUSSIAN = (
    "Съешь же ещё этих мягких французских булок, да выпей чаю. Широкая электрификация "
    "южных губерний даст мощный толчок подъёму сельского хозяйства."
)
JAPANESE = (
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
    "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。"
)
CHINESE = (
    "中华人民共和国是工人阶级领导的、以工农联盟为基础的人民民主专政的社会主义国家。"
    "社会主义制度是中华人民共和国的根本制度。"
)
FRENCH = "Le cœur a ses raisons que la raison ne connaît point. Où est la bibliothèque? Ça, c'est très élégant."


def _page(text: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


# charset_from_content_type


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=utf-8", "utf-8"),
        ("text/html;charset=Shift_JIS", "Shift_JIS"),
        ('text/html; charset="windows-1251"', "windows-1251"),
        ("text/html; charset='gb2312'", "gb2312"),
        ("text/html; boundary=x; CHARSET = euc-jp ", "euc-jp"),
        ("text/html", None),
        ("text/html; charset=", None),
        ("", None),
        (None, None),
    ],
)
def test_charset_from_content_type(content_type, charset):
    assert charset_from_content_type(content_type) == charset


# normalize_charset


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("Shift_JIS", "cp932"),
        ("x-sjis", "cp932"),
        ("EUC-JP", "euc_jp"),
        ("euc-kr", "cp949"),
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("windows-1251", "cp1251"),
        ("big5", "big5hkscs"),
        (" koi8-r ", "koi8-r"),
        ("utf-16", "utf-8"),
        ("no-such-charset", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_charset(label, codec):
    assert normalize_charset(label) == codec


# meta_charset


@pytest.mark.parametrize(
    ("html", "charset"),
    [
        (b'<html><head><meta charset="windows-1251"></head>', "windows-1251"),
        (b"<META CHARSET=euc-jp>", "euc-jp"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">', "Shift_JIS"),
        (b"<meta name='x' content='text/html;charset= gb2312'>", "gb2312"),
        (b"<html><body>charset=koi8-r outside a meta tag</body>", None),
        (b"<html><body>no declaration</body></html>", None),
    ],
)
def test_meta_charset(html, charset):
    assert meta_charset(html) == charset


def test_meta_charset_is_only_looked_for_near_the_top():
    late = b"<html><head>" + b" " * 5000 + b'<meta charset="koi8-r">'
    assert meta_charset(late) is None


# is_binary


def test_is_binary():
    assert is_binary(b"<html>\x00\x01\x02")
    assert is_binary(bytes(10))
    assert not is_binary(b"<html><body>text</body></html>")
    assert not is_binary(codecs.BOM_UTF16_LE + "<html>".encode("utf-16-le"))
    assert not is_binary(codecs.BOM_UTF16_BE + "<html>".encode("utf-16-be"))
    assert not is_binary(b"x" * 5000 + b"\x00")  # only the head is looked at


# decode_html: declared charsets


@pytest.mark.parametrize(
    ("text", "label", "codec"),
    [
        (RUSSIAN, "windows-1251", "cp1251"),
        (RUSSIAN, "koi8-r", "koi8-r"),
        (JAPANESE, "Shift_JIS", "cp932"),
        (JAPANESE, "EUC-JP", "euc_jp"),
        (CHINESE, "GB2312", "gb18030"),
        (FRENCH, "iso-8859-1", "cp1252"),
        (RUSSIAN + JAPANESE, "utf-8", "utf-8"),
    ],
    ids=["windows-1251", "koi8-r", "shift_jis", "euc-jp", "gb2312", "iso-8859-1", "utf-8"],
)
def test_header_charset_round_trips(text, label, codec):
    payload = _page(text).encode(codec)
    assert decode_html(payload, label) == (_page(text), codec)


@pytest.mark.parametrize(
    ("text", "label", "codec"),
    [
        (RUSSIAN, "windows-1251", "cp1251"),
        (JAPANESE, "Shift_JIS", "cp932"),
        (JAPANESE, "euc-jp", "euc_jp"),
        (CHINESE, "gb2312", "gb18030"),
    ],
    ids=["windows-1251", "shift_jis", "euc-jp", "gb2312"],
)
def test_meta_charset_round_trips(text, label, codec):
    html = _page(text, f'<meta charset="{label}">')
    assert decode_html(html.encode(codec)) == (html, codec)


def test_superset_characters_decode_under_the_narrower_label():
    # cp932 has NEC row-13 characters (①) that plain Shift_JIS lacks; gb18030 has
    # characters beyond GB2312 (䶮); windows-1252 has curly quotes ISO-8859-1 lacks.
    assert decode_html("<p>①②③</p>".encode("cp932"), "shift_jis") == ("<p>①②③</p>", "cp932")
    assert decode_html("<p>䶮</p>".encode("gb18030"), "gb2312") == ("<p>䶮</p>", "gb18030")
    assert decode_html("<p>\u201cquoted\u201d</p>".encode("cp1252"), "iso-8859-1") == (
        "<p>\u201cquoted\u201d</p>",
        "cp1252",
    )


def test_header_wins_over_meta():
    html = _page(RUSSIAN, '<meta charset="koi8-r">')
    assert decode_html(html.encode("cp1251"), "windows-1251") == (html, "cp1251")


# decode_html: lying declarations


def test_lying_utf8_header_falls_back_to_meta():
    html = _page(RUSSIAN, '<meta charset="windows-1251">')
    assert decode_html(html.encode("cp1251"), "utf-8") == (html, "cp1251")


@pytest.mark.parametrize(
    ("text", "codec"),
    [(RUSSIAN, "cp1251"), (JAPANESE, "cp932"), (CHINESE, "gb18030")],
    ids=["windows-1251", "shift_jis", "gb18030"],
)
def test_lying_utf8_header_without_meta_falls_back_to_detection(text, codec):
    payload = _page(text).encode(codec)
    assert decode_html(payload, "utf-8") == (_page(text), codec)
    assert decode_html(payload) == (_page(text), codec)


def test_latin1_header_on_utf8_bytes_is_utf8():
    html = _page(FRENCH + " " + RUSSIAN)
    assert decode_html(html.encode("utf-8"), "iso-8859-1") == (html, "utf-8")
    assert decode_html(html.encode("utf-8"), "windows-1252") == (html, "utf-8")


@pytest.mark.parametrize("label", ["shift_jis", "gb2312", "euc-kr", "windows-1251", "koi8-r"])
def test_any_label_on_utf8_bytes_is_utf8(label):
    # a stale <meta> after a site moved to UTF-8: strict cp932 decodes these bytes, as mojibake
    html = _page(FRENCH, f'<meta charset="{label}">')
    assert decode_html(html.encode("utf-8")) == (html, "utf-8")
    assert decode_html(html.encode("utf-8"), label) == (html, "utf-8")


def test_latin1_header_on_latin1_bytes_stays_latin1():
    assert decode_html(_page(FRENCH).encode("cp1252"), "ISO-8859-1") == (_page(FRENCH), "cp1252")
    # A single non-ASCII byte at the very end is not a cut UTF-8 character here.
    assert decode_html(b"<p>caf\xe9", "iso-8859-1") == ("<p>caf\u00e9", "cp1252")


def test_latin1_bytes_undefined_in_python_cp1252_decode_as_c1_controls():
    # WHATWG windows-1252 maps 0x81 0x8D 0x8F 0x90 0x9D to U+0081...; Python's
    # cp1252 rejects them, which used to send the page to detection (a Mac code page).
    payload = _page(FRENCH).encode("cp1252") + b"\x81\x8d\x8f\x90\x9d"
    assert decode_html(payload, "iso-8859-1") == (_page(FRENCH) + "\x81\x8d\x8f\x90\x9d", "cp1252")


def test_unknown_and_non_text_labels_are_ignored():
    html = _page(FRENCH)
    for label in ("no-such-charset", "base64", "rot13", "zlib", "hex", "x-user-defined-nonsense"):
        assert decode_html(html.encode("utf-8"), label) == (html, "utf-8"), label


def test_utf16_label_on_ascii_compatible_bytes_is_utf8():
    html = _page(FRENCH)
    assert decode_html(html.encode("utf-8"), "utf-16") == (html, "utf-8")
    assert decode_html(_page(FRENCH, '<meta charset="utf-16">').encode("utf-8")) == (
        _page(FRENCH, '<meta charset="utf-16">'),
        "utf-8",
    )


def test_utf16_with_bom_is_decoded():
    html = _page(FRENCH)
    text, codec = decode_html(codecs.BOM_UTF16_LE + html.encode("utf-16-le"), "utf-16")
    assert text.lstrip("\ufeff") == html
    assert codec.replace("_", "-").startswith("utf-16")


# decode_html: BOMs, truncation, junk


def test_utf8_bom_wins_over_any_label():
    html = _page(RUSSIAN)
    assert decode_html(codecs.BOM_UTF8 + html.encode("utf-8"), "windows-1251") == (html, "utf-8")


@pytest.mark.parametrize(
    ("text", "codec", "label"),
    [
        (FRENCH + "€", "utf-8", "utf-8"),
        (FRENCH + "€", "utf-8", None),
        (FRENCH + "€", "utf-8", "iso-8859-1"),
        (JAPANESE, "cp932", "shift_jis"),
        (CHINESE, "gb18030", "gb2312"),
        (JAPANESE, "euc_jp", "euc-jp"),
    ],
    ids=["utf-8", "utf-8-undeclared", "utf-8-labelled-latin-1", "shift_jis", "gb2312", "euc-jp"],
)
def test_payload_cut_inside_its_last_character_keeps_its_charset(text, codec, label):
    html = "<html><body>" + text * 20
    payload = html.encode(codec)[:-1]
    assert decode_html(payload, label) == (html[:-1], codec)


def test_undecodable_junk_does_not_raise():
    rng = random.Random(0)
    samples = [b"", b"\xff", b"\x80" * 1000, b"\xfe\xff\x00", bytes(rng.randrange(256) for _ in range(5000))]
    samples += [bytes(rng.randrange(0x80, 0x100) for _ in range(n)) for n in (1, 2, 3, 100, 3000)]
    for payload in samples:
        for label in (None, "utf-8", "shift_jis", "euc-jp", "gb2312", "windows-1251", "iso-8859-1", "utf-16", "bogus"):
            result = decode_html(payload, label)
            assert result is None or (isinstance(result[0], str) and isinstance(result[1], str))


def test_empty_payload_decodes_to_empty_text():
    assert decode_html(b"") == ("", "utf-8")
    assert decode_html(b"", "windows-1251") == ("", "cp1251")
