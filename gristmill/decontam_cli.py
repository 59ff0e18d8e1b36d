"""`gristmill decontam index`: build the evaluation-set index the Decontaminate stage reads.

    gristmill decontam index FILES... --out INDEX [--field FILE=FIELD[,FIELD...]] [--name FILE=NAME]
                             [--ngram 13] [--max-items-per-ngram 10]

Each file is one evaluation set (JSONL, CSV or plain text, optionally gzipped: see
filters/eval_sets.py). `--field` names the fields of a JSONL/CSV file to index, each
a part of the item judged on its own; FILE is the path as given or its file name.
The set is named after the file (or its folder for split names such as `test.jsonl`)
unless `--name` says otherwise. INDEX may be a local path, s3:// or gs://. Set
`decontam.enabled: true` and `decontam.index: INDEX` in the run's config to use it.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from filters.decontamination import DEFAULT_MAX_ITEMS_PER_NGRAM, DEFAULT_NGRAM


def add_parser(commands) -> None:
    decontam = commands.add_parser("decontam", help="decontamination against evaluation sets")
    subcommands = decontam.add_subparsers(dest="decontam_command", required=True)
    index = subcommands.add_parser("index", help="build the n-gram index of evaluation sets")
    index.add_argument("files", nargs="+", metavar="FILE", help="evaluation set files (.jsonl, .csv, text; .gz)")
    index.add_argument("--out", required=True, help="the index file to write (local, s3:// or gs://)")
    index.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="FILE=FIELD[,FIELD]",
        help="fields of a JSONL/CSV file to index, each a part judged alone (repeatable)",
    )
    index.add_argument("--name", action="append", default=[], metavar="FILE=NAME", help="the set's name (repeatable)")
    index.add_argument("--ngram", type=int, default=DEFAULT_NGRAM, help=f"words per n-gram (default {DEFAULT_NGRAM})")
    index.add_argument(
        "--max-items-per-ngram",
        type=int,
        default=DEFAULT_MAX_ITEMS_PER_NGRAM,
        help=f"n-grams in this many items or more are boilerplate, not indexed (default {DEFAULT_MAX_ITEMS_PER_NGRAM})",
    )
    index.set_defaults(handler=_index)


def _per_file(options: list[str], files: list[str], flag: str) -> dict[str, str]:
    """FILE=VALUE options keyed by the file they name (its path as given, or its file name)."""
    by_file = {}
    for option in options:
        key, sep, value = option.rpartition("=")
        matches = [f for f in files if key in (f, Path(f).name)]
        if not sep or not value or len(matches) != 1:
            raise ValueError(f"{flag} {option}: expected FILE={flag.upper()[2:]} naming exactly one of the files given")
        by_file[matches[0]] = value
    return by_file


def _index(args: argparse.Namespace) -> int:
    from filters.decontamination import EvalSet, NgramIndex
    from filters.eval_sets import EvalSetError, read_items, set_name

    started = time.perf_counter()
    try:
        fields = _per_file(args.field, args.files, "--field")
        names = _per_file(args.name, args.files, "--name")
        sets = []
        for path in args.files:
            file_fields = tuple(f for f in fields.get(path, "").split(",") if f)
            source = f"{Path(path).name}:{','.join(file_fields)}" if file_fields else Path(path).name
            sets.append(EvalSet(names.get(path) or set_name(path), read_items(path, file_fields), source))
        index = NgramIndex.build(sets, ngram=args.ngram, max_items_per_ngram=args.max_items_per_ngram)
    except (EvalSetError, ValueError) as err:
        print(f"gristmill decontam index: {err}", file=sys.stderr)
        return 2
    buffer = io.BytesIO()
    index.save(buffer)
    _write(args.out, buffer.getvalue())
    seconds = time.perf_counter() - started
    print(
        f"indexed {len(sets)} evaluation sets into {args.out} ({len(buffer.getvalue()) / 1024:,.0f} KiB, "
        f"{index.ngram}-grams, {seconds:.1f} s)"
    )
    print("| set | source | items | parts | parts too short | parts all boilerplate | n-grams indexed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for s in index.sets:
        counts = (s.items, s.parts, s.too_short, s.all_common, s.ngrams)
        print(f"| {s.name} | {s.source} | " + " | ".join(f"{n:,}" for n in counts) + " |")
    print(
        f"n-grams left out as boilerplate (in >= {index.max_items_per_ngram} items): {index.common_ngrams:,}; "
        f"parts shorter than {index.ngram} words are not indexed"
    )
    return 0


def _write(path: str, data: bytes) -> None:
    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.create(path) as sink:
            sink.write(data)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(data)
