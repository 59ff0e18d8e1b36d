"""Evaluation sets as files: the items `filters/decontamination.py` indexes.

    read_items("gsm8k/test.jsonl", ["question", "answer"])   # one item per record, a part per field
    read_items("questions.txt")                               # one item (of one part) per non-blank line

Formats by suffix (each may end in `.gz`): `.jsonl` / `.json` (one JSON object per
line), `.csv` (a header row names the columns), anything else plain text with one
item per line: a line never runs into the next, so a file of one-line questions
and a file of paragraphs both index correctly (blank-line blocks would merge a
whole one-per-line file into one item, which no document could cover enough of).
JSONL and CSV need the fields to read, each a part of the item judged on its own
(`NgramIndex.find`): which parts of an item can leak is a choice per set.
An item's index is its 0-based position among the file's records (non-blank lines).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

SPLIT_NAMES = frozenset({"test", "dev", "val", "valid", "validation", "eval", "evaluation", "train"})


class EvalSetError(ValueError):
    """An evaluation file that cannot be read as asked; the message names the file and what is wrong."""


def set_name(path: str | Path) -> str:
    """The default name of the set in `path`: the file name without its suffixes, lower case
    (`HumanEval.jsonl.gz` -> `humaneval`), or the folder's name when the file is named for a split
    (`gsm8k/test.jsonl` -> `gsm8k`)."""
    path = Path(path)
    stem = path.name.split(".")[0].lower()
    return path.parent.name.lower() if stem in SPLIT_NAMES and path.parent.name else stem


def read_items(path: str | Path, fields: Sequence[str] = ()) -> list[tuple[str, ...]]:
    """The items of one evaluation file, in file order (see the module docstring for formats)."""
    path = Path(path)
    kind = path.name.removesuffix(".gz").rsplit(".", 1)[-1].lower()
    try:
        with _open_text(path) as lines:
            if kind in ("jsonl", "json"):
                return list(_parts(_json_records(lines, path), fields, path))
            if kind == "csv":
                return list(_parts(csv.DictReader(lines), fields, path))
            return [(line.rstrip("\r\n"),) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise EvalSetError(f"{path}: cannot read ({type(err).__name__}: {err})") from err


def _open_text(path: Path) -> io.TextIOBase:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return io.StringIO(raw.decode("utf-8-sig"), newline="")


def _json_records(lines, path: Path) -> Iterator[dict]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise EvalSetError(f"{path}:{number}: not a JSON object per line ({err.msg})") from err
        if not isinstance(record, dict):
            raise EvalSetError(f"{path}:{number}: a JSON {type(record).__name__}, not an object")
        yield record


def _parts(records, fields: Sequence[str], path: Path) -> Iterator[tuple[str, ...]]:
    for number, record in enumerate(records):
        if not fields:
            raise EvalSetError(f"{path}: name the fields to index (its records have: {', '.join(record)})")
        missing = [field for field in fields if field not in record]
        if missing:
            raise EvalSetError(
                f"{path}: record {number} has no field {', '.join(missing)} (it has: {', '.join(record)})"
            )
        yield tuple(_as_text(record[field]) for field in fields)


def _as_text(value) -> str:
    if isinstance(value, list):  # e.g. multiple-choice options
        return "\n".join(_as_text(v) for v in value)
    return "" if value is None else str(value)
