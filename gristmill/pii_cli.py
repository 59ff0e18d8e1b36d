"""`gristmill pii eval`: span-level precision and recall of PII detection.

    gristmill pii eval [--mode patterns|ner] [--data FILE] [--engine gristmill|presidio]

Prints a Markdown table per entity type (precision, recall, F1, support) and
totals over the pattern types and, in mode `ner`, the NER types. `--engine
presidio` scores presidio's AnalyzerEngine as shipped (blank spaCy pipeline,
every predefined recognizer) instead: the baseline gristmill's recognizers improve on.
See `filters/evaluation/pii.py` for how spans are matched.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline.config import PII_MODES

DEFAULT_DATA = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "pii" / "presidio-research" / "synth_dev.json"
)


def add_parser(commands) -> None:
    pii = commands.add_parser("pii", help="PII redaction tools")
    subcommands = pii.add_subparsers(dest="pii_command", required=True)
    evaluate = subcommands.add_parser("eval", help="precision and recall per entity type on labelled sentences")
    evaluate.add_argument(
        "--mode", choices=PII_MODES, default="patterns", help="PII mode to evaluate (default: patterns)"
    )
    evaluate.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="presidio-research JSON (default: ../shared/data/pii/presidio-research/synth_dev.json)",
    )
    evaluate.add_argument(
        "--engine",
        choices=("gristmill", "presidio"),
        default="gristmill",
        help="presidio: presidio's AnalyzerEngine as shipped, the baseline (mode patterns only)",
    )
    evaluate.set_defaults(handler=_eval)


def _eval(args: argparse.Namespace) -> int:
    from filters.evaluation.pii import PlainPresidio, format_table, load_synth, score_spans
    from filters.pii import PATTERN_ENTITIES, PiiRedactor
    from pipeline.config import PiiConfig

    if args.engine == "presidio" and args.mode != "patterns":
        print(
            "gristmill pii eval: --engine presidio evaluates pattern recognizers only (--mode patterns)",
            file=sys.stderr,
        )
        return 2
    if not Path(args.data).is_file():
        print(f"gristmill pii eval: data file not found: {args.data}", file=sys.stderr)
        return 2
    examples = load_synth(args.data)
    config = PiiConfig(mode=args.mode)
    engine = PlainPresidio() if args.engine == "presidio" else PiiRedactor(config)

    started = time.perf_counter()
    scores = score_spans(examples, lambda text: engine.analyze(text, "en"), engine.entities)
    seconds = time.perf_counter() - started

    totals = {"pattern types": PATTERN_ENTITIES}
    if args.mode == "ner":
        totals["NER types"] = config.ner_entities
    name = (
        "presidio AnalyzerEngine as shipped (blank spaCy pipeline)"
        if args.engine == "presidio"
        else f"gristmill, mode {args.mode}"
    )
    print(f"{name}: {len(examples)} sentences from {args.data} in {seconds:.2f} s ({len(examples) / seconds:,.0f}/s)")
    print(format_table(scores, totals))
    print(f"pattern types: {', '.join(PATTERN_ENTITIES)}; a span counts when half of it overlaps one of the same type")
    return 0
