"""Content signals: a domain tag from the extracted text, for URLs no rule knows.

Cheap, explainable counts over the first `_MAX_CHARS` of the text
(`measure_content`), then fixed thresholds (`judge_content`), tried in this
order, the first that holds deciding:

    code      at least 5 lines, and 30% of non-empty lines, look like source code
              (end in ; { } or start with a keyword such as def, import, #include)
    forum_qa  at least 4 lines carrying forum furniture ("Reply", "Posted by",
              "Joined:", "Re:", "Zitat", ...), of at least 2 different kinds
    commerce  at least 3 prices and a shop phrase ("add to cart", "in stock",
              "in den Warenkorb", ...)
    academic  at least 3 different scholarly markers (Abstract, References, doi,
              et al., arXiv, Proceedings, ...)
    news      a dateline ("WASHINGTON (Reuters) -") or a news agency credit
              ("(AP)", "(dpa)") near the start

The phrases cover English, German, French and Spanish; elsewhere only the
language-independent parts (code lines, prices, doi, agency credits) count.
They decide only when every URL rule was silent, so a miss costs an "other".
Of the 642 trafilatura-eval pages (mostly German) that no shipped URL rule tags,
they tag 22 (11 news, 5 code, 3 forum_qa, 2 commerce, 1 academic); read one by
one, 18 of those are right (the misses: a blog heading in capitals read as a
dateline, a letter campaign's "Antworten" list as a forum, a blog post about
supermarket prices as a shop, a nature article with references as academic).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

_MAX_CHARS = 20_000  # enough lines to judge a page; keeps the cost flat on huge documents
# Speed: marker words are found with str.find on the lower-cased text (a C scan per
# word; a regex alternation of the same 30 words, which re tries at every position,
# took 5x longer), and whole-word and line checks run in Python on the few hits.
# All signals together: ~1 ms per page of the trafilatura-eval set (6,100 characters on average).

# code: a line that starts like a statement, ends like one or a block, or assigns
_CODE_LINE = re.compile(
    r"""^(?:[ \t]*(?:def|class|import|from[ \t]+\S+[ \t]+import|return|elif|except|try:|fn|func|function|var|let|
                   const|package|public|private|protected|static|void|\#include|\#define|using[ \t]+namespace|
                   namespace|struct|select|insert[ \t]+into|create[ \t]+table|echo|sudo|pip|npm|apt|apt-get|git|
                   //|/\*)(?:\b|[ \t])[^\n]*
         | [ \t]*(?:\$|>>>)[ \t][^\n]*
         | [^\n]*[;{}][ \t]*
         | [^\n]*\)[ \t]*:[ \t]*
         | [ \t]*(?:for|while|if|with|else|try|finally)\b[^\n]*:[ \t]*
         | [ \t]*[\w.\[\]]+[ \t]*(?:=|\+=|-=|==)[ \t]*[\w"'\[({][^\n]*
        )$""",
    re.MULTILINE | re.VERBOSE,
)
_MIN_CODE_LINES = 5
_MIN_CODE_LINE_SHARE = 0.3

# forum_qa: the furniture of threads and answers (en, de, fr, es), by kind.
# Words marked _LINE_START count only at the start of a line ("Re: ...").
_FORUM_WORDS = {
    "reply": (
        "reply",
        "replies",
        "antworten",
        "antwort",
        "répondre",
        "réponse",
        "réponses",
        "responder",
        "respuesta",
        "respuestas",
    ),
    "quote": ("re:", "quote", "zitat", "citation", "cita"),
    "posted": (
        "posted by",
        "posted on",
        "geschrieben von",
        "verfasst von",
        "posté par",
        "publicado por",
        "asked",
        "answered",
    ),
    "member": (
        "joined:",
        "registriert seit",
        "posts:",
        "beiträge:",
        "messages:",
        "mensajes:",
        "member since",
        "mitglied seit",
        "registered:",
    ),
    "votes": ("votes", "upvotes", "upvoted"),
    "thread": ("thread starter", "themenstarter", "threadersteller", "topic starter"),
}
_MIN_FORUM_LINES = 4
_MIN_FORUM_KINDS = 2

# commerce: prices (a currency next to a digit), and the phrases of a shop page
_CURRENCY = re.compile("([$€£¥]|eur|usd|gbp|chf)")
_SHOP_PHRASES = (
    "add to cart",
    "add to basket",
    "add to bag",
    "add to wishlist",
    "buy now",
    "in stock",
    "out of stock",
    "free shipping",
    "checkout",
    "warenkorb",
    "jetzt kaufen",
    "auf lager",
    "lieferzeit",
    "versandkostenfrei",
    "inkl. mwst",
    "ajouter au panier",
    "en stock",
    "livraison gratuite",
    "añadir al carrito",
    "comprar ahora",
    "envío gratis",
)
_MIN_PRICES = 3

# academic: scholarly apparatus, by kind; headings count only as a line of their own
_ACADEMIC_WORDS = {
    "abstract": ("abstract", "zusammenfassung", "résumé", "resumen"),
    "references": ("references", "bibliography", "literaturverzeichnis", "literatur", "bibliographie", "referencias"),
    "doi": ("doi.org/10.", "doi:10.", "doi: 10."),
    "et_al": ("et al.",),
    "preprint": ("arxiv:",),
    "venue": ("proceedings of", "journal of", "conference on", "vol.", "pp."),
    "keywords": ("keywords:", "schlüsselwörter:", "mots-clés:", "palabras clave:"),
}
_HEADINGS = frozenset(_ACADEMIC_WORDS["abstract"] + _ACADEMIC_WORDS["references"])
_MIN_ACADEMIC_KINDS = 3

# news: "BERLIN (dpa) - ", "WASHINGTON, May 3 (Reuters) - ", "PARIS — " opening a paragraph (60+
# more characters on its line, which "SPORT - Results" headings lack), or an agency credit, near
# the start. Matched on the original case: a dateline's place name is in capitals.
_AGENCY = r"\((?i:ap|afp|dpa|reuters|xinhua|upi|kna|epd|apa|sda|ansa|efe|bloomberg|ots)\)"
_DATELINE = re.compile(
    rf"^[ \t]*[A-ZÄÖÜÉ][A-ZÄÖÜÉ.'\- ]{{2,30}}(?:,[^\n(]{{1,30}})?[ \t]*(?:{_AGENCY}[ \t]*)?"  # place, date, agency
    rf"[-–—][ \t]+[^\n]{{60}}"  # the dash, and the paragraph it opens
    rf"|{_AGENCY}",
    re.MULTILINE,
)
_DATELINE_SPAN = 600  # characters from the start where a dateline counts


_FORUM_KIND = {word: kind for kind, words in _FORUM_WORDS.items() for word in words}
_ACADEMIC_KIND = {word: kind for kind, words in _ACADEMIC_WORDS.items() for word in words}


@dataclasses.dataclass(frozen=True, slots=True)
class ContentSignals:
    """Counts over the text's first `_MAX_CHARS` characters."""

    lines: int  # non-empty lines
    code_lines: int
    forum_lines: int  # lines holding a forum marker
    forum_kinds: int  # distinct kinds of forum marker
    prices: int
    shop_phrases: int
    academic_kinds: int  # distinct kinds of scholarly marker
    has_dateline: bool


def measure_content(text: str) -> ContentSignals:
    text = text[:_MAX_CHARS]
    lower = text.lower()
    forum_kinds, forum_lines = set(), set()
    for word, start, _end in _words(_FORUM_KIND, lower):
        if word == "re:" and lower[lower.rfind("\n", 0, start) + 1 : start].strip():
            continue  # "Re:" marks a reply only as a line's first word
        forum_kinds.add(_FORUM_KIND[word])
        forum_lines.add(lower.rfind("\n", 0, start))
    academic_kinds = set()
    for word, start, end in _words(_ACADEMIC_KIND, lower):
        if word in _HEADINGS and not _is_own_line(lower, start, end, allow_colon=True):
            continue  # "abstract art", "references to": a heading stands alone
        academic_kinds.add(_ACADEMIC_KIND[word])
    return ContentSignals(
        lines=sum(1 for line in lower.split("\n") if line.strip()),
        code_lines=sum(1 for match in _CODE_LINE.finditer(lower) if match.group().strip()),
        forum_lines=len(forum_lines),
        forum_kinds=len(forum_kinds),
        prices=sum(1 for _ in _prices(lower)),
        shop_phrases=sum(1 for _ in _words(_SHOP_PHRASES, lower)),
        academic_kinds=len(academic_kinds),
        has_dateline=_DATELINE.search(text[:_DATELINE_SPAN]) is not None,
    )


def _words(words: Iterable[str], lower: str):
    """(word, start, end) of each occurrence of `words` that is a whole word: no letter or digit touches it."""
    for word in words:
        start = lower.find(word)
        while start >= 0:
            end = start + len(word)
            if (start == 0 or not lower[start - 1].isalnum()) and (
                end == len(lower) or not lower[end].isalnum() or not word[-1].isalnum()
            ):
                yield word, start, end
            start = lower.find(word, end)


def _prices(lower: str):
    """Currency marks with a digit right before or after them (one space allowed): "$5", "12,99 €", "10 eur"."""
    for match in _CURRENCY.finditer(lower):
        start, end = match.span()
        touches_letter = (start and lower[start - 1].isalpha()) or (end < len(lower) and lower[end].isalpha())
        if match.group(1).isalpha() and touches_letter:
            continue  # "euro", "neuron", "chfoo": a currency code must stand alone
        before = lower[max(0, start - 2) : start].rstrip(" ")
        after = lower[end : end + 2].lstrip(" ")
        if (before and before[-1].isdigit()) or (after and after[0].isdigit()):
            yield start


def _is_own_line(lower: str, start: int, end: int, *, allow_colon: bool) -> bool:
    line_start = lower.rfind("\n", 0, start) + 1
    line_end = lower.find("\n", end)
    rest = lower[end : len(lower) if line_end < 0 else line_end].strip()
    return not lower[line_start:start].strip() and (not rest or (allow_colon and rest == ":"))


def judge_content(signals: ContentSignals) -> str | None:
    """The tag the signals support, or None."""
    s = signals
    if s.code_lines >= _MIN_CODE_LINES and s.code_lines >= _MIN_CODE_LINE_SHARE * s.lines:
        return "code"
    if s.forum_lines >= _MIN_FORUM_LINES and s.forum_kinds >= _MIN_FORUM_KINDS:
        return "forum_qa"
    if s.prices >= _MIN_PRICES and s.shop_phrases >= 1:
        return "commerce"
    if s.academic_kinds >= _MIN_ACADEMIC_KINDS:
        return "academic"
    if s.has_dateline:
        return "news"
    return None
