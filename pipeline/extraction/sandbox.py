"""Run the extractor in a child process so one pathological page cannot stall a worker.

Beam's runners call `DoFn.process` on worker threads, where SIGALRM-style limits
cannot work. Like datatrove, we keep one long-lived child process per DoFn
instance, send it one page at a time over a pipe, and kill and restart it when a
page exceeds the limit. Cost per page: one pickle round trip of the HTML.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection

from pipeline.config import ExtractConfig


@dataclasses.dataclass(frozen=True, slots=True)
class SandboxResult:
    text: str = ""
    timed_out: bool = False
    error: str = ""  # exception type name when the extractor failed


def _serve(conn: Connection) -> None:
    from pipeline.extraction.extractors import make_extractor

    extract = make_extractor(conn.recv())
    conn.send(("ready", ""))
    while True:
        try:
            html, url = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        try:
            conn.send(("ok", extract(html, url)))
        except Exception as err:  # noqa: BLE001 -- reported per page, the sandbox lives on
            conn.send(("error", type(err).__name__))


class ExtractionSandbox:
    """`extract(html, url)` in a restartable child process with a per-page time limit."""

    def __init__(self, config: ExtractConfig, *, start_timeout_s: float = 120.0):
        self._config = config
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen | None = None
        self._conn = None
        self.restarts = 0

    def start(self) -> None:
        # A fresh interpreter, not fork (the parent is a threaded Beam worker) and not
        # multiprocessing's spawn (it re-imports the parent's __main__).
        parent_sock, child_sock = socket.socketpair()
        fd = child_sock.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.extraction.sandbox", str(fd)], pass_fds=(fd,), stdin=subprocess.DEVNULL
        )
        child_sock.close()
        self._conn = Connection(os.dup(parent_sock.fileno()))
        parent_sock.close()
        self._conn.send(self._config)
        if not self._conn.poll(self._start_timeout_s):
            self.close()
            raise RuntimeError("extraction sandbox did not start")
        self._conn.recv()

    def extract(self, html: str, url: str) -> SandboxResult:
        if self._process is None:
            self.start()
        try:
            self._conn.send((html, url))
            if not self._conn.poll(self._config.timeout_s):
                self._restart()
                return SandboxResult(timed_out=True)
            status, payload = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            self._restart()  # the child died (e.g. out of memory on this page)
            return SandboxResult(error="SandboxDied")
        if status == "ok":
            return SandboxResult(text=payload)
        return SandboxResult(error=payload)

    def _restart(self) -> None:
        self.close()
        self.restarts += 1
        self.start()

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ExtractionSandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
