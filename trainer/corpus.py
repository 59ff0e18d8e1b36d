"""The curated corpus as the trainer sees it: a pipeline manifest, its mixture phases, its Parquet text.

The manifest and its shards may be local, on s3:// (with an endpoint override for
S3-compatible servers) or gs://; everything is read through `pyarrow.fs`, in Parquet
batches, so memory stays bounded by one batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.core.manifest import ManifestError, load_manifest
from trainer.token_shards import Phase


def mixture_phases(manifest: dict) -> list[Phase]:
    """The manifest's phase schedule. v1 (before mixtures): one unbounded phase "main" of target weights."""
    if manifest.get("format_version", 1) < 2 or "mixture" not in manifest:
        domains = manifest["domains"]
        return [
            Phase(
                name="main",
                token_budget=None,
                weights={name: float(d["target_weight"]) for name, d in domains.items()},
                epochs={name: float(d["epochs"]) for name, d in domains.items()},
            )
        ]
    return [
        Phase(
            name=phase["name"],
            token_budget=phase["token_budget"],
            weights={name: float(d["weight"]) for name, d in phase["domains"].items()},
            epochs={name: float(d["epochs"]) for name, d in phase["domains"].items()},
        )
        for phase in manifest["mixture"]["phases"]
    ]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Storage:
    """Where files are read from: enough to rebuild a filesystem in a worker process."""

    s3_endpoint_url: str | None = None
    """S3-compatible endpoint (SeaweedFS, MinIO); None means AWS. Credentials come from the usual AWS chain."""

    def resolve(self, uri: str) -> tuple[pafs.FileSystem, str]:
        """(filesystem, path inside it) for a local path, s3:// or gs:// URI."""
        if uri.startswith("s3://") and self.s3_endpoint_url:
            fs = pafs.S3FileSystem(endpoint_override=self.s3_endpoint_url, region="us-east-1")
            return fs, uri[len("s3://") :]
        if "://" in uri:
            return pafs.FileSystem.from_uri(uri)
        return pafs.LocalFileSystem(), os.path.abspath(uri)

    def read_bytes(self, uri: str) -> bytes:
        fs, path = self.resolve(uri)
        with fs.open_input_stream(path) as stream:
            return stream.read()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Corpus:
    """A loaded, validated pipeline manifest and where its shards live."""

    uri: str
    manifest: dict
    sha256: str
    """Of the manifest file's bytes, exactly as read."""
    storage: Storage

    @classmethod
    def open(cls, uri: str, storage: Storage = Storage()) -> Corpus:
        """Read and validate `manifest.json` (or a folder holding one); raise ManifestError if unusable."""
        if not uri.endswith(".json"):
            uri = uri.rstrip("/") + "/manifest.json"
        try:
            raw = storage.read_bytes(uri)
        except (OSError, ValueError) as err:  # pyarrow raises FileNotFoundError / ArrowInvalid (a ValueError)
            raise ManifestError(f"cannot read manifest {uri}: {err}") from err
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ManifestError(f"{uri}: not UTF-8 text") from err
        return cls(uri=uri, manifest=load_manifest(text), sha256=hashlib.sha256(raw).hexdigest(), storage=storage)

    @property
    def shards(self) -> list[dict]:
        return self.manifest["shards"]

    def shard_uri(self, shard: dict) -> str:
        """Shard paths are relative to the manifest's folder (the pipeline's output folder)."""
        return f"{self.uri.rsplit('/', 1)[0]}/{shard['path']}" if "/" in self.uri else shard["path"]


def iter_texts(storage: Storage, uri: str, *, batch_rows: int = 256) -> Iterator[list[str]]:
    """The `text` column of one Parquet shard, `batch_rows` documents at a time (a null text reads as "")."""
    fs, path = storage.resolve(uri)
    with fs.open_input_file(path) as handle:
        for batch in pq.ParquetFile(handle).iter_batches(batch_size=batch_rows, columns=["text"]):
            yield [text or "" for text in batch.column(0).to_pylist()]


def read_rows(storage: Storage, uri: str, rows: list[int]) -> list[str]:
    """Texts of the given (sorted) row numbers of one shard, reading only the row groups that hold them."""
    fs, path = storage.resolve(uri)
    texts: list[str] = []
    with fs.open_input_file(path) as handle:
        parquet = pq.ParquetFile(handle)
        start, wanted = 0, iter(rows)
        row = next(wanted, None)
        for group in range(parquet.num_row_groups):
            end = start + parquet.metadata.row_group(group).num_rows
            if row is not None and row < end:
                column = parquet.read_row_group(group, columns=["text"]).column(0)
                while row is not None and row < end:
                    texts.append(column[row - start].as_py() or "")
                    row = next(wanted, None)
            start = end
    return texts
