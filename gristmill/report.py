"""`gristmill report`: a self-contained HTML dashboard of one run, or of two side by side.

    gristmill report OUT [--compare OUT_B] [--output PATH]

Reads only `manifest.json`, `stats/funnel.json` and `stats/*.parquet` (never the
shards), so it takes the same fraction of a second for a run of any size. The page
(`OUT/report.html`, or `OUT/report_compare.html` with --compare) carries its CSS,
SVG charts and a few lines of script inline: it opens from disk, offline.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import sys
import time

import pyarrow.parquet as pq

MANIFEST = "manifest.json"
FUNNEL = "stats/funnel.json"
MIXTURE_ERROR = "stats/mixture_error.json"
STATS_TABLES = ("histograms", "summary", "languages", "domains", "lang_domain", "pii", "funnel")


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
            raise ReportError(f"{path} has no {MANIFEST}: the run could not draw its mixture (see {root}/{MIXTURE_ERROR})")
        raise ReportError(f"{path} is not a gristmill output folder: no {MANIFEST} (run `gristmill run --output {path}` first)")
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
        stats_path = f"{root}/stats/{name}.parquet"
        if _exists(stats_path):
            tables[name] = pq.read_table(io.BytesIO(_read(stats_path))).to_pylist()
    return RunData(path=path, manifest=manifest, funnel=funnel, tables=tables)


def write_report(path: str, compare: str | None = None, output: str | None = None) -> tuple[str, int]:
    """Build the page and write it; return (where, bytes)."""
    from gristmill.report_html import render_page

    runs = [load_run(path)] + ([load_run(compare)] if compare else [])
    page = render_page(runs).encode()
    target = output or f"{path.rstrip('/')}/{'report_compare.html' if compare else 'report.html'}"
    if "://" in target:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.create(target) as sink:
            sink.write(page)
    else:
        with open(target, "wb") as sink:
            sink.write(page)
    return target, len(page)


def add_parser(commands) -> None:
    report = commands.add_parser("report", help="write a self-contained HTML dashboard of a run (OUT/report.html)")
    report.add_argument("out", metavar="OUT", help="a gristmill output folder (local, s3:// or gs://)")
    report.add_argument("--compare", metavar="OUT_B", help="a second run to compare against (A = OUT, B = OUT_B)")
    report.add_argument("--output", help="where to write the page (default: OUT/report.html, or OUT/report_compare.html with --compare)")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        target, size = write_report(args.out, args.compare, args.output)
    except ReportError as err:
        print(f"gristmill report: {err}", file=sys.stderr)
        return 2
    print(f"wrote {target} ({size / 1024:,.0f} KiB) in {time.perf_counter() - started:.2f} s")
    return 0
