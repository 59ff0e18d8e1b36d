"""What a pretraining run costs: FLOPs, GPU-hours, days, dollars, energy, CO₂.

Pure arithmetic on a `PlanConfig`; `make_plan` measures, `format_plan` prints.
The reference point is Llama 3 405B: 6 × 405e9 × 15.6e12 ≈ 3.8e25 FLOPs, which at
40% MFU on 16,384 H100s is ~26.6M GPU-hours and ~68 days (Meta's model card
reports 30.84M GPU-hours, failures and restarts included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trainer.hardware import Accelerator, UnknownAcceleratorError, lookup

# Forward pass 2 FLOPs per parameter per token, backward twice that
# (Kaplan et al. 2020, sec. 2.1).
FLOPS_PER_PARAM_TOKEN = 6
# Attention scores and their weighted sum, forward and backward, per token:
# 12·L·d·T (PaLM, Chowdhery et al. 2022, App. B; nanoGPT's MFU estimate).
ATTENTION_FLOPS_FACTOR = 12
# Compute-optimal data is ~20 tokens per parameter (Hoffmann et al. 2022,
# Table 3: Chinchilla, 70B parameters on 1.4T tokens), so C = 6·N·20N = 120·N².
CHINCHILLA_TOKENS_PER_PARAM = 20
# US Executive Order 14110 (Oct 2023), sec. 4.2(b)(i): models trained with more
# than 1e26 operations had to be reported to the government. The order was
# revoked in Jan 2025; the line is still the one the lecture draws.
REPORTING_THRESHOLD_FLOPS = 1e26


class PlanError(ValueError):
    """A plan input out of range, naming the key."""


def training_flops(
    params: float, tokens: float, *, layers: int | None = None, d_model: int | None = None, seq_len: int | None = None
) -> float:
    """6·N·D, plus the attention term 12·L·d·T per token when the shape is given."""
    flops = FLOPS_PER_PARAM_TOKEN * params * tokens
    if layers is not None and d_model is not None and seq_len is not None:
        flops += ATTENTION_FLOPS_FACTOR * layers * d_model * seq_len * tokens
    return flops


def chinchilla_optimal(flops: float) -> tuple[float, float]:
    """(N, D) with D = 20·N that spends `flops`: N = sqrt(C / 120)."""
    params = math.sqrt(flops / (FLOPS_PER_PARAM_TOKEN * CHINCHILLA_TOKENS_PER_PARAM))
    return params, CHINCHILLA_TOKENS_PER_PARAM * params


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanConfig:
    params: float
    """Model parameters N."""
    tokens: float
    """Training tokens D."""
    gpus: int = 1
    """Accelerators training together."""
    gpu_type: str = "h100"
    """A key of `trainer.hardware.ACCELERATORS` or a CUDA device name."""
    mfu: float = 0.4
    """Model FLOPs utilization: Llama 3 405B reached 38-43% in BF16 on 8-16k H100s (Llama 3 paper, Table 4)."""
    usd_per_gpu_hour: float | None = None
    """Rental price; None takes the table's typical on-demand price."""
    pue: float = 1.2
    """Data-centre power usage effectiveness: a modern GPU hall (Google reports ~1.1 fleet-wide, the industry ~1.5)."""
    kg_co2_per_kwh: float = 0.4
    """Grid carbon intensity: roughly the US average (EIA, 2023: ~0.37); the world average is ~0.48 (IEA)."""
    layers: int | None = None
    """Transformer layers L, for the attention term (give all of layers, d_model, seq_len or none)."""
    d_model: int | None = None
    """Model width d, for the attention term."""
    seq_len: int | None = None
    """Context length T, for the attention term."""

    def __post_init__(self) -> None:
        for key in ("params", "tokens", "mfu", "pue"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value > 0):
                raise PlanError(f"{key} must be a positive number, got {value}")
        if self.gpus < 1:
            raise PlanError(f"gpus must be at least 1, got {self.gpus}")
        if self.mfu > 1:
            raise PlanError(f"mfu is a fraction of peak in (0, 1], got {self.mfu}")
        if self.pue < 1:
            raise PlanError(f"pue is at least 1 (facility power / IT power), got {self.pue}")
        for key in ("usd_per_gpu_hour", "kg_co2_per_kwh"):
            value = getattr(self, key)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise PlanError(f"{key} must be zero or positive, got {value}")
        shape = {"layers": self.layers, "d_model": self.d_model, "seq_len": self.seq_len}
        given = [key for key, value in shape.items() if value is not None]
        if given and len(given) < 3:
            raise PlanError(
                f"the attention term needs layers, d_model and seq_len together; got only {', '.join(given)}"
            )
        for key in given:
            if shape[key] < 1:
                raise PlanError(f"{key} must be at least 1, got {shape[key]}")
        try:
            accelerator = lookup(self.gpu_type)
        except UnknownAcceleratorError as err:
            raise PlanError(f"gpu_type: {err}") from None
        if accelerator.peak_flops is None:
            raise PlanError(f"gpu_type: no peak FLOP/s known for {accelerator.label}; plan on a GPU type")


@dataclass(frozen=True, kw_only=True, slots=True)
class Alternative:
    """A Chinchilla-optimal (D = 20·N) run that keeps one thing of the plan."""

    keeps: str
    params: float
    tokens: float
    flops: float
    gpu_hours: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    config: PlanConfig
    accelerator: Accelerator
    flops: float
    cluster_flops_per_s: float
    """Achieved FLOP/s of the whole cluster: gpus × peak × MFU."""
    gpu_hours: float
    wall_days: float
    usd_per_gpu_hour: float | None
    cost_usd: float | None
    """None when the accelerator has no typical price and none was given."""
    energy_kwh: float
    """GPU board power × GPU-hours × PUE: hosts, network and storage excluded."""
    co2_kg: float
    alternatives: tuple[Alternative, ...]
    warnings: tuple[str, ...]


