"""Dedup settings: URL, exact and MinHash LSH near-duplicate removal."""

from __future__ import annotations

import dataclasses

from pipeline.core.errors import require as _require


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DedupConfig:
    url: bool = True
    """Keep one record per normalized URL (the latest fetch)."""
    exact: bool = True
    """Keep one record per hash of normalized text."""
    near: bool = True
    """MinHash LSH near-duplicate removal."""
    ngram: int = 5
    """Word n-gram shingles (FineWeb: 5)."""
    bands: int = 14
    """LSH bands; a pair shares a band with probability 1 - (1 - J^rows)^bands."""
    rows_per_band: int = 8
    """14 bands x 8 rows = 112 permutations, threshold ~0.72 (FineWeb)."""
    seed: int = 1
    """Seed of the MinHash permutations (datasketch's): signatures compare only under one seed."""
    max_bucket_size: int = 1000
    """An LSH bucket with more members (boilerplate, templates) links only its this-many smallest ids;
    capped buckets and the members left out are counted."""
    components_rounds: int = 3
    """Unrolled large-star/small-star rounds for connected components (each costs two shuffles); LSH
    stars and cliques settle in one or two, and what is left goes to a bounded union-find."""
    components_max_residual_edges: int = 1_000_000
    """The union-find after the rounds takes at most this many edges (one worker holds them: 1M took
    ~4 s and ~200 MiB); above it, unsettled nodes stay their own survivors (too little removed), counted."""
    write_clusters: bool = False
    """Also write OUT/dedup_clusters/part-*.jsonl for audit: per step and survivor, the ids it replaced."""

    def __post_init__(self) -> None:
        for key in ("ngram", "bands", "rows_per_band", "max_bucket_size", "components_rounds"):
            _require(getattr(self, key) >= 1, f"dedup.{key}", "must be >= 1")
        _require(self.components_max_residual_edges >= 0, "dedup.components_max_residual_edges", "must be >= 0")
        _require(self.bands <= 0xFFFF, "dedup.bands", "must be <= 65535 (a band index is 2 bytes of the LSH key)")
