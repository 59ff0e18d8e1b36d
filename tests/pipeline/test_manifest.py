import json

import pytest

from pipeline.manifest import ManifestError, build_manifest, load_manifest, validate_manifest

SHARDS = [
    {"path": "data/domain=news/part-00000-of-00001.parquet", "domain": "news", "rows": 10, "bytes": 1000, "tokens_estimate": 3000},
    {"path": "data/domain=blog/part-00001-of-00002.parquet", "domain": "blog", "rows": 4, "bytes": 300, "tokens_estimate": 500},
    {"path": "data/domain=blog/part-00000-of-00002.parquet", "domain": "blog", "rows": 6, "bytes": 400, "tokens_estimate": 500},
]


def _manifest():
    return build_manifest(SHARDS, {"records_read": 50}, config_hash="abc", inputs=["a.warc.gz"], schema_version=1, version="0.1.0")


def test_totals_domains_and_natural_weights():
    manifest = _manifest()
    assert manifest["totals"] == {"records_read": 50, "documents": 20, "tokens_estimate": 4000, "bytes": 1700, "shards": 3}
    assert [s["path"] for s in manifest["shards"]] == sorted(s["path"] for s in SHARDS)
    assert manifest["domains"]["blog"] == {
        "documents": 10, "tokens_estimate": 1000, "bytes": 700, "shards": 2, "target_weight": 0.25, "sampling_rate": 1.0, "epochs": 1.0
    }
    assert manifest["domains"]["news"]["target_weight"] == 0.75


def test_round_trip_and_validation_errors():
    manifest = _manifest()
    assert load_manifest(json.dumps(manifest)) == manifest
    broken = json.loads(json.dumps(manifest))
    broken["shards"][1]["rows"] = "ten"
    with pytest.raises(ManifestError, match=r"shards\[1\].rows"):
        validate_manifest(broken)
    broken = json.loads(json.dumps(manifest))
    broken["shards"][0]["domain"] = "forum"
    with pytest.raises(ManifestError, match="'forum' is not in domains"):
        validate_manifest(broken)
    with pytest.raises(ManifestError, match="format_version"):
        validate_manifest({**manifest, "format_version": 99})
    with pytest.raises(ManifestError, match="not JSON"):
        load_manifest("{")