def make_plan(config: PlanConfig) -> Plan:
    accelerator = lookup(config.gpu_type)
    flops = training_flops(
        config.params, config.tokens, layers=config.layers, d_model=config.d_model, seq_len=config.seq_len
    )
    per_gpu = accelerator.peak_flops * config.mfu

    def gpu_hours(run_flops: float) -> float:
        return run_flops / per_gpu / 3600

    hours = gpu_hours(flops)
    price = config.usd_per_gpu_hour if config.usd_per_gpu_hour is not None else accelerator.usd_per_hour
    energy_kwh = accelerator.tdp_watts / 1000 * hours * config.pue

    optimal_params, optimal_tokens = chinchilla_optimal(flops)
    same_size_tokens = CHINCHILLA_TOKENS_PER_PARAM * config.params
    same_data_params = config.tokens / CHINCHILLA_TOKENS_PER_PARAM
    alternatives = (
        Alternative(keeps="compute", params=optimal_params, tokens=optimal_tokens, flops=flops, gpu_hours=hours),
        Alternative(
            keeps="model size",
            params=config.params,
            tokens=same_size_tokens,
            flops=training_flops(config.params, same_size_tokens),
            gpu_hours=gpu_hours(training_flops(config.params, same_size_tokens)),
        ),
        Alternative(
            keeps="data",
            params=same_data_params,
            tokens=config.tokens,
            flops=training_flops(same_data_params, config.tokens),
            gpu_hours=gpu_hours(training_flops(same_data_params, config.tokens)),
        ),
    )
    warnings = []
    if flops > REPORTING_THRESHOLD_FLOPS:
        warnings.append(
            f"{flops:.2e} FLOPs is above {REPORTING_THRESHOLD_FLOPS:.0e}, the reporting threshold of "
            "US Executive Order 14110 (2023, revoked 2025); check the rules that apply to you"
        )
    return Plan(
        config=config,
        accelerator=accelerator,
        flops=flops,
        cluster_flops_per_s=per_gpu * config.gpus,
        gpu_hours=hours,
        wall_days=hours / config.gpus / 24,
        usd_per_gpu_hour=price,
        cost_usd=None if price is None else hours * price,
        energy_kwh=energy_kwh,
        co2_kg=energy_kwh * config.kg_co2_per_kwh,
        alternatives=alternatives,
        warnings=tuple(warnings),
    )


def human(x: float) -> str:
    """3 significant digits with a K/M/B/T suffix: 405e9 -> '405B', 1.56e13 -> '15.6T'."""
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _duration(days: float) -> str:
    if days >= 1:
        return f"{days:,.1f} days"
    hours = days * 24
    return f"{hours:,.1f} hours" if hours >= 1 else f"{hours * 60:,.0f} minutes"


def _scaled(value: float, units: tuple[tuple[float, str], ...]) -> str:
    """`value` in the largest unit it reaches (units from large to small; the last is the floor)."""
    for size, name in units:
        if value >= size or size == units[-1][0]:
            return f"{value / size:,.{0 if value / size >= 10 else 1}f} {name}"
    raise AssertionError("unreachable")


def format_plan(plan: Plan) -> str:
    config, accelerator = plan.config, plan.accelerator
    ratio = config.tokens / config.params
    attention = " + 12·L·d·T·D" if config.layers is not None else ""
    cost = (
        "n/a (no typical price for this GPU: pass --usd-per-gpu-hour)"
        if plan.cost_usd is None
        else f"${human(plan.cost_usd)} at ${plan.usd_per_gpu_hour:.2f}/GPU-hour"
    )
    rows = [
        ("training compute", f"{plan.flops:.3e} FLOPs (6·N·D{attention})"),
        ("accelerator", f"{accelerator.label}: {accelerator.peak_flops / 1e12:,.0f} TFLOP/s dense BF16 peak"),
        ("cluster throughput", f"{config.gpus:,} GPUs × MFU {config.mfu:.2f} = {plan.cluster_flops_per_s:.3e} FLOP/s"),
        ("GPU-hours", human(plan.gpu_hours)),
        ("wall clock", f"{_duration(plan.wall_days)} on {config.gpus:,} GPUs"),
        ("rental cost", cost),
        (
            "energy",
            f"{_scaled(plan.energy_kwh, ((1000, 'MWh'), (1, 'kWh')))} "
            f"({accelerator.tdp_watts:.0f} W per GPU × GPU-hours × PUE {config.pue:g})",
        ),
        ("CO₂", f"{_scaled(plan.co2_kg, ((1000, 't'), (1, 'kg')))} ({config.kg_co2_per_kwh:g} kg per kWh)"),
    ]
    lines = [
        (
            f"{human(config.params)} parameters on {human(config.tokens)} tokens: "
            f"{ratio:.1f} tokens per parameter (Chinchilla-optimal: {CHINCHILLA_TOKENS_PER_PARAM})"
        ),
        "",
        "| quantity | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        f"Chinchilla-optimal alternatives (D = {CHINCHILLA_TOKENS_PER_PARAM}·N), same GPUs and MFU:",
        "",
        "| keeping the | parameters | tokens | FLOPs | GPU-hours | wall days |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {a.keeps} | {human(a.params)} | {human(a.tokens)} | {a.flops:.2e} | {human(a.gpu_hours)} | "
            f"{a.gpu_hours / config.gpus / 24:,.1f} |"
            for a in plan.alternatives
        ),
    ]
    lines += [f"\nwarning: {warning}" for warning in plan.warnings]
    return "\n".join(lines)
