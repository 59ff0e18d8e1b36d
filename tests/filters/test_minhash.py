import random
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

import filters.minhash as minhash
from filters.minhash import EMPTY, MinHasher, band_keys, position_multipliers
from filters.text_normalization import normalize_for_dedup

_MASK = (1 << 64) - 1
_MULTIPLIERS = [int(m) for m in position_multipliers(5)]


def _fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK
    return h ^ (h >> 33)


def reference_shingles(text: str, n: int = 5) -> list[tuple[str, ...]]:
    words = normalize_for_dedup(text).split()
    if 0 < len(words) < n:
        return [tuple(words)]
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def reference_shingle_hash(shingle: tuple[str, ...]) -> int:
    """The module docstring's definition, one shingle at a time in plain Python."""
    total = 0
    for multiplier, word in zip(_MULTIPLIERS, shingle):
        word_hash = sum(ord(c) * pow(0x100000001B3, j, 1 << 64) for j, c in enumerate(word)) & _MASK
        total += multiplier * _fmix64(word_hash)
    return _fmix64(total & _MASK) >> 32


def datasketch_signature(text: str, num_perm: int = 112, seed: int = 1) -> np.ndarray:
    sketch = MinHash(num_perm=num_perm, seed=seed, hashfunc=reference_shingle_hash)
    sketch.update_batch(reference_shingles(text))
    return sketch.hashvalues


def _words(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(count)]


def _jaccard(a: str, b: str) -> float:
    sa, sb = set(reference_shingles(a)), set(reference_shingles(b))
    return len(sa & sb) / len(sa | sb)


_TEXTS = st.lists(
    st.one_of(
        st.text(alphabet=st.sampled_from(list("ab cd éf 0 1 ,.! 中文 한 \n")), max_size=60),
        st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "Alpha!", "2024", "ünï"]), max_size=30).map(
            " ".join
        ),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(_TEXTS)
def test_signatures_equal_datasketch_value_for_value(texts):
    signatures = MinHasher().signatures(texts)
    assert signatures.shape == (len(texts), 112) and signatures.dtype == np.uint32
    for text, signature in zip(texts, signatures):
        np.testing.assert_array_equal(signature, datasketch_signature(text), err_msg=repr(text))


def test_other_parameters_equal_datasketch_too():
    text = "the quick brown fox jumps over the lazy dog and runs far away into the woods"
    sketch = MinHash(num_perm=64, seed=7, hashfunc=reference_shingle_hash)  # multipliers of 3-grams: the first 3
    sketch.update_batch(reference_shingles(text, n=3))
    np.testing.assert_array_equal(MinHasher(num_perm=64, ngram=3, seed=7).signature(text), sketch.hashvalues)


def test_batches_chunks_and_groups_do_not_change_signatures(monkeypatch):
    monkeypatch.setattr(minhash, "_CHUNK_SHINGLES", 37)  # documents straddle many chunks
    monkeypatch.setattr(minhash, "_GROUP_CODE_POINTS", 500)
    rng = random.Random(3)
    texts = [" ".join(_words(rng, rng.randint(0, 300))) for _ in range(12)] + ["", "one two"]
    hasher = MinHasher()
    together = hasher.signatures(texts)
    for text, signature in zip(texts, together):
        np.testing.assert_array_equal(signature, datasketch_signature(text))


def test_identical_and_normalization_equal_texts_have_identical_signatures():
    hasher = MinHasher()
    a = "The committee met on Tuesday, 12 May, to discuss the new library near the river."
    b = "the COMMITTEE met on tuesday 3 may   to discuss the new library near the river!!"
    np.testing.assert_array_equal(hasher.signature(a), hasher.signature(b))


def test_a_text_without_words_has_the_empty_signature():
    assert (MinHasher().signatures(["", "  ...  "]) == EMPTY).all()


def test_disjoint_texts_estimate_near_zero():
    rng = random.Random(1)
    hasher = MinHasher()
    pairs = [hasher.signatures([" ".join(_words(rng, 300)), " ".join(_words(rng, 300))]) for _ in range(20)]
    assert max(np.mean(a == b) for a, b in pairs) < 0.05


def test_estimates_track_the_true_jaccard_like_datasketch():
    # pairs with a share of words changed, true Jaccard ~0.05 to 1; error compared with datasketch's default (sha1)
    rng = random.Random(2)
    hasher = MinHasher()
    ours, theirs, truths = [], [], []
    for _ in range(120):
        base = _words(rng, 300)
        changed = list(base)
        for i in rng.sample(range(300), int(300 * rng.choice([0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15]))):
            changed[i] = "zz" + changed[i]
        a, b = " ".join(base), " ".join(changed)
        truth = _jaccard(a, b)
        ours.append(float(np.mean(hasher.signature(a) == hasher.signature(b))))
        sketches = []
        for text in (a, b):
            sketch = MinHash(num_perm=112, seed=1)
            sketch.update_batch([" ".join(s).encode() for s in reference_shingles(text)])
            sketches.append(sketch)
        theirs.append(sketches[0].jaccard(sketches[1]))
        truths.append(truth)
    ours, theirs, truths = map(np.array, (ours, theirs, truths))
    sigma = np.sqrt(truths * (1 - truths) / 112)  # binomial standard error of 112 permutations
    assert np.all(np.abs(ours - truths) <= 4 * sigma + 1e-9)
    assert abs(np.mean(ours - truths)) < 0.01  # unbiased
    assert np.mean(np.abs(ours - truths)) < 1.3 * np.mean(np.abs(theirs - truths)) + 0.005


def test_band_keys():
    signature = MinHasher().signature("a few words are enough for a signature")
    keys = band_keys(signature, 14, 8)
    assert len(keys) == 14 and len(set(keys)) == 14 and all(len(k) == 2 + 8 * 4 for k in keys)
    assert band_keys(signature.copy(), 14, 8) == keys
    with pytest.raises(ValueError, match="15 bands x 8 rows need 120 permutations"):
        band_keys(signature, 15, 8)


def test_a_hasher_does_not_load_datasketch_or_scipy():
    """Their import costs every deduplicating worker ~0.5 s and ~55 MB for six lines of numpy."""
    script = (
        "import sys\n"
        "from filters.minhash import MinHasher\n"
        "MinHasher().signatures(['a few words of text here'])\n"
        "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
