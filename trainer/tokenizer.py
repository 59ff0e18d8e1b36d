"""Byte-level BPE tokenizer (Hugging Face `tokenizers`, offline), trained on a sample of the corpus.

Byte-level as GPT-2: every string maps to bytes first, so there is no unknown token and
`decode(encode(text)) == text` for any valid Unicode text (no normalizer touches it). The
vocabulary holds the 256 byte symbols, the merges, and one special token, `<|endoftext|>`,
which the token shards put after every document. A document that happens to contain the
literal string `<|endoftext|>` is encoded as ordinary text (`encode_special_tokens`), so only
the tokenizer itself ever emits the end-of-text id.

A tokenizer folder holds `tokenizer.json` (loadable by `tokenizers.Tokenizer.from_file`
and by transformers' `PreTrainedTokenizerFast`) and `tokenizer_meta.json`:

    {"format": "gristmill-tokenizer", "format_version": 1, "vocab_size": 8192, "eot_token": "<|endoftext|>",
     "eot_id": 0, "tokenizer_sha256": "...", "sample": {"documents": 20000, "seed": 0},
     "source_manifest": {"uri": ".../manifest.json", "sha256": "...", "config_hash": "..."}}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from trainer.corpus import Corpus, read_rows

EOT_TOKEN = "<|endoftext|>"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "tokenizer_meta.json"
META_FORMAT = "gristmill-tokenizer"
META_FORMAT_VERSION = 1


class TokenizerError(ValueError):
    """A tokenizer folder is missing or does not hold a gristmill tokenizer."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TokenizerConfig:
    vocab_size: int = 32768
    """Final vocabulary including the 256 bytes and the end-of-text token. At most 65,535 keeps
    token shards at 2 bytes a token; GPT-2 used 50,257."""
    sample_documents: int = 20000
    """Documents drawn uniformly (without replacement) from all shards to train on."""
    seed: int = 0
    """Which documents are drawn; the same seed and manifest give the same tokenizer."""
    min_frequency: int = 2
    """A pair seen fewer times is never merged."""

    def __post_init__(self) -> None:
        if not 257 <= self.vocab_size <= 2**32 - 1:
            raise TokenizerError(
                f"vocab_size: must be in [257, 4294967295] (256 bytes + end-of-text at least), not {self.vocab_size}"
            )
        if self.sample_documents < 1:
            raise TokenizerError(f"sample_documents: must be >= 1, not {self.sample_documents}")


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedTokenizer:
    """A trained tokenizer and its metadata."""

    tokenizer: Tokenizer
    meta: dict

    @property
    def eot_id(self) -> int:
        return self.meta["eot_id"]

    @property
    def vocab_size(self) -> int:
        return self.meta["vocab_size"]

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]

    def decode(self, ids) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)


def new_tokenizer() -> Tokenizer:
    """An untrained byte-level BPE: ByteLevel pre-tokenizer (GPT-2's regex split) and decoder, no normalizer."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def train_on_texts(texts, config: TokenizerConfig, *, length: int | None = None) -> Tokenizer:
    """Train on an iterable of strings; the end-of-text token gets id 0."""
    tokenizer = new_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=config.vocab_size,
        min_frequency=config.min_frequency,
        special_tokens=[EOT_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer, length=length)
    return tokenizer


def sample_rows(corpus: Corpus, count: int, seed: int) -> dict[int, list[int]]:
    """Shard index -> sorted row numbers: `count` documents uniform over the whole corpus."""
    rows = np.array([shard["rows"] for shard in corpus.shards], dtype=np.int64)
    total = int(rows.sum())
    picked = np.sort(np.random.default_rng(seed).choice(total, size=min(count, total), replace=False))
    starts = np.concatenate([[0], np.cumsum(rows)])
    shard_of = np.searchsorted(starts, picked, side="right") - 1
    sample: dict[int, list[int]] = {}
    for shard, row in zip(shard_of.tolist(), (picked - starts[shard_of]).tolist()):
        sample.setdefault(shard, []).append(row)
    return sample


def train_tokenizer(corpus: Corpus, out_dir: str, config: TokenizerConfig) -> LoadedTokenizer:
    """Train on a sample of the corpus's documents and save `tokenizer.json` + `tokenizer_meta.json` in `out_dir`."""
    sample = sample_rows(corpus, config.sample_documents, config.seed)
    sampled = sum(len(rows) for rows in sample.values())
    if not sampled:
        raise TokenizerError(f"{corpus.uri}: the manifest lists no documents to train on")

    def texts():
        for shard, rows in sorted(sample.items()):
            yield from read_rows(corpus.storage, corpus.shard_uri(corpus.shards[shard]), rows)

    tokenizer = train_on_texts(texts(), config, length=sampled)
    serialized = tokenizer.to_str()
    meta = {
        "format": META_FORMAT,
        "format_version": META_FORMAT_VERSION,
        "vocab_size": tokenizer.get_vocab_size(),
        "requested_vocab_size": config.vocab_size,
        "eot_token": EOT_TOKEN,
        "eot_id": tokenizer.token_to_id(EOT_TOKEN),
        "tokenizer_sha256": hashlib.sha256(serialized.encode()).hexdigest(),
        "sample": {"documents": sampled, "seed": config.seed, "min_frequency": config.min_frequency},
        "source_manifest": {"uri": corpus.uri, "sha256": corpus.sha256, "config_hash": corpus.manifest["config_hash"]},
    }
    os.makedirs(out_dir, exist_ok=True)
    _write_atomically(os.path.join(out_dir, TOKENIZER_FILE), serialized)
    _write_atomically(os.path.join(out_dir, META_FILE), json.dumps(meta, indent=2) + "\n")
    return load_tokenizer(out_dir)


def load_tokenizer(directory: str) -> LoadedTokenizer:
    """Load a folder written by `train_tokenizer`; raise TokenizerError naming what is wrong."""
    meta_path, tokenizer_path = os.path.join(directory, META_FILE), os.path.join(directory, TOKENIZER_FILE)
    for path in (meta_path, tokenizer_path):
        if not os.path.isfile(path):
            raise TokenizerError(
                f"{directory}: no {os.path.basename(path)} (train one with `gristmill tokenizer train`)"
            )
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        with open(tokenizer_path, encoding="utf-8") as f:
            serialized = f.read()
        tokenizer = Tokenizer.from_str(serialized)
    except Exception as err:  # bad JSON, bad UTF-8, or tokenizers' own bare Exception
        raise TokenizerError(f"{directory}: unreadable tokenizer: {err}") from err
    if meta.get("format") != META_FORMAT or meta.get("format_version") != META_FORMAT_VERSION:
        raise TokenizerError(f"{meta_path}: format must be {META_FORMAT!r} version {META_FORMAT_VERSION}")
    if tokenizer.token_to_id(EOT_TOKEN) != meta.get("eot_id") or tokenizer.get_vocab_size() != meta.get("vocab_size"):
        raise TokenizerError(
            f"{directory}: {META_FILE} does not describe {TOKENIZER_FILE} (eot_id or vocab_size differ)"
        )
    # web text may contain the literal "<|endoftext|>": it must not become the document separator
    tokenizer.encode_special_tokens = True
    return LoadedTokenizer(tokenizer, meta)


def _write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)
