import math

import pytest

from pipeline.config import DEFAULT_CONFIG, ConfigError, MixtureConfig, MixturePhase, config_from_dict, load_config
from pipeline.core.mixture import (
    DomainCount,
    MixtureError,
    apportion,
    explicit_weights,
    plan_mixture,
    temperature_weights,
)

# 900 and 100 estimated tokens: square roots 30 and 10, so T=2 gives weights 0.75 / 0.25
BIG_SMALL = {"big": DomainCount(documents=9, tokens=900), "small": DomainCount(documents=1, tokens=100)}


def _draws(plan, phase=0):
    return {name: (d.weight, d.tokens, d.sampling_rate, d.epochs) for name, d in plan.phases[phase].domains.items()}


def test_natural_is_one_pass_over_everything():
    plan = plan_mixture(BIG_SMALL, MixtureConfig())
    assert plan.token_budget == 1000
    assert _draws(plan) == {"big": (0.9, 900, 1.0, 1.0), "small": (0.1, 100, 1.0, 1.0)}
    assert plan.total_epochs == {"big": 1.0, "small": 1.0}
    assert plan.phases[0].strategy == "natural" and plan.phases[0].temperature is None


def test_temperature_flattens_toward_the_small_domain():
    plan = plan_mixture(BIG_SMALL, MixtureConfig(strategy="temperature", temperature=2.0))
    draws = _draws(plan)
    assert draws["big"][:2] == (pytest.approx(0.75), 750) and draws["small"][:2] == (pytest.approx(0.25), 250)
    assert (
        draws["big"][2] == pytest.approx(750 / 900) and draws["small"][2] == 2.5
    )  # the small domain is seen 2.5 times
    assert plan.phases[0].temperature == 2.0


def test_temperature_weights_in_log_space():
    assert temperature_weights({"a": 10**12, "b": 10**11, "c": 0}, 0.01) == {
        "a": 1.0,
        "b": pytest.approx(0.0),
        "c": 0.0,
    }
    assert temperature_weights({"a": 3, "b": 1}, 1.0) == {"a": 0.75, "b": 0.25}  # T=1 is natural
    uniform = temperature_weights({"a": 10**9, "b": 10}, 1e9)
    assert uniform["a"] == pytest.approx(0.5, abs=1e-6)


def test_explicit_weights_are_normalized_and_left_out_domains_get_zero():
    tokens = {"big": 900, "small": 100, "other": 50}
    assert explicit_weights({"big": 1, "small": 3}, tokens, key="mixture.weights") == {
        "big": 0.25,
        "small": 0.75,
        "other": 0.0,
    }
    with pytest.raises(MixtureError, match="mixture.weights.big: weight -1 is negative"):
        explicit_weights({"big": -1, "small": 3}, tokens, key="mixture.weights")


def test_budget_above_the_data_repeats_it():
    plan = plan_mixture(BIG_SMALL, MixtureConfig(token_budget=2500))
    assert _draws(plan) == {"big": (0.9, 2250, 2.5, 2.5), "small": (0.1, 250, 2.5, 2.5)}


def test_too_many_epochs_names_the_domain_and_the_largest_budget():
    config = MixtureConfig(strategy="weights", weights={"big": 1, "small": 3}, token_budget=1000)
    with pytest.raises(MixtureError) as err:
        plan_mixture(BIG_SMALL, config)
    message = str(err.value)
    assert "domain 'small' would be repeated 7.5 times (750 tokens drawn of 100 estimated)" in message
    assert (
        "mixture.max_epochs is 4" in message
        and "the largest token budget this mixture fits is 533 (this one is 1,000)" in message
    )
    plan = plan_mixture(BIG_SMALL, MixtureConfig(strategy="weights", weights={"big": 1, "small": 3}, token_budget=533))
    assert plan.total_epochs["small"] <= 4.0
    relaxed = MixtureConfig(
        strategy="weights", weights={"big": 1, "small": 3}, token_budget=1000, max_epochs_per_domain={"small": 8}
    )
    assert plan_mixture(BIG_SMALL, relaxed).total_epochs["small"] == 7.5


