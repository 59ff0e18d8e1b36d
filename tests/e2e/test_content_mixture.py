"""The shared WARCs with the topic x format recipe of configs/mixture_topic_format.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from filters.taxonomy import Taxonomy
from gristmill import __version__
from gristmill.report_cli import write_report
from pipeline.config import load_config
from pipeline.core.manifest import load_manifest
from pipeline.runner import run_pipeline

pytestmark = pytest.mark.slow
RECIPE = Path(__file__).resolve().parents[2] / "configs" / "mixture_topic_format.yaml"


@pytest.fixture(scope="module")
def run(shared_warcs, tmp_path_factory):
    out = tmp_path_factory.mktemp("mixture") / "out"
    funnel = run_pipeline(
        [str(p) for p in shared_warcs], str(out), load_config(RECIPE), [], version=__version__, progress=False
    )
    return out, funnel


def test_every_document_has_a_topic_and_format_of_the_taxonomy(run):
    out, funnel = run
    assert funnel["conserved"]
    table = pq.read_table(out / "data").to_pylist()
    taxonomy = Taxonomy.load()
    assert len(table) == funnel["kept"]
    assert all(row["topic"] in taxonomy.topics and row["format"] in taxonomy.formats for row in table)
    assert all(row["topic_source"] and row["format_source"] for row in table)
    for row in table:  # a score where a model decided, none where evidence did
        assert (row["format_score"] is not None) == (row["format_source"] == "model")
        assert (row["topic_score"] is not None) == (row["topic_source"] == "model")
    by_rule = [row for row in table if row["format_source"].startswith(("domain:", "host:", "subdomain:"))]
    assert by_rule and all(row["format"] == taxonomy.legacy_format(row["domain"]) for row in by_rule)


def test_shards_follow_the_mixture_groups_and_the_factors_apply(run):
    out, _ = run
    manifest = load_manifest((out / "manifest.json").read_text())
    assert manifest["mixture_axis"] == "topic_format"
    for shard in manifest["shards"]:
        assert shard["path"].startswith(f"data/topic_format={shard['domain']}/")
        topic, fmt = shard["domain"].split(".")
        rows = pq.read_table(out / shard["path"], columns=["topic", "format"]).to_pylist()
        assert {(r["topic"], r["format"]) for r in rows} == {(topic, fmt)}
    natural = {name: d["natural_weight"] for name, d in manifest["mixture"]["domains"].items()}
    weight = {name: d["weight"] for name, d in manifest["mixture"]["phases"][0]["domains"].items()}
    raised = (".knowledge_article", ".tutorial_howto", ".academic_writing")  # factor 2 (3 with science/computing)
    up = [g for g in natural if g.endswith(raised)]
    down = [g for g in natural if g.endswith((".product_page", ".listing_index"))]
    assert up and down
    assert all(weight[g] > natural[g] for g in up) and all(weight[g] < natural[g] for g in down)


def test_stats_and_dashboard_show_both_axes(run):
    out, funnel = run
    topics = pq.read_table(out / "stats" / "topics.parquet").to_pylist()
    formats = pq.read_table(out / "stats" / "formats.parquet").to_pylist()
    cells = pq.read_table(out / "stats" / "topic_format.parquet").to_pylist()
    for rows in (topics, formats, cells):
        assert sum(r["documents"] for r in rows) == funnel["kept"]
    target, size = write_report(str(out))
    page = Path(target).read_text()
    assert 'data-table="topic-format"' in page
    for card in ("topic-mixture", "format-mixture"):
        assert f'data-chart="{card}"' in page
    assert "after mixture" in page  # the per-axis shares after reweighting are known for this axis
    print(json.dumps({r["format"]: r["documents"] for r in formats}))
