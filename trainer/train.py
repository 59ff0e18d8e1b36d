"""The pretraining loop: DDP, bf16 autocast, fused AdamW, warmup + cosine, checkpoints, exact resume.

    torchrun --standalone --nproc-per-node 8 -m trainer.train --data TOKENS --out RUN --preset gpt2-124m ...
    python -m trainer.train --data TOKENS --out RUN ...            # one process, no torchrun

(`gristmill train` builds these command lines.) Under torchrun every rank reads RANK,
WORLD_SIZE and LOCAL_RANK, joins a process group (nccl on CUDA, gloo on CPU) and wraps
the model in DDP; gradients are all-reduced on the last micro-batch of a step only
(`no_sync` before). Weights and optimizer state stay fp32; forward and backward run under
bf16 autocast where the device supports it (`dtype auto`: bf16 on CUDA with bf16, fp32
on CPU). AdamW decays 2-D tensors only (matmul weights, embeddings), and is the fused
kernel on CUDA.

Step s (1-based) is the s-th optimizer update: `grad_accum` micro-batches of
`batch_size` x `seq_len` tokens per rank. After it the loop may log (OUT/metrics.jsonl,
a line on stderr), evaluate per domain (`trainer/evaluate.py`) and checkpoint
(`trainer/checkpoint.py`, holding every rank's loader cursor and RNG states). A run
restarted with `resume` continues from OUT/ckpt/latest and produces bitwise the same
losses as a run that was never stopped (same world size, CPU or deterministic kernels).

metrics.jsonl, one JSON object per logged step (rank 0 writes):
    step, tokens (all ranks, so far), loss (this step, mean over ranks and micro-batches),
    lr, grad_norm (before clipping), tokens_per_s (all ranks, since the last record,
    evaluation and checkpoint time excluded), mfu (null without a known peak, e.g. on CPU),
    phase; on evaluation steps also val_loss, val_ppl and val_loss/<domain>, val_ppl/<domain>.
MFU = flops_per_token x tokens_per_s / (peak bf16 FLOP/s of the device x world size), with
flops_per_token = 6N + 12·L·d·T (`GPT.flops_per_token`) and the peak from `trainer/hardware.py`.
run.json: params (N), flops_per_token, model and train config, device, peak_flops, world_size.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from trainer.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from trainer.data import LoaderConfig, TokenLoader
from trainer.evaluate import evaluate, validation_sets
from trainer.hardware import detect_device
from trainer.model import GPT, padded_vocab, preset_config
from trainer.token_shards import open_token_folder
from trainer.train_config import (
    TrainConfig,
    add_arguments,
    config_from_args,
    learning_rate,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Cluster:
    """Where this process sits: torchrun's RANK, WORLD_SIZE and LOCAL_RANK (read once, in main)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls, env=os.environ) -> Cluster:
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


