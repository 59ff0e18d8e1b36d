"""Issue 16, "cut the Beam tax": gristmill against bare extraction and datatrove, its scaling and memory.

    .venv/bin/python bench/perf_pipeline.py                  # 1,000 eval pages, 3 repeats (~30 min on 2 cores)
    .venv/bin/python bench/perf_pipeline.py --quick          # 150 pages, 1 repeat: a smoke run (3-5 min)
    .venv/bin/python bench/perf_pipeline.py --skip-datatrove --skip-memory --repeats 5

Input: the first `--pages` trafilatura-eval pages (`harness.load_pages`) plus 15%
planted near-duplicates (`vs_datatrove.build_corpus`), written as ONE Common
Crawl-like WARC (`harness.write_warc`, typed responses): the issue measures one
file, one worker.

Variants, each a process tree timed from launch to exit, pinned to one core
(`taskset -c 0`), run round-robin (bare, full, datatrove's stages, datatrove,
2 workers, bare, full, ...) so a slow spell on the shared machine hits all alike:

- bare trafilatura: `make_extractor(ExtractConfig())` (the pipeline's settings) in a
  plain loop over every page, decoded beforehand as `ReadWarc` decodes it. Its
  process holds all the decoded pages, which its peak RSS includes.
- gristmill, full default: `gristmill run --direct_num_workers 1`, no --config and
  no --direct_running_mode, so the runner's own choice of mode is what is measured.
- gristmill, datatrove's stages: the same with `vs_datatrove.GRISTMILL_CONFIG`.
- datatrove 0.10.1 (`vs_datatrove.run_datatrove`, in its own venv).
- full default, 2 workers, unpinned, on the same pages split into 2 files: the
  scaling run (only meaningful with both cores free, hence the others' CPU share).

Then, unless --skip-memory, one run of the full default on 8x the input (8 edited
copies of every page) in one file, 1 worker, pinned: peak RSS per process kind at
8x against 1x. Prints per variant wall (median, min, max), CPU seconds of the
tree, pages/s, kept documents and the largest process's peak RSS; then the
issue's ratios, each beside its goal: datatrove wall / gristmill wall >= 3,
full-pipeline CPU / bare-extraction CPU <= 1.5, 2-worker scaling >= 85%,
largest process <= 400 MiB at 1x, and 8x / 1x peak <= 1.10.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import pickle
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from harness import (  # bench/
    EVAL_DIR,
    REPO,
    SAMPLE_INTERVAL_S,
    Page,
    PeakRss,
    cpu_snapshot,
    load_pages,
    other_cpu_share,
    process_kind,
    write_warc,
)
from vs_datatrove import (
    DATATROVE_PYTHON,
    GRISTMILL_CONFIG,
    build_corpus,
    gristmill_command,
    pinned,
    place_datatrove_lid,
    run_datatrove,
    run_tree,
)

from pipeline.warc.decoding import charset_from_content_type, decode_html

DEFAULT_PAGES = 1000
QUICK_PAGES = 150
MEMORY_SCALE = 8
# issue 16's goals
GOAL_VS_DATATROVE = 3.0  # datatrove wall / gristmill wall, one core
GOAL_OVERHEAD = 1.5  # full pipeline CPU s / bare extraction CPU s
GOAL_SCALING = 0.85  # (1-worker wall / 2-worker wall) / 2
GOAL_PEAK_MIB = 400  # the largest process at 1x
GOAL_MEMORY_GROWTH = 1.10  # largest process peak, 8x input / 1x

BARE = "bare trafilatura"
FULL = "gristmill, full default"
DATATROVE_STAGES = "gristmill, datatrove's stages"
DATATROVE = "datatrove 0.10.1"
TWO_WORKERS = "gristmill, full default, 2 workers (2 files, unpinned)"

# The bare variant's child: only the extractor's imports, so its process costs what extraction costs.
# argv: pickled [(url, decoded html)], result JSON path.
BARE_LOOP = """
import json, pickle, sys, time
from pipeline.config import ExtractConfig
from pipeline.extraction.extractors import make_extractor
with open(sys.argv[1], "rb") as source:
    pages = pickle.load(source)
extract = make_extractor(ExtractConfig())
cpu, wall = time.process_time(), time.perf_counter()
kept = sum(1 for url, html in pages if extract(html, url).strip())
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
with open(sys.argv[2], "w") as sink:
    json.dump({"kept": kept, "loop_cpu_s": cpu, "loop_wall_s": wall}, sink)
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """One run of one variant: a process tree from launch to exit."""

    seconds: float
    cpu_seconds: float  # user + system of every process in the tree, as last sampled
    others_cpu: float  # other processes' share of all cores meanwhile
    kept: int  # documents written (bare: non-empty texts)
    peak_rss: PeakRss


