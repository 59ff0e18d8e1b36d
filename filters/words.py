"""Words for the quality rules: splitting by script, and stop words by language.

Gopher's rules count whitespace-separated words, which is meaningless for
scripts written without spaces between words. `split_words` therefore splits by
script: text in Han, kana, Thai, Lao, Khmer or Myanmar script is cut into one
token per character (a base character with its combining marks), everything else
on whitespace as Gopher does (punctuation stays attached: `end.` is one word).
So for zh, ja and th a "word" is a character. The config's per-language entries
(QualityConfig) switch off what that makes meaningless: mean word length for all
three, n-gram repetition for th (a Thai character is a letter, not a morpheme);
word counts (now of characters), stop words and, for zh and ja, n-gram
repetition still apply.

`STOP_WORDS` holds, for 20 of the largest languages of the web, a short list of
their most frequent function words: Gopher's own eight for English, and lists of
similar length written for this project for the others. `count_stop_words`
counts whole-word occurrences, or substring occurrences for zh, ja and th, whose
words are not delimited.
"""

from __future__ import annotations

import re

# Scripts written without spaces between words. One token is a base character plus
# the combining marks after it (Thai vowel and tone marks, Khmer and Myanmar signs).
_SPACELESS_CHARS = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3000-\u303f"  # CJK punctuation (、。「」)
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    "\uff00-\uffef"  # full-width forms (，！？)
)
_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd\u102b-\u103e\u1056-\u1059\u17b4-\u17d3"
_HAS_SPACELESS = re.compile(f"[{_SPACELESS_CHARS}]")
_TOKEN = re.compile(f"[{_SPACELESS_CHARS}][{_MARKS}]*|[^\\s{_SPACELESS_CHARS}]+")

SPACELESS_LANGUAGES = frozenset({"zh", "ja", "th"})

# Line-final marks that end a sentence: C4's (. ? ! "), FineWeb's ('), and their
# counterparts in other scripts (full-width CJK marks and quotes, Devanagari danda,
# Arabic and Urdu marks). Thai marks no sentence end at all.
TERMINAL_PUNCTUATION = (".", "?", "!", '"', "'", "”", "’", "。", "！", "？", "」", "』", "।", "؟", "۔")

# The most frequent function words of each language, lower-case.
STOP_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        # Gopher (Rae et al. 2021, App. A.1.1): "the, be, to, of, and, that, have, with"
        "en": "the be to of and that have with",
        "ru": "и в не на что с по как это он",
        "de": "der die und in den von zu das mit nicht",
        "zh": "的 了 是 在 和 有 我 不 这 也",
        "ja": "の に は を た が で て と し",
        "es": "de la que el en y los del las por",
        "fr": "de la le et les des en un une est",
        "it": "di che il la per un non una del sono",
        "pt": "de que o do da em um para com uma",
        "pl": "i w na nie z się do to że jest",
        "nl": "de en van het een is dat op te niet",
        "vi": "và của là có các cho được trong những không",
        "tr": "ve bir bu da de için ile çok gibi olarak",
        "id": "yang dan di ini itu dengan untuk dari dalam tidak",
        "fa": "و در به از که این را با است برای",
        "ar": "في من على أن إلى عن مع هذا التي الذي",
        "ko": "이 수 등 한 있는 있다 대한 위해 및 더 또 그",
        "cs": "a se na je v že to s z do",
        "sv": "och i att det som en på är av för",
        "th": "ที่ และ ของ ใน การ เป็น มี ได้ ไม่ ว่า",
    }.items()
}


def has_spaceless_script(text: str) -> bool:
    return _HAS_SPACELESS.search(text) is not None


def split_words(text: str) -> list[str]:
    """Whitespace-separated words; one token per character in scripts without spaces."""
    if not has_spaceless_script(text):
        return text.split()  # the common case, at C speed
    return _TOKEN.findall(text)


def _stop_word_pattern(lang: str) -> re.Pattern | None:
    words = STOP_WORDS.get(lang)
    if words is None:
        return None
    alternation = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    if lang in SPACELESS_LANGUAGES:
        return re.compile(alternation)
    return re.compile(f"\\b(?:{alternation})\\b")  # whole words: "the," counts, "there" does not


_STOP_WORD_PATTERNS = {lang: _stop_word_pattern(lang) for lang in STOP_WORDS}


def count_stop_words(text: str, lang: str) -> int | None:
    """Occurrences of `lang`'s stop words (case-insensitive); None if there is no list for `lang`."""
    pattern = _STOP_WORD_PATTERNS.get(lang)
    if pattern is None:
        return None
    return len(pattern.findall(text.lower()))
