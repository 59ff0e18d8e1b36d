"""The whole dedup stage on the DirectRunner, beside datatrove's MinHash dedup on the same documents.

    .venv/bin/python bench/bench_dedup_stage.py                          # 50,000 docs, 1 and 2 workers, gristmill only
    .venv/bin/python bench/bench_dedup_stage.py --datatrove              # and datatrove (build/datatrove-venv)
    .venv/bin/python bench/bench_dedup_stage.py --docs 5000 --workers 2  # a smoke run

Input: N documents of ~2 KB built from real sentences (lingua's Leipzig
sentences, 8 Latin-script languages, one language per document, lines of 1-3
sentences), with planted duplicates at known rates (`PLANTS`): exact copies
(byte-equal, re-cased and re-punctuated, decorated with list symbols), near
copies (a share of words replaced; a sentence dropped and one added; symbols
plus 1% of words) and URL refetches (the same URL fetched later, with new text
or with 1% of words replaced). A plant copies one of the unique documents (an
original may get several plants). Ids are random hex; documents are shuffled
and written as 2 JSONL shards in a temporary folder, removed afterwards.

Runs, each in its own process, its whole process tree sampled by psutil every
0.2 s for peak RSS and CPU seconds per process kind (runner, Beam SDK workers;
datatrove's main and its pool), and the CPU share other processes used
meanwhile ("others": on a shared 2-core machine, timings move with it):

- gristmill, full stage (url + exact + near), once per `--workers` count:
  ReadFromText | parse to Document | Deduplicate | write the Rejections, on the
  DirectRunner in multi_processing mode. Wall = process launch to exit;
  pipeline = `run()` to `wait_until_finish()` (reading the JSONL included).
- gristmill, exact + near (URL dedup off), at the largest worker count: the run
  compared with datatrove, whose MinHash has no URL step and also removes exact
  duplicates (their signatures are equal).
- datatrove 0.10.1 (`--datatrove`), `bench/datatrove_minhash.py` in its own venv,
  at the largest worker count: JsonlReader | signatures, buckets, clusters, filter.

Agreement, gristmill exact + near vs datatrove: the removed sets as they come
(|both|, |only one|, Jaccard), and again after putting both in one convention
(each cluster keeps its smallest id: gristmill's rule; datatrove keeps the root
of its union-find, by cluster size), which compares the clusters rather than
the choice of survivor. Ground truth: for each kind of plant, the share where
the plant or its original was removed, with the plant's true Jaccard (word
5-grams of gristmill's normalized text) averaged; and unrelated groups merged
into one cluster (false positives). MinHash LSH catches a pair of Jaccard s with
probability 1 - (1 - s^8)^14 (0.5 at s ~ 0.72), and the two tools draw different
hash functions, so pairs near the threshold disagree by chance as well as by
normalization: datatrove's `simplify_text` blanks only the characters of its
`PUNCTUATION` list, so symbols such as "•", "·" or "°" stay words (a copy
decorated with list symbols is ~0.54 Jaccard to it, not 1), and its numbers
pattern makes "3.5" one "0" where gristmill's FineWeb normalization makes "0 0";
it then splits words with spaCy's tokenizer, gristmill on spaces. Asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import apache_beam as beam
import psutil
from apache_beam.options.pipeline_options import PipelineOptions
from harness import busy_cpu_seconds  # bench/

from filters.evaluation.near_dup import decorate, replace_words, text_jaccard
from pipeline.config import DedupConfig
from pipeline.core.records import Document, Provenance
from pipeline.stages.deduplicate import Deduplicate

REPO = Path(__file__).resolve().parent.parent
SENTENCES = REPO.parent / "shared" / "data" / "langid" / "lingua" / "sentences"
DATATROVE_PYTHON = REPO / "build" / "datatrove-venv" / "bin" / "python"
DATATROVE_SETUP = (
    "python3 -m venv build/datatrove-venv && build/datatrove-venv/bin/pip install "
    "'datatrove[io,processing]==0.10.1' spacy aiohttp lxml_html_clean"
)
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "sv")
TARGET_CHARS = 2000
SHARDS = 2
SAMPLE_INTERVAL_S = 0.2
NGRAM = 5
# plant kind -> share of all documents (18% in all); exact and near plants get a URL of their own
PLANTS = {
    "exact_copy": 0.02,
    "exact_recased": 0.02,  # lower case, "." -> "!", blank lines: both normalizations fold it away
    # "• " before each line, ", " -> " · ": gristmill folds symbols, datatrove keeps them as words
    "exact_symbols": 0.01,
    "near_words_0.5%": 0.015,
    "near_words_1%": 0.015,
    "near_words_2%": 0.015,
    "near_words_3%": 0.015,
    "near_words_5%": 0.015,
    "near_sentences": 0.015,  # first line dropped, a new sentence appended
    "near_symbols": 0.01,  # symbols as exact_symbols, and 1% of words replaced
    "url_refetch": 0.02,  # the same URL fetched later, with new text
    "url_refetch_edited": 0.01,  # the same URL fetched later, 1% of words replaced
}


def load_pools() -> dict[str, list[str]]:
    return {lang: (SENTENCES / f"{lang}.txt").read_text(encoding="utf-8").splitlines() for lang in LANGUAGES}


def fresh_text(rng: random.Random, pool: list[str]) -> str:
    lines, size = [], 0
    while size < TARGET_CHARS:
        line = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def planted_text(kind: str, rng: random.Random, text: str, pool: list[str]) -> str:
    if kind == "exact_copy":
        return text
    if kind == "exact_recased":
        return text.lower().replace(".", "!").replace("\n", "\n\n")
    if kind == "exact_symbols":
        return decorate(text)
    if kind.startswith("near_words_"):
        return replace_words(rng, text, float(kind.removeprefix("near_words_").rstrip("%")) / 100, pool)
    if kind == "near_sentences":
        return "\n".join(text.split("\n")[1:] + [rng.choice(pool)])
    if kind == "near_symbols":
        return decorate(replace_words(rng, text, 0.01, pool))
    if kind == "url_refetch":
        return fresh_text(rng, pool)
    if kind == "url_refetch_edited":
        return replace_words(rng, text, 0.01, pool)
    raise ValueError(f"unknown plant kind {kind!r}")


def build_corpus(count: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(documents as JSON records, shuffled; planted: {id, original, kind, jaccard})."""
    rng = random.Random(seed)
    pools = load_pools()
    plant_counts = {kind: round(share * count) for kind, share in PLANTS.items()}
    originals = []
    for i in range(count - sum(plant_counts.values())):
        lang = rng.choice(LANGUAGES)
        originals.append(
            {
                "id": hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()[:16],
                "text": fresh_text(rng, pools[lang]),
                "url": f"https://site{rng.randrange(5000)}.test/{lang}/page{i}",
                "fetch_time": f"2024-0{rng.randint(1, 6)}-{rng.randint(10, 28)}T12:00:00Z",
                "lang": lang,
            }
        )
    docs, planted = list(originals), []
    for kind, n in plant_counts.items():
        for _ in range(n):
            original = rng.choice(originals)
            text = planted_text(kind, rng, original["text"], pools[original["lang"]])
            plant_id = hashlib.sha1(f"{seed}:plant{len(planted)}".encode()).hexdigest()[:16]
            is_refetch = kind.startswith("url_")
            url = original["url"] if is_refetch else f"https://copy{rng.randrange(5000)}.test/p{len(planted)}"
            fetch_time = "2024-09-01T12:00:00Z" if is_refetch else original["fetch_time"]
            docs.append({"id": plant_id, "text": text, "url": url, "fetch_time": fetch_time, "lang": original["lang"]})
            planted.append(
                {
                    "id": plant_id,
                    "original": original["id"],
                    "kind": kind,
                    "jaccard": text_jaccard(original["text"], text),
                }
            )
    rng.shuffle(docs)
    return docs, planted


