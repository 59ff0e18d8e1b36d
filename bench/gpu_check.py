"""The GPU check of the training loop: gpt2-124m in bf16, eager and torch.compile, tokens/s and MFU.

    python3 bench/gpu_check.py                  # on a CUDA machine, from the repo root; ~3-5 min on one H100/H200
    python3 bench/gpu_check.py --steps 60 --batch-size 16

Needs only torch and numpy (no install of gristmill: the repo root goes on the path).
Writes a synthetic token folder (vocab 50,257, as GPT-2; trainer/synthetic_tokens.py),
then runs `python -m trainer.train` twice in fresh processes, the same flags but
--no-compile / --compile: preset gpt2-124m, seq 1024, batch 32 (one micro-batch),
--dtype bf16 (autocast, fp32 master weights), fused AdamW, logging every 10 steps,
evaluation and checkpoint at the end only. Each run is limited to `--run-timeout` s.
Tokens/s and MFU are the medians of the records after step 20 (compilation and the
first steps excluded); MFU = (6N + 12·L·d·T) x tokens/s / the device's dense bf16 peak
from trainer/hardware.py (H100 SXM and H200: 989 TFLOP/s). The goal on an H100 is an
MFU of 50% or more with compile.

Results go to $OUT (if set) or build/gpu_check: summary.json, and per run its
metrics.jsonl and log.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# on a lent GPU machine the tree arrives as files, perhaps without an installed package: import from it
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from bench_train import summarize  # bench/, next to this file  # noqa: E402

from trainer.synthetic_tokens import write_synthetic_tokens  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="gpt2-124m")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=1024)
    parser.add_argument("--warmup", type=int, default=20, help="steps left out of the medians (default: 20)")
    parser.add_argument("--run-timeout", type=int, default=200, help="seconds per run at most (default: 200)")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device; this script measures GPU throughput only", file=sys.stderr)
        return 2
    results = os.environ.get("OUT") or os.path.join(REPO, "build", "gpu_check")
    os.makedirs(results, exist_ok=True)
    work = tempfile.mkdtemp(prefix="gpu_check-")
    env = os.environ | {
        "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "PYTHONUNBUFFERED": "1",
        "TORCHINDUCTOR_CACHE_DIR": os.path.join(work, "inductor"),
    }
    started = time.perf_counter()
    # 2 domains x 2M tokens: more than the 80 x 32 x 1024 = 2.6M a run reads
    tokens = write_synthetic_tokens(
        os.path.join(work, "tokens"), vocab_size=50257, files_per_domain=1, tokens_per_file=2_000_000
    )
    print(
        f"synthetic tokens in {time.perf_counter() - started:.1f} s; "
        f"device {torch.cuda.get_device_name(0)}, torch {torch.__version__}",
        flush=True,
    )
    rows = []
    for mode in ("eager", "compile"):
        out = os.path.join(work, mode)
        command = [
            sys.executable,
            "-m",
            "trainer.train",
            "--data",
            tokens,
            "--out",
            out,
            "--preset",
            args.preset,
            "--seq-len",
            str(args.seq_len),
            "--batch-size",
            str(args.batch_size),
            "--max-steps",
            str(args.steps),
            "--warmup-steps",
            "10",
            "--log-every",
            "10",
            "--eval-every",
            "0",
            "--eval-batches",
            "1",
            "--checkpoint-every",
            "0",
            "--val-fraction",
            "0.001",
            "--dtype",
            "bf16",
            "--compile" if mode == "compile" else "--no-compile",
        ]
        run_started = time.perf_counter()
        with open(os.path.join(results, f"{mode}.log"), "w", encoding="utf-8") as log:
            try:
                code = subprocess.run(
                    command,
                    check=False,
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=args.run_timeout,
                ).returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
        wall = time.perf_counter() - run_started
        if os.path.exists(os.path.join(out, "metrics.jsonl")):
            shutil.copy(os.path.join(out, "metrics.jsonl"), os.path.join(results, f"{mode}-metrics.jsonl"))
        if code != 0 or not os.path.exists(os.path.join(out, "metrics.jsonl")):
            print(f"{mode}: failed ({code}) after {wall:.0f} s; see {mode}.log", flush=True)
            rows.append({"mode": mode, "failed": str(code), "wall_s": wall})
            continue
        row = {"mode": mode, "wall_s": wall} | summarize(out, args.warmup)
        rows.append(row)
        mfu = f"{row['mfu']:.1%}" if row["mfu"] is not None else "n/a (device not in trainer/hardware.py)"
        print(
            f"{mode}: {row['tokens_per_s']:,.0f} tokens/s, MFU {mfu}, {row['gflops'] / 1e3:.0f} TFLOP/s achieved, "
            f"run {wall:.0f} s, loss {row['final_loss']:.3f}",
            flush=True,
        )
    summary = {
        "preset": args.preset,
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "steps": args.steps,
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "runs": rows,
        "total_s": time.perf_counter() - started,
    }
    with open(os.path.join(results, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if all("failed" not in row for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
