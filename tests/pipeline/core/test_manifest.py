import copy
import json

import pytest

from pipeline.config import GristmillConfig, MixtureConfig, MixturePhase
from pipeline.core.manifest import ManifestError, build_manifest, load_manifest, validate_manifest
from pipeline.core.mixture import MixtureError

SHARDS = [
    {
        "path": "data/domain=news/part-00000-of-00001.parquet",
        "domain": "news",
        "rows": 10,
        "bytes": 1000,
        "tokens_estimate": 3000,
    },
    {
        "path": "data/domain=blog/part-00001-of-00002.parquet",
        "domain": "blog",
        "rows": 4,
        "bytes": 300,
        "tokens_estimate": 500,
    },
    {
        "path": "data/domain=blog/part-00000-of-00002.parquet",
        "domain": "blog",
        "rows": 6,
        "bytes": 400,
        "tokens_estimate": 500,
    },
]
TWO_PHASES = MixtureConfig(
    token_budget=8000,
    phases=(
        MixturePhase(name="main", fraction=0.75),
        MixturePhase(name="anneal", fraction=0.25, strategy="weights", weights={"blog": 1}),
    ),
)


def _manifest(mixture=None, shards=SHARDS):
    return build_manifest(
        shards,
        {"records_read": 50},
        config_hash="abc",
        inputs=["a.warc.gz"],
        schema_version=1,
        version="0.1.0",
        mixture=mixture or MixtureConfig(),
    )


def test_totals_domains_and_natural_weights():
    manifest = _manifest()
    assert manifest["format_version"] == 2
    assert manifest["totals"] == {
        "records_read": 50,
        "documents": 20,
        "tokens_estimate": 4000,
        "bytes": 1700,
        "shards": 3,
    }
    assert [s["path"] for s in manifest["shards"]] == sorted(s["path"] for s in SHARDS)
    assert manifest["domains"]["blog"] == {
        "documents": 10,
        "tokens_estimate": 1000,
        "bytes": 700,
        "shards": 2,
        "target_weight": 0.25,
        "sampling_rate": 1.0,
        "epochs": 1.0,
    }
    assert manifest["domains"]["news"]["target_weight"] == 0.75


def test_mixture_section_of_a_two_phase_schedule():
    mixture = _manifest(TWO_PHASES)["mixture"]
    assert mixture["strategy"] == "natural" and mixture["temperature"] is None and mixture["token_budget"] == 8000
    assert mixture["max_epochs"] == 4.0 and mixture["max_epochs_per_domain"] == {}
    assert mixture["domains"] == {
        "blog": {"documents": 10, "tokens_estimate": 1000, "natural_weight": 0.25},
        "news": {"documents": 10, "tokens_estimate": 3000, "natural_weight": 0.75},
    }
    main, anneal = mixture["phases"]
    assert (main["name"], main["strategy"], main["token_budget"]) == ("main", "natural", 6000)
    assert main["domains"]["blog"] == {"weight": 0.25, "sampling_rate": 1.5, "epochs": 1.5, "tokens": 1500}
    assert (anneal["name"], anneal["strategy"], anneal["token_budget"]) == ("anneal", "weights", 2000)
    assert anneal["domains"]["blog"] == {"weight": 1.0, "sampling_rate": 2.0, "epochs": 3.5, "tokens": 2000}
    assert anneal["domains"]["news"] == {"weight": 0.0, "sampling_rate": 0.0, "epochs": 1.5, "tokens": 0}
    assert mixture["total_epochs"] == {"blog": 3.5, "news": 1.5}


def test_top_level_domains_describe_the_whole_schedule():
    domains = _manifest(TWO_PHASES)["domains"]
    assert (
        domains["blog"]["target_weight"] == 3500 / 8000
        and domains["blog"]["epochs"] == domains["blog"]["sampling_rate"] == 3.5
    )
    assert domains["news"]["target_weight"] == 4500 / 8000 and domains["news"]["epochs"] == 1.5


def test_impossible_mixture_is_refused_when_building():
    with pytest.raises(
        MixtureError,
        match=(
            "domain .news. would be repeated 4.5 times .* blog would need 4.5; "
            "the largest token budget this mixture fits is 16,000"
        ),
    ):
        _manifest(MixtureConfig(token_budget=18000))


def test_empty_run_has_a_valid_manifest():
    manifest = _manifest(shards=[])
    assert load_manifest(json.dumps(manifest)) == manifest
    assert manifest["mixture"]["token_budget"] == 0 and manifest["mixture"]["phases"][0]["domains"] == {}


def test_round_trip():
    for mixture in (
        MixtureConfig(),
        TWO_PHASES,
        MixtureConfig(strategy="temperature", temperature=3.0, token_budget=5001),
    ):
        manifest = _manifest(mixture)
        assert load_manifest(json.dumps(manifest)) == manifest


