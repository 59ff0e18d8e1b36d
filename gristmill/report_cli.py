"""`gristmill report`: a self-contained HTML dashboard of one run, or of two side by side.

    gristmill report OUT [--compare OUT_B] [--output PATH]

The page (`OUT/report.html`, or `OUT/report_compare.html` with --compare) carries its
CSS, SVG charts and a few lines of script inline: it opens from disk, offline. What it
reads: gristmill/report/run_data.py; what it draws: gristmill/report/cards.py.
"""

from __future__ import annotations

import argparse
import sys
import time

from gristmill.report.page import render_page
from gristmill.report.run_data import ReportError, load_run
from pipeline.core.layout import REPORT, REPORT_COMPARE, under


def write_report(path: str, compare: str | None = None, output: str | None = None) -> tuple[str, int]:
    """Build the page and write it; return (where, bytes)."""
    runs = [load_run(path)] + ([load_run(compare)] if compare else [])
    page = render_page(runs).encode()
    target = output or under(path, REPORT_COMPARE if compare else REPORT)
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
    report.add_argument(
        "--output", help="where to write the page (default: OUT/report.html, or OUT/report_compare.html with --compare)"
    )
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
