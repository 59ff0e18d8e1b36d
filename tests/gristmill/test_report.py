"""`gristmill report` on a real run of the sample WARC, rendered by headless Debian chromium.

The page's own scripts record uncaught errors (`<html data-js-errors>`) and count the
bars the browser laid out per chart (`data-drawn-bars`); `--dump-dom` returns the DOM
after they ran, so these tests see what a reader's browser would draw.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there

from gristmill import __version__
from gristmill.cli import main
from pipeline.config import GristmillConfig
from pipeline.fixtures.demo_corpus import write_sample_warc
from pipeline.runner import run_pipeline

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
CHARTS = (
    "funnel",
    "drops",
    "languages",
    "mixture-weights",
    "mixture-phases",
    "toxicity-score",
    "length-chars",
    "token-estimate",
    "dup-cluster-size",
    "pii",
    "topic-mixture",
    "format-mixture",
)
STATS = (
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
)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """The sample WARC (187 records, 8 languages, planted duplicates and PII) through the whole pipeline."""
    root = tmp_path_factory.mktemp("report")
    warc = root / "sample.warc.gz"
    write_sample_warc(str(warc))
    out = root / "out"
    funnel = run_pipeline([str(warc)], str(out), GristmillConfig(), [], version=__version__, progress=False)
    assert funnel["conserved"]
    return out


class _Dom(HTMLParser):
    """The attributes of <html>, of every chart <svg>, of empty-plot notes and of tables, from a DOM dump."""

    def __init__(self, text: str):
        super().__init__()
        self.root: dict = {}
        self.charts: dict[str, dict] = {}
        self.empty: set[str] = set()
        self.tables: set[str] = set()
        self.fills: dict[str, set[str]] = {}
        self._chart: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.root = attrs
        elif tag == "svg" and "chart" in attrs.get("class", ""):
            self._chart = attrs["data-chart"]
            self.charts[self._chart] = attrs
        elif tag == "rect" and "bar" in attrs.get("class", "") and self._chart:
            self.fills.setdefault(self._chart, set()).add(attrs["fill"])
        elif tag == "p" and "data-empty" in attrs:
            self.empty.add(attrs["data-empty"])
        elif tag == "table" and "data-table" in attrs:
            self.tables.add(attrs["data-table"])

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None


def _chromium(page: Path, tmp_path: Path, screenshot: Path | None = None) -> tuple[str, float]:
    """Load the page from disk in headless chromium; return (DOM after scripts ran, seconds)."""
    if CHROMIUM is None:
        skip_or_fail("Debian chromium is not installed (apt-get install chromium; .ci/run does it)")
    profile = tmp_path / f"chromium-{time.monotonic_ns()}"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    action = [f"--screenshot={screenshot}", "--window-size=1280,4000"] if screenshot else ["--dump-dom"]
    env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile), "XDG_CACHE_HOME": str(profile)}
    started = time.perf_counter()
    done = subprocess.run(
        [CHROMIUM, *flags, *action, page.as_uri()], capture_output=True, text=True, timeout=180, env=env, check=False
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, seconds


def _one(sql, query: str):
    return sql.sql(query).fetchall()[0][0]


def test_stats_files_add_up_and_load_in_duckdb(run):
    funnel = json.loads((run / "stats" / "funnel.json").read_text())
    stats = run / "stats"
    assert all((stats / f"{name}.parquet").is_file() for name in STATS)
    sql = duckdb.connect()
    kept = funnel["kept"]
    assert _one(sql, f"select sum(documents) from '{stats}/languages.parquet'") == kept
    assert _one(sql, f"select sum(documents) from '{stats}/domains.parquet'") == kept
    assert _one(sql, f"select sum(documents) from '{stats}/lang_domain.parquet'") == kept
    per_metric = dict(
        sql.sql(f"select metric, sum(count) from '{stats}/histograms.parquet' group by metric").fetchall()
    )
    nulls = dict(sql.sql(f"select metric, nulls from '{stats}/summary.parquet'").fetchall())
    assert {metric: per_metric[metric] + nulls[metric] for metric in per_metric} == dict.fromkeys(per_metric, kept)
    assert nulls["length_chars"] == nulls["toxicity_score"] == 0
    # the funnel in long form: the first stage's rows sum to the records read, the last stage's kept row is `kept`
    assert _one(sql, f"select sum(count) from '{stats}/funnel.parquet' where position = 0") == funnel["records_read"]
    assert _one(sql, f"select sum(count) from '{stats}/funnel.parquet' where outcome = 'dropped'") == funnel["dropped"]
    assert (
        _one(sql, f"select count from '{stats}/funnel.parquet' where outcome = 'kept' order by position desc limit 1")
        == kept
    )
    # the sample plants phone numbers, IBANs and IP addresses
    assert _one(sql, f"select count(*) from '{stats}/pii.parquet' where redactions > 0") >= 2


def test_report_renders_every_plot_in_chromium(run, tmp_path, capsys):
    assert main(["report", str(run)]) == 0
    assert "report.html" in capsys.readouterr().out
    page = run / "report.html"
    text = page.read_text()
    # self-contained: no external scripts, styles, fonts or images
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert 'src="' not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")

    dom, seconds = _chromium(page, tmp_path)
    parsed = _Dom(dom)
    assert parsed.root.get("data-js-errors") == "[]", parsed.root.get("data-js-errors")
    assert parsed.root.get("data-rendered") == "done"
    for chart in CHARTS:
        assert chart in parsed.charts, f"no {chart} chart"
        assert int(parsed.charts[chart]["data-drawn-bars"]) > 0, f"{chart}: nothing drawn"
    # the quality histogram is drawn when documents were scored, else it says why not
    assert "quality-score" in parsed.charts or "quality-score" in parsed.empty
    assert "mixture" in parsed.tables and "topic-format" in parsed.tables
    assert int(parsed.root["data-charts"]) >= len(CHARTS)

    screenshot = tmp_path / "report.png"
    _chromium(page, tmp_path, screenshot)
    assert screenshot.stat().st_size > 50_000  # a blank 1280x4000 page compresses to a few KB
    print(
        f"report.html {page.stat().st_size / 1024:.0f} KiB; chromium DOM dump {seconds:.2f} s, "
        f"page scripts done at {parsed.root['data-render-ms']} ms; screenshot {screenshot}"
    )


def test_compare_two_runs(run, tmp_path):
    # B: the same data behind a manifest without a mixture section (written before mixtures existed)
    other = tmp_path / "b"
    shutil.copytree(run, other, ignore=shutil.ignore_patterns("data"))
    manifest = json.loads((other / "manifest.json").read_text())
    manifest.pop("mixture", None)
    (other / "manifest.json").write_text(json.dumps(manifest))
    page = tmp_path / "compare.html"
    assert main(["report", str(run), "--compare", str(other), "--output", str(page)]) == 0

    parsed = _Dom(_chromium(page, tmp_path)[0])
    assert parsed.root.get("data-js-errors") == "[]" and parsed.root.get("data-rendered") == "done"
    assert {"deltas", "deltas-mix"} <= parsed.tables
    for chart in ("funnel", "drops", "languages", "length-chars", "toxicity-score", "pii"):
        assert int(parsed.charts[chart]["data-drawn-bars"]) > 0, chart
        assert {"#4c78a8", "#f58518"} <= parsed.fills[chart], f"{chart}: A and B not both drawn"
    text = page.read_text()
    assert "no mixture in the manifest yet" in text  # B's natural shares come from manifest.domains


def test_not_an_output_folder_exits_2(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["report", str(tmp_path)]) == 2
    assert f"{tmp_path} is not a gristmill output folder: no manifest.json" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_the_command_exits_0_every_time(run):
    """`gristmill report` once aborted after writing the page (exit 134: a pyarrow thread torn down at
    exit). The console entry point ends the process with main's status; 50 runs, two at a time."""
    command = [sys.executable, "-c", "from gristmill.cli import run; run()", "report", str(run)]
    codes = []
    for _ in range(25):
        pair = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
        codes += [(p.wait(timeout=120), p.stderr.read().decode()[-300:]) for p in pair]
    assert [c for c in codes if c[0] != 0] == []
    assert (run / "report.html").stat().st_size > 10_000
