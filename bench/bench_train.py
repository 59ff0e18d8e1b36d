"""Training-loop throughput on this machine's CPU: tokens/s of whole optimizer steps.

    .venv/bin/python bench/bench_train.py                    # tiny and small, eager then compiled (~3-5 min on 2 cores)
    .venv/bin/python bench/bench_train.py --no-compile       # eager only (~1 min)
    .venv/bin/python bench/bench_train.py --presets tiny --steps 40 --threads 1

Writes a synthetic token folder (trainer/synthetic_tokens.py: vocab 32,768, the
tokenizer's default) in a temporary folder and runs `trainer.train.train` in this
process, one run per preset and mode, batch 8 x seq 256, fp32, logging every step.
A step is forward + backward + clip + AdamW; tokens/s is the median of the records
after the first `--warmup` steps (so compilation is not counted). CPU MFU has no
meaningful peak (the trainer logs null); the achieved GFLOP/s is flops_per_token
(6N + 12·L·d·T) x tokens/s. `summarize` is shared with bench/gpu_check.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def summarize(run: str, warmup: int) -> dict:
    """Median tokens/s and MFU over the records of a run folder after step `warmup`, with run.json's figures."""
    with open(os.path.join(run, "run.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with open(os.path.join(run, "metrics.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    steady = [r for r in records if r["step"] > warmup] or records[-1:]
    tokens_per_s = statistics.median(r["tokens_per_s"] for r in steady)
    mfus = [r["mfu"] for r in steady if r["mfu"] is not None]
    return {
        "preset": meta["config"]["preset"],
        "compile": meta["config"]["compile"],
        "params": meta["params"],
        "device": meta["device_name"],
        "peak_flops": meta["peak_flops"],
        "tokens_per_s": tokens_per_s,
        "mfu": statistics.median(mfus) if mfus else None,
        "gflops": meta["flops_per_token"] * tokens_per_s / 1e9,
        "steps_timed": len(steady),
        "final_loss": records[-1]["loss"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="tiny,small")
    parser.add_argument("--steps", type=int, default=12, help="steps per run (default: 12)")
    parser.add_argument("--warmup", type=int, default=4, help="first steps left out of the median (default: 4)")
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, default=True, help="also time torch.compile"
    )
    args = parser.parse_args()

    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.abspath("build/cache/inductor"))
    import torch

    from trainer.synthetic_tokens import write_synthetic_tokens
    from trainer.train import train
    from trainer.train_config import TrainConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        tokens = write_synthetic_tokens(os.path.join(work, "tokens"), vocab_size=32768, tokens_per_file=1 << 19)
        for preset in args.presets.split(","):
            for compiled in (False, True) if args.compile else (False,):
                out = os.path.join(work, f"{preset}-{'compile' if compiled else 'eager'}")
                config = TrainConfig(
                    data=tokens,
                    out=out,
                    preset=preset,
                    seq_len=args.seq_len,
                    batch_size=args.batch_size,
                    max_steps=args.steps,
                    log_every=1,
                    eval_every=0,
                    eval_batches=1,
                    checkpoint_every=0,
                    dtype="fp32",
                    compile=compiled,
                    lr=1e-3,
                )
                started = time.perf_counter()
                train(config)
                rows.append(summarize(out, args.warmup) | {"wall_s": time.perf_counter() - started})
    print(
        f"\nCPU training throughput: torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"batch {args.batch_size} x seq {args.seq_len}, fp32, vocab 32,768, "
        f"median of steps {args.warmup + 1}-{args.steps}\n"
    )
    print("| preset | params | mode | tokens/s | GFLOP/s | run wall s (incl. compile) | loss at end |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['preset']} | {r['params'] / 1e6:.2f}M | {'compile' if r['compile'] else 'eager'} "
            f"| {r['tokens_per_s']:,.0f} | "
            f"{r['gflops']:.1f} | {r['wall_s']:.1f} | {r['final_loss']:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
