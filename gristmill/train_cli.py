"""`gristmill train` and `gristmill eval`: pretrain a GPT on token shards, and score a checkpoint.

    gristmill train --data TOKENS --out RUN [--preset tiny|mini|micro|small|gpt2-124m|...] [--max-steps N]
                    [--nproc P] [--nnodes K --rdzv-endpoint HOST:PORT [--rdzv-id ID] [--node-rank R]]
                    [training flags...]
    gristmill eval --checkpoint RUN|CKPT --data TOKENS [--holdout F | --all] [--batches N] [--batch-size B] [--json]

`train` runs one process in place when --nproc is 1 on one node; otherwise it starts
`python -m torch.distributed.run` (torchrun) with `-m trainer.train` and the same flags.
Multi-node: run the same command on every node with `--nnodes K --rdzv-endpoint
HOST:PORT` (HOST one of the nodes, reachable from all; c10d rendezvous, torchrun's
default); `--node-rank` switches to a static rendezvous with node 0 at the endpoint.
Training flags and output formats: trainer/train.py.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import subprocess
import sys


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Launch:
    nproc: int = 1
    """Processes (GPUs) per node."""
    nnodes: int = 1
    rdzv_endpoint: str | None = None
    """HOST:PORT of the rendezvous (multi-node)."""
    rdzv_id: str = "gristmill"
    """Names the job at the rendezvous; every node passes the same."""
    node_rank: int | None = None
    """Static rendezvous: this node's rank (node 0 listens at rdzv_endpoint)."""

    def __post_init__(self) -> None:
        if self.nproc < 1 or self.nnodes < 1:
            raise ValueError("--nproc and --nnodes must be >= 1")
        if self.nnodes > 1 and not self.rdzv_endpoint:
            raise ValueError("--nnodes > 1 needs --rdzv-endpoint HOST:PORT (a node every node can reach)")

    @property
    def in_process(self) -> bool:
        return self.nproc == 1 and self.nnodes == 1


def torchrun_command(launch: Launch, train_argv: list[str]) -> list[str]:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(launch.nproc)]
    if launch.nnodes == 1:
        command.append("--standalone")
    elif launch.node_rank is not None:
        host, _, port = launch.rdzv_endpoint.rpartition(":")
        command += [
            "--nnodes",
            str(launch.nnodes),
            "--node-rank",
            str(launch.node_rank),
            "--master-addr",
            host,
            "--master-port",
            port,
        ]
    else:
        command += [
            "--nnodes",
            str(launch.nnodes),
            "--rdzv-backend",
            "c10d",
            "--rdzv-endpoint",
            launch.rdzv_endpoint,
            "--rdzv-id",
            launch.rdzv_id,
        ]
    return command + ["-m", "trainer.train", *train_argv]


def run_training(config, launch: Launch) -> int:
    """Train `config` (a trainer.train.TrainConfig) in this process or under torchrun; the exit status."""
    from trainer.train import Cluster, train
    from trainer.train_config import config_to_argv

    if launch.in_process:
        try:
            train(config, Cluster())
        except ValueError as err:
            print(f"gristmill train: {err}", file=sys.stderr)
            return 2
        return 0
    return subprocess.call(torchrun_command(launch, config_to_argv(config)))


