"""`gristmill launch`: torchrun commands per node, the Kubernetes Job, and clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gristmill.cli import main
from trainer.token_shards import INDEX_DTYPE, TOKENS_FORMAT, TOKENS_FORMAT_VERSION, TOKENS_MANIFEST


@pytest.fixture
def tokens_dir(tmp_path):
    """A two-document token folder, as `gristmill tokenize` lays it out."""
    folder = tmp_path / "tokens"
    (folder / "news").mkdir(parents=True)
    np.array([5, 6, 0, 7, 0], dtype="<u2").tofile(folder / "news" / "tokens-00000.bin")
    np.array([0, 3, 5], dtype=INDEX_DTYPE).tofile(folder / "news" / "tokens-00000.idx")
    files = [
        {
            "path": "news/tokens-00000.bin",
            "index": "news/tokens-00000.idx",
            "source": "data/domain=news/part-00000-of-00001.parquet",
            "documents": 2,
            "tokens": 5,
        }
    ]
    manifest = {
        "format": TOKENS_FORMAT,
        "format_version": TOKENS_FORMAT_VERSION,
        "dtype": "uint16",
        "index_dtype": "int64",
        "tokenizer": {"vocab_size": 512, "eot_id": 0},
        "totals": {"documents": 2, "tokens": 5, "files": 1},
        "domains": {"news": {"documents": 2, "tokens": 5, "files": files}},
        "phases": [{"name": "main", "token_budget": None, "weights": {"news": 1.0}, "epochs": {"news": 1.0}}],
    }
    (folder / TOKENS_MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_prints_one_torchrun_command_per_node(tokens_dir, capsys):
    code = main(
        [
            "launch",
            str(tokens_dir),
            "--nnodes",
            "2",
            "--nproc-per-node",
            "8",
            "--rdzv-endpoint",
            "10.0.0.5",
            "--out",
            "/mnt/checkpoints/run1",
            "--data-path",
            "/mnt/data/tokens",
            "--train-args",
            "--preset tiny",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines == [
        "# node 0",
        "torchrun --nnodes=2 --nproc-per-node=8 --rdzv-backend=c10d --rdzv-endpoint=10.0.0.5:29500 --rdzv-id=gristmill "
        "--max-restarts=3 --node-rank=0 -m trainer.train --data /mnt/data/tokens "
        "--out /mnt/checkpoints/run1 --preset tiny",
        "# node 1",
        "torchrun --nnodes=2 --nproc-per-node=8 --rdzv-backend=c10d --rdzv-endpoint=10.0.0.5:29500 --rdzv-id=gristmill "
        "--max-restarts=3 --node-rank=1 -m trainer.train --data /mnt/data/tokens "
        "--out /mnt/checkpoints/run1 --preset tiny",
    ]


def test_writes_an_indexed_job_for_the_gke_gpu_pool(tokens_dir, tmp_path, capsys):
    out = tmp_path / "job.json"
    code = main(
        [
            "launch",
            str(tokens_dir),
            "--nnodes",
            "4",
            "--nproc-per-node",
            "8",
            "--out",
            "/mnt/checkpoints/run1",
            "--data-path",
            "/mnt/data/tokens",
            "--run-id",
            "run1",
            "--k8s",
            str(out),
            "--image",
            "reg/gristmill/trainer:0.1.0",
            "--data-bucket",
            "p-gristmill-data",
            "--checkpoints-bucket",
            "p-gristmill-checkpoints",
        ]
    )
    assert code == 0 and "kubectl apply" in capsys.readouterr().out
    service, job = json.loads(out.read_text())["items"]
    assert service["spec"]["clusterIP"] == "None" and service["metadata"]["name"] == "run1"
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 4, 4)
    pod = spec["template"]["spec"]
    assert pod["subdomain"] == "run1" and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": "gpu"}
    (container,) = pod["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 8
    assert "--rdzv-endpoint=run1-0.run1.gristmill.svc.cluster.local:29500" in container["args"]
    assert container["args"][-4:] == ["--data", "/mnt/data/tokens", "--out", "/mnt/checkpoints/run1"]
    buckets = {v["name"]: v["csi"]["volumeAttributes"]["bucketName"] for v in pod["volumes"] if "csi" in v}
    assert buckets == {"data": "p-gristmill-data", "checkpoints": "p-gristmill-checkpoints"}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--nnodes", "0", "--nproc-per-node", "8", "--rdzv-endpoint", "h"], "at least 1"),
        (["--nnodes", "2", "--nproc-per-node", "8"], "--rdzv-endpoint"),
        (["--nnodes", "2", "--nproc-per-node", "8", "--rdzv-endpoint", "h", "--exec"], "--node-rank"),
        (["--nnodes", "2", "--nproc-per-node", "8", "--k8s", "x.json"], "--image"),
        (["--nnodes", "2", "--nproc-per-node", "8", "--rdzv-endpoint", "h", "--run-id", "Run_1"], "--run-id"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(tokens_dir, flags, message, capsys):
    assert main(["launch", str(tokens_dir), "--out", "o", *flags]) == 2
    assert message in capsys.readouterr().err


def test_a_folder_without_a_finished_manifest_is_refused(tmp_path, capsys):
    assert (
        main(["launch", str(tmp_path), "--nnodes", "1", "--nproc-per-node", "1", "--rdzv-endpoint", "h", "--out", "o"])
        == 2
    )
    assert "no tokens_manifest.json" in capsys.readouterr().err


def test_a_shard_of_the_wrong_size_is_refused(tokens_dir, capsys):
    (tokens_dir / "news" / "tokens-00000.bin").write_bytes(b"\0")
    assert (
        main(
            ["launch", str(tokens_dir), "--nnodes", "1", "--nproc-per-node", "1", "--rdzv-endpoint", "h", "--out", "o"]
        )
        == 2
    )
    assert "expected 10" in capsys.readouterr().err