def write_shards(docs: list[dict], folder: Path) -> None:
    folder.mkdir(parents=True)
    for shard in range(SHARDS):
        with (folder / f"{shard:05d}.jsonl").open("w", encoding="utf-8") as out:
            for doc in docs[shard::SHARDS]:
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")


# --- the gristmill run, in a child process ------------------------------------------------------------------------


def document_from_json(line: str) -> Document:
    record = json.loads(line)
    host = record["url"].split("/")[2]
    return Document(
        record["id"],
        record["url"],
        host,
        record["text"],
        Provenance("bench.jsonl", 0, 0, fetch_time=record["fetch_time"]),
    )


def run_gristmill(input_glob: str, output: Path, workers: int, url: bool) -> None:
    """Child process: ReadFromText | Deduplicate | write Rejections; a JSON summary to output/result.json."""
    options = PipelineOptions(
        [
            "--runner=DirectRunner",
            "--direct_running_mode=multi_processing",
            f"--direct_num_workers={workers}",
            "--default_sdk_harness_log_level=ERROR",
        ]
    )
    p = beam.Pipeline(options=options)
    dedup = Deduplicate(DedupConfig(url=url))
    out = p | "Read" >> beam.io.ReadFromText(input_glob) | "Parse" >> beam.Map(document_from_json) | dedup
    (
        out.dropped
        | "FormatDropped" >> beam.Map(lambda r: json.dumps([r.id, r.reason.value, r.detail.removeprefix("kept=")]))
        | "WriteDropped" >> beam.io.WriteToText(str(output / "dropped"))
    )
    out.kept | "CountKept" >> beam.combiners.Count.Globally() | "WriteKept" >> beam.io.WriteToText(str(output / "kept"))
    dedup.stats | "FormatStats" >> beam.Map(json.dumps) | "WriteStats" >> beam.io.WriteToText(str(output / "stats"))
    start = time.perf_counter()
    p.run().wait_until_finish()
    seconds = time.perf_counter() - start

    def lines(prefix: str) -> list[str]:
        return [line for path in sorted(glob.glob(str(output / prefix) + "*")) for line in open(path, encoding="utf-8")]

    result = {
        "pipeline_seconds": seconds,
        "dropped": [json.loads(line) for line in lines("dropped")],
        "kept": int(lines("kept")[0]),
        "stats": json.loads(lines("stats")[0]),
    }
    (output / "result.json").write_text(json.dumps(result))


