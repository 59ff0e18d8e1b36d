"""A token folder of synthetic text, for tests and benchmarks that must not depend on a corpus.

Each domain is a random sparse Markov chain over the vocabulary: every token has
`successors` possible next tokens, drawn uniformly. A model can learn it (the loss
falls from ln(V) toward ln(successors)), the domains differ (so per-domain validation
losses differ), and generation is vectorized over many chains at once (~10M tokens/s).
The folder is in the format of `trainer/token_shards.py`, with one phase weighting the
domains equally, so `TokenLoader` and `gristmill train` read it like a real one.
"""

from __future__ import annotations

import json
import os

import numpy as np

from trainer.token_shards import (
    INDEX_DTYPE,
    TOKENS_FORMAT,
    TOKENS_FORMAT_VERSION,
    TOKENS_MANIFEST,
    shard_names,
    token_dtype,
)

_CHAINS = 256  # chains generated side by side; each file is their concatenation
_DOCUMENT_TOKENS = 512  # an end-of-text id (0) every this many tokens, as packed documents would have


def write_synthetic_tokens(
    out: str,
    *,
    vocab_size: int,
    domains: tuple[str, ...] = ("alpha", "beta"),
    files_per_domain: int = 2,
    tokens_per_file: int = 65_536,
    successors: int = 4,
    seed: int = 0,
) -> str:
    """Write OUT/tokens_manifest.json and the shards; returns OUT."""
    if vocab_size < successors + 1:
        raise ValueError(f"vocab_size: needs more than successors ({successors}) ids, not {vocab_size}")
    rng = np.random.default_rng(seed)
    dtype = token_dtype(vocab_size)
    entries: dict[str, dict] = {}
    for name in domains:
        # (V, successors): the ids that may follow each id; 0 is end-of-text and never drawn
        table = rng.integers(1, vocab_size, size=(vocab_size, successors))
        files = []
        for number in range(files_per_domain):
            length = -(-tokens_per_file // _CHAINS)
            chains = np.empty((_CHAINS, length), dtype=np.int64)  # (chains, length)
            chains[:, 0] = rng.integers(1, vocab_size, size=_CHAINS)
            for t in range(1, length):
                chains[:, t] = table[chains[:, t - 1], rng.integers(0, successors, size=_CHAINS)]
            tokens = chains.reshape(-1)[:tokens_per_file]
            tokens[_DOCUMENT_TOKENS - 1 :: _DOCUMENT_TOKENS] = 0
            bin_path, idx_path = shard_names(name, number)
            os.makedirs(os.path.join(out, name), exist_ok=True)
            tokens.astype(dtype).tofile(os.path.join(out, bin_path))
            starts = np.arange(0, tokens_per_file, _DOCUMENT_TOKENS)
            np.append(starts, tokens_per_file).astype(INDEX_DTYPE).tofile(os.path.join(out, idx_path))
            files.append(
                {
                    "path": bin_path,
                    "index": idx_path,
                    "source": f"synthetic/{name}-{number}",
                    "documents": len(starts),
                    "tokens": tokens_per_file,
                }
            )
        entries[name] = {
            "documents": sum(f["documents"] for f in files),
            "tokens": tokens_per_file * files_per_domain,
            "files": files,
        }
    manifest = {
        "format": TOKENS_FORMAT,
        "format_version": TOKENS_FORMAT_VERSION,
        "gristmill_version": "synthetic",
        "source_manifest": None,
        "tokenizer": {
            "path": None,
            "sha256": None,
            "vocab_size": vocab_size,
            "eot_token": "<|endoftext|>",
            "eot_id": 0,
        },
        "dtype": dtype.name,
        "index_dtype": "int64",
        "totals": {
            "documents": sum(e["documents"] for e in entries.values()),
            "tokens": sum(e["tokens"] for e in entries.values()),
            "files": len(domains) * files_per_domain,
        },
        "domains": entries,
        "phases": [
            {
                "name": "main",
                "token_budget": None,
                "weights": {name: 1.0 for name in domains},
                "epochs": {name: 1.0 for name in domains},
            }
        ],
    }
    with open(os.path.join(out, TOKENS_MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    return out
