"""Small inputs for the trainer tests: a pipeline output of real multilingual text, and synthetic token folders.

`write_corpus` writes Parquet shards with the pipeline's own schema and a manifest from
`pipeline.core.manifest.build_manifest`, as `gristmill run` would, in well under a second.
`write_token_folder` writes the token shard format directly, with every token unique
(its value says where it lies), so a test can tell which window a sample came from.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.manifest import build_manifest
from pipeline.core.mixture_config import MixtureConfig
from pipeline.core.schema import SCHEMA
from trainer.token_shards import (
    TOKENS_FORMAT,
    TOKENS_FORMAT_VERSION,
    TOKENS_MANIFEST,
    shard_names,
)

LINGUA = Path(__file__).resolve().parents[3] / "shared" / "data" / "langid" / "lingua" / "sentences"
DOMAIN_LANGUAGES = {"news": ("en", "de", "ar"), "forum": ("fr", "ru", "zh"), "code": ("ja", "ko", "hi")}


def sentences(language: str, count: int) -> list[str]:
    with open(LINGUA / f"{language}.txt", encoding="utf-8") as f:
        return f.read().splitlines()[:count]


def write_corpus(out: Path, *, sentences_per_language: int = 150, shards_per_domain: int = 2) -> Path:
    """A pipeline output folder: 3 domains x `shards_per_domain` shards of 5-sentence documents; returns
    manifest.json."""
    shards = []
    for domain, languages in DOMAIN_LANGUAGES.items():
        lines = [line for language in languages for line in sentences(language, sentences_per_language)]
        documents = ["\n".join(lines[i : i + 5]) for i in range(0, len(lines), 5)]
        for k in range(shards_per_domain):
            texts = documents[k::shards_per_domain]
            columns = {field.name: pa.nulls(len(texts), type=field.type) for field in SCHEMA}
            columns["id"] = pa.array([f"{domain}-{k}-{i:04d}" for i in range(len(texts))])
            columns["text"] = pa.array(texts)
            relative = f"data/domain={domain}/part-{k:05d}-of-{shards_per_domain:05d}.parquet"
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pydict(columns, schema=SCHEMA), out / relative, row_group_size=8)
            shards.append(
                {
                    "path": relative,
                    "domain": domain,
                    "rows": len(texts),
                    "bytes": os.path.getsize(out / relative),
                    "tokens_estimate": sum(-(-len(t.encode()) // 4) for t in texts),
                }
            )
    manifest = build_manifest(
        shards,
        {"records_read": 1000},
        config_hash="tiny",
        inputs=["tiny.warc.gz"],
        schema_version=1,
        version="test",
        mixture=MixtureConfig(),
    )
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path


def parquet_texts(corpus_dir: Path, source: str) -> list[str]:
    return pq.read_table(corpus_dir / source, columns=["text"]).column(0).to_pylist()


def write_token_folder(out: Path, files: dict[str, list[int]], phases: list[dict]) -> Path:
    """domain -> token count per file; token values are unique (uint32): domain d, file f, position i ->
    d*10^8 + f*10^6 + i."""
    domains = {}
    for d, (name, sizes) in enumerate(sorted(files.items())):
        entries = []
        for f, size in enumerate(sizes):
            bin_path, idx_path = shard_names(name, f)
            (out / name).mkdir(parents=True, exist_ok=True)
            (d * 10**8 + f * 10**6 + np.arange(size, dtype="<u4")).tofile(out / bin_path)
            np.array([0, size], dtype="<i8").tofile(out / idx_path)
            entries.append(
                {"path": bin_path, "index": idx_path, "source": f"{name}-{f}.parquet", "documents": 1, "tokens": size}
            )
        domains[name] = {"documents": len(sizes), "tokens": sum(sizes), "files": entries}
    manifest = {
        "format": TOKENS_FORMAT,
        "format_version": TOKENS_FORMAT_VERSION,
        "dtype": "uint32",
        "index_dtype": "int64",
        "tokenizer": {"vocab_size": 2**32 - 1, "eot_id": 0},
        "domains": domains,
        "phases": phases,
    }
    (out / TOKENS_MANIFEST).write_text(json.dumps(manifest))
    return out


def window_of(token: int) -> tuple[int, int, int]:
    """(domain number, file, position) of a token written by write_token_folder."""
    return token // 10**8, token // 10**6 % 100, token % 10**6
