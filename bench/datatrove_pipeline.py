"""datatrove's FineWeb-style pipeline on a folder of WARC shards, for `vs_datatrove.py`.

    build/datatrove-venv/bin/python bench/datatrove_pipeline.py --input DIR --work DIR --workers N --result FILE

Runs in datatrove's own venv (it cannot share gristmill's: STACK.md), set as
close to gristmill's run as datatrove's classes allow:

    WarcReader | Trafilatura | LanguageFilter | GopherRepetitionFilter | GopherQualityFilter
        | C4QualityFilter | FineWebQualityFilter | JsonlWriter        tasks = WARC shards
    then datatrove's 4-step MinHash (as in `datatrove_minhash.py`) on what the filters kept.

- Trafilatura: favor_precision, no trafilatura-level dedup, a 10 s timeout per page
  in datatrove's extraction sandbox (gristmill: 10 s in its own sandbox).
  datatrove's FineWeb run used the default 1 s; 10 s keeps the kept sets comparable.
- LanguageFilter: lid.176, --languages at score > --min-language-score (gristmill: >=).
- GopherQualityFilter: --stop-words (one list for every language: the caller's union).
- C4QualityFilter(filter_no_terminal_punct=False): FineWeb's setting, and gristmill's.
- The order is FineWeb's (filters, then MinHash); gristmill deduplicates before its
  quality filters. Every filter writes the URLs it drops (exclusion writers), so
  the report can say which datatrove filter dropped a page gristmill kept.

Writes FILE (JSON): seconds per phase, each step's (name, in, out, seconds summed
over tasks) from datatrove's own stats.json, kept [url, language] pairs and
dropped URLs per filter.
"""

import argparse
import json
import time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import (
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LanguageFilter,
)
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig

# gristmill's dedup defaults: word 5-grams, 14 bands x 8 rows, seed 1, 32-bit hashes
MINHASH = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, seed=1, hash_config=HashConfig(precision=32))
EXTRACTION_TIMEOUT_S = 10.0


def url_only(writer, document) -> dict:
    """Exclusion and output adapter: the page's URL (and language), not its text."""
    return {
        "id": document.id,
        "url": document.metadata.get("url", ""),
        "language": document.metadata.get("language", ""),
    }


def dropped_to(work: Path, name: str) -> JsonlWriter:
    return JsonlWriter(str(work / "dropped" / name), adapter=url_only, compression=None)


def _count(value) -> int:
    """A datatrove stat: a number, or a summary dict whose `total` is the count."""
    return int(value.get("total", 0) if isinstance(value, dict) else value)


def steps_of(logging_dir: Path) -> list[tuple[str, int, int, float]]:
    """(step, documents in, documents out, seconds summed over tasks) from an executor's merged stats.json,
    each filter followed by its drops per reason."""
    steps = []
    for step in json.loads((logging_dir / "stats.json").read_text()):
        stats = step["stats"]
        total = _count(stats.get("total", stats.get("documents", 0)))  # a reader counts `documents`
        steps.append(
            (
                step["name"].split(" - ", 1)[-1],
                total,
                _count(stats.get("forwarded", total)),
                step["time_stats"]["total"],
            )
        )
        # a filter's drops by its own reason names (e.g. dropped_gopher_below_alpha_threshold),
        # as (name, count, 0, None)
        steps += [(f"  {key}", _count(value), 0, None) for key, value in stats.items() if key.startswith("dropped_")]
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="folder of *.warc.gz shards")
    parser.add_argument("--work", type=Path, required=True, help="an empty folder for intermediate files and logs")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--languages", required=True, help="comma-separated lid.176 codes to keep")
    parser.add_argument("--min-language-score", type=float, required=True)
    parser.add_argument("--stop-words", required=True, help="space-separated; GopherQualityFilter needs >= 2 of them")
    args = parser.parse_args()
    shards = len(list(args.input.glob("*.warc.gz")))
    work, workers = args.work, args.workers
    filtered = work / "filtered"

    def kept_reader():
        return JsonlReader(str(filtered), glob_pattern="*.jsonl", add_file_path=False)

    stages = {
        "extract + filters": LocalPipelineExecutor(
            [
                WarcReader(str(args.input), glob_pattern="*.warc.gz"),
                Trafilatura(favour_precision=True, deduplicate=False, timeout=EXTRACTION_TIMEOUT_S),
                LanguageFilter(
                    languages=args.languages.split(","),
                    language_threshold=args.min_language_score,
                    exclusion_writer=dropped_to(work, "language"),
                ),
                GopherRepetitionFilter(exclusion_writer=dropped_to(work, "gopher_repetition")),
                GopherQualityFilter(
                    stop_words=args.stop_words.split(), exclusion_writer=dropped_to(work, "gopher_quality")
                ),
                C4QualityFilter(filter_no_terminal_punct=False, exclusion_writer=dropped_to(work, "c4")),
                FineWebQualityFilter(exclusion_writer=dropped_to(work, "fineweb")),
                JsonlWriter(str(filtered), output_filename="${rank}.jsonl", compression=None),
            ],
            tasks=shards,
            workers=workers,
            logging_dir=str(work / "logs/filters"),
        ),
        "minhash signatures": LocalPipelineExecutor(
            [
                kept_reader(),
                MinhashDedupSignature(output_folder=str(work / "signatures"), config=MINHASH, language="en"),
            ],
            tasks=shards,
            workers=workers,
            logging_dir=str(work / "logs/signatures"),
        ),
        "minhash buckets": LocalPipelineExecutor(
            [
                MinhashDedupBuckets(
                    input_folder=str(work / "signatures"), output_folder=str(work / "buckets"), config=MINHASH
                )
            ],
            tasks=MINHASH.num_buckets,
            workers=workers,
            logging_dir=str(work / "logs/buckets"),
        ),
        "minhash cluster": LocalPipelineExecutor(
            [
                MinhashDedupCluster(
                    input_folder=str(work / "buckets"), output_folder=str(work / "remove_ids"), config=MINHASH
                )
            ],
            tasks=1,
            logging_dir=str(work / "logs/cluster"),
        ),
        "minhash filter": LocalPipelineExecutor(
            [
                kept_reader(),
                MinhashDedupFilter(input_folder=str(work / "remove_ids"), exclusion_writer=dropped_to(work, "minhash")),
                JsonlWriter(str(work / "kept"), adapter=url_only, compression=None),
            ],
            tasks=shards,
            workers=workers,
            logging_dir=str(work / "logs/filter"),
        ),
    }
    seconds = {}
    for name, executor in stages.items():
        start = time.perf_counter()
        executor.run()
        seconds[name] = time.perf_counter() - start

    def rows(folder: Path) -> list[dict]:
        return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.open(encoding="utf-8")]

    dropped = {folder.name: [row["url"] for row in rows(folder)] for folder in sorted((work / "dropped").iterdir())}
    kept = [[row["url"], row["language"]] for row in rows(work / "kept")]
    steps = [
        step
        for name in ("filters", "signatures", "buckets", "cluster", "filter")
        for step in steps_of(work / "logs" / name)
    ]
    args.result.write_text(json.dumps({"seconds": seconds, "steps": steps, "kept": kept, "dropped": dropped}))


if __name__ == "__main__":  # the executor starts worker processes that import this file
    main()