def largest(peak_rss: PeakRss) -> tuple[str, int]:
    """(kind, peak RSS bytes) of the process kind with the largest peak."""
    kind, (_, peak) = max(peak_rss.items(), key=lambda item: item[1][1])
    return kind, peak


def bare_kind(process, root_pid: int) -> str:
    return "bare trafilatura loop"


def write_bare_input(corpus: list[Page], path: Path) -> int:
    """Decode every page as ReadWarc does and pickle [(url, html)]; returns how many did not decode."""
    decoded = [(page.url, decode_html(page.payload, charset_from_content_type(page.content_type))) for page in corpus]
    with open(path, "wb") as sink:
        pickle.dump([(url, html[0]) for url, html in decoded if html], sink)
    return sum(1 for _, html in decoded if not html)


def run_bare(inputs: Path, pages: int, label: str, workdir: Path, env: dict) -> tuple[Sample, dict]:
    result = workdir / f"bare-{label}.json"
    command = [sys.executable, "-c", BARE_LOOP, str(inputs), str(result)]
    seconds, cpu, others, peaks = run_tree(
        BARE, label, pinned(command, True), env, workdir / f"bare-{label}.log", bare_kind, pages
    )
    loop = json.loads(result.read_text())
    return Sample(seconds, cpu, others, loop["kept"], peaks), loop


def run_gristmill(
    warcs: Path, config: Path | None, workers: int, pin: bool, side: str, label: str, pages: int, workdir: Path, env
) -> Sample:
    """Unlike `vs_datatrove.run_gristmill`: any config, and the runner picks the running mode."""
    output = workdir / f"gristmill-{label}"
    command = gristmill_command(warcs, output, config, workers)
    seconds, cpu, others, peaks = run_tree(
        side, label, pinned(command, pin), env, workdir / f"gristmill-{label}.log", process_kind, pages
    )
    kept = json.loads((output / "stats" / "funnel.json").read_text())["kept"]
    shutil.rmtree(output)
    return Sample(seconds, cpu, others, kept, peaks)


def write_input(corpus: list[Page], folder: Path, files: int) -> Path:
    """The corpus dealt round-robin into `files` WARCs in `folder`; returns the folder."""
    folder.mkdir(parents=True)
    for index in range(files):
        write_warc(corpus[index::files], folder / f"bench-{index:02d}.warc.gz", part_of="bench-perf", typed=True)
    return folder


def median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(s, field) for s in samples)


def max_peak(samples: list[Sample]) -> tuple[str, int]:
    return max((largest(s.peak_rss) for s in samples), key=lambda kind_peak: kind_peak[1])


