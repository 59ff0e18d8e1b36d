"""What the report reads of a run: `manifest.json`, `stats/funnel.json` and `stats/*.parquet`.

Never the shards, so loading takes the same fraction of a second for a run of any size.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os

import pyarrow.parquet as pq

from pipeline.core.layout import FUNNEL, MANIFEST, MIXTURE_ERROR, stats_table_path

STATS_TABLES = (
    "histograms",
    "summary",
    "languages",
    "domains",
    "lang_domain",
    "pii",
    "funnel",
    "topics",
    "formats",
    "topic_format",
    "contamination",  # only when decontamination ran
)


class ReportError(Exception):
    """The folder is not a gristmill output folder (or is missing a file the report needs)."""


@dataclasses.dataclass(frozen=True, slots=True)
class RunData:
    """What the report knows about one run; `tables` holds the stats files that exist, as rows."""

    path: str
    manifest: dict
    funnel: dict
    tables: dict[str, list[dict]]

    def histogram(self, metric: str) -> tuple[list[int], list[float]]:
        """(counts per bin, bin edges) of one histogram; empty when the stats file is missing."""
        rows = sorted((r for r in self.tables.get("histograms", []) if r["metric"] == metric), key=lambda r: r["bin"])
        if not rows:
            return [], []
        return [r["count"] for r in rows], [rows[0]["bin_lo"], *(r["bin_hi"] for r in rows)]

    def summary(self, metric: str) -> dict:
        return next((r for r in self.tables.get("summary", []) if r["metric"] == metric), {})


def _read(path: str) -> bytes:
    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path) as source:
            return source.read()
    with open(path, "rb") as source:
        return source.read()


def _exists(path: str) -> bool:
    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        return FileSystems.exists(path)
    return os.path.isfile(path)


def load_run(path: str) -> RunData:
    """Read a run's manifest, funnel and stats files; ReportError if it is not a gristmill output."""
    root = path.rstrip("/")
    manifest_path = f"{root}/{MANIFEST}"
    if not _exists(manifest_path):
        if _exists(f"{root}/{MIXTURE_ERROR}"):
            raise ReportError(
                f"{path} has no {MANIFEST}: the run could not draw its mixture (see {root}/{MIXTURE_ERROR})"
            )
        raise ReportError(
            f"{path} is not a gristmill output folder: no {MANIFEST} (run `gristmill run --output {path}` first)"
        )
    try:
        manifest = json.loads(_read(manifest_path))
    except json.JSONDecodeError as err:
        raise ReportError(f"{manifest_path} is not JSON: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("format") != "gristmill-manifest":
        raise ReportError(f"{manifest_path} is not a gristmill manifest (format must be 'gristmill-manifest')")
    if not _exists(f"{root}/{FUNNEL}"):
        raise ReportError(f"{path} has no {FUNNEL}: the run did not finish")
    funnel = json.loads(_read(f"{root}/{FUNNEL}"))
    tables = {}
    for name in STATS_TABLES:
        stats_path = f"{root}/{stats_table_path(name)}"
        if _exists(stats_path):
            tables[name] = pq.read_table(io.BytesIO(_read(stats_path))).to_pylist()
    return RunData(path=path, manifest=manifest, funnel=funnel, tables=tables)
