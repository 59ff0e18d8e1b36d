"""Supervised fastText training and evaluation, shared by every classifier task.

A task module (toxicity now; quality and domain later) supplies three things: how
its labels map to fastText labels, its text normalization, and its
hyperparameters. This module does the rest: load labelled text, split off a
held-out set, train deterministically, score, and measure.

Labelled files come in three formats:

- ``davidson``: the CSV of Davidson et al. (2017), columns ``class`` (0 hate,
  1 offensive, 2 neither) and ``tweet``; labels become ``hate``, ``offensive``,
  ``neither``.
- ``csv``: a header row with ``text`` and ``label`` columns (others ignored).
- ``jsonl``: one object per line with ``text`` and ``label`` keys.

Unlabelled texts (`load_texts`, extra examples of one class) come from a .txt file
(one text per line) or a folder of them, a .jsonl file with a ``text`` key, a
Parquet file with a ``text`` column, or a gristmill output folder (its
``manifest.json`` lists the Parquet shards).

A bad row stops the load with a `LabelledDataError` naming the file and line:
a classifier silently trained on a half-parsed file is worse than no classifier.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import dataclasses
import json
import os
import random
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from pipeline.core.layout import MANIFEST

FORMATS = ("davidson", "csv", "jsonl")
DAVIDSON_CLASSES = {"0": "hate", "1": "offensive", "2": "neither"}
_LABEL_PREFIX = "__label__"


class LabelledDataError(ValueError):
    """A labelled file cannot be read; the message names the file and line."""


@dataclasses.dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str  # as written in the file (Davidson: hate / offensive / neither)


# --- loading -----------------------------------------------------------------


def detect_format(path: str | os.PathLike) -> str:
    """`jsonl` for .jsonl/.json files; for CSV, `davidson` when the header has its columns, else `csv`."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        return "jsonl"
    with _open(path) as f:
        header = next(csv.reader(f), [])
    return "davidson" if {"class", "tweet"} <= set(header) else "csv"


def load_examples(path: str | os.PathLike, fmt: str | None = None) -> list[Example]:
    """Read a labelled file; `fmt` None detects it (see `detect_format`)."""
    fmt = fmt or detect_format(path)
    if fmt == "davidson":
        return _load_csv(Path(path), text_column="tweet", label_column="class", labels=DAVIDSON_CLASSES)
    if fmt == "csv":
        return _load_csv(Path(path), text_column="text", label_column="label", labels=None)
    if fmt == "jsonl":
        return _load_jsonl(Path(path))
    raise LabelledDataError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")


def load_texts(path: str | os.PathLike, *, per_file: int | None = None) -> list[str]:
    """Unlabelled texts, in file order, from:

    - a .jsonl file: the ``text`` of each object (other keys ignored);
    - a .parquet file: its ``text`` column;
    - a gristmill output folder (holds ``manifest.json``): the ``text`` column of its shards;
    - any other file: one text per non-empty line; a folder: every *.txt in it, in name order.

    `per_file` keeps the first N texts of each file (each shard of an output folder).
    """
    path = Path(path)
    if path.is_dir() and (path / MANIFEST).is_file():
        files = _manifest_shards(path)
    elif path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise LabelledDataError(f"{path}: folder holds no .txt files and no manifest.json")
    else:
        files = [path]
    texts = []
    for file in files:
        suffix = file.suffix.lower()
        if suffix == ".jsonl":
            file_texts = _jsonl_texts(file)
        elif suffix == ".parquet":
            file_texts = _parquet_texts(file)
        else:
            with _open(file) as f:
                file_texts = [line.strip() for line in f if line.strip()]
        texts += file_texts[:per_file]
    return texts


def sample_texts(texts: Sequence[str], limit: int | None, *, seed: int = 0) -> list[str]:
    """At most `limit` texts, drawn at random (fixed by `seed`) and kept in their order; None keeps all."""
    if limit is None or len(texts) <= limit:
        return list(texts)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    keep = sorted(random.Random(seed).sample(range(len(texts)), limit))
    return [texts[i] for i in keep]


