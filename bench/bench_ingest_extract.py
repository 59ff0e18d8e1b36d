"""Ingest + extraction benchmark on the 1,033 real pages of trafilatura-eval.

    .venv/bin/python bench/bench_ingest_extract.py [--pages N] [--repeats R] [--quick]

Builds a Common Crawl-like WARC (one gzip member per record, request + response)
in a temp folder, then measures on this machine, each the same way (wall clock,
pages/s = HTML pages / seconds): bare trafilatura (also with `extract.fast`) and
resiliparse loops in-process with the pipeline's extractor settings; the full pipeline on
the DirectRunner (the runner's default mode) with 1 and 2 workers, and its fixed start-up cost
on a 5-page WARC; peak RSS per process kind; extraction quality against the
snippets of evaldata.json. Repeats run round-robin and report the median.
Prints Markdown; asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from extraction_quality import Quality, score_quality  # bench/, next to this file
from harness import (  # bench/, next to this file
    EVAL_DIR,
    REPO,
    SAMPLE_INTERVAL_S,
    Page,
    PeakRss,
    TreeRssSampler,
    cpu_snapshot,
    load_pages,
    other_cpu_share,
    write_warc,
)

from pipeline.config import load_config
from pipeline.extraction.extractors import make_extractor
from pipeline.warc.decoding import charset_from_content_type, decode_html

QUICK_PAGES = 150
STARTUP_PAGES = 5  # small enough that the run is almost all fixed cost
# extractor variants: name -> ExtractConfig changes from the run's config (`extract.fast`: no fallback extractors)
BACKENDS = {"trafilatura": {}, "trafilatura fast": {"fast": True}, "resiliparse": {"backend": "resiliparse"}}
WORKER_COUNTS = (1, 2)
GOAL_OVERHEAD = 1.3  # pipeline 1-worker time / bare trafilatura time
GOAL_SCALING = 0.85  # (rate with 2 workers / rate with 1) / 2


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """One timed run."""

    pages: int
    seconds: float
    docs: int  # non-empty texts (bare loops) or documents written (pipeline)
    peak_rss: PeakRss = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Measurement:
    """The repeats of one run, summarized by the median time."""

    samples: tuple[Sample, ...]

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rate(self) -> float:
        return self.samples[0].pages / self.seconds

    def peak_rss(self, kind: str) -> tuple[int, int]:
        """(most processes of this kind in one run, largest RSS in any run)."""
        seen = [s.peak_rss.get(kind, (0, 0)) for s in self.samples]
        return max(count for count, _ in seen), max(peak for _, peak in seen)


def time_bare(extract, decoded: list[str], pages: list[Page]) -> tuple[Sample, list[str]]:
    """One in-process loop over pages decoded beforehand, exactly as ReadWarc decodes them."""
    start = time.perf_counter()
    texts = [extract(html, page.url) for html, page in zip(decoded, pages)]
    seconds = time.perf_counter() - start
    return Sample(len(pages), seconds, sum(1 for t in texts if t.strip())), texts


def pipeline_command(warc: Path, output: Path, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gristmill.cli",
        "run",
        "--input",
        str(warc),
        "--output",
        str(output),
        "--overwrite",
        "--no-progress",
        f"--direct_num_workers={workers}",
    ]


def time_pipeline(warc: Path, pages: int, workers: int, workdir: Path) -> Sample:
    """Wall clock of one `gristmill run` process, from launch to exit, sampling its process tree."""
    output = workdir / f"out-{warc.stem}-{workers}"
    log_path = workdir / f"{output.name}.log"
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        # TMPDIR: Beam's file sinks leave an empty beam-temp-* folder behind; keep it in the workdir.
        env = {**os.environ, "TMPDIR": str(workdir)}
        process = subprocess.Popen(
            pipeline_command(warc, output, workers), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        sampler = TreeRssSampler(process.pid)
        while True:
            sampler.sample()
            try:
                process.wait(timeout=SAMPLE_INTERVAL_S)
                break
            except subprocess.TimeoutExpired:
                pass
        seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(
            f"gristmill run on {warc.name} with {workers} worker(s) exited {process.returncode}:\n"
            f"{log_path.read_text()[-3000:]}"
        )
    funnel = json.loads((output / "stats" / "funnel.json").read_text())
    return Sample(pages, seconds, funnel["kept"], sampler.peaks_by_kind())


def bare_label(backend: str) -> str:
    return f"bare {backend} (in-process loop)"


def pipeline_label(workers: int, *, startup: bool = False) -> str:
    plural = "s" if workers > 1 else ""
    return (
        f"pipeline start-up, {workers} worker{plural}, {STARTUP_PAGES} pages"
        if startup
        else f"pipeline, {workers} worker{plural}"
    )


def print_report(
    command: str,
    pages: list[Page],
    warc: Path,
    runs: dict[str, Measurement],
    quality: dict[str, Quality],
    others_cpu: float,
) -> None:
    repeats = len(next(iter(runs.values())).samples)
    print("## Ingest + extraction benchmark (trafilatura-eval pages)\n")
    print(
        f"{os.cpu_count()} cores, other processes used {others_cpu:.0%} of the CPU meanwhile; {len(pages):,} pages, "
        f"{sum(len(p.payload) for p in pages) / 1e6:.1f} MB of HTML; WARC {warc.stat().st_size / 1e6:.1f} MB gzip, "
        f"{2 * len(pages) + 1:,} records; median of {repeats} round-robin repeat(s)\n"
    )
    print("| run | pages | seconds | range (s) | pages/s | docs | docs/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, m in runs.items():
        times = [s.seconds for s in m.samples]
        spread = f"{min(times):.1f}-{max(times):.1f}" if repeats > 1 else "-"
        docs = m.samples[-1].docs
        print(
            f"| {label} | {m.samples[0].pages:,} | {m.seconds:.2f} | {spread} | {m.rate:.1f} "
            f"| {docs:,} | {docs / m.seconds:.1f} |"
        )

    bare = runs[bare_label("trafilatura")].seconds
    t1, t2 = (runs[pipeline_label(w)].seconds for w in WORKER_COUNTS)
    s1, s2 = (runs[pipeline_label(w, startup=True)].seconds for w in WORKER_COUNTS)
    net = t1 - s1 > s1 and t2 - s2 > s2  # else start-up dominates and the difference is noise
    overhead_net = f"{(t1 - s1) / bare:.2f}" if net else "n/a (too few pages)"
    scaling_net = f"{(t1 - s1) / (t2 - s2) / 2:.0%}" if net else "n/a (too few pages)"
    print("\n| figure | as measured | start-up subtracted | goal |")
    print("|---|---:|---:|---:|")
    print(f"| pipeline 1 worker time / bare trafilatura time | {t1 / bare:.2f} | {overhead_net} | <= {GOAL_OVERHEAD} |")
    print(
        f"| 2-worker scaling efficiency (rate2 / rate1) / 2 | {t1 / t2 / 2:.0%} | {scaling_net} "
        f"| >= {GOAL_SCALING:.0%} |"
    )
    print(f"| fixed start-up ({STARTUP_PAGES}-page WARC), 1 / 2 workers | {s1:.2f} s / {s2:.2f} s | | |")

    pipelines = [runs[pipeline_label(w)] for w in WORKER_COUNTS]
    print(
        f"\n| process kind (peak RSS, sampled every {SAMPLE_INTERVAL_S} s) "
        "| 1 worker: processes | MiB | 2 workers: processes | MiB |"
    )
    print("|---|---:|---:|---:|---:|")
    for kind in sorted({kind for m in pipelines for s in m.samples for kind in s.peak_rss}):
        cells = [f"{count} | {peak / 2**20:.0f}" for count, peak in (m.peak_rss(kind) for m in pipelines)]
        print(f"| {kind} | {' | '.join(cells)} |")

    annotated = next(iter(quality.values())).pages
    print(f"\n| extraction quality ({annotated:,} annotated pages) | pages/s | `with` found | `without` absent | F1 |")
    print("|---|---:|---:|---:|---:|")
    for backend, q in quality.items():
        print(
            f"| {backend} | {runs[bare_label(backend)].rate:.1f} | {q.with_found:.1%} "
            f"| {q.without_absent:.1%} | {q.f1:.3f} |"
        )

    print(f"\ncommand: `{command}`")
    shown = " ".join(pipeline_command(Path("WARC"), Path("OUT"), 1)[1:]).replace(
        "--direct_num_workers=1", "--direct_num_workers={1,2}"
    )
    print(f"pipeline runs: `python {shown}`")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=None, help="use the first N pages by file name (default: all)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="round-robin repeats of every run; the median is reported (default: 3)"
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_PAGES} pages, one repeat")
    args = parser.parse_args()
    if args.repeats < 1 or (args.pages is not None and args.pages < STARTUP_PAGES):
        parser.error(f"--repeats must be >= 1 and --pages >= {STARTUP_PAGES}")
    if not EVAL_DIR.is_dir():
        sys.exit(f"skipped: shared data not found at {EVAL_DIR}")
    start = cpu_snapshot()
    pages = load_pages(QUICK_PAGES if args.quick else args.pages)
    repeats = 1 if args.quick else args.repeats
    config = load_config().extract  # the settings `gristmill run` uses
    extractors = {name: make_extractor(dataclasses.replace(config, **changes)) for name, changes in BACKENDS.items()}
    decoded = [decode_html(page.payload, charset_from_content_type(page.content_type))[0] for page in pages]

    samples: dict[str, list[Sample]] = {}
    texts: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="gristmill-bench-") as tmp:
        workdir = Path(tmp)
        warc, tiny = workdir / "bench.warc.gz", workdir / "tiny.warc.gz"
        write_warc(pages, warc)
        write_warc(pages[:STARTUP_PAGES], tiny)
        for repeat in range(repeats):
            # Round-robin, so a slow spell on the machine spreads over every run.
            for backend, extract in extractors.items():
                sample, texts[backend] = time_bare(extract, decoded, pages)
                samples.setdefault(bare_label(backend), []).append(sample)
            for workers in WORKER_COUNTS:
                sample = time_pipeline(tiny, STARTUP_PAGES, workers, workdir)
                samples.setdefault(pipeline_label(workers, startup=True), []).append(sample)
            for workers in WORKER_COUNTS:
                samples.setdefault(pipeline_label(workers), []).append(
                    time_pipeline(warc, len(pages), workers, workdir)
                )
            print(f"repeat {repeat + 1}/{repeats} done", file=sys.stderr)
        runs = {label: Measurement(tuple(taken)) for label, taken in samples.items()}
        quality = {
            backend: score_quality((p.snippets, t) for p, t in zip(pages, texts[backend]) if p.snippets)
            for backend in BACKENDS
        }
        command = " ".join([".venv/bin/python", "bench/bench_ingest_extract.py", *sys.argv[1:]])
        print_report(command, pages, warc, runs, quality, other_cpu_share(start))


if __name__ == "__main__":
    main()
