"""datatrove's MinHash dedup on a folder of JSONL shards, for `bench_dedup_stage.py`.

    build/datatrove-venv/bin/python bench/datatrove_minhash.py --input DIR --work DIR --workers N --result FILE

Runs in datatrove's own venv (it cannot share gristmill's: STACK.md). The four
stages of datatrove's `examples/minhash_deduplication.py`, one
`LocalPipelineExecutor` each, run one after the other:

    JsonlReader | MinhashDedupSignature     tasks = shards (a task reads one shard)
    MinhashDedupBuckets                     tasks = num_buckets
    MinhashDedupCluster                     1 task, with cluster ids
    JsonlReader | MinhashDedupFilter        tasks = shards; removed documents go to an exclusion writer

configured as gristmill's defaults as far as `MinhashConfig` allows: word
5-grams, 14 buckets x 8 hashes, 32-bit hash values (gristmill's signatures are
datasketch's 32-bit ones; FineWeb's run used 64), seed 1, default
`TextNormConfig` (its `simplify_text`) and English spaCy word tokenizer.

Writes FILE (JSON): seconds per stage and in all, the removed ids (from the
exclusion writer) and `cluster_of`: id -> cluster id for every document in a
duplicate cluster, read from stage 3's `.clusters` files and mapped back to ids
by each shard's line order (the order datatrove numbers documents in).
"""

import argparse
import json
import struct
import time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig

CONFIG = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, seed=1, hash_config=HashConfig(precision=32))


def id_only(writer, document) -> dict:
    """Exclusion writer adapter: the removed document's id, not its text."""
    return {"id": document.id}


def cluster_of(input_dir: Path, clusters_dir: Path) -> dict[str, int]:
    """id -> datatrove cluster id, for every document stage 3 put in a cluster."""
    shards = sorted(input_dir.glob("*.jsonl"))
    found = {}
    for rank, shard in enumerate(shards):
        path = clusters_dir / f"{rank:06d}.clusters"
        if not path.exists():
            continue
        ids = [json.loads(line)["id"] for line in shard.open(encoding="utf-8")]
        data = path.read_bytes()
        for doc_index, cluster in struct.iter_unpack("<2I", data):
            found[ids[doc_index]] = cluster
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="folder of *.jsonl shards ({id, text, ...} per line)")
    parser.add_argument(
        "--work", type=Path, required=True, help="an empty folder for signatures, buckets, clusters, logs"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    shards = len(list(args.input.glob("*.jsonl")))
    work = args.work

    def reader():
        return JsonlReader(str(args.input), glob_pattern="*.jsonl", add_file_path=False)

    stages = {
        "signatures": LocalPipelineExecutor(
            [reader(), MinhashDedupSignature(output_folder=str(work / "signatures"), config=CONFIG, language="en")],
            tasks=shards,
            workers=args.workers,
            logging_dir=str(work / "logs/signatures"),
        ),
        "buckets": LocalPipelineExecutor(
            [
                MinhashDedupBuckets(
                    input_folder=str(work / "signatures"), output_folder=str(work / "buckets"), config=CONFIG
                )
            ],
            tasks=CONFIG.num_buckets,
            workers=args.workers,
            logging_dir=str(work / "logs/buckets"),
        ),
        "cluster": LocalPipelineExecutor(
            [
                MinhashDedupCluster(
                    input_folder=str(work / "buckets"),
                    output_folder=str(work / "remove_ids"),
                    config=CONFIG,
                    save_cluster_id=True,
                )
            ],
            tasks=1,
            logging_dir=str(work / "logs/cluster"),
        ),
        "filter": LocalPipelineExecutor(
            [
                reader(),
                MinhashDedupFilter(
                    input_folder=str(work / "remove_ids"),
                    exclusion_writer=JsonlWriter(str(work / "removed"), adapter=id_only, compression=None),
                ),
            ],
            tasks=shards,
            workers=args.workers,
            logging_dir=str(work / "logs/filter"),
        ),
    }
    seconds = {}
    for name, executor in stages.items():
        start = time.perf_counter()
        executor.run()
        seconds[name] = time.perf_counter() - start
    removed = [json.loads(line)["id"] for path in sorted((work / "removed").glob("*.jsonl")) for line in path.open()]
    result = {"seconds": seconds, "removed": removed, "cluster_of": cluster_of(args.input, work / "remove_ids")}
    args.result.write_text(json.dumps(result))


if __name__ == "__main__":  # the executor starts worker processes that import this file
    main()
