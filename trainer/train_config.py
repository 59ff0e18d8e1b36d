"""The training run's settings, their command-line flags and the learning-rate schedule (no torch import here)."""

from __future__ import annotations

import argparse
import dataclasses
import math

from trainer.presets import PRESETS


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TrainConfig:
    data: str
    """Token folder written by `gristmill tokenize`."""
    out: str
    """Run folder: metrics.jsonl, run.json, ckpt/."""
    preset: str = "tiny"
    """Model shape, a key of trainer.model.PRESETS."""
    seq_len: int = 1024
    batch_size: int = 8
    """Sequences per micro-batch per rank."""
    grad_accum: int = 1
    """Micro-batches per optimizer step; a step is batch_size x seq_len x grad_accum x world_size tokens."""
    max_steps: int = 1000
    lr: float = 6e-4
    """Peak learning rate (GPT-3 table 2.1 for 125M)."""
    min_lr: float | None = None
    """Where the cosine ends at max_steps; None: lr / 10 (Chinchilla)."""
    warmup_steps: int | None = None
    """Linear warmup from 0; None: max_steps // 20."""
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    """Max global gradient norm; 0 disables clipping."""
    dropout: float = 0.0
    dtype: str = "auto"
    """auto (bf16 autocast on CUDA with bf16 support, fp32 elsewhere), bf16 (autocast on CPU too) or fp32."""
    compile: bool = False
    """torch.compile the model (evaluation runs it eager)."""
    deterministic: bool = False
    """torch.use_deterministic_algorithms: bitwise-repeatable CUDA runs, somewhat slower."""
    seed: int = 0
    num_workers: int = 0
    """Loader worker processes per rank (see trainer/data.py: 0 is usually fastest)."""
    val_data: str | None = None
    """A separate token folder to validate on, read whole; None: hold out val_fraction of data."""
    val_fraction: float = 0.01
    """Fraction of each domain's windows (its last) kept out of training for validation, without val_data."""
    eval_every: int = 200
    """Evaluate every this many steps (and always after the last); 0: after the last only."""
    eval_batches: int = 4
    """Batches (of batch_size per rank) per domain and evaluation."""
    log_every: int = 10
    checkpoint_every: int = 500
    """Checkpoint every this many steps (and always after the last); 0: after the last only."""
    keep_checkpoints: int = 2
    resume: bool = False
    """Continue from OUT/ckpt/latest (start afresh when there is none); without it a used OUT is refused."""
    stop_at: int | None = None
    """Checkpoint and exit after this step, as a preempted job would; the schedule still runs to max_steps."""
    fit_phases: bool = True
    """Stretch the manifest's mixture phases (budgets are pipeline estimates) over this run's tokens."""

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset: unknown {self.preset!r}; known: {', '.join(PRESETS)}")
        if self.dtype not in ("auto", "bf16", "fp32"):
            raise ValueError(f"dtype: must be auto, bf16 or fp32, not {self.dtype!r}")
        for key in (
            "seq_len",
            "batch_size",
            "grad_accum",
            "max_steps",
            "log_every",
            "eval_batches",
            "keep_checkpoints",
        ):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}: must be >= 1, not {getattr(self, key)}")
        for key in ("eval_every", "checkpoint_every", "num_workers"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key}: must be >= 0, not {getattr(self, key)}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction: must be in [0, 1), not {self.val_fraction}")
        if self.stop_at is not None and not 1 <= self.stop_at <= self.max_steps:
            raise ValueError(f"stop_at: must be in [1, max_steps={self.max_steps}], not {self.stop_at}")

    @property
    def warmup(self) -> int:
        return self.max_steps // 20 if self.warmup_steps is None else self.warmup_steps

    @property
    def holdout(self) -> float:
        """What the training loader keeps out."""
        return 0.0 if self.val_data else self.val_fraction


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warmup to lr over `warmup` steps, then a cosine to min_lr at max_steps (step is 1-based)."""
    min_lr = config.lr / 10 if config.min_lr is None else config.min_lr
    if step <= config.warmup:
        return config.lr * step / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.max_steps - config.warmup))
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.lr - min_lr)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field (--max-steps for max_steps); `config_from_args` reads them back."""
    defaults = TrainConfig(data="", out="")
    parser.add_argument("--data", required=True, help="token folder from `gristmill tokenize`")
    parser.add_argument("--out", required=True, help="run folder: metrics.jsonl, run.json, ckpt/")
    parser.add_argument(
        "--preset", default=defaults.preset, choices=list(PRESETS), help="model shape (default: %(default)s)"
    )
    for name, kind, text in (
        ("seq_len", int, "context length"),
        ("batch_size", int, "sequences per micro-batch per rank"),
        ("grad_accum", int, "micro-batches per optimizer step"),
        ("max_steps", int, "optimizer steps; the cosine ends here"),
        ("lr", float, "peak learning rate"),
        ("min_lr", float, "final learning rate (default: lr / 10)"),
        ("warmup_steps", int, "linear warmup steps (default: max_steps // 20)"),
        ("weight_decay", float, "AdamW decay on 2-D tensors"),
        ("beta1", float, "AdamW beta1"),
        ("beta2", float, "AdamW beta2"),
        ("grad_clip", float, "max gradient norm, 0 for none"),
        ("dropout", float, "dropout rate"),
        ("seed", int, "weights, data order and dropout"),
        ("num_workers", int, "loader worker processes per rank"),
        ("val_data", str, "separate token folder to validate on"),
        ("val_fraction", float, "fraction of each domain's windows held out for validation"),
        ("eval_every", int, "steps between evaluations, 0: at the end only"),
        ("eval_batches", int, "batches per domain per evaluation"),
        ("log_every", int, "steps between metrics records"),
        ("checkpoint_every", int, "steps between checkpoints, 0: at the end only"),
        ("keep_checkpoints", int, "checkpoints kept"),
        ("stop_at", int, "checkpoint and exit after this step (the schedule still ends at max_steps)"),
    ):
        default = getattr(defaults, name)
        parser.add_argument(
            "--" + name.replace("_", "-"), dest=name, type=kind, default=default, help=f"{text} (default: {default})"
        )
    parser.add_argument(
        "--dtype",
        default=defaults.dtype,
        choices=["auto", "bf16", "fp32"],
        help="auto: bf16 autocast on CUDA with bf16, else fp32 (default: auto)",
    )
    for name, text in (
        ("compile", "torch.compile the model"),
        ("deterministic", "deterministic kernels (bitwise-repeatable on CUDA)"),
        ("resume", "continue from OUT/ckpt/latest"),
        ("fit_phases", "stretch the mixture phases over this run"),
    ):
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            action=argparse.BooleanOptionalAction,
            default=getattr(defaults, name),
            help=f"{text} (default: {getattr(defaults, name)})",
        )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**{field.name: getattr(args, field.name) for field in dataclasses.fields(TrainConfig)})


def config_to_argv(config: TrainConfig) -> list[str]:
    """The flags that `add_arguments` parses back into `config` (for the torchrun command line)."""
    argv = []
    for field in dataclasses.fields(TrainConfig):
        value, flag = getattr(config, field.name), "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif value is not None:
            argv += [flag, repr(value) if isinstance(value, float) else str(value)]
    return argv
