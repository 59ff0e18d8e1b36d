"""Decontamination: find evaluation-set items (benchmark test questions) inside documents.

    index = NgramIndex.build([EvalSet("gsm8k", questions), ...])   # once: `gristmill decontam index`
    index.save(sink); index = NgramIndex.load(source)              # one .npz file, any binary stream
    found = index.find(text, min_item_overlap=0.5)                 # measure: Contamination
    result = decontaminate(text, index, mode="drop", ...)           # decide: keep, redact or CONTAMINATED

Words are those of `normalize_for_dedup` (lower case, accents, punctuation and
whitespace folded, digit runs to "0"), so an item re-typed with other line
breaks, quotes or spacing is the same item. An item is one or more parts (the
fields of its record, e.g. a GSM8K question and its answer), each judged alone.
A part's n-grams are its word 13-grams (GPT-3's contamination check, Brown et
al. 2020, App. C), each a stable 64-bit hash. The index holds one (hash, part)
pair per distinct n-gram of a part, sorted by hash: a document is looked up with
one `np.searchsorted` over all its n-gram hashes; ~12 bytes of index per n-gram.

Boilerplate, twice. (1) When indexing, an n-gram found in `max_items_per_ngram`
or more items is template text shared by the set (in GSM8K's answers, runs of
arithmetic: "a total of 0 0 0 ..." once digits fold), not evidence of one item,
and is not indexed. (2) A document matches an item only when its n-grams cover
at least `min_item_overlap` of one of the item's parts' indexed n-grams: one
phrase shared with a 40-word question is 1 of its 28 n-grams, not the question.
Parts shorter than one n-gram are not indexed and are counted per set
(`too_short`): a 12-word phrase is too common to judge a page by.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from filters.minhash import fmix64, position_multipliers
from filters.text_normalization import normalized_code_points, word_spans
from pipeline.core.records import DropReason

INDEX_FORMAT = "gristmill-decontam-index"
INDEX_FORMAT_VERSION = 1
NORMALIZATION = "normalize_for_dedup_v1"  # bump when filters/text_normalization.py changes what a word is
DEFAULT_NGRAM = 13  # GPT-3 (Brown et al. 2020, App. C)
DEFAULT_MAX_ITEMS_PER_NGRAM = 10  # GSM8K + HumanEval: 2 n-grams reach it, both digit runs ("0 0 0 ...")
MODES = ("drop", "redact")
DETAIL_ITEMS = 5  # items a drop's detail names; more are counted

_SPACE = np.uint32(ord(" "))
_WORD_BASE = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime: odd, so invertible mod 2^64
_WORD_BASE_INVERSE = np.uint64(pow(int(_WORD_BASE), -1, 1 << 64))
_BITMAP_BITS_PER_NGRAM = 8  # see _prefix_bitmap
_CACHED_POWER_BITS = 20  # tables for texts up to 1M characters are kept (16 MB at most); longer ones rebuilt
_ARRAYS = ("hashes", "parts", "part_items", "part_ngrams")


class IndexFormatError(ValueError):
    """A file that is not a decontamination index this version of gristmill can read."""


def word_hashes(code_points: np.ndarray) -> np.ndarray:
    """(W,) uint64: a hash per word of a normalized text (`normalized_code_points`: one space between words).

    A polynomial hash, as filters/minhash.py's: a prefix sum of code_point * BASE**position over the
    text, differenced per word and shifted back by BASE**-start, then mixed. Whole-array operations,
    ~2x faster than reducing per word with `np.add.reduceat`.
    """
    is_char = code_points != _SPACE
    if not is_char.any():
        return np.zeros(0, np.uint64)
    starts = np.flatnonzero(is_char & np.concatenate(([True], ~is_char[:-1])))  # (W,)
    ends = np.flatnonzero(is_char & np.concatenate((~is_char[1:], [True]))) + 1  # (W,) one past each word
    powers, inverse_powers = _power_tables(len(code_points))
    prefix = np.zeros(len(code_points) + 1, np.uint64)  # (n + 1,)
    np.multiply(code_points, powers[: len(code_points)], out=prefix[1:])
    np.cumsum(prefix[1:], out=prefix[1:])
    return fmix64((prefix[ends] - prefix[starts]) * inverse_powers[starts])


def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE**j and BASE**-j mod 2^64 for j < at least `size`: shared tables up to 2^20, bigger ones built."""
    bits = max(size - 1, 4095).bit_length()
    return _powers(bits) if bits <= _CACHED_POWER_BITS else _powers.__wrapped__(bits)


