"""Signature throughput on ~2 KB documents built from real sentences (lingua, shared data):
gristmill MinHasher vs datasketch. Run from the repo root:
`taskset -c 0 .venv/bin/python bench/bench_minhash.py [repeats]`."""

import random
import sys
import time
from pathlib import Path

from datasketch import MinHash

from filters.minhash import MinHasher
from filters.text_normalization import normalize_for_dedup

SENTENCES = Path("../shared/data/langid/lingua/sentences")


def documents(langs, count, rng):
    pools = {lang: (SENTENCES / f"{lang}.txt").read_text(encoding="utf-8").splitlines() for lang in langs}
    docs = []
    for _ in range(count):
        pool = pools[rng.choice(langs)]
        text = ""
        while len(text) < 2000:
            text += rng.choice(pool) + " "
        docs.append(text)
    return docs


def shingles(text, n=5):
    words = normalize_for_dedup(text).split()
    return [" ".join(words[i : i + n]).encode() for i in range(max(len(words) - n + 1, 1))] if words else []


REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
rng = random.Random(0)
sets = {
    "en": documents(["en"], 4000, rng),
    "all 75 languages": documents(sorted(p.stem for p in SENTENCES.glob("*.txt")), 4000, rng),
}
hasher = MinHasher(num_perm=112, ngram=5, seed=1)
hasher.signatures(["warm up the normalization table"])
for name, docs in sets.items():
    chars = sum(map(len, docs)) / len(docs)
    best = {}
    for batch in (1, 64, 256):
        times = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            for i in range(0, len(docs), batch):
                hasher.signatures(docs[i : i + batch])
            times.append(time.perf_counter() - t)
        best[batch] = len(docs) / min(times)
    subset = docs[:300]
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        for doc in subset:  # datasketch as documented: MinHash.update per shingle (sha1)
            m = MinHash(num_perm=112, seed=1)
            for s in shingles(doc):
                m.update(s)
        times.append(time.perf_counter() - t)
    loop = len(subset) / min(times)
    t = time.perf_counter()
    for doc in subset:  # datasketch's batch API: update_batch (sha1 per shingle, numpy permutations)
        m = MinHash(num_perm=112, seed=1)
        m.update_batch(shingles(doc))
    batched = len(subset) / (time.perf_counter() - t)
    t = time.perf_counter()
    for doc in docs[:1000]:
        normalize_for_dedup(doc)
    norm = 1000 / (time.perf_counter() - t)
    print(f"{name}: {len(docs)} docs, {chars:.0f} chars avg, 1 core")
    print(
        f"  gristmill MinHasher.signatures (normalize + shingle + 112 perms), batch 1/64/256: "
        f"{best[1]:,.0f} / {best[64]:,.0f} / {best[256]:,.0f} docs/s"
    )
    print(f"  datasketch MinHash.update loop (same normalized shingles, sha1):  {loop:,.0f} docs/s")
    print(f"  datasketch MinHash.update_batch (same shingles, sha1):            {batched:,.0f} docs/s")
    print(f"  normalize_for_dedup alone: {norm:,.0f} docs/s")
