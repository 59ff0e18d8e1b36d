"""The generated bad-input corpus (pipeline/fixtures/bad_inputs.py) through the real pipeline.

One run over every case's file, then per-case checks: no crash, the funnel adds
up, the drop reasons the cases name, every good page kept (by URL, with the
phrase its text must hold), no dead letters, and the run stays within a memory
and time bound: behaviour bounds against a 50 MiB page and gzip bombs, not speed
tests. A fast check reads each file with `read_archive` alone.
"""

from __future__ import annotations

import collections
import resource
import time

import pyarrow.parquet as pq
import pytest

from gristmill import __version__
from pipeline.config import IngestConfig, config_from_dict
from pipeline.core.records import Capture
from pipeline.fixtures.bad_inputs import write_corpus
from pipeline.runner import run_pipeline
from pipeline.warc.reader import read_archive
from tests.conftest import STAGES_OFF

_MAX_PEAK_RSS = 2 << 30  # bytes: this process, and the largest child it has waited for (an extraction sandbox)
_MAX_SECONDS = 60
_EXTRACTION_REASONS = {"extraction_timeout", "extraction_error", "empty_text"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_inputs")
    return folder, write_corpus(folder)


def _peak_rss() -> int:
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) * 1024


@pytest.fixture(scope="module")
def run(corpus, tmp_path_factory):
    folder, cases = corpus
    out = tmp_path_factory.mktemp("bad_inputs_out")
    config = config_from_dict({"extract": {"timeout_s": 5.0}, **STAGES_OFF})
    started = time.monotonic()
    funnel = run_pipeline(
        [str(folder)], str(out), config, ["--direct_running_mode=in_memory"], version=__version__, progress=False
    )
    seconds = time.monotonic() - started
    rows = pq.read_table(out / "data").to_pylist()
    return cases, funnel, rows, out, seconds, _peak_rss()


@pytest.mark.slow
def test_every_record_is_accounted_for_with_the_expected_reason(run):
    cases, funnel, *_ = run
    assert funnel["conserved"]
    assert funnel["records_read"] == sum(case.records for case in cases)
    expected = collections.Counter()
    for case in cases:
        expected.update(case.drops)
    assert funnel["dropped_by_reason"] == dict(expected)


@pytest.mark.slow
def test_every_good_page_is_kept_with_its_text(run):
    cases, funnel, rows, *_ = run
    text_of = {row["url"]: row["text"] for row in rows}
    expected = {url: phrase for case in cases for url, phrase in case.kept.items()}
    assert sorted(text_of) == sorted(expected)
    assert funnel["kept"] == len(rows)
    for url, phrase in expected.items():
        assert phrase in text_of[url], url
        assert "\ufffd" not in text_of[url], url


@pytest.mark.slow
def test_the_run_completes_without_dead_letters(run):
    _, _, _, out, *_ = run
    assert (out / "manifest.json").exists()
    assert not (out / "dead_letter").exists()  # the folder appears only when a document went there


@pytest.mark.slow
def test_memory_and_time_stay_bounded(run):
    *_, seconds, peak = run
    assert peak < _MAX_PEAK_RSS, f"peak RSS {peak >> 20} MiB"
    assert seconds < _MAX_SECONDS, f"{seconds:.0f} s"


@pytest.mark.slow
def test_a_file_of_only_non_html_records_runs_to_the_end(corpus, tmp_path):
    folder, cases = corpus
    (case,) = [c for c in cases if c.name == "only_non_html"]
    funnel = run_pipeline(
        [str(folder / f"{case.name}.warc.gz")],
        str(tmp_path / "out"),
        config_from_dict(STAGES_OFF),
        ["--direct_running_mode=in_memory"],
        version=__version__,
        progress=False,
    )
    assert funnel["conserved"] and funnel["kept"] == 0
    assert funnel["dropped_by_reason"] == dict(case.drops)


def test_each_file_reads_as_its_case_says(corpus, capfd):
    """Ingest alone, per file: its ReadWarc drops, and a Capture of every page that must be kept."""
    folder, cases = corpus
    for case in cases:
        with open(folder / f"{case.name}.warc.gz", "rb") as stream:
            results = list(read_archive(stream, case.name, IngestConfig()))
        drops = collections.Counter(r.reason.value for r in results if not isinstance(r, Capture))
        assert dict(drops) == {reason: n for reason, n in case.drops.items() if reason not in _EXTRACTION_REASONS}, (
            case.name
        )
        assert {r.url for r in results if isinstance(r, Capture)} >= set(case.kept), case.name
        assert len(results) == case.records, case.name
    # warcio's warning on a too-short Content-Length quotes the next line of the page: none may reach the log
    assert "Remainder" not in capfd.readouterr().err
