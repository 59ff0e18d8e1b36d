"""`gristmill classifiers`: train and evaluate the fastText classifiers.

    gristmill classifiers train toxicity --data FILE [--format davidson|csv|jsonl]
        [--clean-text PATH ...] [--clean-per-file N] [--output PATH] [--seed N]
    gristmill classifiers eval --model PATH --data FILE [--format ...] [--documents] [--threshold T]

`train` holds out a stratified split, trains on the rest and prints metrics on the
held-out part; `eval` scores every row of a labelled file with a saved model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

TASKS = ("toxicity",)  # quality and domain join here


def add_parser(commands) -> None:
    classifiers = commands.add_parser("classifiers", help="train and evaluate the fastText classifiers")
    sub = classifiers.add_subparsers(dest="classifiers_command", required=True)

    train = sub.add_parser("train", help="train a classifier; prints metrics on a held-out split")
    train.add_argument("task", choices=TASKS)
    _data_arguments(train)
    train.add_argument("--clean-text", action="append", default=[], metavar="PATH",
                       help="extra clean examples: a text file, one per line, or a folder of .txt files (repeatable)")
    train.add_argument("--clean-per-file", type=int, metavar="N", help="take the first N lines of each clean-text file")
    train.add_argument("--output", default=os.path.join("build", "models", "toxicity.ftz"),
                       help="where to write the model (default: build/models/toxicity.ftz)")
    train.add_argument("--seed", type=int, default=0, help="fixes the split and the training (default: 0)")
    train.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of each label (default: 0.2)")
    train.set_defaults(handler=_train)

    evaluate = sub.add_parser("eval", help="score a labelled file with a model and print metrics")
    evaluate.add_argument("--task", choices=TASKS, default="toxicity")
    evaluate.add_argument("--model", help="a .ftz/.bin model (default: the shipped one)")
    _data_arguments(evaluate)
    evaluate.add_argument("--documents", action="store_true",
                          help="rows are documents: score them passage by passage, as the pipeline does")
    evaluate.add_argument("--threshold", type=float,
                          help="score counted as positive (default: 0.5 for texts, safety.toxicity.max_score for documents)")
    evaluate.set_defaults(handler=_eval)


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    from classifiers.training import FORMATS

    parser.add_argument("--data", required=True, help="labelled file")
    parser.add_argument("--format", choices=FORMATS, help="default: from the extension and CSV header")


def _train(args: argparse.Namespace) -> int:
    from classifiers.toxicity import train_toxicity_model
    from classifiers.training import LabelledDataError, format_metrics_table, load_examples, load_texts

    try:
        examples = load_examples(args.data, args.format)
        clean = [t for path in args.clean_text for t in load_texts(path, per_file=args.clean_per_file)]
        started = time.perf_counter()
        result = train_toxicity_model(examples, clean, seed=args.seed, test_fraction=args.test_fraction)
    except (LabelledDataError, ValueError) as err:
        print(f"gristmill classifiers train: {err}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    result.model.save_model(args.output)
    print(f"trained {args.task} on {result.train_size} texts ({len(examples)} labelled, {len(clean)} clean) "
          f"in {elapsed:.1f} s, seed {args.seed}")
    print(f"held-out split ({args.test_fraction:.0%} of each label):")
    print(format_metrics_table(result.held_out))
    print(f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.2f} MB)")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from classifiers.toxicity import ToxicityScorer, evaluate
    from classifiers.training import LabelledDataError, format_metrics_table, load_examples
    from pipeline.config import ToxicityConfig

    try:
        examples = load_examples(args.data, args.format)
        scorer = ToxicityScorer(args.model)
        texts = [e.text for e in examples]
        if args.documents:
            scores = [scorer.score(t) for t in texts]
            threshold = ToxicityConfig().max_score if args.threshold is None else args.threshold
        else:
            scores = scorer.score_texts(texts)
            threshold = 0.5 if args.threshold is None else args.threshold
        results = evaluate(scores, [e.label for e in examples], threshold)
    except (LabelledDataError, ValueError, FileNotFoundError) as err:
        print(f"gristmill classifiers eval: {err}", file=sys.stderr)
        return 2
    level = "documents" if args.documents else "texts"
    print(f"{args.task} model {args.model or 'shipped'} on {len(examples)} {level} of {args.data}:")
    print(format_metrics_table(results))
    return 0
