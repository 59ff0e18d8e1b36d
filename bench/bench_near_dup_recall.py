"""Near-duplicate recall and precision of `Deduplicate` against brute-force exact Jaccard.

    .venv/bin/python bench/bench_near_dup_recall.py [--pages N] [--variants V] [--seed S] [--quick]

Extracts the main texts of the trafilatura-eval pages (the first N by file name
with at least 150 words; all of them by default), makes V variants of each with
targets drawn uniformly from [0.5, 1.0] (edits in turn: insertions, deletions,
boilerplate header/footer, paragraph swap + insertions and deletions; see
`filters.evaluation.near_dup`), computes the exact Jaccard of every pair by brute force,
and runs the real Beam `Deduplicate` (near dedup only, `DedupConfig` defaults:
14 bands x 8 rows) on the DirectRunner. Its removals (`kept=<survivor>`) are
written to a temporary folder and read back as clusters.

Prints: recall of pairs with J >= 0.8 (both texts in one cluster), precision of
removed texts (J >= 0.7 / 0.8 to their survivor, or to some cluster member),
the detection curve from 0.5 to 1.0 beside the S-curve 1 - (1 - J^8)^14 and
FineWeb's reported 56/77/92/98.8% at 0.7/0.75/0.8/0.85, recall per edit kind,
whether Beam's clusters equal the numpy reference (`lsh_clusters`), and the
time of each step. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import apache_beam as beam
import numpy as np

from filters.evaluation.near_dup import (
    RECALL_AT,
    CorpusText,
    Edit,
    Shingler,
    build_corpus,
    clusters_from_survivors,
    document_ids,
    exact_jaccard_pairs,
    format_report,
    lsh_clusters,
    score_detection,
    share_a_band,
    signatures,
)
from pipeline.config import DedupConfig
from pipeline.core.records import Document, Provenance
from pipeline.fixtures.eval_pages import load_boilerplate, load_page_texts
from pipeline.stages.deduplicate import Deduplicate

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO.parent / "shared" / "data" / "extraction" / "trafilatura-eval"
TARGET_RANGE = (0.5, 1.0)
CURVE_AT = tuple(round(j, 2) for j in np.arange(0.5, 1.001, 0.05))
QUICK_PAGES = 150


def run_deduplicate(
    corpus: list[CorpusText], ids: list[str], config: DedupConfig, folder: Path
) -> tuple[dict[str, str], dict]:
    """Beam `Deduplicate` on the DirectRunner: (removed id -> survivor id, its stats dict)."""
    docs = [
        Document(doc_id, f"https://near.test/{doc_id}", "near.test", c.text, Provenance("bench", 0, 0))
        for doc_id, c in zip(ids, corpus)
    ]
    with beam.Pipeline() as p:
        dedup = Deduplicate(config)
        out = p | beam.Create(docs) | dedup
        (
            out.dropped
            | beam.Map(lambda r: json.dumps([r.id, r.detail.removeprefix("kept=")]))
            | "WriteRemoved" >> beam.io.WriteToText(str(folder / "removed"))
        )
        dedup.stats | beam.Map(json.dumps) | "WriteStats" >> beam.io.WriteToText(str(folder / "stats"))
    removed = dict(json.loads(line) for path in folder.glob("removed*") for line in path.read_text().splitlines())
    (stats,) = [json.loads(line) for path in folder.glob("stats*") for line in path.read_text().splitlines()]
    return removed, stats


def recall_by_edit(corpus: list[CorpusText], labels: np.ndarray) -> dict[Edit, tuple[int, float]]:
    """Per edit: (variants with J >= RECALL_AT to their base, share in their base's cluster)."""
    found: dict[Edit, list[bool]] = {edit: [] for edit in Edit}
    for i, c in enumerate(corpus):
        if c.edit is not None and c.jaccard >= RECALL_AT:
            found[c.edit].append(bool(labels[i] == labels[c.base]))
    return {edit: (len(hits), float(np.mean(hits)) if hits else float("nan")) for edit, hits in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=None, help="base texts (default: every page with enough words)")
    parser.add_argument("--variants", type=int, default=6, help="variants per base text")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PAGES} pages")
    args = parser.parse_args()
    config = DedupConfig(url=False, exact=False)
    seconds: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name], clock = now - clock, now

    bases = load_page_texts(EVAL_DIR / "html", QUICK_PAGES if args.quick else args.pages)
    lap("extract base texts (trafilatura)")
    rng = random.Random(args.seed)
    targets = [[rng.uniform(*TARGET_RANGE) for _ in range(args.variants)] for _ in bases]
    corpus = build_corpus(bases, load_boilerplate(EVAL_DIR / "evaldata.json"), targets, seed=args.seed)
    texts = [c.text for c in corpus]
    lap("make variants")
    sets = Shingler(config.ngram).shingle_sets(texts)
    truth = exact_jaccard_pairs(sets)
    lap("brute-force exact Jaccard, all pairs")
    ids = document_ids(len(corpus))
    with tempfile.TemporaryDirectory() as folder:
        removed, stats = run_deduplicate(corpus, ids, config, Path(folder))
    labels = clusters_from_survivors(ids, removed)
    lap("Beam Deduplicate (DirectRunner)")
    sigs = signatures(texts, config)
    reference = lsh_clusters(sigs, ids, config)
    shared_band = share_a_band(sigs, truth.pairs, config)
    lap("numpy reference: signatures, bands, components")
    scores = score_detection(sets, truth, labels, shared_band, config, curve_at=CURVE_AT)
    lap("score")

    errors = np.array([abs(c.jaccard - c.target) for c in corpus if c.edit is not None])
    print(
        f"{len(bases)} base texts x {args.variants} variants = {len(corpus)} texts "
        f"(mean {np.mean([len(t) for t in texts]):,.0f} chars), targets uniform in {TARGET_RANGE}, seed {args.seed}; "
        f"|measured - target| mean {errors.mean():.4f}, max {errors.max():.3f}"
    )
    print(
        f"{len(truth.pairs):,} of {len(corpus) * (len(corpus) - 1) // 2:,} pairs share a shingle; "
        f"{int((truth.jaccard >= 0.5).sum()):,} have J >= 0.5"
    )
    print(
        f"Deduplicate ({config.bands} bands x {config.rows_per_band} rows): stats {stats}; "
        f"clusters equal to the numpy reference: {bool((labels == reference).all())}\n"
    )
    print(format_report(scores))
    print(f"\nBase-variant pairs with J >= {RECALL_AT}, by edit:\n")
    print("| edit | pairs | detected |\n|---|---:|---:|")
    for edit, (count, share) in recall_by_edit(corpus, labels).items():
        print(f"| {edit.value} | {count} | {share:.3f} |")
    print("\n| step | s |\n|---|---:|")
    for name, value in seconds.items():
        print(f"| {name} | {value:.1f} |")
    print(f"| **total** | {time.perf_counter() - started:.1f} |")


if __name__ == "__main__":
    main()
