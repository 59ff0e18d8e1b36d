"""`WriteShards`: documents to zstd Parquet under `data/<axis>=<group>/`, one folder per mixture group.

The folders are what the trainer samples by: the groups of the mixture's axis (`mixture.axis`:
`domain=news/` by default, `topic=sports/`, `format=news_article/`, or
`topic_format=sports.news_article/`), so a group's tokens are its folder's files. Each group gets
ceil(docs / rows_per_shard) shards; a document's shard is a
hash of its id, and rows are sorted by id inside a shard, so reruns are identical.
A shard is written under a hidden temporary name (`temporary_path`) and renamed,
so a reader never sees a half-written `part-*.parquet`, and a retried bundle
rewrites it whole.
"""

from __future__ import annotations

import math
import zlib

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipeline.accounting.commit import write_file
from pipeline.accounting.packing import pack, unpack
from pipeline.config import OutputConfig
from pipeline.core.layout import shard_path
from pipeline.core.mixture_config import mixture_group
from pipeline.core.records import Document
from pipeline.core.schema import SCHEMA, document_to_row


def packed_row(doc: Document, axis: str = "domain") -> tuple[str, str, bytes]:
    """(group, id, packed row): rows wait for the group counts and cross the shard grouping packed."""
    row = document_to_row(doc)
    return mixture_group(row, axis), row["id"], pack(row)


def assign_shard(keyed_row: tuple[str, str, bytes], counts: dict[str, int], rows_per_shard: int):
    """(group, id, packed row) -> ((group, shard index, shard count), (id, packed row)): a stable hash of the id
    picks the shard."""
    domain, doc_id, blob = keyed_row
    count = max(1, math.ceil(counts[domain] / rows_per_shard))
    return (domain, zlib.crc32(doc_id.encode()) % count, count), (doc_id, blob)


class _WriteShardFn(beam.DoFn):
    def __init__(self, output_dir: str, config: OutputConfig, axis: str):
        self._output_dir = output_dir.rstrip("/")
        self._config = config
        self._axis = axis

    def process(self, element):
        # ((domain, index, count), Iterable[(id, packed row)]) -> shard info dict
        (domain, index, count), keyed_blobs = element
        # sorted by id so a rerun writes byte-identical shards (idempotent manifest); rows stay packed
        # until their row group is written, so a shard costs its packed size plus one row group
        keyed_blobs = sorted(keyed_blobs, key=lambda keyed: keyed[0])
        relative = shard_path(domain, index, count, axis=self._axis)
        final = f"{self._output_dir}/{relative}"
        totals = {}
        write_file(final, lambda sink: totals.update(self._write(sink, keyed_blobs)))
        size = FileSystems.match([final])[0].metadata_list[0].size_in_bytes
        yield {
            "path": relative,
            "domain": domain,
            "rows": totals["rows"],
            "bytes": size,
            "tokens_estimate": totals["tokens_estimate"],
        }

    def _write(self, sink, keyed_blobs: list[tuple[str, bytes]]) -> dict[str, int]:
        compression = None if self._config.compression == "none" else self._config.compression
        level = self._config.compression_level if compression == "zstd" else None
        n_rows = tokens = 0
        with pq.ParquetWriter(sink, SCHEMA, compression=compression, compression_level=level) as writer:
            batch = []
            for _, blob in keyed_blobs:
                batch.append(unpack(blob))
                if len(batch) >= self._config.row_group_rows:
                    n_rows, tokens = self._flush(writer, batch, n_rows, tokens)
            if batch or n_rows == 0:
                n_rows, tokens = self._flush(writer, batch, n_rows, tokens)
        return {"rows": n_rows, "tokens_estimate": tokens}

    def _flush(self, writer: pq.ParquetWriter, batch: list[dict], n_rows: int, tokens: int) -> tuple[int, int]:
        table = pa.Table.from_pylist(batch, schema=SCHEMA)
        writer.write_table(table, row_group_size=self._config.row_group_rows)
        tokens += sum(row["token_estimate"] for row in batch)
        n_rows += len(batch)
        batch.clear()
        return n_rows, tokens


class WriteShards(beam.PTransform):
    """PCollection[Document] -> PCollection[shard info dict] (one per Parquet file written)."""

    def __init__(self, output_dir: str, config: OutputConfig, axis: str = "domain"):
        super().__init__()
        self._output_dir = output_dir
        self._config = config
        self._axis = axis

    def expand(self, docs):
        rows = docs | "ToRow" >> beam.Map(packed_row, axis=self._axis)
        # PCollection[(domain, n_docs)], a small side input
        counts = (
            rows | "DomainOf" >> beam.Map(lambda row: row[0]) | "CountPerDomain" >> beam.combiners.Count.PerElement()
        )
        return (
            rows
            | "AssignShard"
            >> beam.Map(assign_shard, counts=beam.pvalue.AsDict(counts), rows_per_shard=self._config.rows_per_shard)
            | "GroupShards" >> beam.GroupByKey()
            | "WriteParquet" >> beam.ParDo(_WriteShardFn(self._output_dir, self._config, self._axis))
        )
