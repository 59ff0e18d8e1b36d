"""Documents to packed token shards: one `.bin` + `.idx` per input Parquet shard, then tokens_manifest.json.

Streaming: a shard is read `batch_rows` documents at a time, encoded, and appended to
its `.bin`, so memory holds one batch plus the shard's document offsets (8 bytes a
document). Shards are independent tasks for a process pool; the output does not
depend on the number of workers. Every file is written under a temporary name and
renamed, and tokens_manifest.json comes last, so a reader never takes a half-written
folder for a finished one. The format is described in `trainer/token_shards.py`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import json
import multiprocessing
import os
import shutil
import sys
import time
import uuid

import numpy as np

from trainer.corpus import Corpus, Storage, iter_texts, mixture_phases
from trainer.token_shards import (
    INDEX_DTYPE,
    TOKENS_FORMAT,
    TOKENS_FORMAT_VERSION,
    TOKENS_MANIFEST,
    shard_names,
    token_dtype,
)
from trainer.tokenizer import load_tokenizer


class TokenizeError(ValueError):
    """The output folder or an input shard cannot be used."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TokenizeConfig:
    workers: int = 1
    """Processes tokenizing shards in parallel; 1 tokenizes in this process (with the tokenizer's own threads)."""
    batch_rows: int = 256
    """Documents read, encoded and written at a time: bounds memory per worker."""
    overwrite: bool = False
    """Replace an earlier tokenize output in the folder."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise TokenizeError(f"workers: must be >= 1, not {self.workers}")
        if self.batch_rows < 1:
            raise TokenizeError(f"batch_rows: must be >= 1, not {self.batch_rows}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ShardTask:
    """One input Parquet shard to tokenize into `bin_path` / `idx_path` (relative to `out_dir`)."""

    source: str
    uri: str
    bin_path: str
    idx_path: str
    out_dir: str
    tokenizer_dir: str
    storage: Storage
    batch_rows: int


def tokenize_shard(task: ShardTask) -> dict:
    """Tokenize one shard; return its `files` entry for tokens_manifest.json."""
    tokenizer = load_tokenizer(task.tokenizer_dir)
    dtype = token_dtype(tokenizer.vocab_size)
    eot = np.array([tokenizer.eot_id], dtype=dtype)
    bin_final, idx_final = (os.path.join(task.out_dir, p) for p in (task.bin_path, task.idx_path))
    os.makedirs(os.path.dirname(bin_final), exist_ok=True)
    suffix = f".tmp-{uuid.uuid4().hex}"
    offsets = [0]
    try:
        with open(bin_final + suffix, "wb") as sink:
            for texts in iter_texts(task.storage, task.uri, batch_rows=task.batch_rows):
                pieces = []
                for ids in tokenizer.encode_batch(texts):
                    pieces += (np.asarray(ids, dtype=dtype), eot)
                    offsets.append(offsets[-1] + len(ids) + 1)
                if pieces:
                    np.concatenate(pieces).tofile(sink)
        np.asarray(offsets, dtype=INDEX_DTYPE).tofile(idx_final + suffix)
    except (OSError, ValueError) as err:  # pyarrow: FileNotFoundError, ArrowInvalid (a ValueError) on a bad file
        for path in (bin_final + suffix, idx_final + suffix):
            if os.path.exists(path):
                os.remove(path)
        raise TokenizeError(f"{task.uri}: {err}") from err
    os.replace(bin_final + suffix, bin_final)
    os.replace(idx_final + suffix, idx_final)
    return {
        "path": task.bin_path,
        "index": task.idx_path,
        "source": task.source,
        "documents": len(offsets) - 1,
        "tokens": offsets[-1],
    }


def tokenize_corpus(
    corpus: Corpus, tokenizer_dir: str, out_dir: str, config: TokenizeConfig, *, version: str, progress=None
) -> dict:
    """Tokenize every shard of `corpus` into `out_dir`; write and return tokens_manifest.json.

    `progress(done_shards, total_shards, documents, tokens)` is called after each shard.
    """
    tokenizer = load_tokenizer(tokenizer_dir)  # fails early, before any worker starts
    _prepare_output(out_dir, overwrite=config.overwrite)
    tasks, numbers = [], {}
    for shard in corpus.shards:
        number = numbers[shard["domain"]] = numbers.get(shard["domain"], -1) + 1
        bin_path, idx_path = shard_names(shard["domain"], number)
        tasks.append(
            ShardTask(
                source=shard["path"],
                uri=corpus.shard_uri(shard),
                bin_path=bin_path,
                idx_path=idx_path,
                out_dir=out_dir,
                tokenizer_dir=tokenizer_dir,
                storage=corpus.storage,
                batch_rows=config.batch_rows,
            )
        )
    entries: list[dict | None] = [None] * len(tasks)
    documents = tokens = 0
    for done, (i, entry) in enumerate(_run_tasks(tasks, config.workers), start=1):
        entries[i] = entry
        documents, tokens = documents + entry["documents"], tokens + entry["tokens"]
        if progress:
            progress(done, len(tasks), documents, tokens)
    manifest = tokens_manifest(corpus, tokenizer_dir, tokenizer.meta, entries, version=version)
    temporary = os.path.join(out_dir, f"{TOKENS_MANIFEST}.tmp-{uuid.uuid4().hex}")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(temporary, os.path.join(out_dir, TOKENS_MANIFEST))
    return manifest


def tokens_manifest(
    corpus: Corpus, tokenizer_dir: str, tokenizer_meta: dict, entries: list[dict], *, version: str
) -> dict:
    domains: dict[str, dict] = {
        name: {"documents": 0, "tokens": 0, "files": []} for name in sorted(corpus.manifest["domains"])
    }
    for shard, entry in zip(corpus.shards, entries):
        domain = domains[shard["domain"]]
        domain["documents"] += entry["documents"]
        domain["tokens"] += entry["tokens"]
        domain["files"].append(entry)
    return {
        "format": TOKENS_FORMAT,
        "format_version": TOKENS_FORMAT_VERSION,
        "gristmill_version": version,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "source_manifest": {
            "uri": corpus.uri,
            "sha256": corpus.sha256,
            "config_hash": corpus.manifest["config_hash"],
            "format_version": corpus.manifest["format_version"],
        },
        "tokenizer": {
            "path": os.path.abspath(tokenizer_dir),
            "sha256": tokenizer_meta["tokenizer_sha256"],
            "vocab_size": tokenizer_meta["vocab_size"],
            "eot_token": tokenizer_meta["eot_token"],
            "eot_id": tokenizer_meta["eot_id"],
        },
        "dtype": token_dtype(tokenizer_meta["vocab_size"]).name,
        "index_dtype": INDEX_DTYPE.name,
        "totals": {
            "documents": sum(d["documents"] for d in domains.values()),
            "tokens": sum(d["tokens"] for d in domains.values()),
            "files": len(entries),
        },
        "domains": domains,
        "phases": [phase.to_json() for phase in mixture_phases(corpus.manifest)],
    }


def _run_tasks(tasks: list[ShardTask], workers: int):
    """Yield (task number, result) as shards finish."""
    if workers == 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            yield i, tokenize_shard(task)
        return
    # spawn, not fork: the parent has pyarrow's and tokenizers' threads running
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        min(workers, len(tasks)), mp_context=context, initializer=_one_thread_per_worker
    ) as pool:
        futures = {pool.submit(tokenize_shard, task): i for i, task in enumerate(tasks)}
        try:
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _one_thread_per_worker() -> None:
    # the pool is the parallelism: N workers each running the tokenizer's own thread pool would oversubscribe
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def _prepare_output(out_dir: str, *, overwrite: bool) -> None:
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise TokenizeError(f"--out {out_dir}: exists and is not a folder")
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        if not os.path.isfile(os.path.join(out_dir, TOKENS_MANIFEST)):
            raise TokenizeError(
                f"--out {out_dir}: not empty and not an earlier tokenize output; choose an empty folder"
            )
        if not overwrite:
            raise TokenizeError(f"--out {out_dir}: holds an earlier tokenize output; pass --overwrite to replace it")
        shutil.rmtree(out_dir)
    os.makedirs(out_dir, exist_ok=True)


class ProgressLine:
    """`tokenize: 3/10 shards · 12,345 documents · 5.6M tokens · 1.2M tokens/s` on stderr, rewritten in place."""

    def __init__(self, stream=None):
        self._stream = stream
        self._started = time.monotonic()

    def __call__(self, done: int, total: int, documents: int, tokens: int) -> None:
        rate = tokens / max(time.monotonic() - self._started, 1e-9)
        end = "\n" if done == total else ""
        stream = self._stream or sys.stderr
        stream.write(
            f"\rtokenize: {done}/{total} shards · {documents:,} documents · {_short(tokens)} tokens "
            f"· {_short(rate)} tokens/s{end}"
        )
        stream.flush()


def _short(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}"
    return f"{n:.0f}"
