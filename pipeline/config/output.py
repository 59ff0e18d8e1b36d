"""Output settings: Parquet shards."""

from __future__ import annotations

import dataclasses

from pipeline.core.errors import require as _require


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OutputConfig:
    rows_per_shard: int = 50_000
    """Target documents per Parquet file (roughly 100 MB of zstd Parquet on web text). A writer
    holds one shard in memory to sort it by id."""
    row_group_rows: int = 2_000
    """Rows per Parquet row group: small enough for streaming readers (a few MB)."""
    compression: str = "zstd"
    compression_level: int = 3

    def __post_init__(self) -> None:
        _require(self.rows_per_shard >= 1, "output.rows_per_shard", "must be >= 1")
        _require(self.row_group_rows >= 1, "output.row_group_rows", "must be >= 1")
        _require(
            self.compression in ("zstd", "snappy", "gzip", "none"),
            "output.compression",
            f"unknown codec {self.compression!r}; allowed: zstd, snappy, gzip, none",
        )
