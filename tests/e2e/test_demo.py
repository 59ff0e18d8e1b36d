"""`gristmill demo`: the embedded sample WARC through the whole pipeline, legacy encodings included."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from gristmill.cli import main

pytestmark = pytest.mark.slow


def test_demo_runs_and_decodes_legacy_charsets(tmp_path, capsys):
    assert main(["demo", "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "records read 187 = kept" in printed and "conserved" in printed
    out = tmp_path / "out"
    funnel = json.loads((out / "stats" / "funnel.json").read_text())
    assert funnel["conserved"] and funnel["records_read"] == 187
    rows = pq.read_table(out / "data").to_pylist()
    assert {r["lang"] for r in rows} >= {"en", "de", "fr", "es", "ru", "ja", "zh"}
    by_charset = {r["charset"]: r for r in rows}
    # each legacy page decoded with its declared codec (WHATWG superset) into the right words
    assert "город" in by_charset["cp1251"]["text"] and by_charset["cp1251"]["lang"] == "ru"
    assert "町" in by_charset["cp932"]["text"] and by_charset["cp932"]["lang"] == "ja"
    assert "公园" in by_charset["gb18030"]["text"] and by_charset["gb18030"]["lang"] == "zh"
    assert all("\ufffd" not in r["text"] for r in rows)
    assert all(r["crawl"] == "GRISTMILL-DEMO-2026" for r in rows)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"]["documents"] == funnel["kept"] == len(rows)
    assert manifest["domain_taxonomy_version"] == 1
    # the dashboard comes with the demo, scored for quality on the English pages
    assert (out / "report.html").stat().st_size > 10_000
    assert any(r["quality_score"] is not None for r in rows if r["lang"] == "en")
    assert all(r["quality_score"] is None for r in rows if r["lang"] != "en")
