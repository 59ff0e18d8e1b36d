"""The `gristmill` command line.

    gristmill run --input X [--input Y] --output OUT [--config FILE] [--overwrite] [Beam options...]
    gristmill demo [--output DIR]
    gristmill sample-warc PATH [--seed N]

Anything `run` does not know is handed to Beam untouched (`--runner`,
`--direct_num_workers`, `--s3_endpoint_url`, `--project`, ...).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from gristmill import __version__
from pipeline.lean_process import allow_pandas, lean_pipeline_process


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gristmill", description="Web-crawl curation for LLM pretraining, on Apache Beam."
    )
    parser.add_argument("--version", action="version", version=f"gristmill {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the pipeline (unknown options go to Beam)")
    run.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="SPEC",
        help="WARC/ARC/WET path, glob, folder, s3://bucket/prefix, https:// URL or cc:CC-MAIN-YYYY-WW:N (repeatable)",
    )
    run.add_argument("--output", required=True, help="output folder (local, s3:// or gs://)")
    run.add_argument("--config", help="YAML config (default: configs/default.yaml)")
    run.add_argument("--overwrite", action="store_true", help="replace an earlier run in the output folder")
    run.add_argument("--no-progress", action="store_true", help="no live progress line")

    demo = commands.add_parser("demo", help="write the embedded sample WARC and run the pipeline on it")
    demo.add_argument("--output", default="build/demo", help="demo folder (default: build/demo)")
    demo.add_argument("--config", help="YAML config (default: configs/default.yaml)")

    sample = commands.add_parser("sample-warc", help="write the project's sample WARC")
    sample.add_argument("path")
    sample.add_argument("--seed", type=int, default=0)

    for name in _COMMAND_MODULES:
        importlib.import_module(name).add_parser(commands)
    return parser


_PIPELINE_COMMANDS = ("run", "demo")

# Command groups kept in their own modules: each has `add_parser(commands)`, which
# registers its subcommands with `set_defaults(handler=...)`; a handler takes the
# parsed args and returns the exit status.
_COMMAND_MODULES: list[str] = [
    "gristmill.classifiers_cli",
    "gristmill.decontam_cli",
    "gristmill.pii_cli",
    "gristmill.report_cli",
    "gristmill.tokens_cli",
    "gristmill.plan_cli",
    "gristmill.train_cli",
    "gristmill.launch_cli",
]


def _run(
    inputs: list[str], output: str, config_path: str | None, beam_args: list[str], *, overwrite: bool, progress: bool
) -> int:
    from pipeline.config import load_config
    from pipeline.graph import read_mixture_error
    from pipeline.runner import format_summary, run_pipeline

    config = load_config(config_path)
    funnel = run_pipeline(
        inputs, output, config, beam_args, version=__version__, overwrite=overwrite, progress=progress
    )
    print(format_summary(funnel, output))
    mixture_error = read_mixture_error(output)
    if mixture_error:
        print(
            f"gristmill: {mixture_error} (no manifest.json was written; "
            "fix the mixture section and rerun with --overwrite)",
            file=sys.stderr,
        )
        return 4
    return 0 if funnel["conserved"] else 3


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    words = sys.argv[1:] if argv is None else argv
    # before the parser imports the command modules (pyarrow among them): no pandas, Arrow's
    # system allocator (-70 MiB at the runner's peak; pipeline/lean_process.py)
    refused = bool(words) and words[0] in _PIPELINE_COMMANDS and lean_pipeline_process()
    try:
        args, extra = _parser().parse_known_args(argv)
        if extra and args.command != "run":
            print(f"gristmill {args.command}: unknown options {' '.join(extra)}", file=sys.stderr)
            return 2
        if hasattr(args, "handler"):
            return args.handler(args)  # command modules import what they need (`gristmill report` never loads Beam)
        return _command(args, extra)
    finally:
        if refused:
            allow_pandas()  # main() called in-process (tests) leaves the interpreter as it found it


def _command(args: argparse.Namespace, extra: list[str]) -> int:
    from filters.decontamination import IndexFormatError
    from pipeline.config import ConfigError
    from pipeline.runner import OutputExistsError
    from pipeline.warc.sources import InputError

    try:
        if args.command == "run":
            return _run(
                args.input, args.output, args.config, extra, overwrite=args.overwrite, progress=not args.no_progress
            )
        if args.command == "sample-warc":
            from pipeline.fixtures.demo_corpus import write_sample_warc

            summary = write_sample_warc(args.path, seed=args.seed)
            print(f"wrote {summary.path}: {summary.records} records, {summary.html_responses} HTML pages")
            return 0
        if args.command == "demo":
            from pipeline.fixtures.demo_corpus import write_sample_warc

            warc = os.path.join(args.output, "input", "sample.warc.gz")
            os.makedirs(os.path.dirname(warc), exist_ok=True)
            summary = write_sample_warc(warc)
            print(f"sample WARC: {warc} ({summary.records} records)")
            output = os.path.join(args.output, "out")
            code = _run([warc], output, args.config, [], overwrite=True, progress=True)
            if code != 0:
                return code
            from gristmill.report_cli import write_report

            report, size = write_report(output)
            print(
                f"demo outputs: Parquet under {output}/data/, manifest {output}/manifest.json, "
                f"stats under {output}/stats/, dashboard {report} ({size / 1024:.0f} KiB)"
            )
            return 0
    except (ConfigError, IndexFormatError, InputError, OutputExistsError) as err:
        print(f"gristmill: {err}", file=sys.stderr)
        return 2
    return 2


def run() -> None:
    """The console entry point: `main()`, then an exit that skips the interpreter's teardown.

    pyarrow starts native thread pools (2 threads on import, 3 more on a Parquet read) and
    Beam gRPC threads; when the C++ runtime destroys them at exit while one is still
    joinable, std::terminate aborts the process (exit 134, "terminate called without an
    active exception", after the work is done: apache/arrow#34314). Every output is
    written and closed by the time `main` returns, so the logs and stdio are flushed and
    the process ends with `main`'s status, never later."""
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
