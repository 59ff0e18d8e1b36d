from pathlib import Path

import pytest

from pipeline.config import DEFAULT_CONFIG, ConfigError, GristmillConfig, config_from_dict, load_config


def test_default_yaml_equals_dataclass_defaults():
    assert load_config() == GristmillConfig()
    assert load_config(DEFAULT_CONFIG).config_hash() == GristmillConfig().config_hash()


def test_values_are_mapped_and_typed():
    config = config_from_dict(
        {
            "extract": {"backend": "resiliparse", "timeout_s": 3},
            "langid": {"languages": ["en", "de"], "thresholds": {"en": 0.65}},
        }
    )
    assert config.extract.backend == "resiliparse"
    assert config.extract.timeout_s == 3.0 and isinstance(config.extract.timeout_s, float)
    assert config.langid.languages == ("en", "de")
    assert config.langid.thresholds == {"en": 0.65}


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"extract": {"backnd": "x"}}, "extract.backnd: unknown key; allowed: backend"),
        ({"extract": {"backend": "bs4"}}, "extract.backend: unknown backend 'bs4'; allowed: trafilatura, resiliparse"),
        ({"extract": {"timeout_s": "fast"}}, "extract.timeout_s: must be a number"),
        ({"langid": {"min_score": 1.5}}, "langid.min_score: must be in [0, 1]"),
        ({"langid": {"thresholds": {"en": 2}}}, "langid.thresholds.en: must be a number in [0, 1]"),
        ({"langid": {"languages": "en"}}, "langid.languages: must be a list"),
        ({"ingest": {"s3": {"anonymous": "maybe"}}}, "ingest.s3.anonymous: must be auto, yes or no"),
        ({"ingest": {"keep_truncated": "yes"}}, "ingest.keep_truncated: must be true or false"),
        ({"output": {"rows_per_shard": 0}}, "output.rows_per_shard: must be >= 1"),
        ({"output": {"compression": "lz4"}}, "output.compression: unknown codec 'lz4'"),
        ({"output": []}, "output: must be a mapping"),
        (
            {"ingest": {"spread_records": "sometimes"}},
            "ingest.spread_records: must be one of auto, always, never, not 'sometimes'",
        ),
        ({"lines": {"scope": "site"}}, "lines.scope: must be one of host, run, not 'site'"),
        ({"lines": {"min_docs": 1}}, "lines.min_docs: must be >= 2"),
        ({"lines": {"min_words": 0}}, "lines.min_words: must be >= 1"),
        ({"stages": {}}, "stages: unknown key; allowed: ingest, extract, langid, safety, lines, dedup, quality"),
    ],
)
def test_bad_values_name_the_key(raw, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert message in str(err.value)


def test_bad_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("extract: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_config_hash_changes_with_any_setting():
    base = GristmillConfig()
    changed = config_from_dict({"langid": {"min_score": 0.51}})
    assert base.config_hash() != changed.config_hash()
    assert base.config_hash() == config_from_dict({}).config_hash()