def _manifest_shards(folder: Path) -> list[Path]:
    from pipeline.core.manifest import ManifestError, load_manifest

    try:
        manifest = load_manifest((folder / MANIFEST).read_text(encoding="utf-8"))
    except ManifestError as err:
        raise LabelledDataError(f"{folder / 'manifest.json'}: {err}") from err
    return [folder / shard["path"] for shard in manifest["shards"]]  # paths are relative to the output folder


def _jsonl_texts(path: Path) -> list[str]:
    texts = []
    with _open(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise LabelledDataError(f"{path}:{number}: not valid JSON ({err.msg})") from err
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise LabelledDataError(f"{path}:{number}: expected an object with a string 'text' key")
            if row["text"].strip():
                texts.append(row["text"])
    return texts


def _parquet_texts(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    if not path.is_file():
        raise LabelledDataError(f"{path}: no such file")
    try:
        schema = pq.read_schema(path)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for a file that is not Parquet
        raise LabelledDataError(f"{path}: not a Parquet file ({err})") from err
    if "text" not in schema.names:
        raise LabelledDataError(f"{path}: no 'text' column (has: {', '.join(schema.names)})")
    return [t for t in pq.read_table(path, columns=["text"]).column("text").to_pylist() if t and t.strip()]


def _open(path: Path):
    try:
        return open(path, encoding="utf-8", newline="")
    except FileNotFoundError as err:
        raise LabelledDataError(f"{path}: no such file") from err


def _load_csv(path: Path, *, text_column: str, label_column: str, labels: Mapping[str, str] | None) -> list[Example]:
    examples = []
    with _open(path) as f:
        reader = csv.DictReader(f)
        missing = {text_column, label_column} - set(reader.fieldnames or ())
        if missing:
            raise LabelledDataError(
                f"{path}:1: header lacks column(s) {', '.join(sorted(missing))} "
                f"(has: {', '.join(reader.fieldnames or ())})"
            )
        for row in reader:
            where = f"{path}:{reader.line_num}"
            text, label = row[text_column], row[label_column]
            if text is None or label is None:
                raise LabelledDataError(f"{where}: row has fewer fields than the header")
            label = label.strip()
            if labels is not None:
                if label not in labels:
                    raise LabelledDataError(f"{where}: label {label!r} not one of {', '.join(labels)}")
                label = labels[label]
            examples.append(_example(text, label, where))
    return examples


def _load_jsonl(path: Path) -> list[Example]:
    examples = []
    with _open(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise LabelledDataError(f"{where}: not valid JSON ({err.msg})") from err
            if not isinstance(row, dict) or "text" not in row or "label" not in row:
                raise LabelledDataError(f"{where}: expected an object with 'text' and 'label' keys")
            text, label = row["text"], row["label"]
            if not isinstance(text, str):
                raise LabelledDataError(f"{where}: 'text' must be a string, not {type(text).__name__}")
            if isinstance(label, bool):
                label = str(label).lower()
            elif isinstance(label, (int, str)):
                label = str(label).strip()
            else:
                raise LabelledDataError(f"{where}: 'label' must be a string or integer, not {label!r}")
            examples.append(_example(text, label, where))
    return examples


def _example(text: str, label: str, where: str) -> Example:
    if not text.strip():
        raise LabelledDataError(f"{where}: empty text")
    if not label or any(c.isspace() for c in label):
        raise LabelledDataError(f"{where}: label {label!r} is empty or contains whitespace")
    return Example(text, label)


# --- splitting ---------------------------------------------------------------


def split_examples(
    examples: Sequence[Example], *, test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """A held-out split, stratified by label (each label keeps its share), fixed by `seed`."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), not {test_fraction}")
    by_label: dict[str, list[Example]] = {}
    for example in examples:
        by_label.setdefault(example.label, []).append(example)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        cut = round(len(group) * test_fraction)
        test += group[:cut]
        train += group[cut:]
    rng.shuffle(train)  # fastText reads its file in order: interleave labels
    return train, test


def stratified_folds(examples: Sequence[Example], *, folds: int = 5, seed: int = 0) -> list[list[int]]:
    """Indices of `examples` in `folds` disjoint parts covering them all, each with
    about its share of every label; fixed by `seed`. Part i is the test set of
    round i of cross-validation."""
    if not 2 <= folds <= len(examples):
        raise ValueError(f"folds must be between 2 and the number of examples ({len(examples)}), not {folds}")
    by_label: dict[str, list[int]] = {}
    for i, example in enumerate(examples):
        by_label.setdefault(example.label, []).append(i)
    rng = random.Random(seed)
    parts: list[list[int]] = [[] for _ in range(folds)]
    dealt = 0
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        for i in group:  # dealt like cards, continuing across labels, so part sizes differ by at most one
            parts[dealt % folds].append(i)
            dealt += 1
    return parts


# --- training ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FastTextParams:
    """fastText supervised hyperparameters. Training always runs on one thread
    with a fixed seed, so the same data and seed give the same model."""

    epoch: int = 25
    lr: float = 0.1
    dim: int = 32
    word_ngrams: int = 2
    min_count: int = 1
    minn: int = 0
    """Character n-grams (minn..maxn) help misspellings but cost buckets; 0 turns them off."""
    maxn: int = 0
    bucket: int = 200_000
    """Hash buckets for word n-grams (and char n-grams); fastText's 2M default makes a 128 MB model."""
    quantize: bool = True
    """Product-quantize into a small .ftz (retrained on the training file)."""
    cutoff: int = 0
    """When quantizing, keep only this many words and n-grams (0 keeps all)."""

    def fasttext_kwargs(self) -> dict:
        return {
            "epoch": self.epoch,
            "lr": self.lr,
            "dim": self.dim,
            "wordNgrams": self.word_ngrams,
            "minCount": self.min_count,
            "minn": self.minn,
            "maxn": self.maxn,
            "bucket": self.bucket,
            "loss": "softmax",
        }


def fasttext_line(label: str, text: str) -> str:
    """One training line; `text` must already be normalized to a single line."""
    return f"{_LABEL_PREFIX}{label} {text}"


def train_fasttext(lines: Iterable[str], params: FastTextParams, *, seed: int = 0):
    """Train on `fasttext_line` strings; returns the (quantized, if asked) fastText model."""
    import fasttext

    with tempfile.TemporaryDirectory(prefix="gristmill-fasttext-") as tmp:
        train_path = os.path.join(tmp, "train.txt")
        with open(train_path, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line + "\n")
        with _zeroed_allocations():
            model = fasttext.train_supervised(
                input=train_path, thread=1, seed=seed, verbose=0, **params.fasttext_kwargs()
            )
            if params.quantize:
                model.quantize(input=train_path, retrain=True, cutoff=params.cutoff, qnorm=True, thread=1, verbose=0)
    return model


# glibc mallopt parameter: fill new allocations with (byte ^ 0xff), freed ones with byte.
_M_PERTURB = -6


@contextlib.contextmanager
def _zeroed_allocations():
    """Make fastText's training start from the same weights whatever ran before.

    fastText initializes its input matrix in ten blocks, one per thread
    (DenseMatrix::uniformThread), so with thread=1 it fills only the first tenth of
    the rows, and this build leaves the rest as the allocator hands it over: zeros
    from a fresh mmap, or an earlier model's weights, or NaN. We measured both: a
    second model in one process came out different, and the first model trained after
    `import pyarrow` failed with "Encountered NaN". glibc's M_PERTURB makes malloc
    fill new blocks with perturb ^ 0xff, so 0xff means zeros; it is turned back off
    after training. Other C libraries have no mallopt; there, train in a fresh process.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        yield
        return
    mallopt(_M_PERTURB, 0xFF)
    try:
        yield
    finally:
        mallopt(_M_PERTURB, 0)


def load_model(path: str, task: str, required_label: str | None = None):
    """A saved fastText model for `task` (named in the errors), quietly; `required_label`, when
    given, must be one of its labels, so a model of another task is refused."""
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load warning
    if not os.path.exists(path):
        raise FileNotFoundError(f"{task} model not found: {path}")
    model = fasttext.load_model(path)
    if required_label is not None and f"{_LABEL_PREFIX}{required_label}" not in model.labels:
        raise ValueError(f"{path} is not a {task} model: its labels are {', '.join(model.labels)}")
    return model


def label_probabilities(model, texts: Sequence[str], label: str) -> np.ndarray:
    """P(`label`) for each normalized single-line text: shape (len(texts),)."""
    if not texts:
        return np.zeros(0)
    wanted = _LABEL_PREFIX + label
    if wanted not in model.labels:
        raise ValueError(
            f"model has no label {label!r}; "
            f"its labels: {', '.join(name.removeprefix(_LABEL_PREFIX) for name in model.labels)}"
        )
    labels, probabilities = model.predict(list(texts), k=-1, threshold=0.0)
    # fastText's softmax can round a hair above 1.
    return np.array(
        [min(float(p[list(ls).index(wanted)]), 1.0) if wanted in ls else 0.0 for ls, p in zip(labels, probabilities)]
    )


# --- metrics -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class BinaryMetrics:
    """Metrics of a score against binary truth; the threshold ones count `score >= threshold` as positive."""

    n: int
    positives: int
    threshold: float
    precision: float
    recall: float
    f1: float
    false_positive_rate: float
    roc_auc: float  # nan when only one class is present


def roc_auc(scores: Sequence[float], truth: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random
    negative, ties counting half (the Mann-Whitney U statistic). nan without both classes."""
    scores = np.asarray(scores, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average rank (1-based) over each run of tied scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + 1 + end) / 2
    u = ranks[truth].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def precision_at_fraction(scores: Sequence[float], truth: Sequence[bool], fraction: float) -> float:
    """Precision of the top `fraction` of items by score (at least one item): the
    share of positives among what a keep-the-top-k% filter would keep. Ties at the
    cut are broken by input order."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    scores = np.asarray(scores, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    if len(scores) == 0:
        return float("nan")
    kept = max(1, round(len(scores) * fraction))
    top = np.argsort(-scores, kind="stable")[:kept]
    return float(truth[top].mean())


def binary_metrics(scores: Sequence[float], truth: Sequence[bool], threshold: float = 0.5) -> BinaryMetrics:
    scores = np.asarray(scores, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    predicted = scores >= threshold
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    tn = int((~predicted & ~truth).sum())
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall) if tp else 0.0
    return BinaryMetrics(
        n=len(truth),
        positives=tp + fn,
        threshold=threshold,
        precision=precision,
        recall=recall,
        f1=f1,
        false_positive_rate=_ratio(fp, fp + tn),
        roc_auc=roc_auc(scores, truth),
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def format_metrics_table(rows: Mapping[str, BinaryMetrics]) -> str:
    """A plain-text table, one row per named evaluation."""
    header = f"{'':<24} {'n':>6} {'pos':>6} {'thresh':>6} {'prec':>6} {'recall':>6} {'F1':>6} {'FPR':>6} {'ROC AUC':>7}"
    lines = [header]
    for name, m in rows.items():
        lines.append(
            f"{name:<24} {m.n:>6} {m.positives:>6} {m.threshold:>6.2f} {m.precision:>6.3f} {m.recall:>6.3f} "
            f"{m.f1:>6.3f} {m.false_positive_rate:>6.3f} {m.roc_auc:>7.4f}"
        )
    return "\n".join(lines)
