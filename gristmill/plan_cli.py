"""`gristmill plan` and `gristmill scaling fit`: size a pretraining run before paying for it.

    gristmill plan --params 405B --tokens 15.6T [--gpus 16384] [--gpu-type h100] [--mfu 0.4]
                   [--usd-per-gpu-hour P] [--pue 1.2] [--co2-per-kwh 0.4] [--layers L --d-model D --seq-len T]
    gristmill scaling fit RUNS... [--budget FLOPS ...] [--bootstrap 100] [--seed 0] [--starts 16]
    gristmill scaling sweep --data TOKENS --presets tiny,mini,midi --steps 200,400,800 --out DIR [--nproc P] [...]

Counts take plain numbers (`405e9`) or K/M/B/T suffixes (`405B`, `15.6T`).
`plan` prints FLOPs, GPU-hours, wall days, rental cost, energy and CO₂ and the
Chinchilla-optimal alternatives (see `trainer/plan.py`); `scaling fit` fits
L(N, D) = E + A/N^α + B/D^β to runs' final losses (formats in
`trainer/scaling.py:load_runs`) and prints the compute-optimal N and D; `scaling sweep`
trains every preset for every step count (one run folder each under DIR, each with its
own cosine schedule, Chinchilla-style) and fits them. A sweep run again skips finished
runs and resumes interrupted ones.
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
    plan.add_argument(
        "--gpu-type",
        default="h100",
        metavar="TYPE",
        help=f"one of {', '.join(k for k in ACCELERATORS if k != 'cpu')} or a CUDA device name (default: h100)",
    )
    plan.add_argument("--mfu", type=float, default=0.4, help="model FLOPs utilization, 0-1 (default: 0.4)")
    plan.add_argument(
        "--usd-per-gpu-hour", type=float, help="rental price (default: the table's typical on-demand price)"
    )
    plan.add_argument("--pue", type=float, default=1.2, help="data-centre power usage effectiveness (default: 1.2)")
    plan.add_argument(
        "--co2-per-kwh", type=float, default=0.4, help="grid carbon intensity, kg CO2 per kWh (default: 0.4)"
    )
    plan.add_argument(
        "--layers", type=int, help="layers L, for the attention term 12·L·d·T (with --d-model, --seq-len)"
    )
    plan.add_argument("--d-model", type=int, help="model width d, for the attention term")
    plan.add_argument("--seq-len", type=int, help="context length T, for the attention term")
    plan.set_defaults(handler=_plan)

    scaling = commands.add_parser("scaling", help="scaling-law tools")
    subcommands = scaling.add_subparsers(dest="scaling_command", required=True)
    fit = subcommands.add_parser(
        "fit", help="fit L(N, D) = E + A/N^a + B/D^b to runs and propose a compute-optimal size"
    )
    fit.add_argument(
        "runs",
        nargs="+",
        metavar="RUNS",
        help=(
            "runs files (.jsonl/.csv with params, tokens, loss) or folders (run folders with run.json + metrics.jsonl)"
        ),
    )
    fit.add_argument(
        "--budget",
        type=parse_count,
        action="append",
        metavar="FLOPS",
        help="compute budget to allocate (repeatable; default: the largest run's 6·N·D)",
    )
    fit.add_argument(
        "--bootstrap", type=int, default=100, help="bootstrap resamples for the intervals, 0 for none (default: 100)"
    )
    fit.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    fit.add_argument("--starts", type=int, default=16, help="grid points L-BFGS starts from (default: 16 of 4,500)")
    fit.set_defaults(handler=_scaling_fit)

    sweep = subcommands.add_parser("sweep", help="train a ladder of model sizes x step counts, then fit them")
    sweep.add_argument("--data", required=True, help="token folder from `gristmill tokenize`")
    sweep.add_argument("--out", required=True, help="folder for the run folders (<preset>-<steps>steps)")
    sweep.add_argument("--presets", required=True, help="comma-separated model presets, e.g. tiny,mini,midi")
    sweep.add_argument("--steps", required=True, help="comma-separated step counts, e.g. 200,400,800")
    sweep.add_argument("--seq-len", type=int, default=128, help="context length (default: 128)")
    sweep.add_argument("--batch-size", type=int, default=16, help="sequences per step per process (default: 16)")
    sweep.add_argument("--lr", type=float, default=1e-3, help="peak learning rate, every size alike (default: 1e-3)")
    sweep.add_argument("--eval-batches", type=int, default=8, help="validation batches per domain (default: 8)")
    sweep.add_argument(
        "--dtype", default="auto", choices=["auto", "bf16", "fp32"], help="as gristmill train (default: auto)"
    )
    sweep.add_argument("--nproc", type=int, default=1, help="processes per run, via torchrun when > 1 (default: 1)")
    sweep.add_argument(
        "--bootstrap", type=int, default=0, help="bootstrap resamples for the fit's intervals (default: 0)"
    )
    sweep.add_argument("--seed", type=int, default=0, help="training and bootstrap seed (default: 0)")
    sweep.set_defaults(handler=_scaling_sweep)


def _plan(args: argparse.Namespace) -> int:
    from trainer.plan import PlanConfig, PlanError, format_plan, make_plan

    try:
        config = PlanConfig(
            params=args.params,
            tokens=args.tokens,
            gpus=args.gpus,
            gpu_type=args.gpu_type,
            mfu=args.mfu,
            usd_per_gpu_hour=args.usd_per_gpu_hour,
            pue=args.pue,
            kg_co2_per_kwh=args.co2_per_kwh,
            layers=args.layers,
            d_model=args.d_model,
            seq_len=args.seq_len,
        )
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


def _scaling_sweep(args: argparse.Namespace) -> int:
    import os

    from gristmill.train_cli import Launch, run_training
    from trainer.scaling import RunsError, fit_scaling_law, format_fit, load_runs
    from trainer.train_config import TrainConfig

    try:
        presets = [p for p in args.presets.split(",") if p]
        steps = sorted({int(s) for s in args.steps.split(",") if s})
        configs = [
            TrainConfig(
                data=args.data,
                out=os.path.join(args.out, f"{preset}-{n}steps"),
                preset=preset,
                seq_len=args.seq_len,
                batch_size=args.batch_size,
                max_steps=n,
                lr=args.lr,
                eval_every=0,
                eval_batches=args.eval_batches,
                log_every=max(1, n // 20),
                checkpoint_every=0,
                dtype=args.dtype,
                seed=args.seed,
                resume=True,
            )
            for preset in presets
            for n in steps
        ]
        launch = Launch(nproc=args.nproc)
    except ValueError as err:
        print(f"gristmill scaling sweep: {err}", file=sys.stderr)
        return 2
    for number, config in enumerate(configs, start=1):
        print(f"[{number}/{len(configs)}] {config.preset}, {config.max_steps} steps -> {config.out}", file=sys.stderr)
        code = run_training(config, launch)
        if code != 0:
            print(f"gristmill scaling sweep: the run in {config.out} failed (exit status {code})", file=sys.stderr)
            return code
    try:
        runs = load_runs([config.out for config in configs])
        fit = fit_scaling_law(runs, bootstrap=args.bootstrap, seed=args.seed)
    except RunsError as err:
        print(
            f"gristmill scaling sweep: trained {len(configs)} runs under {args.out}, but cannot fit them: {err} "
            f"(add presets or step counts)",
            file=sys.stderr,
        )
        return 2
    print(format_fit(fit, [max(6 * run.params * run.tokens for run in runs)]))
    return 0
