"""`Decontaminate` on Beam: an index of the real GSM8K and HumanEval test sets, real pages, planted items."""

from __future__ import annotations

import dataclasses
import html
import io
import random

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from conftest import STAGES_OFF, skip_or_fail
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from filters.decontamination import EvalSet, IndexFormatError, NgramIndex
from filters.eval_sets import read_items
from filters.evaluation.contamination import plant
from gristmill import __version__
from gristmill.report.page import render_page
from gristmill.report.run_data import load_run
from pipeline.config import DecontamConfig, config_from_dict
from pipeline.core.layout import CONTAMINATION
from pipeline.core.records import Document, DropReason, Provenance
from pipeline.fixtures.eval_pages import load_page_texts
from pipeline.runner import run_pipeline
from pipeline.stages.decontaminate import Decontaminate, _DecontaminateFn

PROV = Provenance("test.warc.gz", 0, 0)


@pytest.fixture(scope="module")
def sets(shared_data):
    folder = shared_data / "benchmarks"
    if not folder.is_dir():
        skip_or_fail(f"evaluation sets not found at {folder}")
    return {
        "gsm8k": read_items(folder / "gsm8k" / "test.jsonl", ["question", "answer"]),
        "humaneval": read_items(folder / "humaneval" / "HumanEval.jsonl.gz", ["prompt"]),
    }


@pytest.fixture(scope="module")
def index_path(sets, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("decontam") / "index.npz"
    with open(path, "wb") as sink:
        NgramIndex.build([EvalSet(name, items) for name, items in sets.items()]).save(sink)
    return str(path)


@pytest.fixture(scope="module")
def pages(shared_data) -> list[str]:
    return load_page_texts(shared_data / "extraction" / "trafilatura-eval" / "html", limit=8)


def _docs(pages, sets) -> list[Document]:
    rng = random.Random(4)
    texts = [
        *pages[:5],
        plant(pages[5], sets["gsm8k"][12][0], "verbatim", rng),
        plant(pages[6], sets["humaneval"][3][0], "reformatted", rng),
        plant(pages[7], sets["gsm8k"][700][0], "embedded", rng),
    ]
    return [Document(f"d{i}", f"https://site{i}.example/", f"site{i}.example", t, PROV) for i, t in enumerate(texts)]


def _run(docs, config, out):
    with TestPipeline() as p:
        result = p | beam.Create(docs) | Decontaminate(config, str(out))
        assert_that(result.kept | "KeptIds" >> beam.Map(lambda d: d.id), equal_to(["d0", "d1", "d2", "d3", "d4"]))
        dropped = result.dropped | "Tuples" >> beam.Map(lambda r: (r.stage, r.reason, r.id, r.detail))
        assert_that(
            dropped,
            equal_to(
                [
                    ("Decontaminate", DropReason.CONTAMINATED, "d5", "gsm8k:12"),
                    ("Decontaminate", DropReason.CONTAMINATED, "d6", "humaneval:3"),
                    ("Decontaminate", DropReason.CONTAMINATED, "d7", "gsm8k:700"),
                ]
            ),
            label="Dropped",
        )


def test_drops_contaminated_documents_and_writes_the_stats(index_path, pages, sets, tmp_path):
    _run(_docs(pages, sets), DecontamConfig(enabled=True, index=index_path), tmp_path)
    rows = pq.read_table(tmp_path / CONTAMINATION).to_pylist()
    assert rows == [
        {
            "eval_set": "gsm8k",
            "items": 1319,
            "documents_matched": 2,
            "documents_dropped": 2,
            "documents_redacted": 0,
            "items_matched": 2,
        },
        {
            "eval_set": "humaneval",
            "items": 164,
            "documents_matched": 1,
            "documents_dropped": 1,
            "documents_redacted": 0,
            "items_matched": 1,
        },
    ]


def test_redact_mode_keeps_the_rest(index_path, pages, sets, tmp_path):
    docs = _docs(pages, sets)
    config = DecontamConfig(enabled=True, index=index_path, mode="redact")
    with TestPipeline() as p:
        result = p | beam.Create(docs) | Decontaminate(config, str(tmp_path))
        kept = result.kept | beam.Map(lambda d: (d.id, d.text))
        originals = {d.id: d.text for d in docs}

        def check(pairs):
            assert sorted(doc_id for doc_id, _ in pairs) == [f"d{i}" for i in range(8)]
            for doc_id, text in pairs:
                if doc_id in ("d5", "d6", "d7"):
                    assert text != originals[doc_id] and len(text) > 0.5 * len(originals[doc_id])
                else:
                    assert text == originals[doc_id]

        assert_that(kept, check)
        assert_that(result.dropped, equal_to([]), label="NoDrops")
    rows = {r["eval_set"]: r for r in pq.read_table(tmp_path / CONTAMINATION).to_pylist()}
    assert rows["gsm8k"]["documents_redacted"] == 2 and rows["humaneval"]["documents_redacted"] == 1
    assert rows["gsm8k"]["documents_dropped"] == 0


def test_a_bad_index_is_a_clear_error_at_setup(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is no index")
    config = DecontamConfig(enabled=True, index=str(bad))
    with pytest.raises(IndexFormatError, match="bad.npz: not a gristmill decontamination index"):
        _DecontaminateFn(config).setup()
    with pytest.raises(IndexFormatError, match="bad.npz: not a gristmill decontamination index"):
        Decontaminate(config)  # the launch fails before any worker starts
    missing = DecontamConfig(enabled=True, index=str(tmp_path / "missing.npz"))
    with pytest.raises(IndexFormatError, match="missing.npz: cannot open the decontamination index"):
        Decontaminate(missing)


def _warc(path, captures: list[tuple[str, str]]) -> None:
    """Pages as simple HTML articles: one <p> per line of text."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, text in captures:
            body = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())
            page = f"<html><head><title>{url}</title></head><body><article>{body}</article></body></html>"
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(page.encode()), http_headers=http)
            writer.write_record(record)


@pytest.mark.slow
def test_end_to_end_the_funnel_is_conserved_and_the_report_shows_it(index_path, pages, sets, tmp_path):
    docs = _docs(pages, sets)
    warc = tmp_path / "planted.warc.gz"
    _warc(warc, [(d.url, d.text) for d in docs])
    config = config_from_dict({**STAGES_OFF, "decontam": {"enabled": True, "index": index_path}})
    out = tmp_path / "out"
    funnel = run_pipeline([str(warc)], str(out), config, [], version=__version__, progress=False)
    assert funnel["conserved"]
    stage = next(s for s in funnel["stages"] if s["stage"] == "Decontaminate")
    assert stage["dropped_by_reason"] == {"contaminated": 3}
    names = [s["stage"] for s in funnel["stages"]]
    assert names.index("ApplyQuality") + 1 == names.index("Decontaminate") == names.index("TagDomains") - 1
    page = render_page([load_run(str(out))])
    assert 'data-table="contamination"' in page and "gsm8k" in page
    off = dataclasses.replace(config, decontam=DecontamConfig())
    funnel = run_pipeline([str(warc)], str(tmp_path / "off"), off, [], version=__version__, progress=False)
    assert "Decontaminate" not in [s["stage"] for s in funnel["stages"]]
    assert not (tmp_path / "off" / CONTAMINATION).exists()
    assert 'data-table="contamination"' not in render_page([load_run(str(tmp_path / "off"))])