@functools.cache
def _powers(bits: int) -> tuple[np.ndarray, np.ndarray]:
    tables = []
    for factor in (_WORD_BASE, _WORD_BASE_INVERSE):
        table = np.full(1 << bits, factor, dtype=np.uint64)
        table[0] = 1
        tables.append(np.cumprod(table))  # wraps mod 2^64, as intended
    return tables[0], tables[1]


def ngram_hashes(code_points: np.ndarray, ngram: int) -> np.ndarray:
    """(max(W - ngram + 1, 0),) uint64: the hash of each run of `ngram` words, in text order."""
    words = word_hashes(code_points)
    windows = len(words) - ngram + 1
    if windows <= 0:
        return np.zeros(0, np.uint64)
    multipliers = position_multipliers(ngram)  # odd, one per position: word order matters
    combined = words[:windows] * multipliers[0]
    for i in range(1, ngram):
        combined += words[i : i + windows] * multipliers[i]
    return fmix64(combined)


@dataclasses.dataclass(frozen=True, slots=True)
class EvalSet:
    """One evaluation set: its name (as drops and stats name it) and its items in file order.

    An item is one or more parts (GSM8K: question, answer; HumanEval: prompt, canonical solution),
    each judged alone: a page holding a prompt but not its solution still holds the item.
    """

    name: str
    items: Sequence[Sequence[str]]
    source: str = ""  # where the items came from, e.g. "test.jsonl:question,answer"; kept in the index


@dataclasses.dataclass(frozen=True, slots=True)
class SetSummary:
    """What the index holds of one evaluation set."""

    name: str
    source: str
    items: int
    parts: int
    too_short: int  # parts of fewer words than one n-gram: not indexed
    all_common: int  # parts whose every n-gram is boilerplate shared by many items: not indexed
    ngrams: int  # (n-gram, part) pairs indexed


@dataclasses.dataclass(frozen=True, slots=True)
class Contamination:
    """What `NgramIndex.find` measured in one document.

    items / shares: the items matched, with the share of the best-covered part's indexed n-grams
    that the document holds (>= min_item_overlap); best_share: the highest share of any part touched,
    matched or not; covered: (R, 2) [start, end) runs of normalized-word positions inside the n-grams
    of matched parts; words: the document's normalized words.
    """

    items: tuple[int, ...] = ()
    shares: tuple[float, ...] = ()
    best_share: float = 0.0
    covered: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 2), np.int64))
    words: int = 0


CLEAN = Contamination()