def add_parser(commands) -> None:
    from trainer.train_config import add_arguments

    train = commands.add_parser("train", help="pretrain a GPT on a token folder (DDP through torchrun)")
    add_arguments(train)
    train.add_argument("--nproc", type=int, default=1, help="processes per node, one per GPU (default: 1)")
    train.add_argument("--nnodes", type=int, default=1, help="nodes (default: 1)")
    train.add_argument("--rdzv-endpoint", help="HOST:PORT of the rendezvous, for --nnodes > 1")
    train.add_argument("--rdzv-id", default="gristmill", help="job id at the rendezvous (default: gristmill)")
    train.add_argument("--node-rank", type=int, help="static rendezvous: this node's rank, node 0 at --rdzv-endpoint")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser("eval", help="per-domain loss and perplexity of a checkpoint on held-out windows")
    evaluate.add_argument(
        "--checkpoint", required=True, help="a run folder (its latest checkpoint) or a step-*.pt file"
    )
    evaluate.add_argument("--data", required=True, help="token folder")
    which = evaluate.add_mutually_exclusive_group()
    which.add_argument(
        "--holdout",
        type=float,
        help="evaluate the last fraction of each domain's windows (default: what the run held out)",
    )
    which.add_argument("--all", action="store_true", help="evaluate every window (a folder the run never trained on)")
    evaluate.add_argument("--batches", type=int, default=16, help="batches per domain at most (default: 16)")
    evaluate.add_argument("--batch-size", type=int, default=8, help="sequences per batch (default: 8)")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.set_defaults(handler=_eval)


def _train(args: argparse.Namespace) -> int:
    from trainer.train_config import config_from_args

    try:
        config = config_from_args(args)
        launch = Launch(
            nproc=args.nproc,
            nnodes=args.nnodes,
            rdzv_endpoint=args.rdzv_endpoint,
            rdzv_id=args.rdzv_id,
            node_rank=args.node_rank,
        )
    except ValueError as err:
        print(f"gristmill train: {err}", file=sys.stderr)
        return 2
    return run_training(config, launch)


def evaluate_checkpoint(checkpoint: str, data: str, *, holdout: float | None, batches: int, batch_size: int) -> dict:
    """{"step", "tokens", "holdout", "domains": {domain: {"loss", "ppl", "tokens"}, "all": ...},
    "without_windows": [...]}."""
    import torch

    from trainer.checkpoint import load_checkpoint
    from trainer.evaluate import evaluate, validation_sets
    from trainer.model import GPT, GPTConfig

    state = load_checkpoint(checkpoint)
    model_config = GPTConfig(**state["model_config"])
    train_config = state["train_config"]
    if holdout is None:
        holdout = 0.0 if train_config["val_data"] else train_config["val_fraction"]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = GPT(model_config)
    model.load_state_dict(state["model"])
    model.to(device)
    sets, empty = validation_sets(data, model_config.seq_len, holdout=holdout, max_windows=batches * batch_size)
    autocast = (
        (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else contextlib.nullcontext
    )
    results = evaluate(model, sets, batch_size=batch_size, device=device, autocast=autocast)
    return {
        "step": state["step"],
        "tokens": state["tokens"],
        "holdout": holdout,
        "domains": results,
        "without_windows": empty,
    }


def _eval(args: argparse.Namespace) -> int:
    from trainer.checkpoint import CheckpointError

    if args.batches < 1 or args.batch_size < 1 or (args.holdout is not None and not 0 < args.holdout < 1):
        print("gristmill eval: --batches and --batch-size must be >= 1, --holdout in (0, 1)", file=sys.stderr)
        return 2
    try:
        report = evaluate_checkpoint(
            args.checkpoint,
            args.data,
            holdout=0.0 if args.all else args.holdout,
            batches=args.batches,
            batch_size=args.batch_size,
        )
    except (CheckpointError, ValueError) as err:
        print(f"gristmill eval: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    which = (
        "every window"
        if report["holdout"] == 0
        else f"the held-out last {report['holdout']:g} of each domain's windows"
    )
    print(f"checkpoint at step {report['step']:,} ({report['tokens']:,} tokens), on {which} of {args.data}:\n")
    print("| domain | tokens | loss | perplexity |\n|---|---:|---:|---:|")
    for domain, result in report["domains"].items():
        print(f"| {domain} | {result['tokens']:,} | {result['loss']:.4f} | {result['ppl']:.2f} |")
    if report["without_windows"]:
        print(f"\nno windows to evaluate in: {', '.join(report['without_windows'])}")
    return 0
