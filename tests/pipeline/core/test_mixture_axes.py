"""Mixtures over topics, formats or their pairs: groups, glob factors, and the reweight strategy."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, config_from_dict
from pipeline.core.mixture import DomainCount, MixtureError, plan_mixture
from pipeline.core.mixture_config import MixtureConfig, MixturePhase, matches, mixture_group

ROW = {"domain": "news", "topic": "science", "format": "news_article"}
COUNTS = {
    "science.knowledge_article": DomainCount(documents=10, tokens=1_000),
    "science.product_page": DomainCount(documents=10, tokens=1_000),
    "sports.news_article": DomainCount(documents=20, tokens=2_000),
}


def test_groups_of_each_axis():
    assert [mixture_group(ROW, axis) for axis in ("domain", "topic", "format", "topic_format")] == [
        "news",
        "science",
        "news_article",
        "science.news_article",
    ]


def test_factor_keys_match_by_name_or_glob():
    assert matches("science.*", "science.product_page") and matches("*.product_page", "science.product_page")
    assert matches("news", "news") and not matches("science.*", "sports.news_article")


def test_reweight_multiplies_every_matching_factor_into_the_natural_share():
    config = MixtureConfig(axis="topic_format", strategy="reweight", factors={"science.*": 2.0, "*.product_page": 0.25})
    weights = {name: d.weight for name, d in plan_mixture(COUNTS, config).phases[0].domains.items()}
    # natural 0.25 / 0.25 / 0.5, times 2, 0.5 (= 2 x 0.25) and 1: 0.5 / 0.125 / 0.5, normalized
    assert weights == pytest.approx(
        {
            "science.knowledge_article": 0.5 / 1.125,
            "science.product_page": 0.125 / 1.125,
            "sports.news_article": 0.5 / 1.125,
        }
    )


def test_a_zero_factor_removes_a_group_and_all_zero_is_refused():
    config = MixtureConfig(axis="topic_format", strategy="reweight", factors={"*.product_page": 0})
    plan = plan_mixture(COUNTS, config)
    assert plan.phases[0].domains["science.product_page"].tokens == 0
    with pytest.raises(MixtureError, match="mixture.factors: every group with tokens has factor 0"):
        plan_mixture(COUNTS, MixtureConfig(strategy="reweight", factors={"*": 0}))


def test_max_epochs_per_group_takes_globs():
    config = MixtureConfig(axis="topic_format", max_epochs_per_domain={"science.*": 8.0})
    assert config.max_epochs_for("science.product_page") == 8.0 and config.max_epochs_for("sports.x") == 4.0


def test_phases_may_reweight_on_their_own():
    config = MixtureConfig(
        axis="format",
        phases=(
            MixturePhase(name="main", fraction=0.8),
            MixturePhase(name="anneal", fraction=0.2, strategy="reweight", factors={"knowledge_article": 3.0}),
        ),
    )
    counts = {"knowledge_article": DomainCount(5, 1_000), "news_article": DomainCount(5, 3_000)}
    anneal = plan_mixture(counts, config).phases[1].domains
    assert anneal["knowledge_article"].weight == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"mixture": {"axis": "colour"}},
            "mixture.axis: unknown axis 'colour'; allowed: domain, topic, format, topic_format",
        ),
        ({"mixture": {"strategy": "reweight", "factors": {"a": -1}}}, "mixture.factors.a: must be a number >= 0"),
        (
            {"mixture": {"phases": [{"name": "main", "fraction": 1.0, "factors": {"a": 2}}]}},
            "mixture.phases[0].factors: are set but the phase's strategy is natural",
        ),
    ],
)
def test_bad_mixture_axes_name_the_key(raw, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert message in str(err.value)
