"""`gristmill plan` and `gristmill scaling fit`: size a pretraining run before paying for it.

    gristmill plan --params 405B --tokens 15.6T [--gpus 16384] [--gpu-type h100] [--mfu 0.4]
                   [--usd-per-gpu-hour P] [--pue 1.2] [--co2-per-kwh 0.4] [--layers L --d-model D --seq-len T]
    gristmill scaling fit RUNS... [--budget FLOPS ...] [--bootstrap 100] [--seed 0] [--starts 16]

Counts take plain numbers (`405e9`) or K/M/B/T suffixes (`405B`, `15.6T`).
`plan` prints FLOPs, GPU-hours, wall days, rental cost, energy and CO₂ and the
Chinchilla-optimal alternatives (see `trainer/plan.py`); `scaling fit` fits
L(N, D) = E + A/N^α + B/D^β to runs' final losses (formats in
`trainer/scaling.py:load_runs`) and prints the compute-optimal N and D.
"""

from __future__ import annotations

import argparse
import math
import re
import sys

_SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)


def parse_count(text: str) -> float:
    """'405B' -> 4.05e11, '15.6T' -> 1.56e13, '1e21' -> 1e21; positive and finite only."""
    match = _COUNT.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (write 405e9 or 405B; suffixes K, M, B, T)")
    value = float(match.group(1)) * _SUFFIXES[match.group(2).lower()]
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def add_parser(commands) -> None:
    from trainer.hardware import ACCELERATORS

    plan = commands.add_parser("plan", help="FLOPs, GPU-hours, days, cost, energy and CO2 of a training run")
    plan.add_argument("--params", type=parse_count, required=True, help="model parameters N (405e9 or 405B)")
    plan.add_argument("--tokens", type=parse_count, required=True, help="training tokens D (15.6e12 or 15.6T)")
    plan.add_argument("--gpus", type=int, default=1, help="GPUs training together (default: 1)")
    plan.add_argument("--gpu-type", default="h100", metavar="TYPE",
                      help=f"one of {', '.join(k for k in ACCELERATORS if k != 'cpu')} or a CUDA device name (default: h100)")
    plan.add_argument("--mfu", type=float, default=0.4, help="model FLOPs utilization, 0-1 (default: 0.4)")
    plan.add_argument("--usd-per-gpu-hour", type=float, help="rental price (default: the table's typical on-demand price)")
    plan.add_argument("--pue", type=float, default=1.2, help="data-centre power usage effectiveness (default: 1.2)")
    plan.add_argument("--co2-per-kwh", type=float, default=0.4, help="grid carbon intensity, kg CO2 per kWh (default: 0.4)")
    plan.add_argument("--layers", type=int, help="layers L, for the attention term 12·L·d·T (with --d-model, --seq-len)")
    plan.add_argument("--d-model", type=int, help="model width d, for the attention term")
    plan.add_argument("--seq-len", type=int, help="context length T, for the attention term")
    plan.set_defaults(handler=_plan)

    scaling = commands.add_parser("scaling", help="scaling-law tools")
    subcommands = scaling.add_subparsers(dest="scaling_command", required=True)
    fit = subcommands.add_parser("fit", help="fit L(N, D) = E + A/N^a + B/D^b to runs and propose a compute-optimal size")
    fit.add_argument("runs", nargs="+", metavar="RUNS",
                     help="runs files (.jsonl/.csv with params, tokens, loss) or folders (run folders with run.json + metrics.jsonl)")
    fit.add_argument("--budget", type=parse_count, action="append", metavar="FLOPS",
                     help="compute budget to allocate (repeatable; default: the largest run's 6·N·D)")
    fit.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples for the intervals, 0 for none (default: 100)")
    fit.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    fit.add_argument("--starts", type=int, default=16, help="grid points L-BFGS starts from (default: 16 of 4,500)")
    fit.set_defaults(handler=_scaling_fit)


def _plan(args: argparse.Namespace) -> int:
    from trainer.plan import PlanConfig, PlanError, format_plan, make_plan

    try:
        config = PlanConfig(params=args.params, tokens=args.tokens, gpus=args.gpus, gpu_type=args.gpu_type, mfu=args.mfu,
                            usd_per_gpu_hour=args.usd_per_gpu_hour, pue=args.pue, kg_co2_per_kwh=args.co2_per_kwh,
                            layers=args.layers, d_model=args.d_model, seq_len=args.seq_len)
    except PlanError as err:
        print(f"gristmill plan: {err}", file=sys.stderr)
        return 2
    print(format_plan(make_plan(config)))
    return 0


def _scaling_fit(args: argparse.Namespace) -> int:
    from trainer.scaling import RunsError, fit_scaling_law, format_fit, load_runs

    if args.bootstrap < 0 or args.starts < 1:
        print("gristmill scaling fit: --bootstrap must be 0 or more and --starts 1 or more", file=sys.stderr)
        return 2
    try:
        runs = load_runs(args.runs)
        fit = fit_scaling_law(runs, n_starts=args.starts, bootstrap=args.bootstrap, seed=args.seed)
    except RunsError as err:
        print(f"gristmill scaling fit: {err}", file=sys.stderr)
        return 2
    budgets = args.budget or [max(6 * run.params * run.tokens for run in runs)]
    print(format_fit(fit, budgets))
    if not args.budget:
        print("(budget: the largest run's compute; pass --budget FLOPS for others)")
    return 0
