"""Live progress for local runs: workers drop small count files, the launcher sums them.

Beam's local runners report metrics only when the job ends, and multi-process
workers cannot print to the launcher's terminal, so counting DoFns write
`<dir>/<name>-<pid>-<n>.json` at most once a second and the launcher polls.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path

_instances = itertools.count()


class ProgressWriter:
    """Counts one named quantity in one worker; flushes to a file now and then."""

    def __init__(self, directory: str | None, name: str, interval_s: float = 1.0):
        self._path = None
        if directory:
            self._path = Path(directory) / f"{name}-{os.getpid()}-{next(_instances)}.json"
        self._interval_s = interval_s
        self._count = 0
        self._last_flush = 0.0

    def add(self, n: int = 1) -> None:
        self._count += n
        if self._path is not None and time.monotonic() - self._last_flush > self._interval_s:
            self.flush()

    def flush(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"count": self._count}))
        os.replace(tmp, self._path)
        self._last_flush = time.monotonic()


def read_totals(directory: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for path in Path(directory).glob("*.json"):
        name = path.name.split("-")[0]
        try:
            totals[name] = totals.get(name, 0) + json.loads(path.read_text())["count"]
        except (OSError, ValueError, KeyError):
            continue  # a file being replaced; next poll sees it
    return totals


class ProgressDisplay:
    """Prints `read N records | kept M docs | X docs/s` while a run works."""

    def __init__(self, directory: str, interval_s: float = 2.0, stream=sys.stderr):
        self._directory = directory
        self._interval_s = interval_s
        self._stream = stream
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._start = time.monotonic()

    def __enter__(self) -> ProgressDisplay:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._stream.write("\n")

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            totals = read_totals(self._directory)
            elapsed = time.monotonic() - self._start
            read, kept = totals.get("read", 0), totals.get("kept", 0)
            self._stream.write(
                f"\r  read {read:,} records | kept {kept:,} docs | {kept / elapsed:,.1f} docs/s | {elapsed:,.0f}s "
            )
            self._stream.flush()
