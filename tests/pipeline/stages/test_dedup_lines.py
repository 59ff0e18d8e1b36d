"""DedupLines on the DirectRunner: templates per host or per run, drops, copies, stats and conservation."""

from __future__ import annotations

import io
import json
import random

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gristmill import __version__
from pipeline.config import LineDedupConfig, config_from_dict
from pipeline.core.records import Document, DropReason, Provenance
from pipeline.fixtures.eval_pages import load_boilerplate, load_page_texts
from pipeline.runner import run_pipeline
from pipeline.stages.dedup_lines import LINES_REMOVED, STAGE, DedupLines
from tests.conftest import STAGES_OFF

NAV = "Home | Products | Ranking | Contact"
FOOTER = "Copyright Example Shop. All rights reserved."
RULE = "----------"  # normalizes to nothing: never counted, never removed


def _body(seed: int, words: int = 60) -> str:
    """A paragraph of its own (normalization folds digits: words must differ in letters)."""
    rng = random.Random(seed)
    return " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=6)) for _ in range(words)) + "."


def _doc(id_: str, host: str, text: str, url: str = "") -> Document:
    return Document(id_, url or f"https://{host}/{id_}", host, text, Provenance("t.warc.gz", 0, 0))


def _run(docs: list[Document], config: LineDedupConfig, kept, dropped, stats=None) -> None:
    """Apply DedupLines; check kept (id, text), dropped (id, reason), stats, and that every document
    comes out exactly once."""
    with TestPipeline() as p:
        dedup_lines = DedupLines(config)
        out = p | beam.Create(docs) | dedup_lines
        assert_that(out.kept | "KeptTexts" >> beam.Map(lambda d: (d.id, d.text)), equal_to(kept), label="kept")
        assert_that(out.dropped | "Reasons" >> beam.Map(lambda r: (r.id, r.reason)), equal_to(dropped), label="drop")
        if stats is not None:
            assert_that(dedup_lines.stats, equal_to([stats]), label="stats")
        ids = (
            out.kept | "KeptIds" >> beam.Map(lambda d: d.id),
            out.dropped | "DroppedIds" >> beam.Map(lambda r: r.id),
        ) | beam.Flatten()
        assert_that(ids, equal_to([d.id for d in docs]), label="every document kept or dropped exactly once")


def test_a_template_stays_only_in_the_smallest_id_of_its_host():
    docs = [_doc(i, "shop.test", f"{NAV}\n{RULE}\n{_body(n)}\n{RULE}\n{FOOTER}") for n, i in enumerate("cadb")]
    docs.append(_doc("e", "blog.test", f"{NAV}\n{_body(9)}"))  # another host: the same line is not its template
    kept = [(d.id, d.text) for d in docs if d.id in ("a", "e")]
    kept += [(d.id, f"{RULE}\n{_body(n)}\n{RULE}") for n, d in enumerate(docs[:4]) if d.id != "a"]
    chars = 3 * (len(NAV) + len(FOOTER))
    stats = {"enabled": True, "scope": "host", "min_docs": 3, "min_words": 50}
    stats |= {"documents_changed": 3, "documents_dropped": 0, "lines_removed": 6, "chars_removed": chars}
    _run(docs, LineDedupConfig(), kept, [], stats)


def test_scope_run_counts_a_line_over_every_host():
    docs = [_doc(i, f"{i}.test", f"{NAV}\n{_body(n)}") for n, i in enumerate("abc")]
    host = [(d.id, d.text) for d in docs]
    _run(docs, LineDedupConfig(scope="host"), host, [])
    run = [("a", docs[0].text), ("b", _body(1)), ("c", _body(2))]
    _run(docs, LineDedupConfig(scope="run"), run, [])


def test_a_document_left_too_short_is_dropped_with_its_reason():
    docs = [_doc(i, "shop.test", f"{NAV}\n{_body(n)}\n{FOOTER}") for n, i in enumerate("abc")]
    docs.append(_doc("d", "shop.test", f"{NAV}\nOnly a product name here.\n{FOOTER}"))  # template-only, nearly
    kept = [("a", docs[0].text), ("b", _body(1)), ("c", _body(2))]
    _run(docs, LineDedupConfig(), kept, [("d", DropReason.TOO_SHORT_AFTER_LINE_DEDUP)])