def test_zero_document_domains_need_zero_weight():
    domains = {**BIG_SMALL, "code": DomainCount(documents=0, tokens=0)}
    plan = plan_mixture(domains, MixtureConfig(strategy="temperature"))
    assert _draws(plan)["code"] == (0.0, 0, 0.0, 0.0)
    plan = plan_mixture(domains, MixtureConfig(strategy="weights", weights={"big": 1, "code": 0}))
    assert _draws(plan)["code"] == (0.0, 0, 0.0, 0.0)
    with pytest.raises(
        MixtureError,
        match=r"mixture.weights.code: weight 0.5 but this run wrote 0 estimated tokens for domain 'code' "
        r"\(domains with tokens: big, small\)",
    ):
        plan_mixture(domains, MixtureConfig(strategy="weights", weights={"big": 1, "code": 0.5}))


def test_weight_for_a_domain_absent_from_the_run():
    with pytest.raises(
        MixtureError, match="mixture.weights.academic: weight 2 but this run wrote no documents for domain 'academic'"
    ):
        plan_mixture(BIG_SMALL, MixtureConfig(strategy="weights", weights={"big": 1, "academic": 2}))
    plan = plan_mixture(BIG_SMALL, MixtureConfig(strategy="weights", weights={"big": 3, "small": 1, "academic": 0}))
    assert set(plan.phases[0].domains) == {"big", "small"}  # a zero weight for an absent domain is ignored


def test_phases_split_the_budget_and_epochs_accumulate():
    config = MixtureConfig(
        phases=(
            MixturePhase(name="main", fraction=0.8),
            MixturePhase(name="anneal", fraction=0.2, strategy="weights", weights={"small": 1}),
        )
    )
    plan = plan_mixture(BIG_SMALL, config)
    assert [(p.name, p.token_budget) for p in plan.phases] == [("main", 800), ("anneal", 200)]
    assert _draws(plan, 0) == {"big": (0.9, 720, 0.8, 0.8), "small": (0.1, 80, 0.8, 0.8)}
    assert _draws(plan, 1) == {"big": (0.0, 0, 0.0, 0.8), "small": (1.0, 200, 2.0, 2.8)}
    assert plan.total_epochs == {"big": 0.8, "small": 2.8}


def test_cumulative_epochs_are_limited_even_when_each_phase_fits():
    config = MixtureConfig(
        strategy="weights",
        weights={"big": 1, "small": 1},
        token_budget=1000,
        phases=(MixturePhase(name="a", fraction=0.5), MixturePhase(name="b", fraction=0.5)),
    )
    with pytest.raises(MixtureError, match="domain 'small' would be repeated 5 times"):
        plan_mixture(BIG_SMALL, config)  # 2.5 epochs per phase, 5 in all


def test_phases_given_in_tokens():
    config = MixtureConfig(phases=(MixturePhase(name="main", tokens=600), MixturePhase(name="anneal", tokens=400)))
    plan = plan_mixture(BIG_SMALL, config)
    assert plan.token_budget == 1000 and [p.token_budget for p in plan.phases] == [600, 400]


def test_empty_run_plans_nothing_and_refuses_a_budget():
    plan = plan_mixture({}, MixtureConfig(strategy="weights", weights={"news": 1}))
    assert plan.token_budget == 0 and plan.phases[0].domains == {} and plan.total_epochs == {}
    with pytest.raises(MixtureError, match="phase 'main' draws 10 tokens but this run wrote no tokens at all"):
        plan_mixture({"news": DomainCount(documents=0, tokens=0)}, MixtureConfig(token_budget=10))


