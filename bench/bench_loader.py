"""Loader throughput alone, against what a training step consumes.

    .venv/bin/python bench/bench_loader.py            # ~1 min on 2 cores
    .venv/bin/python bench/bench_loader.py --quick    # ~15 s

Writes a synthetic token folder (3 domains x 4 files of random uint16 ids, the format
`gristmill tokenize` writes) in a temporary folder, then times `trainer.data.TokenLoader`
producing batches (tokens/s = batches x batch_size x seq_len / seconds, after a warm-up)
for a few shapes and worker counts, and times a tiny GPT-ish training step on CPU (token
embedding, a 2-layer causal torch.nn.TransformerEncoder, d_model 256, LM head over the
vocabulary, AdamW; forward + backward + step) at batch 8 x seq 256. The goal is a loader
at least 10x faster than the step it feeds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
import torch

from trainer.data import LoaderConfig, TokenLoader
from trainer.hardware import lookup
from trainer.token_shards import (
    TOKENS_FORMAT,
    TOKENS_FORMAT_VERSION,
    TOKENS_MANIFEST,
    shard_names,
)

VOCAB = 32768
GPT2_SMALL_PARAMS = 124e6
GPU_MFU = 0.5  # generous: a well-tuned small-model run; a higher MFU only asks more of the loader
WEIGHTS = {"news": 0.5, "forum": 0.3, "code": 0.2}


def write_folder(out: str, tokens_per_file: int) -> None:
    rng = np.random.default_rng(0)
    domains = {}
    for name in WEIGHTS:
        entries = []
        for f in range(4):
            bin_path, idx_path = shard_names(name, f)
            os.makedirs(os.path.join(out, name), exist_ok=True)
            rng.integers(0, VOCAB, size=tokens_per_file, dtype=np.uint16).tofile(os.path.join(out, bin_path))
            np.array([0, tokens_per_file], dtype="<i8").tofile(os.path.join(out, idx_path))
            entries.append(
                {"path": bin_path, "index": idx_path, "source": "", "documents": 1, "tokens": tokens_per_file}
            )
        domains[name] = {"documents": 4, "tokens": 4 * tokens_per_file, "files": entries}
    manifest = {
        "format": TOKENS_FORMAT,
        "format_version": TOKENS_FORMAT_VERSION,
        "dtype": "uint16",
        "index_dtype": "int64",
        "tokenizer": {"vocab_size": VOCAB, "eot_id": 0},
        "domains": domains,
        "phases": [{"name": "main", "token_budget": None, "weights": WEIGHTS, "epochs": dict.fromkeys(WEIGHTS, 1.0)}],
    }
    with open(os.path.join(out, TOKENS_MANIFEST), "w") as f:
        json.dump(manifest, f)


def loader_rate(folder: str, config: LoaderConfig, seconds: float) -> float:
    batches = iter(TokenLoader(folder, config))
    for _ in range(5 + 2 * config.num_workers):  # warm-up: workers start, pages come into the cache
        next(batches)
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        next(batches)
        n += 1
    return n * config.batch_size * config.seq_len / (time.perf_counter() - started)


class TinyGPT(torch.nn.Module):
    def __init__(self, d_model: int = 256, layers: int = 2, heads: int = 4, seq_len: int = 256):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, d_model)
        self.position = torch.nn.Embedding(seq_len, d_model)
        layer = torch.nn.TransformerEncoderLayer(
            d_model, heads, 4 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, VOCAB, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        h = self.embed(x) + self.position(torch.arange(t))  # (B, T, C)
        mask = torch.nn.Transformer.generate_square_subsequent_mask(t)
        return self.head(self.blocks(h, mask=mask, is_causal=True))  # (B, T, vocab)


def training_rate(batch_size: int, seq_len: int, steps: int) -> tuple[float, int]:
    torch.manual_seed(0)
    model = TinyGPT(seq_len=seq_len)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, VOCAB, (batch_size, seq_len))
    y = torch.randint(0, VOCAB, (batch_size, seq_len))

    def step():
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size * seq_len / (time.perf_counter() - started), sum(p.numel() for p in model.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller folder, shorter timings")
    args = parser.parse_args()
    seconds, steps, tokens_per_file = (1.0, 2, 2_000_000) if args.quick else (3.0, 4, 8_000_000)
    torch.set_num_threads(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as folder:
        write_folder(folder, tokens_per_file)
        print(
            f"token folder: 3 domains x 4 files x {tokens_per_file:,} uint16 tokens "
            f"({12 * tokens_per_file * 2 / 1e6:.0f} MB); "
            f"{os.cpu_count()} CPUs, torch {torch.__version__}\n"
        )
        print("| batch x seq | workers | loader tokens/s |")
        print("|---|---|---|")
        rates = {}
        for batch, seq in ((8, 256), (32, 1024), (16, 2048)):
            for workers in (0, 2):
                rate = loader_rate(folder, LoaderConfig(seq_len=seq, batch_size=batch, num_workers=workers), seconds)
                rates[(batch, seq, workers)] = rate
                print(f"| {batch} x {seq} | {workers} | {rate:,.0f} |")
    train, params = training_rate(8, 256, steps)
    loader = rates[(8, 256, 0)]
    print(
        f"\ntraining step (TinyGPT, {params / 1e6:.1f}M parameters, CPU, batch 8 x seq 256, "
        f"forward + backward + AdamW): {train:,.0f} tokens/s"
    )
    print(f"loader / training step at batch 8 x seq 256, in-process loader: {loader / train:,.0f}x (goal >= 10x)")
    # what a GPU would ask for: tokens/s = peak * MFU / (6 N), the 6ND training-FLOPs rule (Kaplan et al. 2020)
    h100 = lookup("h100")
    gpu = h100.peak_flops * GPU_MFU / (6 * GPT2_SMALL_PARAMS)
    best = max(rate for (b, s, w), rate in rates.items() if s == 1024)
    print(
        f"GPT-2 small ({GPT2_SMALL_PARAMS / 1e6:.0f}M) on one {h100.label} at {GPU_MFU:.0%} MFU "
        f"would consume {gpu:,.0f} tokens/s; "
        f"loader at batch 32 x seq 1024 / that: {best / gpu:,.0f}x"
    )


if __name__ == "__main__":
    main()
