from __future__ import annotations

import math

import pytest

from gristmill.cli import main
from gristmill.plan_cli import parse_count
from trainer.hardware import lookup, peak_flops
from trainer.plan import (
    PlanConfig,
    PlanError,
    chinchilla_optimal,
    format_plan,
    make_plan,
    training_flops,
)

LLAMA3_405B = PlanConfig(params=405e9, tokens=15.6e12, gpus=16384, gpu_type="h100", mfu=0.4)


def test_llama3_405b_compute_is_the_lectures_3_8e25():
    plan = make_plan(LLAMA3_405B)
    assert plan.flops == pytest.approx(6 * 405e9 * 15.6e12)
    assert plan.flops == pytest.approx(3.79e25, rel=1e-3)


def test_llama3_405b_gpu_hours_days_cost_energy():
    plan = make_plan(LLAMA3_405B)
    seconds_per_gpu = plan.flops / (989e12 * 0.4)
    assert plan.gpu_hours == pytest.approx(seconds_per_gpu / 3600)
    assert plan.gpu_hours == pytest.approx(26.6e6, rel=0.01)
    # Meta's model card: 30.84M H100-hours, which includes failures and restarts.
    assert 0.8 < plan.gpu_hours / 30.84e6 < 1.0
    assert plan.wall_days == pytest.approx(plan.gpu_hours / 16384 / 24)
    assert plan.wall_days == pytest.approx(67.7, abs=0.1)
    assert plan.cost_usd == pytest.approx(plan.gpu_hours * 3.00)
    assert plan.energy_kwh == pytest.approx(plan.gpu_hours * 0.700 * 1.2)
    assert plan.co2_kg == pytest.approx(plan.energy_kwh * 0.4)
    assert plan.warnings == ()


def test_chinchilla_70b_is_compute_optimal():
    plan = make_plan(PlanConfig(params=70e9, tokens=1.4e12))
    assert plan.flops == pytest.approx(5.88e23)
    params, tokens = chinchilla_optimal(plan.flops)
    assert params == pytest.approx(70e9)
    assert tokens == pytest.approx(1.4e12)
    assert {a.keeps: a.flops for a in plan.alternatives} == pytest.approx(
        {"compute": 5.88e23, "model size": 5.88e23, "data": 5.88e23}
    )


def test_alternatives_keep_what_they_say():
    compute, size, data = make_plan(LLAMA3_405B).alternatives
    assert compute.params == pytest.approx(math.sqrt(3.7908e25 / 120), rel=1e-4)
    assert compute.tokens == pytest.approx(20 * compute.params)
    assert (size.params, size.tokens) == pytest.approx((405e9, 8.1e12))
    assert (data.params, data.tokens) == pytest.approx((780e9, 15.6e12))
    assert size.gpu_hours == pytest.approx(make_plan(LLAMA3_405B).gpu_hours * 8.1 / 15.6)


def test_gpu_hours_scale_with_mfu_and_peak():
    one = make_plan(PlanConfig(params=1e9, tokens=20e9, gpu_type="a100", mfu=0.5, gpus=8))
    assert one.flops == pytest.approx(1.2e20)
    assert one.gpu_hours == pytest.approx(1.2e20 / (312e12 * 0.5) / 3600)  # 213.7 h
    assert one.wall_days == pytest.approx(one.gpu_hours / 8 / 24)
    faster = make_plan(PlanConfig(params=1e9, tokens=20e9, gpu_type="h100", mfu=0.5, gpus=8))
    assert one.gpu_hours / faster.gpu_hours == pytest.approx(989 / 312)


def test_attention_term_is_12_l_d_t_per_token():
    assert training_flops(1e9, 1e10, layers=24, d_model=2048, seq_len=4096) == pytest.approx(
        6 * 1e9 * 1e10 + 12 * 24 * 2048 * 4096 * 1e10
    )
    assert training_flops(1e9, 1e10) == pytest.approx(6e19)


def test_warning_only_above_1e26_flops():
    just_below = 1e26 / (6 * 1e12)
    assert make_plan(PlanConfig(params=1e12, tokens=just_below * 0.999)).warnings == ()
    above = make_plan(PlanConfig(params=1e12, tokens=just_below * 1.001))
    assert len(above.warnings) == 1 and "1e+26" in above.warnings[0]
    assert "warning:" in format_plan(above)


def test_price_override_and_unpriced_gpu():
    assert make_plan(PlanConfig(params=1e9, tokens=1e10, usd_per_gpu_hour=2.0)).usd_per_gpu_hour == 2.0
    unpriced = make_plan(PlanConfig(params=1e9, tokens=1e10, gpu_type="h100-nvl"))
    assert unpriced.cost_usd is None
    assert "pass --usd-per-gpu-hour" in format_plan(unpriced)


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"mfu": 0}, "mfu"),
        ({"mfu": 1.2}, "mfu"),
        ({"gpus": 0}, "gpus"),
        ({"pue": 0.9}, "pue"),
        ({"params": -1}, "params"),
        ({"tokens": math.nan}, "tokens"),
        ({"gpu_type": "tpu-v9"}, "gpu_type"),
        ({"gpu_type": "cpu"}, "no peak"),
        ({"layers": 32}, "d_model and seq_len together"),
    ],
)
def test_bad_config_names_the_key(fields, named):
    with pytest.raises(PlanError, match=named):
        PlanConfig(**{"params": 1e9, "tokens": 1e10, **fields})


@pytest.mark.parametrize(
    "name, key",
    [
        ("NVIDIA H200", "h200"),
        ("NVIDIA H100 80GB HBM3", "h100"),
        ("NVIDIA H100 PCIe", "h100-pcie"),
        ("NVIDIA H100 NVL", "h100-nvl"),
        ("NVIDIA A100-SXM4-80GB", "a100"),
        ("NVIDIA A100 80GB PCIe", "a100-pcie"),
        ("NVIDIA A10G", "a10g"),
        ("NVIDIA L4", "l4"),
        ("NVIDIA B200", "b200"),
        ("AMD Instinct MI300X", "mi300x"),
        ("H100-SXM", "h100"),
        ("cpu", "cpu"),
    ],
)
def test_lookup_by_key_alias_or_cuda_name(name, key):
    assert lookup(name).key == key


def test_peak_flops_is_dense_bf16_or_none():
    assert peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert peak_flops("a100") == 312e12
    assert peak_flops("NVIDIA L40S") is None
    assert peak_flops("cpu") is None


@pytest.mark.parametrize(
    "text, value", [("405B", 405e9), ("15.6T", 15.6e12), ("1e21", 1e21), ("70e9", 70e9), ("7m", 7e6), ("1.5K", 1500.0)]
)
def test_parse_count(text, value):
    assert parse_count(text) == pytest.approx(value)


def test_cli_plan_prints_the_llama3_table(capsys):
    code = main(
        ["plan", "--params", "405B", "--tokens", "15.6T", "--gpus", "16384", "--gpu-type", "h100", "--mfu", "0.4"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "3.791e+25 FLOPs" in out
    assert "| GPU-hours | 26.6M |" in out
    assert "67.7 days on 16,384 GPUs" in out
    assert "| compute | 562B | 11.2T |" in out


def test_cli_plan_bad_input_exits_2(capsys):
    assert main(["plan", "--params", "405B", "--tokens", "15.6T", "--gpu-type", "tpu"]) == 2
    assert "unknown accelerator 'tpu'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--params", "lots", "--tokens", "15.6T"])
    assert exited.value.code == 2
    assert "not a count: 'lots'" in capsys.readouterr().err
