"""MinHash signatures of documents, vectorized with numpy, equal to datasketch's.

A document's set is its word n-grams (FineWeb: 5) of `normalize_for_dedup(text)`;
a text of fewer words than n is one shingle of all its words, a text with no
words has no shingles. A signature is datasketch's ("affine32", its default
since 2.0): each shingle's 32-bit hash is pre-mixed with the MurmurHash3
finalizer, permuted by `a_k * h + b_k mod 2^32` with datasketch's own `(a, b)`
for (num_perm, seed), and the minimum over shingles is kept per permutation.
So a signature equals `datasketch.MinHash(num_perm, seed=seed,
hashfunc=<shingle hash>)` updated with the same shingles, value for value (a
test checks it), and Jaccard estimates are datasketch's.

The shingle hash (64-bit arithmetic, wrapping; fmix64 is MurmurHash3's finalizer):
    word    = fmix64(sum_j code_point_j * WORD_BASE**j)
    shingle = fmix64(sum_i word_i * POSITION_MULTIPLIER_i) >> 32   (i < n, or < k for a k-word text)
Polynomial hashes vectorize: a batch of documents is hashed with a handful of
whole-array numpy operations (a prefix sum over all characters, differenced
per word), and the permutations are one (num_perm, shingles) broadcast reduced
per document with `minimum.reduceat`, in chunks that stay in cache. No Python
loop runs per shingle or per permutation: ~25,000-35,000 documents of 2 KB per
second on one core, against ~500 for a `MinHash.update` loop.

LSH bands are `band_keys(signature, bands, rows)`: b bands of r rows each,
a pair with Jaccard s shares a band with probability 1 - (1 - s^r)^b.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from filters.text_normalization import normalized_code_points

EMPTY = np.uint32(0xFFFFFFFF)
"""Every value of the signature of a text with no words (datasketch's empty MinHash)."""

_WORD_BASE = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime: odd, so its powers never vanish mod 2^64
_WORD_BASE_INVERSE = np.uint64(pow(int(_WORD_BASE), -1, 1 << 64))
_CACHED_POWERS = 1 << 20  # power tables (16 MB for both) kept between batches; bigger ones are rebuilt
_GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio, spreads the position multipliers
_GROUP_CODE_POINTS = 1 << 17  # documents hashed together: ~60 of 2 KB; measured fastest (bigger spill the cache)
_CHUNK_SHINGLES = 8192  # (num_perm, 8192) uint32 = 3.7 MB at 112 permutations: the broadcast stays in L2/L3
_MASK64 = (1 << 64) - 1


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer on uint64 arrays, in place: a bijection that avalanches."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer on uint32 arrays, in place: datasketch's affine32 pre-mix."""
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def position_multipliers(ngram: int) -> np.ndarray:
    """(ngram,) uint64: odd multipliers, one per word position in a shingle (order matters)."""
    return fmix64(np.array([(_GOLDEN * (i + 1)) & _MASK64 for i in range(ngram)], dtype=np.uint64)) | np.uint64(1)


def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's `MinHash(num_perm, seed, scheme="affine32").permutations`: `a` odd, `b` any, uint32.

    Written out, not imported: datasketch imports scipy, which costs every process that
    deduplicates ~0.5 s and ~55 MB for these six lines (a test checks they agree)."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class MinHasher:
    """Signatures for one (num_perm, ngram, seed): `signatures(texts)` -> (D, num_perm) uint32."""

    def __init__(self, *, num_perm: int = 112, ngram: int = 5, seed: int = 1):
        self.num_perm = num_perm
        self.ngram = ngram
        a, b = affine32_permutations(num_perm, seed)
        self._a = a[:, None]  # (P, 1)
        self._b = b[:, None]  # (P, 1)
        self._multipliers = position_multipliers(ngram)
        self._powers = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))  # see _power_tables
        self._scratch = np.empty((num_perm, _CHUNK_SHINGLES), dtype=np.uint32)

    def signature(self, text: str) -> np.ndarray:
        """(num_perm,) uint32."""
        return self.signatures([text])[0]

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """(D, num_perm) uint32 signatures of raw texts (normalized here), any batch size."""
        documents = [normalized_code_points(text) for text in texts]
        signatures = np.empty((len(documents), self.num_perm), dtype=np.uint32)
        start = 0
        while start < len(documents):
            # groups of ~_GROUP_CODE_POINTS: the per-character arrays of a group stay in cache
            stop, size = start + 1, len(documents[start])
            while stop < len(documents) and size + len(documents[stop]) <= _GROUP_CODE_POINTS:
                size += len(documents[stop])
                stop += 1
            signatures[start:stop] = self._min_permuted(*self.shingle_hashes(documents[start:stop]))
            start = stop
        return signatures

    def shingle_hashes(self, documents: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle hashes of normalized documents (from `normalized_code_points`).

        Returns (S,) uint32 hashes, document by document in text order, and
        (D + 1,) offsets: document d's shingles are hashes[offsets[d]:offsets[d + 1]].
        """
        n, count = self.ngram, len(documents)
        if count == 0:
            return np.zeros(0, np.uint32), np.zeros(1, np.int64)
        space = np.array([ord(" ")], dtype=np.uint32)
        # every document followed by one space: words never span documents
        joined = np.concatenate([part for doc in documents for part in (doc, space)])  # (C,)
        doc_starts = np.cumsum([0] + [len(doc) + 1 for doc in documents[:-1]])  # (D,)
        is_char = joined != space[0]
        steps = np.diff(is_char.astype(np.int8), prepend=np.int8(0))
        word_starts = np.flatnonzero(steps == 1)  # (W,)
        word_ends = np.flatnonzero(steps == -1)  # (W,) one past each word's last character
        if len(word_starts) == 0:
            return np.zeros(0, np.uint32), np.zeros(count + 1, np.int64)
        word_docs = np.searchsorted(doc_starts, word_starts, side="right") - 1  # (W,)
        words = self._word_hashes(joined, word_starts, word_ends)  # (W,) uint64

        # a document of 1..n-1 words is padded with zero hashes to one full shingle
        words_per_doc = np.bincount(word_docs, minlength=count)  # (D,)
        short = np.flatnonzero((words_per_doc > 0) & (words_per_doc < n))
        if len(short):
            ends = np.searchsorted(word_docs, short, side="right")  # after each short doc's last word
            pads = n - words_per_doc[short]
            words = np.insert(words, np.repeat(ends, pads), np.uint64(0))
            word_docs = np.insert(word_docs, np.repeat(ends, pads), np.repeat(short, pads))
            words_per_doc[short] = n

        windows = len(words) - n + 1  # candidate shingles: every run of n consecutive words (>= 1 after padding)
        combined = words[:windows] * self._multipliers[0]  # (windows,) uint64
        for i in range(1, n):
            combined += words[i : i + windows] * self._multipliers[i]
        inside = word_docs[:windows] == word_docs[n - 1 :]  # the window does not cross a document end
        hashes = (fmix64(combined[inside]) >> np.uint64(32)).astype(np.uint32)  # (S,)
        offsets = np.zeros(count + 1, np.int64)
        np.cumsum(np.maximum(words_per_doc - n + 1, 0), out=offsets[1:])
        return hashes, offsets

    def _word_hashes(self, joined: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """(W,) uint64 word hashes: a prefix sum of code_point * BASE**position over the whole batch,
        differenced per word and shifted back by BASE**-start (BASE is odd, so invertible mod 2^64)."""
        powers, inverse_powers = self._power_tables(len(joined))
        prefix = np.zeros(len(joined) + 1, dtype=np.uint64)  # (C + 1,)
        np.multiply(joined, powers[: len(joined)], out=prefix[1:])
        np.cumsum(prefix[1:], out=prefix[1:])
        return fmix64((prefix[ends] - prefix[starts]) * inverse_powers[starts])

    def _power_tables(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """BASE**j and BASE**-j mod 2^64 for j < size; kept for the next batch unless huge."""
        if len(self._powers[0]) >= size:
            return self._powers
        length = max(size, 2 * len(self._powers[0]))
        tables = []
        for factor in (_WORD_BASE, _WORD_BASE_INVERSE):
            table = np.full(length, factor, dtype=np.uint64)
            table[0] = 1
            tables.append(np.cumprod(table))  # wraps mod 2^64, as intended
        if length <= _CACHED_POWERS:
            self._powers = (tables[0], tables[1])
        return tables[0], tables[1]

    def _min_permuted(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(D, P): per document, the minimum of every permutation over its shingles."""
        signatures = np.full((len(offsets) - 1, self.num_perm), EMPTY, dtype=np.uint32)
        mixed = _fmix32(hashes.copy())
        nonempty = np.flatnonzero(np.diff(offsets) > 0)  # (D',) documents with shingles
        starts = offsets[nonempty]  # (D',) strictly increasing
        for lo in range(0, len(mixed), _CHUNK_SHINGLES):
            hi = min(lo + _CHUNK_SHINGLES, len(mixed))
            first = np.searchsorted(starts, lo, side="right") - 1  # the document holding shingle lo
            stop = np.searchsorted(starts, hi, side="left")  # documents starting before hi
            segments = np.maximum(starts[first:stop], lo) - lo  # (k,) segment starts in the chunk
            permuted = self._scratch[:, : hi - lo]  # (P, hi - lo); reused: fresh pages would cost more than the math
            np.multiply(self._a, mixed[lo:hi], out=permuted)
            permuted += self._b  # a * h + b, wraps mod 2^32
            minima = np.minimum.reduceat(permuted, segments, axis=1)  # (P, k)
            rows = nonempty[first:stop]
            signatures[rows] = np.minimum(signatures[rows], minima.T)
        return signatures


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[bytes]:
    """One key per LSH band: the band index (2 bytes) and its `rows` values (4 bytes each)."""
    if bands * rows > len(signature):
        raise ValueError(
            f"{bands} bands x {rows} rows need {bands * rows} permutations, the signature has {len(signature)}"
        )
    values = signature.astype("<u4")  # little-endian on every machine: the keys meet in one shuffle
    return [struct.pack(">H", band) + values[band * rows : (band + 1) * rows].tobytes() for band in range(bands)]
