"""Where everything lives in a run's output folder: every OUT/ path is spelled here, once.

    OUT/
      data/<axis>=<group>/part-NNNNN-of-MMMMM.parquet shards per mixture group (pipeline/stages/write_shards.py)
      stats/funnel.json, stats/<table>.parquet        the funnel and distributions (pipeline/accounting/)
      stats/mixture_error.json                        instead of a manifest, when the mixture cannot be drawn
      stats/contamination.parquet                     per evaluation set, when decontamination ran
      stats/line_dedup.json                           what DedupLines removed (pipeline/stages/dedup_lines.py)
      dead_letter/part-*.jsonl                        only when a stage failed on a document
      dedup_clusters/part-*.jsonl                     with dedup.write_clusters
      manifest.json                                   last: a run is complete when it exists
      report.html, report_compare.html                `gristmill report`

Paths are relative to OUT; `under(out, path)` joins them for local folders and URIs alike.
"""

from __future__ import annotations

import uuid

DATA_DIR = "data"
STATS_DIR = "stats"
DEAD_LETTER_DIR = "dead_letter"
CLUSTERS_DIR = "dedup_clusters"
MANIFEST = "manifest.json"
FUNNEL = f"{STATS_DIR}/funnel.json"
LINE_DEDUP = f"{STATS_DIR}/line_dedup.json"
MIXTURE_ERROR = f"{STATS_DIR}/mixture_error.json"
CONTAMINATION = f"{STATS_DIR}/contamination.parquet"  # written by the Decontaminate stage, only when it runs
REPORT = "report.html"
REPORT_COMPARE = "report_compare.html"

RUN_PARTS = (MANIFEST, DATA_DIR, STATS_DIR, DEAD_LETTER_DIR, CLUSTERS_DIR)
"""What a run writes, manifest first: an overwrite cut short never leaves the old manifest over a half-deleted run."""


def under(out: str, path: str) -> str:
    """`path` (relative to OUT) inside the output folder `out` (a local path, s3:// or gs://)."""
    return f"{out.rstrip('/')}/{path}"


def shard_path(group: str, index: int, count: int, *, axis: str = "domain") -> str:
    """Relative path of shard `index` of `count` of one mixture group (a domain tag by default)."""
    return f"{DATA_DIR}/{axis}={group}/part-{index:05d}-of-{count:05d}.parquet"


def stats_table_path(name: str) -> str:
    """Relative path of the stats table `name` (e.g. "languages")."""
    return f"{STATS_DIR}/{name}.parquet"


def temporary_path(final: str) -> str:
    """The hidden sibling a file is written under before its rename to `final`.

    A run killed midway can leave these behind, so no reader may take one for
    data: the leading dot hides it from pyarrow.dataset and Hugging Face
    `datasets` (they skip names starting with "." or "_"), and the name does not
    end in `.parquet`/`.json`, so `data/**/*.parquet` globs (DuckDB, fsspec)
    skip it too. A random part keeps two attempts at one file apart.
    """
    folder, slash, name = final.rpartition("/")
    return f"{folder}{slash}.{name}.tmp-{uuid.uuid4().hex}"