class NgramIndex:
    """The n-grams of evaluation items: (P,) sorted uint64 hashes with the (P,) int32 item part of each.

    Items are numbered across sets in build order, their parts likewise; `item_name(i)` is
    "<set>:<position in its file>".
    """

    def __init__(
        self,
        *,
        ngram: int,
        hashes: np.ndarray,
        parts: np.ndarray,
        part_items: np.ndarray,
        part_ngrams: np.ndarray,
        sets: Sequence[SetSummary],
        max_items_per_ngram: int,
        common_ngrams: int,
    ):
        self.ngram = ngram
        self.hashes = hashes  # (P,) uint64, sorted
        self.parts = parts  # (P,) int32: the part each (n-gram, part) pair belongs to
        self.part_items = part_items  # (A,) int32: the item of each part
        self.part_ngrams = part_ngrams  # (A,) int32: distinct indexed n-grams per part, the share's denominator
        self.sets = tuple(sets)
        self.max_items_per_ngram = max_items_per_ngram
        self.common_ngrams = common_ngrams  # distinct n-grams left out as boilerplate
        self._set_starts = np.cumsum([0] + [s.items for s in self.sets])  # (S + 1,) first item of each set
        self._bitmap, self._shift = _prefix_bitmap(hashes)

    @classmethod
    def build(
        cls,
        sets: Sequence[EvalSet],
        *,
        ngram: int = DEFAULT_NGRAM,
        max_items_per_ngram: int = DEFAULT_MAX_ITEMS_PER_NGRAM,
    ) -> NgramIndex:
        if ngram < 1 or max_items_per_ngram < 2:
            raise ValueError(f"ngram must be >= 1 and max_items_per_ngram >= 2, not {ngram} and {max_items_per_ngram}")
        names = [s.name for s in sets]
        if len(set(names)) != len(names) or not all(names):
            raise ValueError(f"evaluation sets need distinct, non-empty names: {names}")
        items = [item for s in sets for item in s.items]
        per_part = [np.unique(ngram_hashes(normalized_code_points(part), ngram)) for item in items for part in item]
        part_items = np.repeat(np.arange(len(items), dtype=np.int32), [len(item) for item in items])  # (A,)
        counts = np.array([len(h) for h in per_part], np.int64)  # (A,)
        hashes = np.concatenate(per_part) if per_part else np.zeros(0, np.uint64)  # (P,)
        parts = np.repeat(np.arange(len(per_part), dtype=np.int32), counts)  # (P,)
        order = np.lexsort((parts, hashes))  # by hash, then part (so by item too)
        hashes, parts = hashes[order], parts[order]
        # distinct items per distinct n-gram; at or above the cap the n-gram is boilerplate
        first = np.concatenate(([True], hashes[1:] != hashes[:-1]))
        new_item = first | np.concatenate(([True], part_items[parts[1:]] != part_items[parts[:-1]]))
        items_per_ngram = np.add.reduceat(new_item, np.flatnonzero(first)) if len(hashes) else np.zeros(0, np.int64)
        common = items_per_ngram >= max_items_per_ngram
        keep = ~np.repeat(common, np.diff(np.append(np.flatnonzero(first), len(hashes))))
        hashes, parts = hashes[keep], parts[keep]
        part_ngrams = np.bincount(parts, minlength=len(per_part)).astype(np.int32)
        summaries, item_start = [], 0
        for s in sets:
            part_range = slice(*np.searchsorted(part_items, [item_start, item_start + len(s.items)]))
            had, kept = counts[part_range], part_ngrams[part_range]
            summaries.append(
                SetSummary(
                    s.name,
                    s.source,
                    items=len(s.items),
                    parts=len(had),
                    too_short=int((had == 0).sum()),
                    all_common=int(((had > 0) & (kept == 0)).sum()),
                    ngrams=int(kept.sum()),
                )
            )
            item_start += len(s.items)
        return cls(
            ngram=ngram,
            hashes=hashes,
            parts=parts,
            part_items=part_items,
            part_ngrams=part_ngrams,
            sets=summaries,
            max_items_per_ngram=max_items_per_ngram,
            common_ngrams=int(common.sum()),
        )

    def item_key(self, item: int) -> tuple[str, int]:
        """(set name, the item's 0-based position in its file)."""
        set_index = int(np.searchsorted(self._set_starts, item, side="right")) - 1
        return self.sets[set_index].name, int(item - self._set_starts[set_index])

    def item_name(self, item: int) -> str:
        """ "gsm8k:123": `item_key` as drops name it."""
        name, position = self.item_key(item)
        return f"{name}:{position}"

    def find(self, text: str, min_item_overlap: float) -> Contamination:
        """The items with a part whose indexed n-grams `text` holds, a share of at least `min_item_overlap`."""
        code_points = normalized_code_points(text)
        hashes = ngram_hashes(code_points, self.ngram)  # (G,) in text order
        if len(hashes) == 0 or len(self.hashes) == 0:
            return CLEAN
        prefixes = hashes >> self._shift
        present = (
            self._bitmap[(prefixes >> np.uint64(3)).astype(np.intp)] >> (prefixes & np.uint64(7)).astype(np.uint8)
        ) & 1
        maybe = np.flatnonzero(present)  # (G',) ~12% of a clean text's n-grams: searched for
        lo = np.searchsorted(self.hashes, hashes[maybe])  # (G',)
        found = self.hashes[np.minimum(lo, len(self.hashes) - 1)] == hashes[maybe]
        hit, lo = maybe[found], lo[found]  # (H,) positions in the text, and their first pair
        if len(hit) == 0:
            return CLEAN
        counts = np.searchsorted(self.hashes, hashes[hit], side="right") - lo  # (H,) parts per hit n-gram
        # every (position, pair) the hits reach: pair p of the index is one (n-gram, part)
        pairs = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())  # (Q,)
        positions = np.repeat(hit, counts)  # (Q,)
        touched, held = np.unique(self.parts[np.unique(pairs)], return_counts=True)  # a repeated n-gram counts once
        shares = held / self.part_ngrams[touched]
        matched = shares >= min_item_overlap
        best = float(shares.max())
        words = int((code_points == _SPACE).sum()) + 1
        if not matched.any():
            return Contamination(best_share=best, words=words)
        by_item = {}  # item -> its best matched part's share
        for part, share in zip(touched[matched], shares[matched]):
            item = int(self.part_items[part])
            by_item[item] = max(by_item.get(item, 0.0), float(share))
        in_matched = np.isin(self.parts[pairs], touched[matched])
        return Contamination(
            items=tuple(by_item),
            shares=tuple(by_item.values()),
            best_share=best,
            covered=_runs(positions[in_matched], self.ngram, words),
            words=words,
        )

    def save(self, sink: BinaryIO) -> None:
        """Write the index as one .npz (no pickles) to a binary stream: local file, s3:// or gs:// writer."""
        meta = {
            "format": INDEX_FORMAT,
            "format_version": INDEX_FORMAT_VERSION,
            "normalization": NORMALIZATION,
            "ngram": self.ngram,
            "max_items_per_ngram": self.max_items_per_ngram,
            "common_ngrams": self.common_ngrams,
            "sets": [dataclasses.asdict(s) for s in self.sets],
        }
        np.savez(
            sink,
            meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
            hashes=self.hashes.astype("<u8"),
            parts=self.parts.astype("<i4"),
            part_items=self.part_items.astype("<i4"),
            part_ngrams=self.part_ngrams.astype("<i4"),
        )

    @classmethod
    def load(cls, source: BinaryIO, name: str = "index") -> NgramIndex:
        """Read what `save` wrote; IndexFormatError, naming `name`, for anything else."""
        meta, arrays = _read(source, name, _ARRAYS)
        hashes, parts, part_items, part_ngrams = (arrays[key] for key in _ARRAYS)
        sets = [SetSummary(**s) for s in meta["sets"]]
        consistent = (
            hashes.dtype == np.uint64
            and parts.dtype == part_items.dtype == part_ngrams.dtype == np.int32
            and len(hashes) == len(parts)
            and len(part_items) == len(part_ngrams) == sum(s.parts for s in sets)
            and bool(np.all(hashes[1:] >= hashes[:-1]))
            and (len(parts) == 0 or 0 <= parts.min() <= parts.max() < len(part_items))
            and (len(part_items) == 0 or 0 <= part_items.min() <= part_items.max() < sum(s.items for s in sets))
        )
        if not consistent:
            raise IndexFormatError(f"{name}: the index's arrays are inconsistent (a damaged file?): rebuild it")
        return cls(
            ngram=meta["ngram"],
            hashes=hashes,
            parts=parts,
            part_items=part_items,
            part_ngrams=part_ngrams,
            sets=sets,
            max_items_per_ngram=meta["max_items_per_ngram"],
            common_ngrams=meta["common_ngrams"],
        )


