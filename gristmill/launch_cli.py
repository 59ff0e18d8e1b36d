"""`gristmill launch`: a multi-node torchrun launch of `trainer.train` for a token folder.

    gristmill launch TOKENS_DIR --nnodes N --nproc-per-node G --rdzv-endpoint HOST:PORT --out RUN_DIR
                     [--data-path PATH] [--run-id ID] [--node-rank R --exec] [--k8s FILE --image IMAGE ...]
                     [--train-args "ARGS"]

Prints the torchrun command each node runs (c10d rendezvous: every node runs the same
command; the node that owns HOST hosts the rendezvous store). `--exec --node-rank R`
runs this node's command. `--k8s FILE` writes a Kubernetes manifest for the GKE GPU pool
of terraform/gcp: a headless Service and an Indexed Job with one pod per node, each pod
taking all its node's GPUs, the rendezvous on pod 0's stable DNS name, and the data and
checkpoint buckets mounted with the GCS FUSE CSI driver. Apply it with `kubectl apply -f FILE`.

TOKENS_DIR is checked here (tokens_manifest.json and every shard it lists); `--data-path`
is where the nodes see the same folder (default: TOKENS_DIR itself).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys

_DEFAULT_PORT = 29500
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")


def add_parser(commands) -> None:
    launch = commands.add_parser(
        "launch", help="multi-node torchrun commands (or a Kubernetes Job) for `trainer.train`"
    )
    launch.add_argument(
        "tokens_dir", metavar="TOKENS_DIR", help="token folder written by `gristmill tokenize` (checked here)"
    )
    launch.add_argument("--nnodes", type=int, required=True, help="nodes taking part")
    launch.add_argument("--nproc-per-node", type=int, required=True, help="GPUs (ranks) per node")
    launch.add_argument(
        "--rdzv-endpoint", help="HOST[:PORT] of the rendezvous (required without --k8s; --k8s uses pod 0)"
    )
    launch.add_argument("--out", required=True, help="run folder as the nodes see it (checkpoints, metrics)")
    launch.add_argument("--data-path", help="TOKENS_DIR as the nodes see it (default: TOKENS_DIR)")
    launch.add_argument("--run-id", default="gristmill", help="rendezvous id and Kubernetes name (default: gristmill)")
    launch.add_argument("--node-rank", type=int, help="with --exec: this node's rank")
    launch.add_argument("--exec", action="store_true", help="run this node's torchrun command instead of printing")
    k8s = launch.add_argument_group("Kubernetes (GKE GPU pool of terraform/gcp)")
    k8s.add_argument(
        "--k8s", metavar="FILE", help="write a Service + Indexed Job manifest (JSON, for kubectl apply -f)"
    )
    k8s.add_argument("--image", help="trainer image (docker/trainer.Dockerfile) in the module's registry")
    k8s.add_argument(
        "--namespace", default="gristmill", help="namespace (terraform var trainer_namespace; default: gristmill)"
    )
    k8s.add_argument(
        "--service-account", default="gristmill-trainer", help="Kubernetes service account (terraform var trainer_ksa)"
    )
    k8s.add_argument("--data-bucket", help="bucket mounted at /mnt/data (read-only): terraform output data_bucket")
    k8s.add_argument(
        "--checkpoints-bucket", help="bucket mounted at /mnt/checkpoints: terraform output checkpoints_bucket"
    )
    launch.add_argument(
        "--train-args",
        default="",
        metavar="ARGS",
        help="more trainer.train flags, one quoted string: --train-args '--preset small --dtype bf16'",
    )
    launch.set_defaults(handler=_launch)


class LaunchError(ValueError):
    """An impossible launch: the message names the flag."""


def torchrun_args(
    *,
    nnodes: int,
    nproc_per_node: int,
    rdzv_endpoint: str,
    run_id: str,
    data: str,
    out: str,
    train_args: list[str],
    node_rank: int | None = None,
) -> list[str]:
    """torchrun's arguments (without `torchrun`) for one node; c10d rendezvous needs no node rank, but a fixed one
    is allowed."""
    endpoint = rdzv_endpoint if ":" in rdzv_endpoint else f"{rdzv_endpoint}:{_DEFAULT_PORT}"
    args = [
        f"--nnodes={nnodes}",
        f"--nproc-per-node={nproc_per_node}",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint={endpoint}",
        f"--rdzv-id={run_id}",
        "--max-restarts=3",
    ]
    if node_rank is not None:
        args.append(f"--node-rank={node_rank}")
    return [*args, "-m", "trainer.train", "--data", data, "--out", out, *train_args]


def k8s_manifest(
    *,
    name: str,
    namespace: str,
    service_account: str,
    image: str,
    nnodes: int,
    nproc_per_node: int,
    data: str,
    out: str,
    train_args: list[str],
    data_bucket: str | None,
    checkpoints_bucket: str | None,
) -> dict:
    """A v1 List: a headless Service (stable pod DNS) and an Indexed Job, one pod per node, pod 0 hosting the
    rendezvous."""
    endpoint = f"{name}-0.{name}.{namespace}.svc.cluster.local:{_DEFAULT_PORT}"
    args = torchrun_args(
        nnodes=nnodes,
        nproc_per_node=nproc_per_node,
        rdzv_endpoint=endpoint,
        run_id=name,
        data=data,
        out=out,
        train_args=train_args,
    )
    volumes, mounts = [{"name": "dshm", "emptyDir": {"medium": "Memory"}}], [{"name": "dshm", "mountPath": "/dev/shm"}]
    for volume, bucket, path, read_only in (
        ("data", data_bucket, "/mnt/data", True),
        ("checkpoints", checkpoints_bucket, "/mnt/checkpoints", False),
    ):
        if bucket:
            volumes.append(
                {
                    "name": volume,
                    "csi": {
                        "driver": "gcsfuse.csi.storage.gke.io",
                        "readOnly": read_only,
                        "volumeAttributes": {"bucketName": bucket, "mountOptions": "implicit-dirs"},
                    },
                }
            )
            mounts.append({"name": volume, "mountPath": path, "readOnly": read_only})
    labels = {"app": "gristmill-train", "run": name}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "clusterIP": "None",
            "selector": labels,
            "publishNotReadyAddresses": True,
            "ports": [{"name": "rendezvous", "port": _DEFAULT_PORT}],
        },
    }
    container = {
        "name": "trainer",
        "image": image,
        "args": args,
        "ports": [{"containerPort": _DEFAULT_PORT}],
        "resources": {"limits": {"nvidia.com/gpu": nproc_per_node}},
        "volumeMounts": mounts,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": nnodes,
            "parallelism": nnodes,
            "backoffLimit": 0,
            "template": {
                # The GCS FUSE sidecar is injected only into annotated pods.
                "metadata": {"labels": labels, "annotations": {"gke-gcsfuse/volumes": "true"}},
                "spec": {
                    "subdomain": name,  # pods become NAME-INDEX.NAME: the rendezvous host
                    "serviceAccountName": service_account,
                    "restartPolicy": "Never",
                    "nodeSelector": {"cloud.google.com/gke-nodepool": "gpu"},
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                    },
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
    return {"apiVersion": "v1", "kind": "List", "items": [service, job]}


def _check(args: argparse.Namespace) -> list[str]:
    """Validate the flags and the token folder; return the train args (without the leading `--`)."""
    from trainer.token_shards import TokensManifestError, open_token_folder

    if args.nnodes < 1 or args.nproc_per_node < 1:
        raise LaunchError("--nnodes and --nproc-per-node must be at least 1")
    if not _NAME.match(args.run_id):
        raise LaunchError(f"--run-id {args.run_id!r}: lowercase letters, digits and hyphens (a Kubernetes name)")
    if not args.k8s and not args.rdzv_endpoint:
        raise LaunchError("--rdzv-endpoint HOST[:PORT] is required (or --k8s FILE, which uses pod 0)")
    if args.exec and (args.k8s or args.node_rank is None or not 0 <= args.node_rank < args.nnodes):
        raise LaunchError(f"--exec runs one node: give --node-rank between 0 and {args.nnodes - 1}, without --k8s")
    if args.k8s and not args.image:
        raise LaunchError("--k8s needs --image (the trainer image pushed to the registry)")
    try:
        open_token_folder(args.tokens_dir)
    except (TokensManifestError, KeyError, TypeError) as err:
        raise LaunchError(f"TOKENS_DIR: {err}") from err
    try:
        return shlex.split(args.train_args)
    except ValueError as err:
        raise LaunchError(f"--train-args: {err}") from err


def _launch(args: argparse.Namespace) -> int:
    try:
        train_args = _check(args)
    except LaunchError as err:
        print(f"gristmill launch: {err}", file=sys.stderr)
        return 2
    data = args.data_path or args.tokens_dir
    if args.k8s:
        manifest = k8s_manifest(
            name=args.run_id,
            namespace=args.namespace,
            service_account=args.service_account,
            image=args.image,
            nnodes=args.nnodes,
            nproc_per_node=args.nproc_per_node,
            data=data,
            out=args.out,
            train_args=train_args,
            data_bucket=args.data_bucket,
            checkpoints_bucket=args.checkpoints_bucket,
        )
        with open(args.k8s, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
        print(
            f"wrote {args.k8s}: Service + Indexed Job {args.run_id} ({args.nnodes} pods x {args.nproc_per_node} GPUs); "
            f"kubectl apply -f {args.k8s}"
        )
        return 0
    common = dict(
        nnodes=args.nnodes,
        nproc_per_node=args.nproc_per_node,
        rdzv_endpoint=args.rdzv_endpoint,
        run_id=args.run_id,
        data=data,
        out=args.out,
        train_args=train_args,
    )
    if args.exec:
        command = ["torchrun", *torchrun_args(**common, node_rank=args.node_rank)]
        os.execvp(command[0], command)
    for rank in range(args.nnodes):
        print(f"# node {rank}")
        print(shlex.join(["torchrun", *torchrun_args(**common, node_rank=rank)]))
    return 0
