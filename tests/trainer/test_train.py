"""The training loop: it learns, logs what dashboards and the scaling fit read, and resumes exactly.

Data: a synthetic token folder (trainer/synthetic_tokens.py), two domains of a sparse
Markov chain over 64 ids that a tiny model learns within tens of steps. Runs use the
`tiny` preset on 32-token windows; torchrun runs use 2 gloo processes on the CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gristmill.cli import main as gristmill
from gristmill.train_cli import Launch, torchrun_command
from trainer import checkpoint
from trainer.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from trainer.evaluate import validation_sets
from trainer.scaling import load_runs
from trainer.synthetic_tokens import write_synthetic_tokens
from trainer.train import Cluster, build_loader, train
from trainer.train_config import (
    TrainConfig,
    add_arguments,
    config_from_args,
    config_to_argv,
    learning_rate,
)

REPO = Path(__file__).resolve().parents[2]
FLAGS = [
    "--preset",
    "tiny",
    "--seq-len",
    "32",
    "--batch-size",
    "8",
    "--lr",
    "1e-2",
    "--warmup-steps",
    "4",
    "--log-every",
    "1",
]


@pytest.fixture(scope="module")
def tokens(tmp_path_factory) -> str:
    return write_synthetic_tokens(
        str(tmp_path_factory.mktemp("tokens")), vocab_size=64, tokens_per_file=16384, successors=2
    )


def config(tokens: str, out, **overrides) -> TrainConfig:
    base = {
        "data": tokens,
        "out": str(out),
        "preset": "tiny",
        "seq_len": 32,
        "batch_size": 8,
        "lr": 1e-2,
        "warmup_steps": 4,
        "log_every": 1,
        "max_steps": 40,
        "eval_every": 20,
        "eval_batches": 2,
        "checkpoint_every": 0,
    }
    return TrainConfig(**(base | overrides))


def records(run) -> list[dict]:
    return [json.loads(line) for line in (Path(run) / "metrics.jsonl").read_text().splitlines()]


def losses(run) -> dict[int, tuple]:
    return {r["step"]: (r["loss"], r.get("val_loss")) for r in records(run)}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run fastest on one thread (two spinning OpenMP threads on a busy 2-core machine run 10x slower),
    and runs compared bitwise must split their float sums across threads alike: every run here, in this process
    or a subprocess (torchrun sets OMP_NUM_THREADS=1 itself), uses one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def subprocess_env() -> dict:
    return os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def straight(tokens, tmp_path_factory) -> Path:
    """A 300-step run, never interrupted, that the resumed runs are compared with."""
    out = tmp_path_factory.mktemp("straight")
    train(config(tokens, out, max_steps=300, eval_every=100))
    return out


def test_learning_rate_warms_up_then_follows_a_cosine_to_min_lr():
    c = TrainConfig(data="d", out="o", lr=1e-3, warmup_steps=10, max_steps=110)
    assert learning_rate(1, c) == pytest.approx(1e-4) and learning_rate(10, c) == pytest.approx(1e-3)
    assert learning_rate(60, c) == pytest.approx(1e-4 + 0.5 * (1e-3 - 1e-4))
    assert learning_rate(110, c) == pytest.approx(1e-4)
    assert TrainConfig(data="d", out="o", max_steps=1000).warmup == 50


def test_config_survives_the_torchrun_command_line():
    c = TrainConfig(
        data="tok",
        out="run",
        preset="mini",
        lr=3e-4,
        min_lr=1e-5,
        compile=True,
        val_data="val",
        stop_at=7,
        fit_phases=False,
    )
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args(config_to_argv(c))) == c


def test_bad_config_names_the_key():
    with pytest.raises(ValueError, match="preset: unknown 'gigantic'"):
        TrainConfig(data="d", out="o", preset="gigantic")
    with pytest.raises(ValueError, match=r"stop_at: must be in \[1, max_steps=10\]"):
        TrainConfig(data="d", out="o", max_steps=10, stop_at=11)


def test_torchrun_commands():
    one = torchrun_command(Launch(nproc=2), ["--data", "t"])
    assert one[1:] == [
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--standalone",
        "-m",
        "trainer.train",
        "--data",
        "t",
    ]
    multi = torchrun_command(Launch(nproc=8, nnodes=4, rdzv_endpoint="node0:29400", rdzv_id="job7"), [])
    assert multi[3:] == [
        "--nproc-per-node",
        "8",
        "--nnodes",
        "4",
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        "node0:29400",
        "--rdzv-id",
        "job7",
        "-m",
        "trainer.train",
    ]
    static = torchrun_command(Launch(nproc=8, nnodes=2, rdzv_endpoint="10.0.0.1:29500", node_rank=1), [])
    assert static[5:13] == ["--nnodes", "2", "--node-rank", "1", "--master-addr", "10.0.0.1", "--master-port", "29500"]
    with pytest.raises(ValueError, match="needs --rdzv-endpoint"):
        Launch(nnodes=2)


def test_one_process_learns_and_logs_what_dashboards_and_the_scaling_fit_read(tokens, tmp_path):
    last = train(config(tokens, tmp_path / "run"))
    log = records(tmp_path / "run")
    assert [r["step"] for r in log] == list(range(1, 41))
    assert {"step", "tokens", "loss", "lr", "grad_norm", "tokens_per_s", "mfu", "phase"} <= set(log[0])
    assert log[-1] == last and last["tokens"] == 40 * 8 * 32 and last["mfu"] is None  # no peak to divide by on a CPU
    assert sum(r["loss"] for r in log[-5:]) / 5 < 0.6 * log[0]["loss"]  # from ln 64 = 4.16 toward ln 2
    for step in (20, 40):
        evaluated = log[step - 1]
        assert evaluated["val_loss"] < log[0]["loss"] and evaluated["val_ppl"] == pytest.approx(
            math.exp(evaluated["val_loss"])
        )
        assert {"val_loss/alpha", "val_loss/beta", "val_ppl/alpha", "val_ppl/beta"} <= set(evaluated)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["world_size"] == 1 and run["device"] == "CPU" and run["peak_flops"] is None
    assert run["validation"]["windows"] == {
        "alpha": 10,
        "beta": 10,
    }  # 1% of 1022 windows, fewer than eval_batches 2 x batch 8
    (fitted,) = load_runs([tmp_path / "run"])
    assert (fitted.params, fitted.tokens, fitted.loss) == (run["params"], 40 * 8 * 32, last["val_loss"])


def test_validation_windows_are_never_trained_on(tokens, tmp_path):
    c = config(tokens, tmp_path)
    batches = iter(build_loader(c, Cluster()))
    seen = {tuple(row) for _ in range(200) for row in next(batches)[0].tolist()}  # 1600 samples: several epochs
    sets, _ = validation_sets(tokens, 32, holdout=c.holdout, max_windows=10**6)
    assert sum(len(s.numbers) for s in sets) == 2 * int(1022 * 0.01)  # 1% of each domain's 2 x 511 windows
    for vset in sets:
        held = torch.empty(len(vset.numbers), 33, dtype=torch.int64).numpy()
        vset.windows.read(vset.numbers, held, torch.arange(len(vset.numbers)).numpy())
        assert not seen & {tuple(row[:-1]) for row in held.tolist()}


def test_stopped_and_resumed_run_has_bitwise_the_same_losses(tokens, straight, tmp_path):
    c = config(tokens, tmp_path, max_steps=300, eval_every=100)
    train(dataclasses.replace(c, stop_at=130))
    assert latest_checkpoint(str(tmp_path / "ckpt")).endswith("step-000130.pt")
    assert max(losses(tmp_path)) == 130
    train(dataclasses.replace(c, resume=True))
    assert losses(tmp_path) == losses(straight)  # every step's loss, and val_loss at 100, 200, 300


def test_killed_run_resumes_to_the_same_losses(tokens, straight, tmp_path):
    argv = [
        sys.executable,
        "-m",
        "trainer.train",
        "--data",
        tokens,
        "--out",
        str(tmp_path),
        *FLAGS,
        "--max-steps",
        "300",
        "--eval-every",
        "100",
        "--eval-batches",
        "2",
        "--checkpoint-every",
        "100",
    ]
    process = subprocess.Popen(argv, env=subprocess_env(), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while latest_checkpoint(str(tmp_path / "ckpt")) is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    killed_at = max(losses(tmp_path))
    for name in os.listdir(
        tmp_path / "ckpt"
    ):  # whatever the moment of the kill, no partial file has a checkpoint's name
        if name.endswith(".pt") and not name.startswith("."):
            assert load_checkpoint(str(tmp_path / "ckpt" / name))["step"] in (100, 200)
    subprocess.run([*argv, "--resume"], env=subprocess_env(), stderr=subprocess.DEVNULL, check=True, timeout=120)
    assert losses(tmp_path) == losses(straight), f"killed after step {killed_at}"


def test_checkpoint_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    save_checkpoint(str(tmp_path), {"step": 1, "weights": torch.ones(3)})

    def save_half(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", save_half)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(str(tmp_path), {"step": 2, "weights": torch.ones(3)})
    assert sorted(os.listdir(tmp_path)) == ["latest", "step-000001.pt"]
    assert load_checkpoint(str(tmp_path))["step"] == 1


def test_a_used_out_folder_needs_resume(tokens, tmp_path, capsys):
    argv = ["train", "--data", tokens, "--out", str(tmp_path), *FLAGS, "--max-steps", "2"]
    assert gristmill(argv) == 0
    assert gristmill(argv) == 2
    assert "already holds a run; pass resume" in capsys.readouterr().err
    assert gristmill([*argv, "--resume"]) == 0  # finished already: nothing to do


def test_eval_scores_a_checkpoint_per_domain_as_training_did(tokens, tmp_path, capsys):
    last = train(config(tokens, tmp_path, max_steps=10))
    assert gristmill(["eval", "--checkpoint", str(tmp_path), "--data", tokens, "--batches", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["step"] == 10 and report["holdout"] == 0.01
    assert report["domains"]["all"]["loss"] == pytest.approx(last["val_loss"], rel=1e-6)
    assert report["domains"]["alpha"]["loss"] == pytest.approx(last["val_loss/alpha"], rel=1e-6)
    assert gristmill(["eval", "--checkpoint", str(tmp_path), "--data", tokens, "--all", "--batches", "1"]) == 0
    table = capsys.readouterr().out
    assert "on every window" in table and "| alpha | 256 |" in table
    assert gristmill(["eval", "--checkpoint", str(tmp_path / "nothing"), "--data", tokens]) == 2


def test_two_gloo_processes_learn_read_disjoint_data_and_resume_exactly(tokens, tmp_path):
    flags = ["--data", tokens, *FLAGS, "--max-steps", "24", "--eval-every", "12", "--eval-batches", "2", "--nproc", "2"]
    assert gristmill(["train", "--out", str(tmp_path / "straight"), *flags]) == 0
    log = records(tmp_path / "straight")
    assert sum(r["loss"] for r in log[-4:]) / 4 < 0.75 * log[0]["loss"]
    state = load_checkpoint(str(tmp_path / "straight"))
    assert state["world_size"] == 2 and len(state["ranks"]) == 2
    # the loaders each rank builds yield, after 24 batches, exactly the cursors the ranks saved: so these are
    # the batches the two ranks trained on, and no window went to both
    c = config(tokens, tmp_path / "straight", max_steps=24)
    windows = []
    for rank in (0, 1):
        loader = build_loader(c, Cluster(rank=rank, world_size=2))
        batches = iter(loader)
        windows.append({tuple(row) for _ in range(24) for row in next(batches)[0].tolist()})
        assert loader.state_dict() == state["ranks"][rank]["loader"]
    assert len(windows[0]) == len(windows[1]) == 24 * 8 and not windows[0] & windows[1]

    assert gristmill(["train", "--out", str(tmp_path / "resumed"), *flags, "--stop-at", "10"]) == 0
    assert gristmill(["train", "--out", str(tmp_path / "resumed"), *flags, "--resume"]) == 0
    assert losses(tmp_path / "resumed") == losses(tmp_path / "straight")


def test_scaling_sweep_trains_the_ladder_and_refuses_to_fit_two_runs(tokens, tmp_path, capsys):
    code = gristmill(
        [
            "scaling",
            "sweep",
            "--data",
            tokens,
            "--presets",
            "tiny,mini",
            "--steps",
            "6",
            "--seq-len",
            "32",
            "--batch-size",
            "4",
            "--eval-batches",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "trained 2 runs" in err and "needs at least 6 runs, got 2" in err
    runs = load_runs([tmp_path])
    assert sorted(os.listdir(tmp_path)) == ["mini-6steps", "tiny-6steps"]
    assert len(runs) == 2 and runs[0].params > runs[1].params and all("val_loss" in run.source for run in runs)
