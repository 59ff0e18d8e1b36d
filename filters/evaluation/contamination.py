"""Evaluation items planted into real pages, as a leak looks on the web: what decontamination must catch.

Three ways an item appears (issue 17's measure): `verbatim`, a paragraph of its own
between two paragraphs of a real page; `reformatted`, re-typed the way pages
re-type text (line breaks and spacing changed, code re-indented, quotes curled,
punctuation swapped or dropped: "it's" can become "its"), then placed like
verbatim; `embedded`, run into the middle of a sentence of the page,
with no line break on either side. `shared_ngram` puts only one `ngram`-word
window of an item into a page: boilerplate a clean page may share with a test
item, which must not drop it.

Every function is deterministic in its `random.Random`.
"""

from __future__ import annotations

import random
import re

from filters.text_normalization import normalize_for_dedup

PLANTS = ("verbatim", "reformatted", "embedded")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SWAPS = {'"': "\u201c", "'": "\u2019", "-": "\u2013", ".": " .", ",": " ,", ":": " -", "?": "?!", "(": "[", ")": "]"}


def reformat(text: str, rng: random.Random) -> str:
    """`text` re-typed: its words in order, with spacing, line breaks and punctuation as another page sets them."""
    if "\n    " in text or text.lstrip().startswith(("def ", "from ", "import ")):
        text = text.replace("    ", rng.choice(("  ", "\t", "        ")))  # code: re-indented
        text = text.replace('"""', rng.choice(("'''", '"')))
    text = _PUNCTUATION.sub(lambda m: _swap(m.group(), rng), text)
    words = text.split()
    lines, line = [], []
    width = rng.randint(4, 12)
    for word in words:
        line.append(word)
        if len(line) >= width:
            lines.append(rng.choice((" ", "  ", "\u00a0")).join(line))
            line, width = [], rng.randint(4, 12)
    lines.append(" ".join(line))
    return rng.choice(("\n", "\r\n", "\n\n")).join(lines)


def _swap(mark: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return _SWAPS.get(mark, mark)
    if roll < 0.55:
        return ""  # dropped: "it's" -> "its", one word instead of two
    if roll < 0.7:
        return " "
    return mark


def plant(page: str, item: str, how: str, rng: random.Random) -> str:
    """`page` with `item` in it, `how` one of PLANTS."""
    paragraphs = [p for p in page.split("\n") if p.strip()] or [""]
    if how == "reformatted":
        item, how = reformat(item, rng), "verbatim"
    if how == "verbatim":
        at = rng.randint(0, len(paragraphs))
        return "\n".join(paragraphs[:at] + [item] + paragraphs[at:])
    if how == "embedded":
        at = rng.randrange(len(paragraphs))
        words = paragraphs[at].split(" ")
        cut = rng.randint(0, len(words))
        paragraphs[at] = " ".join(words[:cut] + [" ".join(item.split())] + words[cut:])
        return "\n".join(paragraphs)
    raise ValueError(f"unknown plant {how!r}; known: {', '.join(PLANTS)}")


def shared_ngram(page: str, item: str, ngram: int, rng: random.Random) -> str:
    """`page` with one window of `ngram` consecutive normalized words of `item` (all of them when fewer)
    run into a paragraph: the page shares exactly one n-gram with the item."""
    words = normalize_for_dedup(item).split()
    start = rng.randint(0, max(len(words) - ngram, 0))
    return plant(page, " ".join(words[start : start + ngram]), "embedded", rng)