def test_apportion_sums_exactly():
    assert apportion(10, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}) == {"a": 4, "b": 3, "c": 3}
    assert apportion(7, {"a": 0.0, "b": 1.0}) == {"a": 0, "b": 7}
    split = apportion(1_000_003, {"a": 0.123456, "b": 0.5, "c": 0.376544})
    assert sum(split.values()) == 1_000_003 and all(
        math.isclose(n / 1_000_003, w, abs_tol=1e-6)
        for n, w in zip(split.values(), (0.123456, 0.5, 0.376544), strict=True)
    )


# Config: what can be checked without the data fails at load time, naming the key.


def test_default_and_example_configs():
    assert load_config(DEFAULT_CONFIG).mixture == MixtureConfig()
    anneal = load_config(DEFAULT_CONFIG.parent / "mixture_anneal.yaml").mixture
    assert [p.name for p in anneal.phases] == ["main", "anneal"]
    assert anneal.resolve(anneal.phases[1])[0] == "weights" and anneal.resolve(anneal.phases[0]) == (
        "temperature",
        2.0,
        {},
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"strategy": "uniform"},
            "mixture.strategy: unknown strategy 'uniform'; allowed: natural, temperature, weights",
        ),
        ({"temperature": 0}, "mixture.temperature: must be a number > 0"),
        ({"weights": {"news": -1}, "strategy": "weights"}, "mixture.weights.news: must be a number >= 0"),
        ({"weights": {"news": 1}}, "mixture.weights: are set but no phase uses strategy: weights"),
        (
            {"strategy": "weights"},
            "mixture.weights: phase 'main' uses strategy weights: it needs at least one positive weight",
        ),
        ({"token_budget": 0}, "mixture.token_budget: must be >= 1 or null"),
        ({"phases": [{"name": "a", "tokens": 0}]}, "mixture.phases[0].tokens: must be >= 1"),
        ({"max_epochs": 0}, "mixture.max_epochs: must be a number > 0"),
        ({"max_epochs_per_domain": {"news": -1}}, "mixture.max_epochs_per_domain.news: must be a number > 0"),
        ({"phases": []}, "mixture.phases: must hold at least one phase"),
        ({"phases": [{"name": "main", "fraction": 0.9}]}, "mixture.phases: fractions must sum to 1, not 0.9 (main)"),
        (
            {"phases": [{"name": "main", "fraction": 1.0, "tokens": 5}]},
            "mixture.phases[0]: set exactly one of fraction and tokens",
        ),
        (
            {"phases": [{"name": "a", "fraction": 0.5}, {"name": "a", "fraction": 0.5}]},
            "mixture.phases[1].name: 'a' names two phases",
        ),
        (
            {"phases": [{"name": "a", "fraction": 0.5}, {"name": "b", "tokens": 5}]},
            "mixture.phases: use fraction in every phase or tokens in every phase",
        ),
        (
            {"token_budget": 10, "phases": [{"name": "a", "tokens": 5}]},
            "mixture.token_budget: is 10 but the phases' tokens sum to 5",
        ),
        (
            {"phases": [{"name": "a", "fraction": 1.0, "weights": {"news": 1}}]},
            "mixture.phases[0].weights: are set but the phase's strategy is natural",
        ),
        (
            {"phases": [{"name": "a", "fraction": 1.0, "strategy": "weights", "weights": {"news": 0}}]},
            "mixture.phases[0].weights: phase 'a' uses strategy weights",
        ),
        (
            {"phases": [{"name": "a", "fraction": 1.0, "temperature": -1}]},
            "mixture.phases[0].temperature: must be a number > 0",
        ),
        ({"phases": [{"name": "a", "frac": 1.0}]}, "mixture.phases[0].frac: unknown key"),
        ({"phases": [{"fraction": 1.0}]}, "mixture.phases[0]:"),
    ],
)
def test_bad_mixture_config_names_the_key(raw, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict({"mixture": raw})
    assert message in str(err.value)