def configure_optimizer(model: GPT, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on 2-D tensors only: biases and LayerNorm gains are not pulled to zero."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), fused=device.type == "cuda")


def _autocast(device: torch.device, dtype: str):
    if dtype == "bf16" or (dtype == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported()):
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def _gather(obj, cluster: Cluster) -> list:
    if cluster.world_size == 1:
        return [obj]
    out = [None] * cluster.world_size
    dist.all_gather_object(out, obj)
    return out


class MetricsLog:
    """OUT/metrics.jsonl on rank 0; on resume, records after the checkpoint's step are dropped (they will be redone)."""

    def __init__(self, path: str, resumed_step: int):
        self.path = path
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                kept = [line for line in f if line.strip() and json.loads(line)["step"] <= resumed_step]
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.writelines(kept)
            os.replace(path + ".tmp", path)

    def write(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:  # a line at a time: a killed run leaves whole records
            f.write(json.dumps(record) + "\n")


def _progress(record: dict, max_steps: int) -> str:
    mfu = f" | mfu {record['mfu']:.1%}" if record["mfu"] is not None else ""
    val = f" | val {record['val_loss']:.4f}" if "val_loss" in record else ""
    return (
        f"step {record['step']}/{max_steps} | loss {record['loss']:.4f}{val} | lr {record['lr']:.2e} | "
        f"{record['tokens_per_s']:,.0f} tok/s{mfu}"
    )


def build_loader(config: TrainConfig, cluster: Cluster, *, pin_memory: bool = False) -> TokenLoader:
    """This rank's training batches: the data minus the validation holdout, phases fitted to the run if asked."""
    tokens_per_step = config.batch_size * config.seq_len * config.grad_accum * cluster.world_size
    budgets = [phase.token_budget for phase in open_token_folder(config.data).phases]
    return TokenLoader(
        config.data,
        LoaderConfig(
            seq_len=config.seq_len,
            batch_size=config.batch_size,
            seed=config.seed,
            rank=cluster.rank,
            world_size=cluster.world_size,
            num_workers=config.num_workers,
            pin_memory=pin_memory,
            holdout=config.holdout,
            total_tokens=config.max_steps * tokens_per_step if config.fit_phases and None not in budgets else None,
        ),
    )


def train(config: TrainConfig, cluster: Cluster = Cluster()) -> dict | None:
    """Run (or continue) training; returns the last metrics record on rank 0, None elsewhere."""
    if cluster.world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        device = torch.device("cuda", cluster.local_rank)
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    else:
        device = torch.device("cpu")
    if config.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS refuses deterministic mode without it
        torch.use_deterministic_algorithms(True)
    leader = cluster.rank == 0
    ckpt_dir = os.path.join(config.out, "ckpt")
    latest = latest_checkpoint(ckpt_dir) if config.resume else None
    if not config.resume and (os.path.exists(os.path.join(config.out, "metrics.jsonl")) or os.path.isdir(ckpt_dir)):
        raise ValueError(f"out: {config.out} already holds a run; pass resume to continue it, or another out")
    state = load_checkpoint(latest) if latest else None
    if state and state["world_size"] != cluster.world_size:
        raise ValueError(
            f"resume: the checkpoint was written by {state['world_size']} ranks, this run has {cluster.world_size}"
            " (each rank's data cursor is its own)"
        )

    folder = open_token_folder(config.data)
    model_config = preset_config(
        config.preset,
        vocab_size=padded_vocab(folder.manifest["tokenizer"]["vocab_size"]),
        seq_len=config.seq_len,
        dropout=config.dropout,
    )
    torch.manual_seed(config.seed)  # the same initial weights on every rank
    raw = GPT(model_config).to(device)
    tokens_per_step = config.batch_size * config.seq_len * config.grad_accum * cluster.world_size
    loader = build_loader(config, cluster, pin_memory=device.type == "cuda")
    optimizer = configure_optimizer(raw, config, device)
    start = 0
    if state:
        if state["model_config"] != dataclasses.asdict(model_config):
            raise ValueError(
                f"resume: the checkpoint's model {state['model_config']} "
                f"is not this run's {dataclasses.asdict(model_config)}"
            )
        raw.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        loader.load_state_dict(state["ranks"][cluster.rank]["loader"])
        set_rng_state(state["ranks"][cluster.rank]["rng"])
        start = state["step"]
    else:
        random.seed(config.seed + cluster.rank)
        np.random.seed(config.seed + cluster.rank)
        torch.manual_seed(config.seed + cluster.rank)  # dropout differs across ranks, as their data does
    del state

    model = torch.compile(raw) if config.compile else raw
    if cluster.world_size > 1:
        model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, gradient_as_bucket_view=True
        )
    autocast = _autocast(device, config.dtype)
    vsets, no_val = validation_sets(
        config.val_data or config.data,
        config.seq_len,
        holdout=config.holdout,
        max_windows=config.eval_batches * config.batch_size * cluster.world_size,
    )
    accelerator = detect_device()
    peak = accelerator.peak_flops
    flops_per_token = raw.flops_per_token(config.seq_len)
    metrics = None
    if leader:
        os.makedirs(config.out, exist_ok=True)
        run = {
            "params": raw.num_params(),
            "params_total": raw.num_params(non_embedding=False),
            "flops_per_token": flops_per_token,
            "model": dataclasses.asdict(model_config),
            "config": dataclasses.asdict(config),
            "device": accelerator.label,
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "peak_flops": peak,
            "world_size": cluster.world_size,
            "tokens_per_step": tokens_per_step,
            "autocast_bf16": autocast is not contextlib.nullcontext,
            "torch": torch.__version__,
            "validation": {
                "source": config.val_data or f"last {config.val_fraction:g} of each domain's windows of {config.data}",
                "windows": {v.domain: len(v.numbers) for v in vsets},
                "domains_without_windows": no_val,
            },
        }
        with open(os.path.join(config.out, "run.json.tmp"), "w", encoding="utf-8") as f:
            json.dump(run, f, indent=1)
        os.replace(os.path.join(config.out, "run.json.tmp"), os.path.join(config.out, "run.json"))
        metrics = MetricsLog(os.path.join(config.out, "metrics.jsonl"), start)

    batches = iter(loader)
    last_step = min(config.max_steps, config.stop_at or config.max_steps)
    record = None
    clock, tokens_since = time.perf_counter(), 0
    for step in range(start + 1, last_step + 1):
        lr = learning_rate(step, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        step_loss = torch.zeros((), device=device)
        for micro in range(config.grad_accum):
            x, y = (t.to(device, non_blocking=True) for t in next(batches))  # (B, T) each
            syncing = micro == config.grad_accum - 1 or cluster.world_size == 1
            with contextlib.nullcontext() if syncing else model.no_sync():
                with autocast():
                    logits = model(x)  # (B, T, V)
                    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
                (loss / config.grad_accum).backward()
            step_loss += loss.detach()
        grad_norm = torch.nn.utils.clip_grad_norm_(
            raw.parameters(), config.grad_clip if config.grad_clip > 0 else math.inf
        )
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens_since += tokens_per_step

        evaluating = step == config.max_steps or (config.eval_every and step % config.eval_every == 0)
        checkpointing = step in (config.max_steps, config.stop_at) or (
            config.checkpoint_every and step % config.checkpoint_every == 0
        )
        if step % config.log_every == 0 or evaluating or checkpointing:
            summed = torch.stack([step_loss / config.grad_accum, grad_norm.to(device)])
            if cluster.world_size > 1:
                dist.all_reduce(summed)
            loss_value, norm_value = (summed / cluster.world_size).tolist()  # .tolist() waits for the device
            elapsed = time.perf_counter() - clock
            tokens_per_s = tokens_since / elapsed
            record = {
                "step": step,
                "tokens": step * tokens_per_step,
                "loss": loss_value,
                "lr": lr,
                "grad_norm": norm_value,
                "tokens_per_s": tokens_per_s,
                "mfu": flops_per_token * tokens_per_s / (peak * cluster.world_size) if peak else None,
                "phase": loader.phase_name(),
            }
            if evaluating and vsets:
                results = evaluate(
                    raw,
                    vsets,
                    batch_size=config.batch_size,
                    device=device,
                    autocast=autocast,
                    rank=cluster.rank,
                    world_size=cluster.world_size,
                )
                record |= {"val_loss": results["all"]["loss"], "val_ppl": results["all"]["ppl"]}
                for domain, result in results.items():
                    if domain != "all":
                        record |= {f"val_loss/{domain}": result["loss"], f"val_ppl/{domain}": result["ppl"]}
            if checkpointing:
                _checkpoint(config, cluster, raw, model_config, optimizer, loader, step, tokens_per_step)
            if leader:
                metrics.write(record)
                print(_progress(record, config.max_steps), file=sys.stderr, flush=True)
            clock, tokens_since = time.perf_counter(), 0
    return record if leader else None


def _checkpoint(config, cluster, raw, model_config, optimizer, loader, step, tokens_per_step) -> None:
    ranks = _gather({"loader": loader.state_dict(), "rng": rng_state()}, cluster)
    if cluster.rank == 0:
        save_checkpoint(
            os.path.join(config.out, "ckpt"),
            {
                "step": step,
                "tokens": step * tokens_per_step,
                "model": raw.state_dict(),
                "model_config": dataclasses.asdict(model_config),
                "optimizer": optimizer.state_dict(),
                "train_config": dataclasses.asdict(config),
                "world_size": cluster.world_size,
                "ranks": ranks,
            },
            keep=config.keep_checkpoints,
        )
    if cluster.world_size > 1:
        dist.barrier()  # no rank runs ahead of a checkpoint that may yet fail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.train", description="train a GPT on a token folder (one rank of torchrun)"
    )
    add_arguments(parser)
    try:
        config = config_from_args(parser.parse_args(argv))
    except ValueError as err:
        parser.error(str(err))
    cluster = Cluster.from_env()
    try:
        train(config, cluster)
    except ValueError as err:  # bad data folder, used out folder, incompatible checkpoint: say which, no traceback
        print(f"trainer.train (rank {cluster.rank}): {err}", file=sys.stderr)
        return 2
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
