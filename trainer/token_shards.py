"""The token shard format that `gristmill tokenize` writes and the training loader reads.

    DIR/tokens_manifest.json             # written last: a folder without it is incomplete
    DIR/<domain>/tokens-NNNNN.bin        # one per input Parquet shard, NNNNN numbering the domain's shards
                                         # in manifest order
    DIR/<domain>/tokens-NNNNN.idx

`.bin`: the shard's documents, in Parquet row order, each followed by the end-of-text id,
as flat little-endian unsigned integers: uint16 when every id fits (vocab_size <= 65,536),
else uint32. `.idx`: little-endian int64, documents + 1 entries: entry i is where document
i starts (in tokens), the last is the file's token count, so document i (with its
end-of-text) is `bin[idx[i]:idx[i + 1]]`. Both are plain arrays: `np.memmap(path, dtype)`
reads them without a header.

`tokens_manifest.json` (format "gristmill-tokens", version 1):

    {"format": "gristmill-tokens", "format_version": 1, "gristmill_version": "...", "created_at": "...",
     "source_manifest": {"uri": "...", "sha256": "<of the manifest's bytes>", "config_hash": "...",
                         "format_version": 2},
     "tokenizer": {"path": "...", "sha256": "<of tokenizer.json>", "vocab_size": 32768,
                   "eot_token": "<|endoftext|>", "eot_id": 0},
     "dtype": "uint16", "index_dtype": "int64",
     "totals": {"documents": N, "tokens": T, "files": F},
     "domains": {"news": {"documents": n, "tokens": t,
                          "files": [{"path": "news/tokens-00000.bin", "index": "news/tokens-00000.idx",
                                     "source": "data/domain=news/part-00000-of-00002.parquet",
                                     "documents": n0, "tokens": t0}]}},
     "phases": [{"name": "main", "token_budget": 1000000 | null, "weights": {"news": 0.7, ...},
                 "epochs": {"news": 1.0, ...}}]}

Token counts are exact (end-of-text ids included); phases are the source manifest's
schedule (`trainer.corpus.mixture_phases`), token budgets still in the pipeline's estimate.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

TOKENS_FORMAT = "gristmill-tokens"
TOKENS_FORMAT_VERSION = 1
TOKENS_MANIFEST = "tokens_manifest.json"
INDEX_DTYPE = np.dtype("<i8")


class TokensManifestError(ValueError):
    """A token folder is missing, incomplete, or does not match its tokens_manifest.json."""


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id (0 .. vocab_size - 1) fits, else uint32."""
    return np.dtype("<u2") if vocab_size <= 2**16 else np.dtype("<u4")


def shard_names(domain: str, number: int) -> tuple[str, str]:
    """(.bin, .idx) paths relative to the token folder."""
    stem = f"{domain}/tokens-{number:05d}"
    return f"{stem}.bin", f"{stem}.idx"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Phase:
    """One stretch of training with its own domain mixture."""

    name: str
    token_budget: int | None
    """Tokens this phase draws (the pipeline's estimate); None: unbounded (a v1 manifest)."""
    weights: dict[str, float]
    """Domain -> share of the phase's samples (as in the manifest; the loader normalizes)."""
    epochs: dict[str, float]
    """Domain -> passes over the domain planned by the end of this phase (cumulative)."""

    def to_json(self) -> dict:
        return {"name": self.name, "token_budget": self.token_budget, "weights": self.weights, "epochs": self.epochs}

    @classmethod
    def from_json(cls, data: dict) -> Phase:
        return cls(
            name=data["name"],
            token_budget=data["token_budget"],
            weights=dict(data["weights"]),
            epochs=dict(data["epochs"]),
        )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TokenFolder:
    """A loaded tokens_manifest.json and the folder it describes."""

    directory: str
    manifest: dict
    text: str
    """The manifest file's text, exactly as read (hashed into loader checkpoints)."""

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.manifest["dtype"]).newbyteorder("<")

    @property
    def domains(self) -> dict[str, dict]:
        return self.manifest["domains"]

    @property
    def phases(self) -> list[Phase]:
        return [Phase.from_json(p) for p in self.manifest["phases"]]

    @property
    def eot_id(self) -> int:
        return self.manifest["tokenizer"]["eot_id"]

    def path(self, relative: str) -> str:
        return os.path.join(self.directory, relative)

    def tokens(self, entry: dict) -> np.memmap:
        """A read-only view of one .bin file (entry: one of a domain's `files`)."""
        return np.memmap(self.path(entry["path"]), dtype=self.dtype, mode="r", shape=(entry["tokens"],))

    def index(self, entry: dict) -> np.ndarray:
        return np.fromfile(self.path(entry["index"]), dtype=INDEX_DTYPE)


def open_token_folder(directory: str) -> TokenFolder:
    """Load DIR/tokens_manifest.json and check that every file it lists has the size it should."""
    path = os.path.join(directory, TOKENS_MANIFEST)
    if not os.path.isfile(path):
        raise TokensManifestError(
            f"{directory}: no {TOKENS_MANIFEST} (not written by `gristmill tokenize`, or the run did not finish)"
        )
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as err:
        raise TokensManifestError(f"{path}: not JSON: {err}") from err
    if manifest.get("format") != TOKENS_FORMAT or manifest.get("format_version") != TOKENS_FORMAT_VERSION:
        raise TokensManifestError(f"{path}: format must be {TOKENS_FORMAT!r} version {TOKENS_FORMAT_VERSION}")
    folder = TokenFolder(directory=directory, manifest=manifest, text=text)
    for name, domain in folder.domains.items():
        for entry in domain["files"]:
            for key, expected in (
                ("path", entry["tokens"] * folder.dtype.itemsize),
                ("index", (entry["documents"] + 1) * INDEX_DTYPE.itemsize),
            ):
                file = folder.path(entry[key])
                size = os.path.getsize(file) if os.path.isfile(file) else None
                if size != expected:
                    raise TokensManifestError(f"domains.{name}: {file} has {size} bytes, expected {expected}")
    return folder