def read_summary(source: BinaryIO, name: str = "index") -> list[SetSummary]:
    """The evaluation sets an index holds, reading only its header (the stats table names every set)."""
    meta, _ = _read(source, name, ())
    return [SetSummary(**s) for s in meta["sets"]]


def _read(source: BinaryIO, name: str, arrays: Sequence[str]) -> tuple[dict, dict[str, np.ndarray]]:
    if not source.seekable():  # a zip is read from its end
        source = io.BytesIO(source.read())
    try:
        with np.load(source, allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes())
            if meta.get("format") != INDEX_FORMAT:
                raise IndexFormatError(f"{name}: not a gristmill decontamination index")
            found = {key: npz[key] for key in arrays}
    except IndexFormatError:
        raise
    except Exception as err:  # noqa: BLE001 -- a zip, npy or JSON error all mean the same to the user
        raise IndexFormatError(
            f"{name}: not a gristmill decontamination index ({type(err).__name__}); "
            "build one with `gristmill decontam index`"
        ) from err
    if meta.get("format_version") != INDEX_FORMAT_VERSION or meta.get("normalization") != NORMALIZATION:
        raise IndexFormatError(
            f"{name}: index format {meta.get('format_version')} with normalization {meta.get('normalization')}, "
            f"this gristmill reads format {INDEX_FORMAT_VERSION} with {NORMALIZATION}: "
            "rebuild it with `gristmill decontam index`"
        )
    return meta, found