def print_variants(runs: dict[str, list[Sample]], pages: int) -> None:
    print(
        "| variant | wall s (median) | min | max | CPU s (median) | pages/s | kept "
        "| others' CPU | largest process: peak MiB (kind) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, samples in runs.items():
        walls = [s.seconds for s in samples]
        kind, peak = max_peak(samples)
        print(
            f"| {name} | {statistics.median(walls):.1f} | {min(walls):.1f} | {max(walls):.1f} "
            f"| {median(samples, 'cpu_seconds'):.1f} | {pages / statistics.median(walls):.1f} "
            f"| {samples[-1].kept:,} | {median(samples, 'others_cpu'):.0%} | {peak / 2**20:.0f} ({kind}) |"
        )


def print_memory(by_scale: dict[str, PeakRss]) -> None:
    scales = list(by_scale)
    print(f"\n| {FULL}, 1 worker: process kind (peak RSS, sampled every {SAMPLE_INTERVAL_S} s) | ", end="")
    print(" | ".join(f"{scale}: processes | MiB" for scale in scales) + " |")
    print("|---|" + "---:|---:|" * len(scales))
    for kind in sorted({kind for peaks in by_scale.values() for kind in peaks}):
        cells = [by_scale[scale].get(kind, (0, 0)) for scale in scales]
        print(f"| {kind} | " + " | ".join(f"{count} | {peak / 2**20:.0f}" for count, peak in cells) + " |")


def ratio_row(figure: str, value: float | None, shown: str, goal: str, met: bool | None) -> None:
    verdict = "n/a" if value is None or met is None else ("yes" if met else "no")
    print(f"| {figure} | {shown if value is not None else 'n/a (skipped)'} | {goal} | {verdict} |")


def print_ratios(
    runs: dict[str, list[Sample]], loop: dict, memory: dict[str, PeakRss], scaling_others: float | None
) -> None:
    wall = {name: median(samples, "seconds") for name, samples in runs.items()}
    cpu = {name: median(samples, "cpu_seconds") for name, samples in runs.items()}
    print("\n| figure | value | goal | met |")
    print("|---|---:|---:|---|")
    for name, goal in ((FULL, f">= {GOAL_VS_DATATROVE:g}"), (DATATROVE_STAGES, "(reference: like for like)")):
        value = wall[DATATROVE] / wall[name] if DATATROVE in wall else None
        met = value >= GOAL_VS_DATATROVE if value is not None and name == FULL else None
        ratio_row(f"datatrove wall / {name} wall (one core)", value, f"{value or 0:.2f}x", goal, met)
    if DATATROVE in cpu:
        value = cpu[DATATROVE] / cpu[FULL]
        ratio_row(f"datatrove CPU s / {FULL} CPU s (one core)", value, f"{value:.2f}x", "(reference)", None)
    overhead = cpu[FULL] / cpu[BARE]
    ratio_row(
        f"{FULL} CPU s / {BARE} CPU s (whole processes)",
        overhead,
        f"{overhead:.2f}",
        f"<= {GOAL_OVERHEAD:g}",
        overhead <= GOAL_OVERHEAD,
    )
    median_loop_cpu = statistics.median(loop["loop_cpu_s"])
    ratio_row(
        f"{FULL} CPU s / the bare extraction loop alone (no interpreter start, imports, loading)",
        cpu[FULL] / median_loop_cpu,
        f"{cpu[FULL] / median_loop_cpu:.2f}",
        "(reference)",
        None,
    )
    scaling = wall[FULL] / wall[TWO_WORKERS] / 2 if TWO_WORKERS in wall else None
    ratio_row(
        "2-worker scaling (1-worker wall / 2-worker wall) / 2"
        + (f"; others' CPU during the 2-worker runs {scaling_others:.0%}" if scaling_others is not None else ""),
        scaling,
        f"{scaling or 0:.0%}",
        f">= {GOAL_SCALING:.0%}",
        scaling is not None and scaling >= GOAL_SCALING,
    )
    peak_1x = max_peak(runs[FULL])[1]
    ratio_row(
        f"{FULL}: largest process's peak RSS at 1x",
        peak_1x,
        f"{peak_1x / 2**20:.0f} MiB",
        f"<= {GOAL_PEAK_MIB} MiB",
        peak_1x <= GOAL_PEAK_MIB * 2**20,
    )
    growth = largest(memory[f"{MEMORY_SCALE}x"])[1] / largest(memory["1x"])[1] if len(memory) > 1 else None
    ratio_row(
        f"{FULL}: largest process's peak RSS, {MEMORY_SCALE}x input / 1x (1 file, 1 worker)",
        growth,
        f"{growth or 0:.2f}",
        f"<= {GOAL_MEMORY_GROWTH:g}",
        growth is not None and growth <= GOAL_MEMORY_GROWTH,
    )


def datatrove_available(skip: bool) -> bool:
    if skip:
        return False
    if DATATROVE_PYTHON.exists():
        return True
    from bench_dedup_stage import DATATROVE_SETUP  # imports Beam: only when it is needed

    print(f"datatrove skipped: no venv at {DATATROVE_PYTHON}; create it with\n  {DATATROVE_SETUP}\n", file=sys.stderr)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES, help="the first N eval pages by file name")
    parser.add_argument("--repeats", type=int, default=3, help="round-robin repeats; the median is reported")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_PAGES} pages, 1 repeat")
    parser.add_argument("--skip-datatrove", action="store_true", help="no datatrove runs")
    parser.add_argument("--skip-scaling", action="store_true", help="no 2-worker runs")
    parser.add_argument("--skip-memory", action="store_true", help=f"no {MEMORY_SCALE}x run")
    args = parser.parse_args()
    pages_wanted, repeats = (QUICK_PAGES, 1) if args.quick else (args.pages, args.repeats)
    if repeats < 1 or pages_wanted < 1:
        parser.error("--pages and --repeats must be >= 1")
    if not EVAL_DIR.is_dir():
        sys.exit(f"skipped: shared data not found at {EVAL_DIR}")
    with_datatrove = datatrove_available(args.skip_datatrove)
    start = cpu_snapshot()
    eval_pages = load_pages(pages_wanted)
    corpus, _ = build_corpus(eval_pages, 1)
    pages = len(corpus)
    hf_home = Path(os.environ.get("HF_HOME", REPO / "build" / "cache" / "hf")).resolve()
    if with_datatrove:
        place_datatrove_lid(hf_home)
    (REPO / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gristmill-perf-", dir=REPO / "build") as tmp:
        workdir = Path(tmp)
        # TMPDIR: Beam's file sinks leave an empty beam-temp-* folder behind; keep it in the workdir.
        env = {**os.environ, "HF_HOME": str(hf_home), "TMPDIR": str(workdir), "PYTHONPATH": str(REPO)}
        one_file = write_input(corpus, workdir / "warc-1x", 1)
        two_files = write_input(corpus, workdir / "warc-1x-2files", 2)
        warc_mb = sum(p.stat().st_size for p in one_file.iterdir()) / 1e6
        bare_input = workdir / "bare-input.pickle"
        undecodable = write_bare_input(corpus, bare_input)
        dt_config = workdir / "datatrove-stages.yaml"
        dt_config.write_text(yaml.safe_dump(GRISTMILL_CONFIG))

        runs: dict[str, list[Sample]] = {}
        loop: dict[str, list[float]] = {"loop_cpu_s": [], "loop_wall_s": []}
        for repeat in range(1, repeats + 1):
            label = f"1x-r{repeat}"
            sample, timed = run_bare(bare_input, pages, label, workdir, env)
            runs.setdefault(BARE, []).append(sample)
            for key in loop:
                loop[key].append(timed[key])
            for name, config in ((FULL, None), (DATATROVE_STAGES, dt_config)):
                tag = "full" if config is None else "dt-stages"
                sample = run_gristmill(one_file, config, 1, True, name, f"{tag}-{label}", pages, workdir, env)
                runs.setdefault(name, []).append(sample)
            if with_datatrove:
                taken, _ = run_datatrove(one_file, 1, True, label, pages, workdir, env)
                sample = Sample(taken.seconds, taken.cpu_seconds, taken.others_cpu, len(taken.kept), taken.peak_rss)
                runs.setdefault(DATATROVE, []).append(sample)
            if not args.skip_scaling:
                sample = run_gristmill(two_files, None, 2, False, TWO_WORKERS, f"2w-{label}", pages, workdir, env)
                runs.setdefault(TWO_WORKERS, []).append(sample)
        shutil.rmtree(one_file)
        shutil.rmtree(two_files)

        memory = {"1x": max((s.peak_rss for s in runs[FULL]), key=lambda peaks: largest(peaks)[1])}
        scaled_pages = 0
        if not args.skip_memory:
            scaled, _ = build_corpus(eval_pages, MEMORY_SCALE)
            scaled_pages = len(scaled)
            scaled_warc = write_input(scaled, workdir / f"warc-{MEMORY_SCALE}x", 1)
            del scaled
            label = f"{MEMORY_SCALE}x"
            sample = run_gristmill(scaled_warc, None, 1, True, FULL, label, scaled_pages, workdir, env)
            memory[label] = sample.peak_rss
            shutil.rmtree(scaled_warc)

    dups = sum(1 for page in corpus if "bench_dup=" in page.url)
    print("## Issue 16: the Beam tax (trafilatura-eval pages, planted near-duplicates)\n")
    print(
        f"{os.cpu_count()} cores, other processes used {other_cpu_share(start):.0%} of the CPU during the benchmark; "
        f"{pages:,} pages ({len(eval_pages):,} eval pages + {dups:,} planted near-duplicates, "
        f"{sum(len(p.payload) for p in corpus) / 1e6:.0f} MB of HTML, one {warc_mb:.0f} MB WARC"
        f"{f', {undecodable} not decodable, left out of the bare loop' if undecodable else ''}); "
        f"median of {repeats} round-robin repeat(s); all but the 2-worker runs pinned to core 0; "
        f"trafilatura {importlib.metadata.version('trafilatura')} (gristmill's venv)"
        + (f"; {MEMORY_SCALE}x: {scaled_pages:,} pages, one file" if scaled_pages else "")
        + "\n"
    )
    print_variants(runs, pages)
    scaling_others = median(runs[TWO_WORKERS], "others_cpu") if TWO_WORKERS in runs else None
    print_ratios(runs, loop, memory, scaling_others)
    print_memory(memory)
    print(
        f"\nbare loop alone (inside the bare process): {statistics.median(loop['loop_cpu_s']):.1f} CPU s, "
        f"{statistics.median(loop['loop_wall_s']):.1f} s wall (median)"
    )
    print(f"\ncommand: `{' '.join(['.venv/bin/python', 'bench/perf_pipeline.py', *sys.argv[1:]])}`")
    print(
        "gristmill runs: `python -m gristmill.cli run --input WARC_DIR --output OUT [--config CONFIG] "
        "--overwrite --no-progress --direct_num_workers {1,2}`"
    )


if __name__ == "__main__":
    main()
