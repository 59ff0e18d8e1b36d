"""`WriteDeadLetters`: the records a stage failed on, as JSON lines under `OUT/dead_letter/`.

One line per record: `stage`, `id`, `url`, `error` (exception type and where it
was raised, as in the record's STAGE_ERROR drop), `message` (the exception's
message, truncated), `record_type` (`Capture` or `Document`) and `record`: the
whole record as the stage received it, text included, so it can be reprocessed
once the bug is fixed. This folder is the only place a failed record's text is
written; logs and the funnel name the record by id. No file is written when no
record failed (the folder may exist, empty).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import apache_beam as beam

from pipeline.stage import DeadLetter

DEAD_LETTER_DIR = "dead_letter"


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
    return json.dumps({
        "stage": letter.stage, "id": letter.id, "url": letter.url, "error": letter.error, "message": letter.message,
        "record_type": type(letter.record).__name__ if letter.record is not None else None, "record": _plain(letter.record),
    }, ensure_ascii=False, default=str)


class WriteDeadLetters(beam.PTransform):
    """PCollection[DeadLetter] -> `OUT/dead_letter/part-*.jsonl` (no file when there are none)."""

    def __init__(self, output_dir: str):
        super().__init__()
        self._prefix = f"{output_dir.rstrip('/')}/{DEAD_LETTER_DIR}/part"

    def expand(self, letters):
        return (
            letters
            | "ToJsonLine" >> beam.Map(dead_letter_line)
            | "WriteJsonLines" >> beam.io.WriteToText(self._prefix, file_name_suffix=".jsonl", skip_if_empty=True)
        )
