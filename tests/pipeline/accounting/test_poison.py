"""Poison records: an exception in a stage for one document costs that document only.

It is dropped as STAGE_ERROR by the stage that failed (the funnel still adds up),
goes whole to `OUT/dead_letter/`, and every other document is kept. Failures are
injected by patching a stage's code in this process (`in_memory` DirectRunner
and TestPipeline run DoFns here, so the patches reach them).
"""

from __future__ import annotations

import io
import json
import logging
import random

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gristmill import __version__
from pipeline.accounting.dead_letter import dead_letter_line
from pipeline.accounting.guard import DEAD_LETTER, DROPPED, StageError, StageFn
from pipeline.config import IngestConfig, config_from_dict
from pipeline.core.records import Capture, Document, DropReason, Provenance, describe_error
from pipeline.runner import run_pipeline
from pipeline.stages import apply_quality as quality
from pipeline.stages import apply_safety as safety
from pipeline.stages import dedup_lines as lines
from pipeline.stages import deduplicate as dedup
from pipeline.stages import extract_text as extract
from pipeline.stages import identify_language as langid
from pipeline.stages import tag_domains as domains
from pipeline.warc import reader as warc_reader

SECRET = "jane.doe@example.com"  # page text that must never reach a Rejection or a log line

_WORDS = (
    "river",
    "market",
    "winter",
    "garden",
    "teacher",
    "letter",
    "station",
    "kitchen",
    "mountain",
    "village",
    "bridge",
    "library",
    "harvest",
    "festival",
    "morning",
    "evening",
    "doctor",
    "painter",
    "museum",
    "lantern",
    "orchard",
    "harbour",
    "castle",
    "forest",
    "meadow",
    "window",
    "journey",
    "stranger",
    "neighbour",
    "story",
    "bakery",
    "engine",
    "island",
    "valley",
    "summer",
    "thunder",
    "candle",
    "blanket",
    "pocket",
    "basket",
)
_GLUE = ("the", "of", "and", "to", "in", "a", "with", "for", "that", "on", "by", "from", "at", "their", "our", "this")
_VERBS = (
    "opened",
    "carried",
    "painted",
    "watched",
    "repaired",
    "described",
    "followed",
    "visited",
    "remembered",
    "built",
)