def _prefix_bitmap(hashes: np.ndarray) -> tuple[np.ndarray, np.uint64]:
    """A bit per `bits`-bit hash prefix, set when an indexed n-gram has it ((2^bits / 8,) uint8), and the shift
    that takes a hash to its prefix. With 8 bits per n-gram it fits in cache where the sorted hashes do not,
    and lets ~1 - e^(-1/8) = 12% of a clean text's n-grams through to `searchsorted`: 8x faster lookups in
    a 15M-pair index (bench/bench_decontam.py), for 1 byte of memory per pair. Derived on load, never stored."""
    bits = max((len(hashes) * _BITMAP_BITS_PER_NGRAM - 1).bit_length(), 3)
    shift = np.uint64(64 - bits)
    prefixes = hashes >> shift
    bitmap = np.zeros(1 << (bits - 3), np.uint8)
    np.bitwise_or.at(
        bitmap, (prefixes >> np.uint64(3)).astype(np.intp), np.left_shift(1, prefixes & np.uint64(7)).astype(np.uint8)
    )
    return bitmap, shift


def _runs(positions: np.ndarray, ngram: int, words: int) -> np.ndarray:
    """(R, 2) [start, end) runs of words covered by the n-grams starting at `positions`."""
    delta = np.bincount(positions, minlength=words + 1) - np.bincount(positions + ngram, minlength=words + 1)
    covered = np.concatenate(([False], np.cumsum(delta)[:words] > 0, [False]))
    steps = np.diff(covered.astype(np.int8))
    return np.stack([np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)], axis=1)


@dataclasses.dataclass(frozen=True, slots=True)
class Decontamination:
    """A document's outcome: `items` empty is clean; `reason` CONTAMINATED is a drop; else `text` is redacted."""

    text: str
    items: tuple[int, ...] = ()
    reason: DropReason | None = None
    redacted_chars: int = 0


def redact(text: str, covered: np.ndarray, words: int) -> str | None:
    """`text` without the covered runs of its `words` normalized words (each cut from the first character
    of its first word to the last of its last); None if the words cannot be located (a test checks they
    always are, in 75 languages)."""
    spans = word_spans(text)  # (W, 2) characters of each normalized word
    if len(spans) != words:
        return None
    pieces, start = [], 0
    for first, stop in covered:
        pieces.append(text[start : spans[first, 0]])
        start = int(spans[stop - 1, 1])
    pieces.append(text[start:])
    return "".join(pieces)


def decontaminate(
    text: str, index: NgramIndex, *, mode: str, min_item_overlap: float, min_words_after_redaction: int
) -> Decontamination:
    """Keep a clean text; drop a contaminated one (`drop`) or cut the matched passages out of it (`redact`),
    dropping it when fewer than `min_words_after_redaction` normalized words remain."""
    found = index.find(text, min_item_overlap)
    if not found.items:
        return Decontamination(text)
    dropped = Decontamination(text, found.items, DropReason.CONTAMINATED)
    if mode == "drop":
        return dropped
    remainder = redact(text, found.covered, found.words)
    words_left = found.words - int((found.covered[:, 1] - found.covered[:, 0]).sum())
    if remainder is None or words_left < min_words_after_redaction:
        return dropped
    return Decontamination(remainder, found.items, redacted_chars=len(text) - len(remainder))


def describe(index: NgramIndex, items: Sequence[int]) -> str:
    """A drop's detail: the items matched ("gsm8k:12 humaneval:3"), never text."""
    named = " ".join(index.item_name(i) for i in items[:DETAIL_ITEMS])
    return named + (f" +{len(items) - DETAIL_ITEMS} more" if len(items) > DETAIL_ITEMS else "")
