"""Mixture planning: per phase and domain, how many tokens the trainer draws. Pure; no Beam.

Input is what the run wrote per domain (documents, estimated tokens) and a `MixtureConfig`;
output is a `MixturePlan`. Tokens are the pipeline's estimate, ceil(UTF-8 bytes / 4) per
document (GPT-2-class BPE averages ~4 bytes per token on English web text; CJK is over-estimated
by about a third); the trainer's tokenizer replaces it once it exists, and every rate and epoch
count here scales with it.

    weight        share of a phase's tokens drawn from a domain (sums to 1 over domains)
    tokens        estimated tokens drawn from the domain in the phase (sums to the phase budget)
    sampling_rate tokens drawn in the phase / tokens the domain holds (> 1: the phase repeats it)
    epochs        passes over the domain from the start of training to the end of the phase

An impossible mixture raises `MixtureError` naming the domain and the numbers, following OLMo's
source-mixture rules: every weighted source must hold tokens, and no source may be needed more
often than its maximum repetition.
"""

from __future__ import annotations

import dataclasses
import math

from pipeline.core.mixture_config import MixtureConfig, matches

# A plan may exceed max_epochs by this relative amount (float rounding of weights), no more.
_EPOCH_TOLERANCE = 1e-9


class MixtureError(ValueError):
    """The configured mixture cannot be drawn from this run's data; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class DomainCount:
    """What the run wrote for one domain tag."""

    documents: int
    tokens: int


@dataclasses.dataclass(frozen=True, slots=True)
class DomainDraw:
    """One domain in one phase (meanings in the module docstring)."""

    weight: float
    tokens: int
    sampling_rate: float
    epochs: float


@dataclasses.dataclass(frozen=True, slots=True)
class PhasePlan:
    name: str
    strategy: str
    temperature: float | None
    """The T used, or None when the strategy is not temperature."""
    token_budget: int
    domains: dict[str, DomainDraw]


@dataclasses.dataclass(frozen=True, slots=True)
class MixturePlan:
    token_budget: int
    """Tokens the whole schedule draws (the sum of the phases' budgets)."""
    domains: dict[str, DomainCount]
    phases: tuple[PhasePlan, ...]
    total_epochs: dict[str, float]
    """Passes over each domain over the whole schedule (never above its max_epochs)."""

    def natural_weights(self) -> dict[str, float]:
        return natural_weights({name: d.tokens for name, d in self.domains.items()})

    def total_tokens(self, domain: str) -> int:
        return sum(phase.domains[domain].tokens for phase in self.phases)


def natural_weights(tokens: dict[str, int]) -> dict[str, float]:
    """Each domain's share of all tokens; all zero when there are none."""
    total = sum(tokens.values())
    return {name: (n / total if total else 0.0) for name, n in tokens.items()}


def temperature_weights(tokens: dict[str, int], temperature: float) -> dict[str, float]:
    """p_i ∝ n_i^(1/T), computed in log space so a small T cannot overflow; empty domains get 0."""
    logs = {name: math.log(n) / temperature for name, n in tokens.items() if n > 0}
    if not logs:
        return {name: 0.0 for name in tokens}
    top = max(logs.values())
    scaled = {name: math.exp(value - top) for name, value in logs.items()}
    total = math.fsum(scaled.values())
    return {name: scaled.get(name, 0.0) / total for name in tokens}


def explicit_weights(weights: dict[str, float], tokens: dict[str, int], *, key: str) -> dict[str, float]:
    """`weights` normalized to sum 1; domains left out get 0. A positive weight needs tokens."""
    for name, weight in sorted(weights.items()):
        if weight < 0:
            raise MixtureError(f"{key}.{name}: weight {weight} is negative")
        if weight > 0 and tokens.get(name, 0) == 0:
            held = ", ".join(sorted(n for n, t in tokens.items() if t > 0)) or "none"
            why = "no documents" if name not in tokens else "0 estimated tokens"
            raise MixtureError(
                f"{key}.{name}: weight {weight:g} but this run wrote {why} for domain {name!r} "
                f"(domains with tokens: {held}); give it weight 0 or leave it out"
            )
    total = math.fsum(weights.values())
    if total <= 0:
        raise MixtureError(f"{key}: needs at least one positive weight")
    return {name: weights.get(name, 0.0) / total for name in tokens}


def reweighted(tokens: dict[str, int], factors: dict[str, float], *, key: str) -> dict[str, float]:
    """Natural shares times the product of every matching factor, normalized (see MixtureConfig.factors)."""
    scaled = {}
    for name, n in tokens.items():
        factor = math.prod(value for pattern, value in factors.items() if matches(pattern, name))
        scaled[name] = n * factor
    total = math.fsum(scaled.values())
    if total <= 0:
        raise MixtureError(f"{key}: every group with tokens has factor 0 ({', '.join(sorted(tokens)) or 'none'})")
    return {name: value / total for name, value in scaled.items()}


def apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` into whole numbers in proportion to `weights` (which sum to 1), summing
    exactly to `total` (largest remainder); a zero weight always gets 0."""
    exact = {name: total * w for name, w in weights.items()}
    shares = {name: math.floor(x) for name, x in exact.items()}
    left = total - sum(shares.values())
    by_remainder = sorted((name for name in weights if weights[name] > 0), key=lambda n: (shares[n] - exact[n], n))
    for name in by_remainder[: max(left, 0)]:
        shares[name] += 1
    return shares


def plan_mixture(domains: dict[str, DomainCount], config: MixtureConfig) -> MixturePlan:
    """The plan for drawing `config`'s schedule from `domains`; MixtureError if it cannot be drawn."""
    domains = dict(sorted(domains.items()))
    tokens = {name: d.tokens for name, d in domains.items()}
    budgets = _phase_budgets(config, sum(tokens.values()))
    weights = [_phase_weights(config, i, budget, tokens) for i, budget in enumerate(budgets)]
    _check_epochs(config, budgets, weights, tokens)

    phases = []
    drawn = dict.fromkeys(domains, 0)
    for phase, budget, phase_weights in zip(config.phases, budgets, weights, strict=True):
        draws = {}
        for name, n in apportion(budget, phase_weights).items():
            drawn[name] += n
            draws[name] = DomainDraw(
                weight=phase_weights[name],
                tokens=n,
                sampling_rate=_ratio(n, tokens[name]),
                epochs=_ratio(drawn[name], tokens[name]),
            )
        strategy, temperature, _ = config.resolve(phase)
        phases.append(
            PhasePlan(
                name=phase.name,
                strategy=strategy,
                temperature=temperature if strategy == "temperature" else None,
                token_budget=budget,
                domains=draws,
            )
        )
    return MixturePlan(
        token_budget=sum(budgets),
        domains=domains,
        phases=tuple(phases),
        total_epochs={name: _ratio(drawn[name], tokens[name]) for name in domains},
    )


def _ratio(drawn: int, available: int) -> float:
    return drawn / available if available else 0.0


def _phase_budgets(config: MixtureConfig, available: int) -> list[int]:
    """Tokens per phase: the phases' own `tokens`, or the budget split by their fractions."""
    if config.phases[0].tokens is not None:
        return [phase.tokens for phase in config.phases]
    budget = config.token_budget if config.token_budget is not None else available
    split = apportion(budget, {str(i): phase.fraction for i, phase in enumerate(config.phases)})
    return [split[str(i)] for i in range(len(config.phases))]


def _phase_weights(config: MixtureConfig, index: int, budget: int, tokens: dict[str, int]) -> dict[str, float]:
    phase = config.phases[index]
    if budget == 0:
        return dict.fromkeys(tokens, 0.0)  # nothing drawn (an empty run): no weight can be wrong
    if sum(tokens.values()) == 0:
        raise MixtureError(f"mixture: phase {phase.name!r} draws {budget:,} tokens but this run wrote no tokens at all")
    strategy, temperature, weights = config.resolve(phase)
    if strategy == "natural":
        return natural_weights(tokens)
    if strategy == "temperature":
        return temperature_weights(tokens, temperature)
    if strategy == "reweight":
        key = f"mixture.phases[{index}].factors" if phase.factors is not None else "mixture.factors"
        return reweighted(tokens, config.factors_for(phase), key=key)
    key = f"mixture.phases[{index}].weights" if phase.weights is not None else "mixture.weights"
    return explicit_weights(weights, tokens, key=key)


def _check_epochs(
    config: MixtureConfig, budgets: list[int], weights: list[dict[str, float]], tokens: dict[str, int]
) -> None:
    """Refuse a schedule that needs more passes over a domain than its max_epochs.

    Every strategy's weights are independent of the budget, so the passes a domain needs grow
    linearly with it and the largest budget that fits is budget x min(max_epochs / needed).
    """
    total = sum(budgets)
    needed = {}
    for name, n in tokens.items():
        demand = math.fsum(budget * w[name] for budget, w in zip(budgets, weights, strict=True))
        if demand > 0:
            needed[name] = demand / n  # n > 0: a weighted domain without tokens was refused already
    over = sorted(
        (e / config.max_epochs_for(name), name)
        for name, e in needed.items()
        if e > config.max_epochs_for(name) * (1 + _EPOCH_TOLERANCE)
    )
    if not over:
        return
    ratio, name = over[-1]
    limit = config.max_epochs_for(name)
    override = config.max_epochs_key(name)
    source = f"mixture.max_epochs_per_domain.{override}" if override is not None else "mixture.max_epochs"
    largest = math.floor(total / ratio)
    others = "".join(f"; {other} would need {needed[other]:.3g}" for _, other in reversed(over[:-1]))
    raise MixtureError(
        f"mixture: domain {name!r} would be repeated {needed[name]:.3g} times "
        f"({needed[name] * tokens[name]:,.0f} tokens drawn "
        f"of {tokens[name]:,} estimated) but {source} is {limit:g}{others}; "
        "the largest token budget this mixture fits is "
        f"{largest:,} (this one is {total:,}); lower the budget or the domain's weight, or raise {source}"
    )
