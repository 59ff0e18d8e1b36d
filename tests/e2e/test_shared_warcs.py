"""The whole pipeline on every real WARC/ARC/WET in ../shared/data/warc, default runner mode."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from filters.domain_rules import DomainRules
from gristmill import __version__
from pipeline.config import GristmillConfig
from pipeline.core.manifest import validate_manifest
from pipeline.core.schema import SCHEMA
from pipeline.runner import run_pipeline

pytestmark = pytest.mark.slow


def _warcio_record_count(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in ArchiveIterator(stream, arc2warc=True))


@pytest.fixture(scope="module")
def run(shared_warcs, tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "out"
    funnel = run_pipeline(
        [str(p) for p in shared_warcs], str(out), GristmillConfig(), [], version=__version__, progress=False
    )
    return out, funnel


def test_every_record_is_accounted_for(run, shared_warcs):
    out, funnel = run
    assert funnel["records_read"] == sum(_warcio_record_count(p) for p in shared_warcs)
    assert funnel["conserved"]
    assert funnel["records_read"] == funnel["kept"] + funnel["dropped"]
    for stage in funnel["stages"]:
        assert stage["in"] == stage["out"] + sum(stage["dropped_by_reason"].values())
    assert json.loads((out / "stats" / "funnel.json").read_text()) == funnel
    # the real files hold requests, metadata, non-HTML and non-200 responses: each counted
    for reason in ("request_record", "metadata_record", "warcinfo_record", "not_html", "http_status"):
        assert funnel["dropped_by_reason"].get(reason, 0) > 0, reason


def test_output_schema_languages_and_manifest(run):
    out, funnel = run
    table = pq.read_table(out / "data")
    assert table.num_rows == funnel["kept"] > 20
    assert [s["stage"] for s in funnel["stages"]] == [
        "ReadWarc",
        "ExtractText",
        "IdentifyLanguage",
        "ApplySafety",
        "DedupLines",
        "Deduplicate",
        "ApplyQuality",
        "TagDomains",
    ]
    for path in (out / "data").rglob("*.parquet"):
        assert pq.read_schema(path).remove_metadata() == SCHEMA.remove_metadata()
    rows = table.to_pylist()
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["text"].strip() and r["url"].startswith("http") for r in rows)
    assert all(r["lang"].isalpha() and r["lang"].islower() and 2 <= len(r["lang"]) <= 3 for r in rows)
    assert all(r["lang_score"] >= 0.5 for r in rows)
    langs = {r["lang"] for r in rows}
    assert "en" in langs
    assert all(r["toxicity_score"] is not None and r["dup_cluster_size"] >= 1 for r in rows)
    manifest = validate_manifest(json.loads((out / "manifest.json").read_text()))
    assert manifest["totals"]["documents"] == funnel["kept"]
    assert sum(s["rows"] for s in manifest["shards"]) == funnel["kept"]
    assert manifest["totals"]["tokens_estimate"] == sum(r["token_estimate"] for r in rows)
    for shard in manifest["shards"]:
        assert (out / shard["path"]).stat().st_size == shard["bytes"]
    assert not list(out.rglob("*.tmp*")), "temporary files left behind"


def test_readers_load_the_output_unchanged(run):
    import datasets
    import duckdb
    import pandas as pd

    out, funnel = run
    n = funnel["kept"]
    assert duckdb.sql(f"select count(*) from read_parquet('{out}/data/**/*.parquet')").fetchall() == [(n,)]
    # the hive folder `domain=<tag>` and the column agree, and every document says which rule tagged it
    by_folder = duckdb.sql(
        f"select domain, count(*) from read_parquet('{out}/data/**/*.parquet', hive_partitioning=false) "
        "group by domain order by domain"
    ).fetchall()
    frame = pd.read_parquet(out / "data")
    assert len(frame) == n and sorted(frame["domain"].astype(str).value_counts().items()) == by_folder
    assert {d for d, _ in by_folder} <= set(DomainRules.load().taxonomy) and (frame["domain_rule"] != "").all()
    hf = datasets.load_dataset(
        "parquet", data_files=f"{out}/data/**/*.parquet", split="train", cache_dir=str(out.parent / "hf")
    )
    assert hf.num_rows == n and "text" in hf.column_names