def _broken(change, mixture=TWO_PHASES):
    manifest = json.loads(json.dumps(_manifest(mixture)))
    change(manifest)
    return manifest


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["shards"][1].update(rows="ten"), r"shards\[1\].rows: must be an integer, not 'ten'"),
        (lambda m: m["shards"][0].update(domain="forum"), r"shards\[0\].domain: 'forum' is not in domains"),
        (lambda m: m["totals"].update(documents=21), "totals.documents: is 21 but the shards sum to 20"),
        (lambda m: m.pop("config_hash"), "config_hash: missing"),
        (lambda m: m.pop("mixture"), "mixture: missing"),
        (lambda m: m["domains"]["news"].update(epochs="1"), "domains.news.epochs: must be a number"),
        (
            lambda m: m["domains"]["news"].update(epochs=2.0),
            "domains.news.epochs: is 2.0 but should equal mixture.total_epochs.news",
        ),
        (
            lambda m: m["mixture"]["phases"][1]["domains"]["news"].update(weight="0"),
            r"mixture.phases\[1\].domains.news.weight: must be a number, not '0'",
        ),
        (
            lambda m: m["mixture"]["phases"][0]["domains"]["news"].update(weight=0.7),
            r"mixture.phases\[0\].domains: is 0.95 but should equal weights summing to 1",
        ),
        (
            lambda m: m["mixture"]["phases"][0]["domains"]["news"].update(tokens=4499),
            r"mixture.phases\[0\].domains.news.sampling_rate: is 1.5 but should equal tokens / tokens_estimate",
        ),
        (
            lambda m: m["mixture"]["phases"][1]["domains"].pop("news"),
            r"mixture.phases\[1\].domains: must name the domains of mixture.domains: "
            r"missing \['news'\], unexpected \[\]",
        ),
        (
            lambda m: m["mixture"]["domains"].update(
                code={"documents": 0, "tokens_estimate": 0, "natural_weight": 0.0}
            ),
            r"mixture.domains: must name the domains of domains: missing \[\], unexpected \['code'\]",
        ),
        (
            lambda m: m["mixture"].update(token_budget=7999),
            "mixture.token_budget: is 7999 but the phases' budgets sum to 8000",
        ),
        (
            lambda m: m["mixture"].update(max_epochs=3.0),
            "mixture.total_epochs.blog: 3.5 exceeds the domain's max_epochs 3",
        ),
        (lambda m: m["mixture"].update(temperature="hot"), "mixture.temperature: must be a number or null"),
        (lambda m: m["mixture"]["phases"].clear(), "mixture.phases: must hold at least one phase"),
    ],
)
def test_validation_names_the_json_path(change, message):
    with pytest.raises(ManifestError, match=message):
        validate_manifest(_broken(change))


def test_versions_and_non_json():
    manifest = _manifest()
    with pytest.raises(
        ManifestError, match=r"format_version: 3 is newer than this gristmill reads \(2\); upgrade gristmill"
    ):
        validate_manifest({**manifest, "format_version": 3})
    with pytest.raises(
        ManifestError, match="format_version: 1 predates mixtures .*rerun the pipeline with --overwrite"
    ):
        validate_manifest({**manifest, "format_version": 1})
    with pytest.raises(ManifestError, match="format: must be 'gristmill-manifest'"):
        validate_manifest({**manifest, "format": "other"})
    with pytest.raises(ManifestError, match="not JSON"):
        load_manifest("{")
    extra = copy.deepcopy(manifest)
    extra["mixture"]["notes"] = "added in a later minor revision"
    assert validate_manifest(extra) is extra  # readers ignore keys they do not know


def test_manifest_step_writes_the_reason_instead_of_an_impossible_manifest(tmp_path):
    from pipeline.core.layout import MANIFEST as MANIFEST_PATH
    from pipeline.graph import _write_manifest, read_mixture_error

    config = GristmillConfig(mixture=MixtureConfig(strategy="weights", weights={"academic": 1}))
    assert (
        _write_manifest(SHARDS, {"records_read": 50}, output_dir=str(tmp_path), config=config, inputs=[], version="0")
        is None
    )
    assert not (tmp_path / MANIFEST_PATH).exists()
    assert "mixture.weights.academic: weight 1 but this run wrote no documents" in read_mixture_error(str(tmp_path))
    written = _write_manifest(
        SHARDS, {"records_read": 50}, output_dir=str(tmp_path / "ok"), config=GristmillConfig(), inputs=[], version="0"
    )
    assert load_manifest((tmp_path / "ok" / MANIFEST_PATH).read_text()) == written
    assert read_mixture_error(str(tmp_path / "ok")) is None
