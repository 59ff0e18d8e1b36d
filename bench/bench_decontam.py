"""Decontamination against GSM8K test and HumanEval, measured on real pages (issue 17's closing note).

    taskset -c 0 .venv/bin/python bench/bench_decontam.py [--pages N] [--synthetic ITEMS]

The index is built from `../shared/data/benchmarks` (GSM8K: question and answer, each a
part; HumanEval: prompt), read in place. Every GSM8K question and HumanEval prompt is
planted into one of the trafilatura-eval page texts (extracted as the pipeline does),
three ways (`filters/evaluation/contamination.py`): verbatim, reformatted, embedded.
Printed: the share caught per way and set at the default `min_item_overlap` and at
others; the clean pages wrongly dropped (all pages, unplanted); pages that share one
13-gram with an item (dropped by GPT-3's any-13-gram rule, not by ours); redaction;
docs/s on one core; index bytes and build time, with a synthetic index of `--synthetic`
items (random page words, GSM8K's part lengths) extrapolated to 1M items.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import time
from pathlib import Path

import numpy as np

from filters.decontamination import EvalSet, NgramIndex, decontaminate
from filters.eval_sets import read_items
from filters.evaluation.contamination import PLANTS, plant, shared_ngram
from filters.text_normalization import normalize_for_dedup
from pipeline.config import DecontamConfig
from pipeline.fixtures.eval_pages import load_page_texts

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
THRESHOLDS = (1e-9, 0.2, 0.3, 0.5, 0.7, 0.9)  # 1e-9: any shared n-gram (GPT-3's rule)
CONFIG = DecontamConfig()


def build(sets: list[EvalSet]) -> tuple[NgramIndex, float, int, float]:
    """The index, its build seconds, its file's bytes and the seconds to load it from them (as a worker does)."""
    started = time.perf_counter()
    index = NgramIndex.build(sets)
    seconds = time.perf_counter() - started
    buffer = io.BytesIO()
    index.save(buffer)
    started = time.perf_counter()
    index = NgramIndex.load(io.BytesIO(buffer.getvalue()))
    return index, seconds, len(buffer.getvalue()), time.perf_counter() - started


def best_share(index: NgramIndex, text: str, item: int) -> float:
    """The share of the planted item's best part that `text` holds (0 when none)."""
    found = index.find(text, 1e-9)
    return dict(zip(found.items, found.shares)).get(item, 0.0)