def _article(seed: int, marker: str = "") -> str:
    """Plain English prose, sharing next to no 5-gram with any other seed's, that every stage keeps."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(20):
        words = [rng.choice(_WORDS if i % 2 else _GLUE) for i in range(rng.randrange(10, 16))]
        words.insert(rng.randrange(2, 8), rng.choice(_VERBS))
        sentences.append(" ".join(words).capitalize() + ".")
    body = "".join(f"<p>{' '.join(sentences[i : i + 4])}</p>" for i in range(0, 20, 4))
    return f"<html><head><title>Notes {seed}</title></head><body><article>{body}<p>{marker}</p></article></body></html>"


def _warc(pages: dict[str, str]) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for n, (url, html) in enumerate(pages.items()):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        headers = {
            "WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>",
            "WARC-Date": "2024-05-18T01:58:10Z",
        }
        writer.write_record(
            writer.create_warc_record(
                url, "response", payload=io.BytesIO(html.encode()), http_headers=http, warc_headers_dict=headers
            )
        )
    return out.getvalue()


def _fail_on(cls, marker: str):
    """`cls.process_one`, raising for an element whose URL holds `marker` (and quoting page text, as a bug might)."""
    original = cls.process_one

    def process_one(self, element, *args, **kwargs):
        if marker in element.url:
            raise ValueError(f"cannot handle {SECRET}")
        return original(self, element, *args, **kwargs)

    return process_one


# Where each stage is made to fail, and the page it fails on.
POISONED = {
    "ExtractText": "poison-extract",
    "IdentifyLanguage": "poison-langid",
    "ApplySafety": "poison-safety",
    "DedupLines": "poison-lines",
    "Deduplicate": ("poison-url-key", "poison-text-group", "poison-signature"),
    "ApplyQuality": "poison-quality",
    "TagDomains": "poison-domains",
}


def _markers() -> list[str]:
    return [m for value in POISONED.values() for m in ((value,) if isinstance(value, str) else value)]


@pytest.fixture(scope="module")
def poisoned_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("poison")
    good = {f"https://good.example/{n}": _article(n) for n in range(6)}
    bad = {
        f"https://bad.example/{marker}": _article(
            100 + n, f"Write to {SECRET} about {marker}." if marker != "poison-signature" else "nightshade"
        )
        for n, marker in enumerate(_markers())
    }
    bad["https://bad.example/poison-ingest"] = _article(200)
    (folder / "poison.warc.gz").write_bytes(_warc({**good, **bad}))

    monkeypatch = pytest.MonkeyPatch()
    provenance = warc_reader._provenance

    def failing_provenance(record, *args):
        if "poison-ingest" in (record.rec_headers.get_header("WARC-Target-URI") or ""):
            raise KeyError(SECRET)
        return provenance(record, *args)

    signatures = dedup.MinHasher.signatures

    def failing_signatures(self, texts):
        if any("nightshade" in text for text in texts):
            raise FloatingPointError(SECRET)
        return signatures(self, texts)

    url_key = dedup.url_key

    def failing_url_key(doc):
        if "poison-url-key" in doc.url:
            raise ValueError(f"cannot handle {SECRET}")
        return url_key(doc)

    decide_text = dedup._KeepOnePerTextFn.decide

    def failing_text_group(self, members):
        if any("poison-text-group" in member.url_key for member in members):  # the normalized URL
            raise ValueError(f"cannot handle {SECRET}")
        return decide_text(self, members)

    monkeypatch.setattr(warc_reader, "_provenance", failing_provenance)
    monkeypatch.setattr(extract._ExtractFn, "process_one", _fail_on(extract._ExtractFn, "poison-extract"))
    monkeypatch.setattr(
        langid._IdentifyLanguageFn, "process_one", _fail_on(langid._IdentifyLanguageFn, "poison-langid")
    )
    monkeypatch.setattr(safety._ApplySafetyFn, "process_one", _fail_on(safety._ApplySafetyFn, "poison-safety"))
    monkeypatch.setattr(lines._KeyLinesFn, "process_one", _fail_on(lines._KeyLinesFn, "poison-lines"))
    monkeypatch.setattr(dedup, "url_key", failing_url_key)
    monkeypatch.setattr(dedup._KeepOnePerTextFn, "decide", failing_text_group)
    monkeypatch.setattr(dedup.MinHasher, "signatures", failing_signatures)
    monkeypatch.setattr(quality._ApplyQualityFn, "process_one", _fail_on(quality._ApplyQualityFn, "poison-quality"))
    monkeypatch.setattr(domains._TagDomainsFn, "process_one", _fail_on(domains._TagDomainsFn, "poison-domains"))
    logged = _Remember()
    logging.getLogger().addHandler(logged)
    try:
        config = config_from_dict({"safety": {"pii": {"enabled": False}}})
        out = folder / "out"
        funnel = run_pipeline(
            [str(folder / "poison.warc.gz")],
            str(out),
            config,
            ["--direct_running_mode=in_memory"],
            version=__version__,
            progress=False,
        )
    finally:
        monkeypatch.undo()
        logging.getLogger().removeHandler(logged)
    letters = [
        json.loads(line) for path in sorted(out.glob("dead_letter/*.jsonl")) for line in path.read_text().splitlines()
    ]
    return good, funnel, pq.read_table(out / "data").to_pylist(), letters, logged.messages


class _Remember(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.mark.slow
def test_the_run_completes_and_every_other_document_is_kept(poisoned_run):
    good, funnel, rows, *_ = poisoned_run
    assert funnel["conserved"]
    assert sorted(row["url"] for row in rows) == sorted(good)
    assert funnel["records_read"] == len(good) + len(_markers()) + 1


@pytest.mark.slow
def test_each_poisoned_document_is_a_stage_error_of_its_stage(poisoned_run):
    _, funnel, *_ = poisoned_run
    errors = {stage["stage"]: stage["dropped_by_reason"].get("stage_error", 0) for stage in funnel["stages"]}
    assert errors == {
        "ReadWarc": 1,
        "ExtractText": 1,
        "IdentifyLanguage": 1,
        "ApplySafety": 1,
        "DedupLines": 1,
        "Deduplicate": 3,
        "ApplyQuality": 1,
        "TagDomains": 1,
    }
    assert funnel["dropped_by_reason"] == {"stage_error": 10}


@pytest.mark.slow
def test_each_poisoned_document_is_in_the_dead_letters_whole(poisoned_run):
    _, _, _, letters, _ = poisoned_run
    by_url = {letter["url"].rsplit("/", 1)[1]: letter for letter in letters}
    assert set(by_url) == set(_markers())  # ReadWarc's failure leaves its bytes in the input file: no dead letter
    for stage, markers in POISONED.items():
        for marker in (markers,) if isinstance(markers, str) else markers:
            letter = by_url[marker]
            assert letter["stage"] == stage
            assert letter["record_type"] == ("Capture" if stage == "ExtractText" else "Document")
            text = letter["record"]["content" if stage == "ExtractText" else "text"]
            assert (SECRET if marker != "poison-signature" else "nightshade") in text
            assert letter["error"].split(" ")[0] in ("ValueError", "FloatingPointError")


@pytest.mark.slow
def test_logs_name_the_failures_but_never_the_text(poisoned_run):
    *_, messages = poisoned_run
    failures = [m for m in messages if "dead_letter/" in m]
    assert len(failures) == 9
    assert not [m for m in messages if SECRET in m]


# The guard itself, without a whole run


def test_stage_error_detail_names_the_type_and_place_never_the_message():
    try:
        raise ValueError(f"bad text: {SECRET}")
    except ValueError as err:
        error = StageError.of(err)
    assert error.detail.startswith("ValueError at test_poison.py:")
    assert error.detail.endswith("in test_stage_error_detail_names_the_type_and_place_never_the_message")
    assert SECRET not in error.detail
    assert SECRET in error.message  # the message goes to the dead letter only


def test_an_exception_without_a_traceback_is_described_by_its_type():
    assert describe_error(KeyError(SECRET)) == "KeyError"


class _Halves(StageFn):
    stage = "Halve"

    def process_one(self, n: int):
        if n % 2:
            raise ArithmeticError(f"odd: {n}")
        yield n // 2


def test_stage_fn_routes_a_failure_to_dropped_and_dead_letter_and_keeps_the_rest():
    with TestPipeline() as p:
        results = p | beam.Create([2, 3, 4]) | beam.ParDo(_Halves()).with_outputs(DROPPED, DEAD_LETTER, main="kept")
        assert_that(results.kept, equal_to([1, 2]), label="kept")
        assert_that(
            results[DROPPED] | beam.Map(lambda r: (r.stage, r.reason, r.detail.split(" ")[0])),
            equal_to([("Halve", DropReason.STAGE_ERROR, "ArithmeticError")]),
            label="dropped",
        )
        assert_that(
            results[DEAD_LETTER] | beam.Map(lambda d: (d.stage, d.record, d.message)),
            equal_to([("Halve", 3, "odd: 3")]),
            label="dead",
        )


class _HalfThenFail(StageFn):
    stage = "HalfThenFail"

    def process_one(self, n: int):
        yield n
        raise RuntimeError("after one output")


def test_an_element_that_fails_after_an_output_is_not_also_kept():
    with TestPipeline() as p:
        results = p | beam.Create([1]) | beam.ParDo(_HalfThenFail()).with_outputs(DROPPED, DEAD_LETTER, main="kept")
        assert_that(results.kept, equal_to([]), label="kept")
        assert_that(
            results[DROPPED] | beam.Map(lambda r: r.reason), equal_to([DropReason.STAGE_ERROR]), label="dropped"
        )


def test_a_reader_bug_on_one_record_is_a_stage_error_and_the_next_record_is_kept(monkeypatch):
    provenance = warc_reader._provenance

    def failing(record, *args):
        if record.rec_headers.get_header("WARC-Target-URI").endswith("/1"):
            raise IndexError(SECRET)
        return provenance(record, *args)

    monkeypatch.setattr(warc_reader, "_provenance", failing)
    data = _warc({f"https://site.example/{n}": _article(n) for n in range(3)})
    results = list(warc_reader.read_archive(io.BytesIO(data), "x.warc.gz", IngestConfig()))
    assert [getattr(r, "reason", "kept") for r in results] == ["kept", DropReason.STAGE_ERROR, "kept"]
    assert results[1].url == "https://site.example/1"
    assert results[1].detail.startswith("IndexError at test_poison.py:") and SECRET not in results[1].detail


def test_a_dead_letter_is_one_json_line_with_the_whole_document():
    doc = Document(
        id="d1",
        url="https://x.example/",
        host="x.example",
        text=f"hello {SECRET}",
        provenance=Provenance("f.warc.gz", 0, 0),
        pii_counts={"EMAIL": 1},
        metadata={"extractor": "trafilatura"},
    )
    from pipeline.accounting.guard import DeadLetter

    line = json.loads(
        dead_letter_line(DeadLetter("ApplyQuality", "d1", doc.url, "ValueError at q.py:1 in f", "m", doc))
    )
    assert line["record_type"] == "Document" and line["record"]["text"] == f"hello {SECRET}"
    assert line["record"]["provenance"]["source_file"] == "f.warc.gz" and line["record"]["pii_counts"] == {"EMAIL": 1}
    capture = Capture(id="c1", url="https://x.example/", content="<p>x</p>", provenance=Provenance("f", 0, 0))
    assert (
        json.loads(dead_letter_line(DeadLetter("ExtractText", "c1", capture.url, "E", "", capture)))["record"][
            "content"
        ]
        == "<p>x</p>"
    )