def test_exact_duplicates_keep_one_full_copy_each_for_document_dedup():
    page = f"{NAV}\n{_body(0)}\n{FOOTER}"
    docs = [_doc("a", "shop.test", page), _doc("b", "shop.test", page, "https://shop.test/b?utm_source=x")]
    docs += [_doc(i, "shop.test", f"{NAV}\n{_body(n)}\n{FOOTER}") for n, i in ((1, "c"), (2, "d"))]
    # a and b are one text: neither empties the other (Deduplicate drops b as EXACT_DUPLICATE next)
    kept = [("a", page), ("b", page), ("c", _body(1)), ("d", _body(2))]
    _run(docs, LineDedupConfig(), kept, [])


def test_a_changed_document_says_how_many_lines_it_lost():
    docs = [_doc(i, "shop.test", f"{NAV}\n{_body(n)}\n{FOOTER}") for n, i in enumerate("abc")]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | DedupLines(LineDedupConfig())
        removed = out.kept | beam.Map(lambda d: (d.id, d.metadata.get(LINES_REMOVED)))
        assert_that(removed, equal_to([("a", None), ("b", "2"), ("c", "2")]))


def test_disabled_passes_everything_through():
    docs = [_doc(i, "shop.test", f"{NAV}\nshort") for i in "abcd"]
    stats = {"enabled": False, "scope": "host", "min_docs": 3, "min_words": 50}
    stats |= {"documents_changed": 0, "documents_dropped": 0, "lines_removed": 0, "chars_removed": 0}
    _run(docs, LineDedupConfig(enabled=False), [(d.id, d.text) for d in docs], [], stats)


def test_a_document_that_fails_is_a_stage_error_and_the_others_go_on(monkeypatch):
    from pipeline.stages import dedup_lines

    original = dedup_lines.line_keys

    def failing_line_keys(text: str):
        if "poison" in text:
            raise ValueError("cannot key")
        return original(text)

    monkeypatch.setattr(dedup_lines, "line_keys", failing_line_keys)
    docs = [_doc(i, "shop.test", f"{NAV}\n{_body(n)}") for n, i in enumerate("abc")]
    docs.append(_doc("d", "shop.test", f"{NAV}\npoison {_body(3)}"))
    kept = [("a", docs[0].text), ("b", _body(1)), ("c", _body(2))]
    with TestPipeline(options=beam.options.pipeline_options.PipelineOptions(["--direct_running_mode=in_memory"])) as p:
        out = p | beam.Create(docs) | DedupLines(LineDedupConfig())
        assert_that(out.kept | beam.Map(lambda d: (d.id, d.text)), equal_to(kept), label="kept")
        reasons = out.dropped | beam.Map(lambda r: (r.stage, r.id, r.reason))
        assert_that(reasons, equal_to([(STAGE, "d", DropReason.STAGE_ERROR)]), label="dropped")
        assert_that(out.dead_letters | beam.Map(lambda d: d.id), equal_to(["d"]), label="dead letters")


@pytest.mark.slow
def test_a_run_removes_a_real_template_and_accounts_for_every_record(shared_data, tmp_path):
    """Real pages (trafilatura-eval main texts) on one host, each led by one site's real boilerplate
    inside the article, where the extractor keeps it (the issue's "ranking" sidebar), through the
    whole pipeline: the template stays on the smallest id only, the funnel adds up, and the stats
    file is written before the manifest."""
    eval_dir = shared_data / "extraction" / "trafilatura-eval"
    texts = load_page_texts(eval_dir / "html", limit=6)
    template = next(snippets for snippets in load_boilerplate(eval_dir / "evaldata.json") if len(snippets) >= 3)[:3]
    path = tmp_path / "site.warc.gz"
    with open(path, "wb") as sink:
        writer = WARCWriter(sink, gzip=True)
        for n, text in enumerate(texts):
            paragraphs = "".join(f"<p>{line}</p>" for line in [*template, *text.split("\n")])
            html = f"<html><body><article>{paragraphs}</article></body></html>".encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            url = f"https://one-site.test/page{n}"
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=http))
    config = config_from_dict({**STAGES_OFF, "lines": {"enabled": True}})
    out = tmp_path / "out"
    funnel = run_pipeline([str(path)], str(out), config, [], version=__version__, progress=False)
    assert funnel["conserved"] and funnel["kept"] == len(texts)
    assert [s["stage"] for s in funnel["stages"]][3:6] == ["ApplySafety", STAGE, "Deduplicate"]
    stats = json.loads((out / "stats" / "line_dedup.json").read_text())
    assert stats["documents_changed"] == len(texts) - 1 and stats["lines_removed"] == 3 * (len(texts) - 1)
    rows = sorted(pq.read_table(out / "data").to_pylist(), key=lambda row: row["id"])
    assert [template[1] in row["text"].split("\n") for row in rows] == [True] + [False] * (len(texts) - 1)
    assert (out / "manifest.json").exists()
