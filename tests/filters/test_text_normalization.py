import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.text_normalization import (
    _DECOMPOSES,
    _fold,
    _fold_table,
    normalize_for_dedup,
    normalize_url,
    normalized_code_points,
    word_spans,
)

SENTENCES = Path(__file__).resolve().parents[3] / "shared" / "data" / "langid" / "lingua" / "sentences"


def reference_normalize(text: str) -> str:
    """The definition, slowly: lower, NFKD, lower, marks out, digits to 0, the rest of non-words to spaces."""
    text = unicodedata.normalize("NFKD", text.lower()).lower()
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Mn", "Me", "Cf", "Cs"):
            continue
        if category == "Nd":
            char = "0"
        elif category[0] in "PSZ" or category == "Cc" or char.isspace():
            char = " "
        out.append(char)
    return " ".join(re.sub("0+", "0", "".join(out)).split())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, World!", "hello world"),
        ("  tabs\tand\nnew\r\nlines  ", "tabs and new lines"),
        ("Café crème, naïve façade", "cafe creme naive facade"),
        ("It's 24°C in 2024, pi is 3.14", "it s 0 c in 0 pi is 0 0"),
        ("Arabic-Indic ٣٤ and Devanagari १२", "arabic indic 0 and devanagari 0"),
        ("ＦＵＬＬ width, the ﬁrst ligature", "full width the first ligature"),
        ("½ cup", "0 0 cup"),  # NFKD: 1⁄2, the fraction slash is a symbol
        ("soft\u00adhyphen, zero\u200bwidth", "softhyphen zerowidth"),  # format characters vanish
        ("price: $5 + 10€ = ©™ 🙂", "price 0 0 tm"),
        ("ΟΔΟΣ οδος", "οδος οδος"),  # final sigma by context, as str.lower
        ("İstanbul", "istanbul"),
        ("", ""),
        ("!!! ??? ...", ""),
    ],
)
def test_normalize_for_dedup(text, expected):
    assert normalize_for_dedup(text) == expected


def test_hangul_folds_to_its_jamo():
    assert normalize_for_dedup("한국어 텍스트") == unicodedata.normalize("NFKD", "한국어 텍스트")


def test_code_points_are_the_text():
    points = normalized_code_points("Ünïcode, again!")
    assert points.dtype == np.uint32
    assert "".join(map(chr, points)) == "unicode again"


def test_every_character_that_decomposes_is_changed_by_nfkd():
    # the fast path sends a text through unicodedata only when a character folds to several:
    # after NFKD (+ lower) no character may still do so, or it would be kept as a placeholder
    table = _fold_table()
    for code in np.flatnonzero(table == _DECOMPOSES):
        char = chr(code)
        decomposed = unicodedata.normalize("NFKD", char.lower()).lower()
        assert all(table[ord(c)] != _DECOMPOSES for c in decomposed), hex(code)


def test_unassigned_and_private_use_code_points_fold_to_themselves():
    # the table skips them without calling _fold: that shortcut must be what _fold would give
    table = _fold_table()
    skipped = [c for c in range(0, 0x110000, 97) if unicodedata.category(chr(c)) in ("Cn", "Co")]
    assert len(skipped) > 5000
    for code in skipped:
        assert _fold(chr(code)) == chr(code) and table[code] == code, hex(code)


# realistic characters: Latin with accents, Greek, Cyrillic, Arabic, Devanagari, CJK, Hangul, digits,
# punctuation, symbols, combining marks, ligatures, full-width forms, whitespace
_ALPHABET = st.sampled_from(
    list("abcXYZ éÉüÑçßøÅ æœ ΑΣσςλ жЖщ مرحبا नमस्ते 中文字 한국 0123 ٣४")
    + list(".,;:!?'\"-—()[]/@#%&*+=$€©™🙂 \t\n\u00a0")
    + ["\u0301", "\u0308", "\ufb01", "\uff21", "\u00bd", "\u00ad", "\u200b", "\u2126"]
)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=80))
def test_fast_path_equals_the_definition(text):
    assert normalize_for_dedup(text) == reference_normalize(text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=80))
def test_normalization_is_idempotent_and_tidy(text):
    once = normalize_for_dedup(text)
    assert normalize_for_dedup(once) == once
    assert "  " not in once and once == once.strip()


def test_real_sentences_in_75_languages():
    if not SENTENCES.is_dir():
        skip_or_fail(f"shared sentences not found at {SENTENCES}")
    for path in sorted(SENTENCES.glob("*.txt")):
        text = " ".join(path.read_text(encoding="utf-8").splitlines()[:50])
        assert normalize_for_dedup(text) == reference_normalize(text), path.stem


def _check_spans(text: str) -> None:
    """word_spans gives one span per normalized word, in order, and each span holds its word."""
    words = normalize_for_dedup(text).split()
    spans = word_spans(text)
    assert len(spans) == len(words)
    assert np.all(spans[:, 0] < spans[:, 1]) and np.all(spans[1:, 0] >= spans[:-1, 0])
    for (start, end), word in zip(spans, words):  # (a final sigma is one only in its context)
        assert word.replace("ς", "σ") in normalize_for_dedup(text[start:end]).replace("ς", "σ").split()


@pytest.mark.parametrize(
    "text", ["", "  ", "Café:  It's 24°C in 2024!", "ﬁne ½ cup", "a\u00adb 3.14", "한국어 문장", "İstanbul"]
)
def test_word_spans(text):
    _check_spans(text)
    example = "Café:  It's 24°C"
    assert [example[s:e] for s, e in word_spans(example)] == ["Café", "It", "s", "24", "C"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=80))
def test_word_spans_follow_the_normalization(text):
    _check_spans(text)


def test_word_spans_of_real_sentences_in_75_languages():
    if not SENTENCES.is_dir():
        skip_or_fail(f"shared sentences not found at {SENTENCES}")
    for path in sorted(SENTENCES.glob("*.txt")):
        _check_spans("\n".join(path.read_text(encoding="utf-8").splitlines()[:50]))


@pytest.mark.parametrize(
    "url, key",
    [
        ("https://example.com/a", "example.com/a"),
        ("http://www.Example.COM/a/", "example.com/a"),
        ("HTTPS://WWW.example.com:443/a/b/?x=1#top", "example.com/a/b?x=1"),
        ("http://example.com:80", "example.com"),
        ("http://example.com:8080/", "example.com:8080"),
        ("https://user:pw@example.com./A?", "example.com/A"),
        ("https://example.com/a?b=1&a=2", "example.com/a?b=1&a=2"),
        ("http://[::1", "http://[::1"),  # unparseable: its own key
    ],
)
def test_normalize_url(url, key):
    assert normalize_url(url) == key
