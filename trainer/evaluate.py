"""Per-domain validation loss and perplexity on held-out windows.

Which windows. By default the training loader keeps the last `holdout` fraction of
every domain's windows (in file order) out of training (`LoaderConfig.holdout`); those
are the validation windows. A separate token folder (`--val-data`, e.g. a held-out
manifest tokenized with the same tokenizer) is read whole instead. Per domain at most
`max_windows` are evaluated, spread evenly over its held-out range, and always the same
ones, so evaluations along a run (and across runs) compare like with like.

The loss is the mean cross-entropy per target token, pooled over the domain's windows;
the overall `val_loss` pools every domain's tokens (domains evaluated on equally many
windows weigh alike). Perplexity is exp(loss).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from trainer.data import DomainWindows
from trainer.token_shards import open_token_folder


@dataclasses.dataclass(frozen=True, slots=True)
class ValidationSet:
    domain: str
    seq_len: int
    windows: DomainWindows
    numbers: np.ndarray
    """Window numbers evaluated, (n,) int64."""


def validation_sets(
    directory: str, seq_len: int, *, holdout: float, max_windows: int
) -> tuple[list[ValidationSet], list[str]]:
    """(sets, domains without a window to evaluate); holdout 0 reads every window of the folder."""
    folder = open_token_folder(directory)
    sets, empty = [], []
    for name in sorted(folder.domains):
        windows = DomainWindows(folder, name, seq_len, holdout)
        first, count = (windows.count, windows.held_out) if holdout > 0 else (0, windows.count)
        n = min(count, max_windows)
        if n == 0:
            empty.append(name)
            continue
        sets.append(ValidationSet(name, seq_len, windows, first + (np.arange(n, dtype=np.int64) * count) // n))
    return sets, empty


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    sets: list[ValidationSet],
    *,
    batch_size: int,
    device: torch.device,
    autocast=contextlib.nullcontext,
    rank: int = 0,
    world_size: int = 1,
) -> dict[str, dict[str, float]]:
    """{domain: {"loss", "ppl", "tokens"}} plus "all" pooled; ranks split the windows and sum together."""
    was_training = model.training
    model.eval()
    sums = torch.zeros(len(sets), 2, dtype=torch.float64, device=device)  # (sets, [loss sum, target tokens])
    for i, vset in enumerate(sets):
        mine = vset.numbers[rank::world_size]
        for start in range(0, len(mine), batch_size):
            chunk = mine[start : start + batch_size]
            tokens = np.empty((len(chunk), vset.seq_len + 1), dtype=np.int64)  # (b, T + 1)
            vset.windows.read(chunk, tokens, np.arange(len(chunk)))
            batch = torch.from_numpy(tokens).to(device)
            x, y = batch[:, :-1], batch[:, 1:]  # (b, T) each
            with autocast():
                logits = model(x)  # (b, T, V)
            sums[i, 0] += F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), reduction="sum").double()
            sums[i, 1] += y.numel()
    if world_size > 1:
        dist.all_reduce(sums)
    model.train(was_training)
    totals = sums.cpu().tolist()
    result = {vset.domain: _summary(loss, tokens) for vset, (loss, tokens) in zip(sets, totals)}
    if sets:
        result["all"] = _summary(sum(t[0] for t in totals), sum(t[1] for t in totals))
    return result


def _summary(loss_sum: float, tokens: float) -> dict[str, float]:
    loss = loss_sum / tokens
    return {"loss": loss, "ppl": math.exp(min(loss, 700.0)), "tokens": int(tokens)}
