"""Where a local `gristmill run` spends its CPU: py-spy over the whole process tree.

    .venv/bin/python bench/profile_pipeline.py            # the vs_datatrove 1x WARC, 1 worker (~3 min)
    .venv/bin/python bench/profile_pipeline.py --pages 200

Runs `gristmill run` with `vs_datatrove.py`'s input and config (the stages datatrove
has) under `py-spy record --subprocesses --format raw`, so the runner, the Beam SDK
worker and the extraction sandbox are all sampled; idle threads are not, so a
sample is CPU time. Each sample is put in the first category (CATEGORIES, in
order) whose pattern occurs anywhere in its stack, e.g. a pickle call made from
`pipeline/accounting/packing.py` counts as "packing for shuffles", not as "Beam coders". Prints per
process kind the CPU seconds by category, then the functions with the most self
time outside the extractor itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml
from harness import EVAL_DIR, REPO, load_pages  # bench/
from vs_datatrove import GRISTMILL_CONFIG, build_corpus, write_shards

PY_SPY = Path(sys.executable).parent / "py-spy"
# (category, regex over one sample's frames joined by ";"): first match wins
CATEGORIES = [
    ("start-up: imports", r"_find_and_load|_call_with_frames_removed \(<frozen importlib"),
    ("extraction (trafilatura, lxml)", r"trafilatura/|justext/|lxml/|htmldate/|courlan/"),
    ("sandbox IPC (pickle + pipe, both ends)", r"pipeline/extraction/sandbox\.py"),
    ("PII + toxicity (ApplySafety)", r"filters/(pii|pii_recognizers|url_blocklist)\.py|classifiers/toxicity\.py"),
    ("line dedup", r"filters/line_dedup\.py|pipeline/stages/dedup_lines\.py"),
    (
        "topic, format, domain tagging",
        r"classifiers/(content|content_tagging|domain)\.py|pipeline/stages/tag_domains\.py"
        r"|filters/(content_evidence|page_metadata|url_signals|topic_words|domain_rules|domain_content|taxonomy)\.py",
    ),
    ("quality classifier (fastText)", r"classifiers/quality\.py"),
    ("decontamination", r"filters/decontamination\.py"),
    ("language ID (fastText)", r"classifiers/langid\.py|fasttext"),
    (
        "quality filters (C4, FineWeb, Gopher)",
        r"pipeline/stages/apply_quality\.py|filters/(quality|rule_family|c4|fineweb|gopher|words)\.py",
    ),
    ("MinHash + dedup", r"filters/minhash\.py|pipeline/stages/(deduplicate|connected_components)\.py"),
    ("WARC reading + HTML decoding", r"pipeline/warc/|warcio/"),
    ("packing for shuffles (pickle + zstd)", r"pipeline/accounting/packing\.py"),
    (
        "writing shards + stats",
        r"pipeline/stages/write_shards\.py|pipeline/accounting/(stats|funnel)\.py|pipeline/core/manifest\.py|pyarrow",
    ),
    ("Beam coders (element encode/decode)", r"apache_beam/coders/|cloudpickle|dill/|pickle"),
    ("Beam data plane (gRPC)", r"grpc|data_plane\.py"),
    ("Beam runner + per-element machinery", r"apache_beam/"),
]
OTHER = "other"


def process_kind(header: str) -> str:
    if "pipeline.extraction.sandbox" in header:
        return "extraction sandbox"
    if "sdk_worker_main" in header:
        return "Beam SDK worker"
    if "gristmill.cli" in header or header.endswith(
        ':""'
    ):  # py-spy names the process it launched without a command line
        return "runner (main)"
    return "other"


def parse(raw: Path) -> tuple[Counter, Counter, int]:
    """py-spy raw lines `process A:"cmd";[process B:"cmd";]frame;...;frame COUNT` ->
    (samples by (kind, category), self samples by (kind, leaf frame) outside extraction, total samples)."""
    by_category: Counter = Counter()
    by_leaf: Counter = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        parts = stack.split(";")
        processes = [p for p in parts if p.startswith("process ")]
        frames = [p for p in parts if not p.startswith("process ")]
        kind = process_kind(processes[-1]) if processes else "other"
        joined = ";".join(frames)
        category = next((name for name, pattern in CATEGORIES if re.search(pattern, joined)), OTHER)
        by_category[kind, category] += n
        total += n
        if frames and not category.startswith("extraction"):
            by_leaf[kind, _short(frames[-1])] += n
    return by_category, by_leaf, total


def _short(frame: str) -> str:
    """`fn (/long/path/site-packages/pkg/mod.py:12)` -> `fn (pkg/mod.py)`."""
    match = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if not match:
        return frame
    name, path = match.groups()
    path = re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", path)
    path = path.replace(str(REPO) + "/", "")
    return f"{name} ({path})"


def record(args: argparse.Namespace) -> tuple[Counter, Counter, int, int, float]:
    """Run `gristmill run` under py-spy; (by category, by leaf, total samples, pages, wall seconds)."""
    if not EVAL_DIR.is_dir():
        sys.exit(f"skipped: shared data not found at {EVAL_DIR}")
    if not PY_SPY.exists():
        sys.exit("py-spy not installed: .venv/bin/pip install py-spy")
    corpus, _ = build_corpus(load_pages(args.pages), 1)
    with tempfile.TemporaryDirectory(prefix="gristmill-profile-", dir=REPO / "build") as tmp:
        workdir = Path(tmp)
        shards = workdir / "warc"
        write_shards(corpus, shards)
        config = workdir / "gristmill.yaml"
        config.write_text(yaml.safe_dump(GRISTMILL_CONFIG if args.stages == "datatrove" else {}))
        raw = workdir / "profile.txt"
        command = [
            str(PY_SPY),
            "record",
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            str(args.rate),
            "--nonblocking",
            "-o",
            str(raw),
            "--",
            sys.executable,
            "-m",
            "gristmill.cli",
            "run",
            "--input",
            str(shards),
            "--output",
            str(workdir / "out"),
            "--config",
            str(config),
            "--overwrite",
            "--no-progress",
            f"--direct_num_workers={args.workers}",
            *args.beam_arg,
        ]
        env = {**os.environ, "TMPDIR": str(workdir), "PYTHONPATH": str(REPO)}
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        if args.keep:
            shutil.copyfile(raw, args.keep)
        by_category, by_leaf, total = parse(raw)
    return by_category, by_leaf, total, len(corpus), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=None, help="use the first N eval pages (default: all)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="also copy py-spy's raw output here")
    parser.add_argument(
        "--stages",
        choices=("default", "datatrove"),
        default="default",
        help="the full default pipeline, or only the stages datatrove has (vs_datatrove's config)",
    )
    parser.add_argument("--beam-arg", action="append", default=[], help="extra Beam flag for `gristmill run`")
    parser.add_argument("--from-raw", type=Path, help="tabulate an earlier --keep file instead of running")
    args = parser.parse_args()
    if args.from_raw:
        by_category, by_leaf, total = parse(args.from_raw)
        title, seconds = f"{args.from_raw}", None
    else:
        by_category, by_leaf, total, pages, seconds = record(args)
        title = f"{pages:,} pages, {args.workers} worker(s)"

    rate = args.rate
    kinds = sorted(
        {kind for kind, _ in by_category}, key=lambda k: -sum(n for (kk, _), n in by_category.items() if kk == k)
    )
    print(f"## Profile of `gristmill run`, {title} (py-spy, {rate}/s, CPU samples only)\n")
    wall = f"wall {seconds:.1f} s (under py-spy); " if seconds is not None else ""
    print(f"{wall}sampled CPU {total / rate:.1f} s\n")
    print("| category | " + " | ".join(kinds) + " | all | share |")
    print("|---|" + "---:|" * (len(kinds) + 2))
    categories = [name for name, _ in CATEGORIES] + [OTHER]
    for name in sorted(categories, key=lambda c: -sum(by_category[k, c] for k in kinds)):
        row = [by_category[k, name] for k in kinds]
        if sum(row):
            print(
                f"| {name} | "
                + " | ".join(f"{n / rate:.1f}" for n in row)
                + f" | {sum(row) / rate:.1f} | {sum(row) / total:.0%} |"
            )
    print(f"\nseconds of CPU; top {args.top} functions by self time outside extraction:\n")
    print("| process | function | CPU s | share of all |")
    print("|---|---|---:|---:|")
    for (kind, frame), n in by_leaf.most_common(args.top):
        print(f"| {kind} | `{frame}` | {n / rate:.1f} | {n / total:.1%} |")


if __name__ == "__main__":
    main()