def docs_per_second(index: NgramIndex, texts: list[str], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            decontaminate(
                text,
                index,
                mode=CONFIG.mode,
                min_item_overlap=CONFIG.min_item_overlap,
                min_words_after_redaction=CONFIG.min_words_after_redaction,
            )
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def synthetic_sets(pages: list[str], lengths: list[tuple[int, ...]], items: int, rng: random.Random) -> list[EvalSet]:
    """`items` items of random page words, each with the part lengths of a random real item."""
    words = " ".join(pages).split()
    made = []
    for _ in range(items):
        made.append(tuple(" ".join(rng.choices(words, k=n)) for n in rng.choice(lengths)))
    return [EvalSet("synthetic", made)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=None, help="page texts to use (default: all)")
    parser.add_argument("--synthetic", type=int, default=200_000, help="items of the synthetic index (0: skip)")
    args = parser.parse_args()
    rng = random.Random(0)
    print(f"cores available to this process: {len(os.sched_getaffinity(0))} (run under `taskset -c 0` for one)")

    started = time.perf_counter()
    pages = load_page_texts(SHARED / "extraction" / "trafilatura-eval" / "html", limit=args.pages, min_words=1)
    print(f"{len(pages)} real page texts extracted in {time.perf_counter() - started:.0f} s")
    gsm8k = read_items(SHARED / "benchmarks" / "gsm8k" / "test.jsonl", ["question", "answer"])
    humaneval = read_items(SHARED / "benchmarks" / "humaneval" / "HumanEval.jsonl.gz", ["prompt"])
    normalize_for_dedup("warm the normalization table")
    index, seconds, size, _ = build([EvalSet("gsm8k", gsm8k), EvalSet("humaneval", humaneval)])
    print(
        f"index: {sum(s.items for s in index.sets):,} items, {len(index.hashes):,} n-gram pairs, "
        f"{size / 1024:,.0f} KiB, built in {seconds:.2f} s; boilerplate n-grams left out: {index.common_ngrams}"
    )

    planted = [("gsm8k", i, item[0]) for i, item in enumerate(gsm8k)]
    planted += [("humaneval", len(gsm8k) + i, item[0]) for i, item in enumerate(humaneval)]
    shares: dict[str, np.ndarray] = {}
    docs: dict[str, list[str]] = {}
    for how in (*PLANTS, "shared 13-gram"):
        docs[how] = [
            shared_ngram(pages[k % len(pages)], text, index.ngram, rng)
            if how == "shared 13-gram"
            else plant(pages[k % len(pages)], text, how, rng)
            for k, (_, _, text) in enumerate(planted)
        ]
        shares[how] = np.array([best_share(index, doc, item) for doc, (_, item, _) in zip(docs[how], planted)])
    clean = np.array([index.find(page, 1e-9).best_share for page in pages])
    is_gsm8k = np.array([name == "gsm8k" for name, _, _ in planted])

    default = CONFIG.min_item_overlap
    print(f"\n### Caught at min_item_overlap = {default} (goal: >= 0.98 verbatim, >= 0.95 reformatted and embedded)\n")
    print("| planted | GSM8K questions (1,319) | HumanEval prompts (164) | all |")
    print("|---|---:|---:|---:|")
    for how in PLANTS:
        caught = shares[how] >= default
        print(f"| {how} | {caught[is_gsm8k].mean():.4f} | {caught[~is_gsm8k].mean():.4f} | {caught.mean():.4f} |")
    print(
        f"\nclean pages wrongly dropped (goal <= 0.5%): {(clean >= default).sum()} of {len(pages)} "
        f"({(clean >= default).mean():.2%}); pages sharing any n-gram with an item: {(clean > 0).sum()}"
    )

    print("\n### By min_item_overlap: share caught, and share of pages dropped\n")
    print("| min_item_overlap | " + " | ".join(PLANTS) + " | page + one shared 13-gram | clean pages |")
    print("|---" * (len(PLANTS) + 3) + "|")
    for t in THRESHOLDS:
        label = "any n-gram (GPT-3)" if t < 1e-6 else f"{t:g}"
        row = [f"{(shares[how] >= t).mean():.4f}" for how in (*PLANTS, "shared 13-gram")] + [
            f"{(clean >= t).mean():.4f}"
        ]
        print(f"| {label} | " + " | ".join(row) + " |")

    kept_share = []
    for doc, page in zip(docs["embedded"], (pages[k % len(pages)] for k in range(len(planted)))):
        result = decontaminate(doc, index, mode="redact", min_item_overlap=default, min_words_after_redaction=0)
        kept_share.append(
            len(normalize_for_dedup(result.text).split()) / max(len(normalize_for_dedup(page).split()), 1)
        )
    print(
        f"\nredact, embedded plants: page words kept, median {np.median(kept_share):.4f}, "
        f"min {min(kept_share):.3f} (words left / words of the page before planting)"
    )

    chars = np.mean([len(p) for p in pages])
    print(f"\n### Speed, one process ({len(os.sched_getaffinity(0))} core(s)), default config, drop mode\n")
    print("| documents | index | docs/s |")
    print("|---|---|---:|")
    print(
        f"| {len(pages)} clean pages, mean {chars:,.0f} chars | GSM8K + HumanEval | "
        f"{docs_per_second(index, pages):,.0f} |"
    )
    print(
        f"| {len(docs['embedded'])} pages with an item embedded | GSM8K + HumanEval | "
        f"{docs_per_second(index, docs['embedded'], 1):,.0f} |"
    )

    if args.synthetic:
        lengths = [tuple(len(part.split()) for part in item) for item in gsm8k]
        synthetic, seconds, size, load = build(synthetic_sets(pages, lengths, args.synthetic, rng))
        scale = 1_000_000 / args.synthetic
        print(
            f"| {len(pages)} clean pages | synthetic, {args.synthetic:,} items | "
            f"{docs_per_second(synthetic, pages, 1):,.0f} |"
        )
        print("\n### Index size and build time\n")
        print("| index | items | n-gram pairs | bytes | bytes per item | build s | load s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        print(
            f"| synthetic (GSM8K part lengths) | {args.synthetic:,} | {len(synthetic.hashes):,} "
            f"| {size / 2**20:,.1f} MiB "
            f"| {size / args.synthetic:,.0f} | {seconds:.1f} | {load:.1f} |"
        )
        print(
            f"| extrapolated | 1,000,000 | {len(synthetic.hashes) * scale:,.0f} | {size * scale / 2**20:,.0f} MiB "
            f"| {size / args.synthetic:,.0f} | {seconds * scale:.0f} | {load * scale:.0f} |"
        )


if __name__ == "__main__":
    main()
