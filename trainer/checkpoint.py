"""Training checkpoints: written atomically, found through a `latest` pointer.

    OUT/ckpt/step-000200.pt     # torch.save of one dict (below)
    OUT/ckpt/latest             # text: the file name of the newest complete checkpoint

A checkpoint is first written to a hidden temporary file in the same folder, flushed
to disk, then renamed (`os.replace`, atomic on POSIX); only then is `latest` replaced the
same way. A run killed at any moment leaves either the old or the new checkpoint under
a `step-*.pt` name, never a partial one; leftover `.tmp-*` files are ignored and
removed by the next save.

The dict (format "gristmill-checkpoint", version 1):

    {"format", "format_version", "step", "tokens",
     "model": GPT state_dict (no DDP or compile prefixes), "model_config": GPTConfig fields,
     "optimizer": AdamW state_dict, "train_config": TrainConfig fields (for the record),
     "world_size": W,
     "ranks": [{"loader": TokenLoader.state_dict(), "rng": {"python", "numpy", "torch", "cuda"}} for each rank]}

The learning rate is a function of `step` (`trainer.train.learning_rate`), so `step`
is the scheduler's whole state.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

CHECKPOINT_FORMAT = "gristmill-checkpoint"
CHECKPOINT_VERSION = 1
LATEST = "latest"


class CheckpointError(ValueError):
    """A checkpoint that is missing, of another format, or from an incompatible run."""


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}.pt"


def _atomic_write(path: str, write) -> None:
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".tmp-{name}-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(folder: str, state: dict, *, keep: int = 2) -> str:
    """Write `state` as folder/step-NNNNNN.pt, point `latest` at it, keep the newest `keep`; returns its path."""
    os.makedirs(folder, exist_ok=True)
    for stale in os.listdir(folder):
        if stale.startswith(".tmp-"):
            os.remove(os.path.join(folder, stale))
    state = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION, **state}
    name = checkpoint_name(state["step"])
    path = os.path.join(folder, name)
    _atomic_write(path, lambda f: torch.save(state, f))
    _atomic_write(os.path.join(folder, LATEST), lambda f: f.write(name.encode()))
    for old in sorted(n for n in os.listdir(folder) if n.startswith("step-") and n.endswith(".pt"))[:-keep]:
        if old != name:
            os.remove(os.path.join(folder, old))
    return path


def latest_checkpoint(folder: str) -> str | None:
    """The path `latest` names, or None when the folder holds no complete checkpoint."""
    pointer = os.path.join(folder, LATEST)
    if not os.path.isfile(pointer):
        return None
    with open(pointer, encoding="utf-8") as f:
        return os.path.join(folder, f.read().strip())


def load_checkpoint(path: str) -> dict:
    """A checkpoint file (or a run folder / its ckpt folder, for the latest one), on the CPU."""
    for folder in (path, os.path.join(path, "ckpt")):
        if os.path.isdir(folder) and (latest := latest_checkpoint(folder)):
            path = latest
            break
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no checkpoint there (a step-*.pt file, or a run folder with ckpt/latest)")
    state = torch.load(path, map_location="cpu", weights_only=False)  # our own file: numpy RNG states need pickle
    if (
        not isinstance(state, dict)
        or state.get("format") != CHECKPOINT_FORMAT
        or state.get("format_version") != CHECKPOINT_VERSION
    ):
        raise CheckpointError(f"{path}: not a {CHECKPOINT_FORMAT} version {CHECKPOINT_VERSION} file")
    return state


def rng_state() -> dict:
    """Every generator a training step may draw from: Python's, NumPy's global one, torch's CPU and CUDA ones."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state() if torch.cuda.is_available() else None,
    }  # this rank's device


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
