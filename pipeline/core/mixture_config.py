"""Mixture settings: how many tokens of each domain the trainer draws, in which phases.

Everything that can be checked without the data is checked here (strategies, weights, phase
fractions); what needs per-domain token counts (a weighted domain with no documents, a budget
that would repeat a domain more than `max_epochs`) is checked by `pipeline.core.mixture.plan_mixture`
when the manifest is built.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from collections.abc import Mapping

from pipeline.core.errors import require as _require

MIXTURE_STRATEGIES = ("natural", "temperature", "weights", "reweight")
MIXTURE_AXES = ("domain", "topic", "format", "topic_format")


def mixture_group(row: Mapping[str, object], axis: str) -> str:
    """The group a row (or a Document's fields) belongs to on `axis`: its domain, topic, format, or
    "<topic>.<format>"."""
    if axis == "topic_format":
        return f"{row['topic']}.{row['format']}"
    return str(row[axis])


def matches(pattern: str, group: str) -> bool:
    """A factor's key matches a group: exactly, or as a shell glob ("*.product_page", "science.*")."""
    return pattern == group or fnmatch.fnmatchcase(group, pattern)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class MixturePhase:
    """One stretch of training with its own mixture; validated by the `MixtureConfig` holding it.

    Set exactly one of `fraction` and `tokens`, the same one in every phase. Settings left null
    take the section's top-level value.
    """

    name: str
    """Written to the manifest; the trainer reports progress by it (e.g. main, anneal)."""
    fraction: float | None = None
    """Share of `mixture.token_budget` this phase draws; fractions of all phases sum to 1."""
    tokens: int | None = None
    """Estimated tokens this phase draws; the budget is then the sum over phases."""
    strategy: str | None = None
    """natural, temperature or weights; null: `mixture.strategy`."""
    temperature: float | None = None
    """null: `mixture.temperature`."""
    weights: dict[str, float] | None = None
    """Explicit domain weights for this phase; null: `mixture.weights`."""
    factors: dict[str, float] | None = None
    """Factors for strategy reweight in this phase; null: `mixture.factors`."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class MixtureConfig:
    """The target mixture over domain tags, written to `manifest.json` for the trainer.

    Tokens are the pipeline's estimate, ceil(UTF-8 bytes / 4) per document, until the trainer's
    tokenizer exists. Per domain and phase the plan holds a weight (share of the phase's tokens),
    the tokens drawn, the sampling rate (tokens drawn / tokens available) and cumulative epochs.
    """

    axis: str = "domain"
    """What the mixture weighs, and what the shards are grouped by (`data/<axis>=<group>/`): domain
    (taxonomy 1's ten tags), topic, format, or topic_format (every pair, named "<topic>.<format>").
    Below, "domain" means a group of this axis."""
    strategy: str = "natural"
    """natural: each domain in proportion to its tokens. temperature: p ∝ tokens^(1/T) (T=1 is
    natural, larger T flattens toward uniform; mT5/XLM-R sample languages this way). weights:
    `weights`, normalized to sum 1. reweight: the natural shares times `factors`, normalized."""
    temperature: float = 2.0
    """T for the temperature strategy; must be > 0. Unused by other strategies."""
    weights: dict[str, float] = dataclasses.field(default_factory=dict)
    """Domain tag -> weight for the weights strategy; normalized to sum 1. A domain left out gets
    weight 0. A positive weight on a domain the run wrote no tokens for fails the manifest step
    (as OLMo's source mixtures refuse a source without tokens)."""
    factors: dict[str, float] = dataclasses.field(default_factory=dict)
    """Strategy reweight: a group's natural share is multiplied by the factor of every key that
    matches it (its name, or a shell glob: "science.*", "*.product_page"), then all are normalized.
    0 leaves a group out; a group no key matches keeps factor 1."""
    token_budget: int | None = None
    """Estimated tokens the whole schedule draws; null: the run's total (one natural pass)."""
    max_epochs: float = 4.0
    """Most passes over any one domain across all phases. Muennighoff et al. 2023 ("Scaling
    Data-Constrained Language Models"): up to ~4 epochs is nearly as good as unique data."""
    max_epochs_per_domain: dict[str, float] = dataclasses.field(default_factory=dict)
    """Per-domain overrides of `max_epochs` (e.g. {encyclopedia: 8}); keys may be globs, the first match wins."""
    phases: tuple[MixturePhase, ...] = (MixturePhase(name="main", fraction=1.0),)
    """The schedule, in training order. Default: one phase with the top-level mixture."""

    def __post_init__(self) -> None:
        _require(
            self.axis in MIXTURE_AXES, "mixture.axis", f"unknown axis {self.axis!r}; allowed: {', '.join(MIXTURE_AXES)}"
        )
        _check_mixture("mixture", self.strategy, self.temperature, self.weights)
        _check_factors("mixture.factors", self.factors)
        _require(
            self.token_budget is None or self.token_budget >= 1,
            "mixture.token_budget",
            f"must be >= 1 or null, not {self.token_budget}",
        )
        _require(_positive(self.max_epochs), "mixture.max_epochs", f"must be a number > 0, not {self.max_epochs}")
        for name, value in self.max_epochs_per_domain.items():
            _require(_positive(value), f"mixture.max_epochs_per_domain.{name}", f"must be a number > 0, not {value}")
        _require(len(self.phases) >= 1, "mixture.phases", "must hold at least one phase")
        names = [phase.name for phase in self.phases]
        for i, phase in enumerate(self.phases):
            key = f"mixture.phases[{i}]"
            _require(bool(phase.name), f"{key}.name", "must not be empty")
            _require(phase.name not in names[:i], f"{key}.name", f"{phase.name!r} names two phases")
            _require((phase.fraction is None) != (phase.tokens is None), key, "set exactly one of fraction and tokens")
            _require(
                phase.fraction is None or 0 < phase.fraction <= 1,
                f"{key}.fraction",
                f"must be in (0, 1], not {phase.fraction}",
            )
            _require(phase.tokens is None or phase.tokens >= 1, f"{key}.tokens", f"must be >= 1, not {phase.tokens}")
            strategy, temperature, weights = self.resolve(phase)
            _check_mixture(key, strategy, temperature, phase.weights or {})
            _check_factors(f"{key}.factors", phase.factors or {})
            _require(
                phase.factors is None or strategy == "reweight",
                f"{key}.factors",
                f"are set but the phase's strategy is {strategy}; add strategy: reweight to the phase",
            )
            _require(
                phase.weights is None or strategy == "weights",
                f"{key}.weights",
                f"are set but the phase's strategy is {strategy}; add strategy: weights to the phase",
            )
            weights_key = f"{key}.weights" if phase.weights is not None else "mixture.weights"
            _require(
                strategy != "weights" or math.fsum(weights.values()) > 0,
                weights_key,
                f"phase {phase.name!r} uses strategy weights: it needs at least one positive weight",
            )
        kinds = {phase.fraction is None for phase in self.phases}
        _require(len(kinds) == 1, "mixture.phases", "use fraction in every phase or tokens in every phase, not both")
        if self.phases[0].fraction is not None:
            total = math.fsum(phase.fraction for phase in self.phases)
            _require(
                abs(total - 1.0) <= 1e-6,
                "mixture.phases",
                f"fractions must sum to 1, not {total:g} ({', '.join(names)})",
            )
        elif self.token_budget is not None:
            total = sum(phase.tokens for phase in self.phases)
            _require(
                total == self.token_budget,
                "mixture.token_budget",
                f"is {self.token_budget:,} but the phases' tokens sum to {total:,}; set one or make them agree",
            )
        uses_weights = any(self.resolve(phase)[0] == "weights" and phase.weights is None for phase in self.phases)
        _require(
            not self.weights or uses_weights, "mixture.weights", "are set but no phase uses strategy: weights with them"
        )

    def resolve(self, phase: MixturePhase) -> tuple[str, float, dict[str, float]]:
        """The phase's (strategy, temperature, weights), its own settings over the section's."""
        return (
            phase.strategy if phase.strategy is not None else self.strategy,
            phase.temperature if phase.temperature is not None else self.temperature,
            phase.weights if phase.weights is not None else self.weights,
        )

    def factors_for(self, phase: MixturePhase) -> dict[str, float]:
        """The phase's reweight factors, its own over the section's."""
        return phase.factors if phase.factors is not None else self.factors

    def max_epochs_for(self, domain: str) -> float:
        if domain in self.max_epochs_per_domain:
            return self.max_epochs_per_domain[domain]
        return next(
            (value for key, value in self.max_epochs_per_domain.items() if matches(key, domain)), self.max_epochs
        )

    def max_epochs_key(self, domain: str) -> str | None:
        """The `max_epochs_per_domain` key that applies to `domain`, if any."""
        if domain in self.max_epochs_per_domain:
            return domain
        return next((key for key in self.max_epochs_per_domain if matches(key, domain)), None)


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _check_factors(key: str, factors: dict[str, float]) -> None:
    for name, value in factors.items():
        _require(math.isfinite(value) and value >= 0, f"{key}.{name}", f"must be a number >= 0, not {value}")


def _check_mixture(key: str, strategy: str, temperature: float, weights: dict[str, float]) -> None:
    _require(
        strategy in MIXTURE_STRATEGIES,
        f"{key}.strategy",
        f"unknown strategy {strategy!r}; allowed: {', '.join(MIXTURE_STRATEGIES)}",
    )
    _require(_positive(temperature), f"{key}.temperature", f"must be a number > 0, not {temperature}")
    for name, value in weights.items():
        _require(math.isfinite(value) and value >= 0, f"{key}.weights.{name}", f"must be a number >= 0, not {value}")
