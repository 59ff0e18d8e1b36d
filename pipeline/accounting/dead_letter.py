"""`WriteDeadLetters`: the records a stage failed on, as JSON lines under `OUT/dead_letter/`.

One line per record: `stage`, `id`, `url`, `error` (exception type and where it
was raised, as in the record's STAGE_ERROR drop), `message` (the exception's
message, truncated), `record_type` (`Capture` or `Document`) and `record`: the
whole record as the stage received it, text included, so it can be reprocessed
once the bug is fixed. This folder is the only place a failed record's text is
written; logs and the funnel name the record by id. No file, and no folder, when
no record failed.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline.accounting.commit import commit
from pipeline.accounting.guard import DeadLetter
from pipeline.core.layout import DEAD_LETTER_DIR, temporary_path, under


def _plain(value):
    """Records (frozen dataclasses, mappings, enums) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def dead_letter_line(letter: DeadLetter) -> str:
    return json.dumps(
        {
            "stage": letter.stage,
            "id": letter.id,
            "url": letter.url,
            "error": letter.error,
            "message": letter.message,
            "record_type": type(letter.record).__name__ if letter.record is not None else None,
            "record": _plain(letter.record),
        },
        ensure_ascii=False,
        default=str,
    )


class _WriteBundleFn(beam.DoFn):
    """Each bundle's dead letters as one file, written under a hidden name and renamed; nothing
    (not even the folder) when a bundle has none."""

    def __init__(self, output_dir: str):
        self._output_dir = output_dir

    def start_bundle(self) -> None:
        self._lines: list[str] = []

    def process(self, letter: DeadLetter):
        self._lines.append(dead_letter_line(letter))

    def finish_bundle(self) -> None:
        if not self._lines:
            return
        final = under(self._output_dir, f"{DEAD_LETTER_DIR}/part-{uuid.uuid4().hex[:12]}.jsonl")
        temporary = temporary_path(final)
        with FileSystems.create(temporary) as sink:
            sink.write("".join(line + "\n" for line in self._lines).encode())
        commit(temporary, final)
        self._lines = []


class WriteDeadLetters(beam.PTransform):
    """PCollection[DeadLetter] -> `OUT/dead_letter/part-*.jsonl`; the folder exists only when a record failed."""

    def __init__(self, output_dir: str):
        super().__init__()
        self._output_dir = output_dir

    def expand(self, letters):
        return letters | "WriteBundles" >> beam.ParDo(_WriteBundleFn(self._output_dir))
