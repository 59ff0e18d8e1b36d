"""`gristmill classifiers`: train and evaluate the fastText classifiers.

    gristmill classifiers train toxicity --data FILE [--format davidson|csv|jsonl]
        [--clean-text PATH ...] [--clean-per-file N] [--output PATH] [--seed N] [--test-fraction F]
    gristmill classifiers train quality (--data FILE | --positives PATH ... --negatives PATH ...)
        [--max-per-source N] [--folds K] [--output PATH] [--seed N] [--test-fraction F]
    gristmill classifiers train domain --data FILE [--format csv|jsonl] [--rules FILE ...]
        [--output PATH] [--seed N] [--test-fraction F]
    gristmill classifiers eval [--task toxicity|quality|domain] [--model PATH] --data FILE [--format ...]
        [--documents] [--threshold T]
    gristmill classifiers label-pages INPUT... --out PAGES.jsonl [--zero-shot]
    gristmill classifiers train topic|format --data PAGES.jsonl [--folds K] [--output PATH] [--seed N]

`train` holds out a stratified split, trains on the rest and prints metrics on the
held-out part (quality also cross-validates on everything first: its data are
small); `eval` scores every row of a labelled file with a saved model. Quality
positives and negatives are unlabelled texts: a .txt file (one per line) or a
folder of them, .jsonl with a "text" key, Parquet with a "text" column, or a
gristmill output folder. Domain labels are tags of the taxonomy in
filters/domain_rules.yaml, plus those that --rules files add. Topic and format models are
trained on pages labelled by `label-pages` (gristmill/content_cli.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from gristmill.content_cli import add_label_pages_parser, train_content

TASKS = ("toxicity", "quality", "domain", "topic", "format")


def add_parser(commands) -> None:
    classifiers = commands.add_parser("classifiers", help="train and evaluate the fastText classifiers")
    sub = classifiers.add_subparsers(dest="classifiers_command", required=True)

    train = sub.add_parser("train", help="train a classifier; prints metrics on a held-out split")
    train.add_argument("task", choices=TASKS)
    _data_arguments(train, required=False)
    train.add_argument(
        "--clean-text",
        action="append",
        default=[],
        metavar="PATH",
        help="toxicity: extra clean examples, a text file (one per line) or a folder of .txt files (repeatable)",
    )
    train.add_argument(
        "--clean-per-file", type=int, metavar="N", help="toxicity: take the first N lines of each clean-text file"
    )
    train.add_argument(
        "--positives",
        action="append",
        default=[],
        metavar="PATH",
        help=(
            "quality: high-quality texts (.txt, folder of .txt, .jsonl, .parquet, gristmill output folder; repeatable)"
        ),
    )
    train.add_argument(
        "--negatives",
        action="append",
        default=[],
        metavar="PATH",
        help="quality: low-quality texts, e.g. a sample of crawl output (same kinds; repeatable)",
    )
    train.add_argument(
        "--max-per-source",
        type=int,
        metavar="N",
        help="quality: at most N texts from each --positives/--negatives path, sampled with --seed",
    )
    train.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="quality: K-fold cross-validation on all the data before training (default: 5; 0 skips it)",
    )
    train.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="FILE",
        help="domain: a rules file (as domains.rules_files) whose taxonomy adds tags (repeatable)",
    )
    train.add_argument("--output", help="where to write the model (default: build/models/<task>.ftz)")
    train.add_argument(
        "--seed", type=int, default=0, help="fixes the split, the sampling and the training (default: 0)"
    )
    train.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of each label (default: 0.2)")
    train.set_defaults(handler=_train)
    add_label_pages_parser(sub)

    evaluate = sub.add_parser("eval", help="score a labelled file with a model and print metrics")
    evaluate.add_argument("--task", choices=TASKS, default="toxicity")
    evaluate.add_argument("--model", help="a .ftz/.bin model (default: the shipped one)")
    _data_arguments(evaluate, required=True)
    evaluate.add_argument(
        "--documents",
        action="store_true",
        help="toxicity: rows are documents, scored passage by passage as the pipeline does "
        "(quality always scores whole documents)",
    )
    evaluate.add_argument(
        "--threshold",
        type=float,
        help="score counted as positive (default: 0.5, or safety.toxicity.max_score for toxicity --documents)",
    )
    evaluate.set_defaults(handler=_eval)


def _data_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    from classifiers.training import FORMATS

    parser.add_argument("--data", required=required, help="labelled file")
    parser.add_argument("--format", choices=FORMATS, help="default: from the extension and CSV header")


class _UsageError(ValueError):
    """Flags that do not fit together."""


def _train(args: argparse.Namespace) -> int:
    from classifiers.training import LabelledDataError

    output = args.output or os.path.join("build", "models", f"{args.task}.ftz")
    try:
        trainers = {
            "toxicity": _train_toxicity,
            "quality": _train_quality,
            "domain": _train_domain,
            "topic": _train_content,
            "format": _train_content,
        }
        model, report = trainers[args.task](args)
    except (LabelledDataError, ValueError) as err:
        print(f"gristmill classifiers train: {err}", file=sys.stderr)
        return 2
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    model.save_model(output)
    print(report)
    print(f"wrote {output} ({os.path.getsize(output) / 1e6:.2f} MB)")
    return 0


def _train_toxicity(args: argparse.Namespace):
    """(model, report) or an error before any file is written."""
    from classifiers.toxicity import train_toxicity_model
    from classifiers.training import format_metrics_table, load_examples, load_texts

    _reject(args, "toxicity", positives=[], negatives=[], max_per_source=None, folds=None, rules=[])
    if not args.data:
        raise _UsageError("toxicity needs --data")
    examples = load_examples(args.data, args.format)
    clean = [t for path in args.clean_text for t in load_texts(path, per_file=args.clean_per_file)]
    started = time.perf_counter()
    result = train_toxicity_model(examples, clean, seed=args.seed, test_fraction=args.test_fraction)
    report = (
        f"trained toxicity on {result.train_size} texts ({len(examples)} labelled, {len(clean)} clean) "
        f"in {time.perf_counter() - started:.1f} s, seed {args.seed}\n"
        f"held-out split ({args.test_fraction:.0%} of each label):\n{format_metrics_table(result.held_out)}"
    )
    return result.model, report


def _train_quality(args: argparse.Namespace):
    """(model, report) or an error before any file is written."""
    from classifiers.quality import (
        KEPT_FRACTIONS,
        as_examples,
        cross_validate,
        format_quality_table,
        train_quality_model,
    )
    from classifiers.training import load_examples, load_texts, sample_texts

    _reject(args, "quality", clean_text=[], clean_per_file=None, rules=[])
    if not args.data and not (args.positives and args.negatives):
        raise _UsageError("quality needs --data FILE (labelled), or both --positives and --negatives")
    if args.max_per_source is not None and args.max_per_source < 1:
        raise _UsageError(f"--max-per-source must be at least 1, not {args.max_per_source}")

    def pile(paths: list[str]) -> list[str]:
        return [t for path in paths for t in sample_texts(load_texts(path), args.max_per_source, seed=args.seed)]

    labelled = load_examples(args.data, args.format) if args.data else []
    positives, negatives = pile(args.positives), pile(args.negatives)
    examples = labelled + as_examples(positives, negatives)
    lines = []
    started = time.perf_counter()
    folds = 5 if args.folds is None else args.folds
    if folds:
        cv = cross_validate(examples, folds=folds, seed=args.seed)
        figures = [f"ROC AUC {cv.roc_auc[0]:.3f} ± {cv.roc_auc[1]:.3f}"]
        figures += [f"P@{f:.0%} {cv.precision_at(f)[0]:.3f} ± {cv.precision_at(f)[1]:.3f}" for f in KEPT_FRACTIONS]
        lines.append(
            f"{folds}-fold cross-validation on all {len(examples)} documents (mean ± std over folds): "
            + ", ".join(figures)
        )
    result = train_quality_model(examples, seed=args.seed, test_fraction=args.test_fraction)
    lines.insert(
        0,
        f"trained quality on {result.train_size} documents ({len(labelled)} labelled, {len(positives)} positive, "
        f"{len(negatives)} negative) in {time.perf_counter() - started:.1f} s, seed {args.seed}",
    )
    lines += [
        f"held-out split ({args.test_fraction:.0%} of each label):",
        format_quality_table({"high vs low quality": result.held_out}),
    ]
    return result.model, "\n".join(lines)


def _train_domain(args: argparse.Namespace):
    """(model, report) or an error before any file is written."""
    from classifiers.domain import format_multiclass_table, train_domain_model
    from classifiers.training import load_examples
    from filters.domain_rules import DomainRules

    _reject(
        args, "domain", clean_text=[], clean_per_file=None, positives=[], negatives=[], max_per_source=None, folds=None
    )
    if not args.data:
        raise _UsageError("domain needs --data FILE (csv or jsonl with text and label)")
    taxonomy = DomainRules.load(args.rules).taxonomy
    examples = load_examples(args.data, args.format)
    started = time.perf_counter()
    result = train_domain_model(examples, taxonomy, seed=args.seed, test_fraction=args.test_fraction)
    report = (
        f"trained domain on {result.train_size} documents ({len(examples)} labelled, "
        f"{len({e.label for e in examples})} tags) in {time.perf_counter() - started:.1f} s, seed {args.seed}\n"
        f"held-out split ({args.test_fraction:.0%} of each label):\n{format_multiclass_table(result.held_out)}"
    )
    return result.model, report


def _train_content(args: argparse.Namespace):
    """(model, report) for a topic or format model; the cross-validated metrics print as they come."""
    _reject(
        args, args.task, clean_text=[], clean_per_file=None, positives=[], negatives=[], max_per_source=None, rules=[]
    )
    if not args.data:
        raise _UsageError(f"{args.task} needs --data PAGES.jsonl (from `gristmill classifiers label-pages`)")
    started = time.perf_counter()
    model = train_content(args, args.task)
    return model, f"trained {args.task} in {time.perf_counter() - started:.1f} s, seed {args.seed}"


def _reject(args: argparse.Namespace, task: str, **unset) -> None:
    """Fail on flags that belong to another task (given a value other than their default)."""
    for name, default in unset.items():
        if getattr(args, name) != default:
            raise _UsageError(f"--{name.replace('_', '-')} does not apply to {task}")


def _eval(args: argparse.Namespace) -> int:
    from classifiers.training import LabelledDataError, load_examples

    try:
        examples = load_examples(args.data, args.format)
        texts = [e.text for e in examples]
        if args.task == "toxicity":
            tables = _eval_toxicity(args, texts, [e.label for e in examples])
        elif args.task == "domain":
            tables = _eval_domain(args, texts, [e.label for e in examples])
        else:
            tables = _eval_quality(args, texts, [e.label for e in examples])
    except (LabelledDataError, ValueError, FileNotFoundError) as err:
        print(f"gristmill classifiers eval: {err}", file=sys.stderr)
        return 2
    level = "documents" if args.documents or args.task == "quality" else "texts"
    print(f"{args.task} model {args.model or 'shipped'} on {len(examples)} {level} of {args.data}:")
    print("\n".join(tables))
    return 0


def _eval_toxicity(args: argparse.Namespace, texts: list[str], labels: list[str]) -> list[str]:
    from classifiers.toxicity import ToxicityScorer, evaluate
    from classifiers.training import format_metrics_table
    from pipeline.config import ToxicityConfig

    scorer = ToxicityScorer(args.model)
    if args.documents:
        scores = [scorer.score(t) for t in texts]
        threshold = ToxicityConfig().max_score if args.threshold is None else args.threshold
    else:
        scores = scorer.score_texts(texts)
        threshold = 0.5 if args.threshold is None else args.threshold
    return [format_metrics_table(evaluate(scores, labels, threshold))]


def _eval_quality(args: argparse.Namespace, texts: list[str], labels: list[str]) -> list[str]:
    from classifiers.quality import (
        QualityScorer,
        evaluate,
        format_quality_table,
        is_high_quality_label,
    )
    from classifiers.training import binary_metrics, format_metrics_table

    if args.documents:
        raise _UsageError("--documents applies to toxicity only: quality always scores whole documents")
    truth = [is_high_quality_label(label) for label in labels]
    scores = QualityScorer(args.model).score_texts(texts)
    threshold = 0.5 if args.threshold is None else args.threshold
    return [
        format_quality_table({"high vs low quality": evaluate(scores, truth)}),
        format_metrics_table({"high vs low quality": binary_metrics(scores, truth, threshold)}),
    ]


def _eval_domain(args: argparse.Namespace, texts: list[str], labels: list[str]) -> list[str]:
    from classifiers.domain import (
        DomainClassifier,
        format_multiclass_table,
        multiclass_metrics,
    )

    if args.model is None:
        raise _UsageError("domain needs --model: no domain model ships")
    if args.documents or args.threshold is not None:
        raise _UsageError("--documents and --threshold do not apply to domain: its top tag is compared with the label")
    classifier = DomainClassifier(args.model)
    return [format_multiclass_table(multiclass_metrics([classifier.predict(t)[0] or "" for t in texts], labels))]
