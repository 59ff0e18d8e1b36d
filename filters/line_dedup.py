"""Line-level dedup: lines that repeat across many documents of a site are its template.

CCNet (Wenzek et al. 2020) removes every line whose normalized hash occurs more than once in a
shard; Dolma removes paragraphs seen before (a Bloom filter). Navigation, cookie notices,
footers and "ranking" sidebars repeat on every page of a site, and a page whose extracted text
is mostly template is otherwise an exact or near duplicate of its siblings: document dedup then
keeps one and the others' own text is lost with their template.

A line is a paragraph as the extractor emits it (trafilatura: one per line). Lines are compared
as document dedup compares texts (`normalize_for_dedup`: case, accents, punctuation, digits), by
a 64-bit hash. A line that normalizes to nothing (`---`, `|`) or to numbers only is never
counted nor removed: normalization folds every number to `0`, so "155" and "250" (a recipe's
quantities, a table's cells, a citation's "[14]") would be one line repeated everywhere.

The decision for one line of one scope (a host, or the whole run) follows document dedup's
survivor rule: when at least `min_docs` different texts hold it, the smallest document id keeps
it and every other document loses it, so a line repeated on N pages stays once. A copy of the
survivor keeps it too: exact duplicates (same normalized text) and refetches (same normalized
URL) are document dedup's to resolve, with their own reasons and cluster sizes, not line
dedup's to empty.

Pure code, no Beam: `pipeline/stages/dedup_lines.py` is the adapter that shuffles the keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from filters.text_normalization import normalize_for_dedup, normalize_url, normalized_code_points
from filters.words import split_words
from pipeline.core.records import KEEP, DropReason, Verdict, drop

_ZERO = ord("0")  # normalized, only " " and "0" are <= this code point: a line at or below it is numbers only
KEY_BYTES = 8  # 64-bit keys: a collision costs at most one line of one scope, and only if the line is frequent

LineKey = bytes


class Occurrence(NamedTuple):
    """One document holding one line (every place it holds it), as the per-line decision sees it.

    A plain tuple of the same fields is read the same way: the Beam stage shuffles plain tuples,
    which its coder packs more tightly than a class."""

    doc_id: str
    text_key: bytes  # the document's normalized text: exact copies share it
    url_key: bytes  # its normalized URL: refetches share it
    indices: tuple[int, ...]  # the line's positions in the document's text split on "\n"


@dataclasses.dataclass(frozen=True, slots=True)
class LineRemoval:
    """What removing lines did to one document."""

    text: str
    lines_removed: int
    chars_removed: int  # characters of the removed lines, newlines not counted
    words: int  # left: words of the normalized text (symbols are none), a zh/ja/th character being one


def _key(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=KEY_BYTES).digest()


def line_keys(text: str) -> dict[LineKey, tuple[int, ...]]:
    """Each distinct normalized line of `text` -> the indices of the lines (text.split("\\n")) that carry it.

    >>> list(line_keys("Home\\n---\\nHOME!\\n[14]\\nNews").values())
    [(0, 2), (4,)]
    """
    keys: dict[LineKey, list[int]] = {}
    for index, line in enumerate(text.split("\n")):
        normalized = normalized_code_points(line)
        if normalized.max(initial=0) > _ZERO:
            keys.setdefault(_key(normalized.tobytes()), []).append(index)
    return {key: tuple(indices) for key, indices in keys.items()}


def text_key(text: str) -> bytes:
    """The document as exact dedup sees it: a hash of its whole normalized text."""
    return _key(normalized_code_points(text).tobytes())


def url_key(url: str) -> bytes:
    """The page as URL dedup sees it: a hash of its normalized URL."""
    return _key(normalize_url(url).encode())


def line_removals(occurrences: Iterable[Occurrence], min_docs: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    """(doc id, line indices) to remove for one line of one scope: every occurrence but the smallest
    id's and its copies', when at least `min_docs` different texts hold the line; none otherwise.

    `occurrences` is read twice (a Beam GroupByKey's values can be) and never held whole: memory
    is bounded by `min_docs`, however many pages repeat the line.
    """
    survivor: Occurrence | None = None
    texts: set[bytes] = set()
    for occurrence in occurrences:
        if survivor is None or occurrence[0] < survivor[0]:
            survivor = occurrence
        if len(texts) < min_docs:
            texts.add(occurrence[1])
    if survivor is None or len(texts) < min_docs:
        return
    _, survivor_text, survivor_url, _ = survivor
    for doc_id, text, url, indices in occurrences:
        if text != survivor_text and url != survivor_url:
            yield doc_id, indices


def remove_lines(text: str, indices: Iterable[int]) -> LineRemoval:
    """`text` without the lines at `indices` (of text.split("\\n")), stripped; unchanged when there are none."""
    removed = set(indices)
    if not removed:
        return LineRemoval(text, 0, 0, count_words(text))
    lines = text.split("\n")
    kept = "\n".join(line for i, line in enumerate(lines) if i not in removed).strip()
    return LineRemoval(kept, len(removed), sum(len(lines[i]) for i in removed), count_words(kept))


def count_words(text: str) -> int:
    """Words as Gopher's minimum counts them: symbols (a table's `|`) are none; a zh/ja/th character is one."""
    return len(split_words(normalize_for_dedup(text)))


def judge(removal: LineRemoval, min_words: int) -> Verdict:
    """Drop a document that line dedup left with fewer than `min_words` words."""
    return drop(DropReason.TOO_SHORT_AFTER_LINE_DEDUP) if removal.words < min_words else KEEP