# --- measuring a child process tree --------------------------------------------------------------------------------


def process_kind(process: psutil.Process, root_pid: int) -> str:
    if process.pid == root_pid:
        return "main"
    if process.name() == "sh":
        return "/bin/sh wrapper"
    cmdline = " ".join(process.cmdline())
    if "sdk_worker_main" in cmdline:
        return "Beam SDK worker"
    return f"worker ({process.name()})"


def measure(command: list[str]) -> tuple[float, float, dict[str, tuple[int, int, float]]]:
    """Run command to completion: (wall seconds, other processes' CPU share meanwhile,
    process kind -> (processes seen, peak RSS bytes of the largest, CPU seconds of all as last sampled))."""
    seen: dict[int, tuple[str, int, float]] = {}  # pid -> (kind, peak RSS, CPU seconds)
    machine_start, own_start = busy_cpu_seconds(), time.process_time()
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(child.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in tree:
                try:
                    kind, peak, _ = seen.get(process.pid) or (process_kind(process, child.pid), 0, 0.0)
                    with process.oneshot():
                        times = process.cpu_times()
                        seen[process.pid] = (kind, max(peak, process.memory_info().rss), times.user + times.system)
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            done.wait(SAMPLE_INTERVAL_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = child.communicate()[0]
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if child.returncode != 0:
        sys.exit(f"failed ({child.returncode}): {' '.join(command)}\n{output[-4000:]}")
    by_kind: dict[str, tuple[int, int, float]] = {}
    for kind, peak, cpu in seen.values():
        count, best, total = by_kind.get(kind, (0, 0, 0.0))
        by_kind[kind] = (count + 1, max(best, peak), total + cpu)
    # the tree's CPU as sampled, not os.times(): a pool worker reaped by an orphaned forkserver never reaches our
    # children times
    ours = sum(cpu for _, _, cpu in seen.values()) + time.process_time() - own_start
    others = max(busy_cpu_seconds() - machine_start - ours, 0.0) / (seconds * (os.cpu_count() or 1))
    return seconds, others, by_kind


# --- comparing removed sets ----------------------------------------------------------------------------------------


def gristmill_clusters(dropped: list[list[str]], reasons: set[str]) -> dict[str, str]:
    """Removed id -> the kept document of its cluster, following `kept=` (an exact duplicate's survivor may be a
    near one)."""
    kept_by = {doc_id: survivor for doc_id, reason, survivor in dropped if reason in reasons}

    def root(doc_id: str) -> str:
        while doc_id in kept_by:
            doc_id = kept_by[doc_id]
        return doc_id

    return {doc_id: root(doc_id) for doc_id in kept_by}


def canonical_removed(label_of: dict[str, object]) -> set[str]:
    """Every clustered document but the smallest id of its cluster: label_of maps a clustered id to its cluster."""
    members = collections.defaultdict(list)
    for doc_id, label in label_of.items():
        members[label].append(doc_id)
    return {doc_id for group in members.values() for doc_id in sorted(group)[1:]}


def agreement(a: set[str], b: set[str]) -> str:
    union = a | b
    return (
        f"both {len(a & b):,} | only gristmill {len(a - b):,} | only datatrove {len(b - a):,} | "
        f"Jaccard {len(a & b) / len(union) if union else 1.0:.4f}"
    )


def ground_truth_table(planted: list[dict], removed: dict[str, set[str]]) -> None:
    """Per plant kind: the share caught (the plant or its original removed) by each tool."""
    tools = list(removed)
    print(
        "\n| plant kind | plants | mean true Jaccard | expected by LSH | "
        + " | ".join(f"caught: {t}" for t in tools)
        + " |"
    )
    print("|---|---:|---:|---:|" + "---:|" * len(tools))
    by_kind = collections.defaultdict(list)
    for plant in planted:
        by_kind[plant["kind"]].append(plant)
    for kind, plants in by_kind.items():
        mean = sum(p["jaccard"] for p in plants) / len(plants)
        expected = sum(1 - (1 - p["jaccard"] ** 8) ** 14 for p in plants) / len(plants)
        cells = [
            f"{sum(1 for p in plants if p['id'] in gone or p['original'] in gone) / len(plants):.1%}"
            for gone in removed.values()
        ]
        print(f"| {kind} | {len(plants):,} | {mean:.3f} | {expected:.1%} | " + " | ".join(cells) + " |")


def false_merges(planted: list[dict], labels: dict[str, object]) -> int:
    """Clusters holding documents of more than one planted group (or of none): duplicates that were not planted."""
    group_of = {p["id"]: p["original"] for p in planted if p["kind"] != "url_refetch"}
    groups = collections.defaultdict(set)
    for doc_id, label in labels.items():
        groups[label].add(group_of.get(doc_id, doc_id))
    return sum(1 for origins in groups.values() if len(origins) > 1)


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated DirectRunner worker counts (default 1,2)")
    parser.add_argument(
        "--datatrove", action="store_true", help="also run datatrove's MinHash dedup (needs build/datatrove-venv)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=4, metavar=("GLOB", "OUT", "WORKERS", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        input_glob, output, workers, url = args.child
        run_gristmill(input_glob, Path(output), int(workers), url == "url")
        return
    workers = [int(w) for w in args.workers.split(",")]
    if args.datatrove and not DATATROVE_PYTHON.exists():
        print(
            f"skipping datatrove: {DATATROVE_PYTHON.relative_to(REPO)} does not exist; create it with\n"
            f"  {DATATROVE_SETUP}\n"
        )
        args.datatrove = False
    work = Path(tempfile.mkdtemp(prefix="gristmill-bench-dedup-"))
    try:
        start = time.perf_counter()
        docs, planted = build_corpus(args.docs, args.seed)
        write_shards(docs, work / "docs")
        chars = sum(len(d["text"]) for d in docs) / len(docs)
        print(
            f"{len(docs):,} documents, {chars:,.0f} chars on average, {len(planted):,} planted duplicates, "
            f"{SHARDS} JSONL shards ({sum(f.stat().st_size for f in (work / 'docs').iterdir()) / 2**20:,.0f} MiB), "
            f"built in {time.perf_counter() - start:.0f} s"
        )
        runs = {}  # label -> (wall seconds, peaks, result)
        plan = [(f"gristmill url+exact+near, {w} worker{'s' * (w > 1)}", w, "url") for w in workers]
        plan.append((f"gristmill exact+near, {max(workers)} worker{'s' * (max(workers) > 1)}", max(workers), "no-url"))
        for label, w, url in plan:
            out = work / f"gristmill-{w}-{url}"
            out.mkdir()
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                str(work / "docs" / "*.jsonl"),
                str(out),
                str(w),
                url,
            ]
            seconds, others, peaks = measure(command)
            runs[label] = (seconds, others, peaks, json.loads((out / "result.json").read_text()))
            print(f"  {label}: {seconds:.0f} s", flush=True)
        if args.datatrove:
            w = max(workers)
            label = f"datatrove minhash, {w} worker{'s' * (w > 1)}"
            result_path = work / "datatrove.json"
            command = [
                str(DATATROVE_PYTHON),
                str(REPO / "bench" / "datatrove_minhash.py"),
                "--input",
                str(work / "docs"),
                "--work",
                str(work / "datatrove"),
                "--workers",
                str(w),
                "--result",
                str(result_path),
            ]
            seconds, others, peaks = measure(command)
            runs[label] = (seconds, others, peaks, json.loads(result_path.read_text()))
            print(f"  {label}: {seconds:.0f} s", flush=True)
        report(runs, docs, planted)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(runs: dict, docs: list[dict], planted: list[dict]) -> None:
    others_cpu = sum(seconds * others for seconds, others, *_ in runs.values()) / sum(
        seconds for seconds, *_ in runs.values()
    )
    print(
        f"\nother processes used {others_cpu:.0%} of the machine's {os.cpu_count()} cores during the runs "
        "(per run: 'others' below; timings move with it)\n"
    )
    print("| run | wall s (launch to exit) | others | pipeline s | docs/s (wall) | url / exact / near dropped | kept |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, (seconds, others, _, result) in runs.items():
        if label.startswith("gristmill"):
            reasons = collections.Counter(reason for _, reason, _ in result["dropped"])
            dropped = " / ".join(f"{reasons[r]:,}" for r in ("url_duplicate", "exact_duplicate", "near_duplicate"))
            print(
                f"| {label} | {seconds:.1f} | {others:.0%} | {result['pipeline_seconds']:.1f} "
                f"| {len(docs) / seconds:,.0f} | {dropped} | {result['kept']:,} |"
            )
        else:
            stages = ", ".join(f"{name} {s:.1f}" for name, s in result["seconds"].items())
            print(
                f"| {label} | {seconds:.1f} | {others:.0%} | {sum(result['seconds'].values()):.1f} ({stages}) "
                f"| {len(docs) / seconds:,.0f} "
                f"| {len(result['removed']):,} removed | {len(docs) - len(result['removed']):,} |"
            )
    print(
        "\nDeduplicate.stats: "
        + "; ".join(
            f"{label}: {result['stats']}" for label, (*_, result) in runs.items() if label.startswith("gristmill")
        )
    )
    print("\n| run | process kind | processes | peak RSS MiB (largest one) | CPU s (all of them) |")
    print("|---|---|---:|---:|---:|")
    for label, (_, _, peaks, _) in runs.items():
        for kind, (count, peak, cpu) in sorted(peaks.items()):
            print(f"| {label} | {kind} | {count} | {mib(peak)} | {cpu:.1f} |")
    comparison = next(label for label in runs if label.startswith("gristmill exact+near"))
    grist = gristmill_clusters(runs[comparison][-1]["dropped"], {"exact_duplicate", "near_duplicate"})
    grist_labels = {**grist, **{survivor: survivor for survivor in grist.values()}}
    cluster_of = {"gristmill": grist_labels}
    removed = {"gristmill": set(grist)}
    full = next(label for label in runs if label.startswith("gristmill url+exact+near"))
    datatrove = next((label for label in runs if label.startswith("datatrove")), None)
    if datatrove:
        trove = runs[datatrove][-1]
        cluster_of["datatrove"] = trove["cluster_of"]
        removed["datatrove"] = set(trove["removed"])
        print(f"\nremoved sets, {comparison} vs {datatrove}:")
        print(f"  as removed:           {agreement(set(grist), set(trove['removed']))}")
        ours, theirs = canonical_removed(grist_labels), canonical_removed(trove["cluster_of"])
        print(f"  smallest id kept:     {agreement(ours, theirs)}")
        kind_of = {p["id"]: p["kind"] for p in planted}
        plants_of = collections.defaultdict(set)
        for plant in planted:
            plants_of[plant["original"]].add(plant["kind"])
        for name, ids in (("only gristmill", ours - theirs), ("only datatrove", theirs - ours)):
            # a removed original counts under its plants' kind (an original with plants of several kinds: "mixed")
            kinds = collections.Counter(
                kind_of.get(doc_id) or (min(plants_of[doc_id]) if len(plants_of[doc_id]) == 1 else "mixed")
                for doc_id in ids
            )
            print(
                f"    {name}, by plant kind (plant or its original): "
                + ", ".join(f"{kind} {n:,}" for kind, n in kinds.most_common())
            )
    removed["gristmill, URL dedup on"] = {doc_id for doc_id, _, _ in runs[full][-1]["dropped"]}
    print(
        "\nground truth: caught = the plant or its original removed; expected = the mean of 1 - (1 - s^8)^14 over the\n"
        "kind's plants (s: true Jaccard of gristmill's shingles). "
        "url_refetch has new text: a text dedup catches none; a\n"
        "share > 0 there means the original went as a copy of one of its other plants."
    )
    ground_truth_table(planted, removed)
    for tool, labels in cluster_of.items():
        print(
            f"  {tool}: {len(set(labels.values())):,} clusters; "
            f"clusters merging unrelated documents: {false_merges(planted, labels)}"
        )


if __name__ == "__main__":
    main()
