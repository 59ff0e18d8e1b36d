"""Putting a finished file under its final name, on local disks and object stores alike.

Every output is written under a hidden temporary name (`pipeline.core.layout.temporary_path`)
and then committed: an existing file of that name is replaced, then the temporary is renamed.
On S3 a rename is a HEAD, a copy and a delete, each of which can fail transiently (503
SlowDown, a dropped connection) after the client's own retries; the commit retries the whole
step, and counts as done a rename whose response was lost but whose effect is visible (the
final file there, the temporary gone). A run that meets a bad minute of its object store
still ends with every file whole, or fails loudly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import BinaryIO

from apache_beam.io.filesystems import FileSystems

from pipeline.core.layout import temporary_path

log = logging.getLogger(__name__)

ATTEMPTS = 6
FIRST_DELAY_S = 0.2  # doubled after each failure: 0.2, 0.4, ... 3.2 s, 6.2 s in all


def write_file(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write `path` whole: `write(sink)` into a fresh temporary, then `commit` it (replacing).

    The upload itself can fail after the client's own retries (S3 answering a multipart
    upload's completion with 503 SlowDown): then the whole write is retried under a new
    temporary name, the failed one removed when it can be. `write` must be repeatable."""
    for attempt in range(ATTEMPTS):
        temporary = temporary_path(path)
        try:
            with FileSystems.create(temporary) as sink:
                write(sink)
        except Exception as err:  # noqa: BLE001 -- Beam wraps every store's errors differently
            _discard(temporary)
            if attempt == ATTEMPTS - 1:
                raise
            log.warning("writing %s failed (%s); retry %d of %d", path, type(err).__name__, attempt + 1, ATTEMPTS - 1)
            time.sleep(FIRST_DELAY_S * 2**attempt)
            continue
        commit(temporary, path, replace=True)
        return


def _discard(temporary: str) -> None:
    try:
        if FileSystems.exists(temporary):
            FileSystems.delete([temporary])
    except Exception:  # noqa: BLE001 -- a leftover hidden temporary is harmless; the retry matters
        pass


def _committed(temporary: str, final: str) -> bool:
    try:
        return FileSystems.exists(final) and not FileSystems.exists(temporary)
    except Exception:  # noqa: BLE001 -- a failed check is a "don't know": retry the rename
        return False


def commit(temporary: str, final: str, *, replace: bool = False) -> None:
    """Rename `temporary` to `final` (replacing an existing `final` when `replace`), with retries."""
    for attempt in range(ATTEMPTS):
        try:
            if replace and FileSystems.exists(final):
                FileSystems.delete([final])
            FileSystems.rename([temporary], [final])
            return
        except Exception as err:  # noqa: BLE001 -- Beam wraps every store's errors differently
            if _committed(temporary, final):
                return
            if attempt == ATTEMPTS - 1:
                raise
            log.warning(
                "commit of %s failed (%s); retry %d of %d", final, type(err).__name__, attempt + 1, ATTEMPTS - 1
            )
            time.sleep(FIRST_DELAY_S * 2**attempt)
