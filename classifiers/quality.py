"""Quality: a fastText classifier of whole web documents, P(high quality), after DCLM.

DCLM (Li et al., 2024, *DataComp-LM*) keeps the ~10% of crawl documents that a
fastText bigram classifier scores highest, trained with reference text as
positives and crawl text as negatives. The same trainer takes either labelled
documents (the shipped model: the DCLM human annotations, label 1 high quality, 0
low) or two unlabelled piles, positives and negatives (`load_texts` reads .txt,
.jsonl, Parquet and gristmill output folders). The shipped model
(`models/quality.ftz`, see `models/QUALITY_MODEL_CARD.md`) is trained on 400 of 499
annotated documents, so its card quotes cross-validated metrics (`cross_validate`).

A document is scored in one pass: lowercased, cut into tokens, its first
`MAX_WORDS` tokens on one line (fastText averages the word and bigram vectors,
so length is no problem; the cut bounds the cost of a huge page).
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
from collections.abc import Mapping, Sequence

import numpy as np

from classifiers.training import (
    Example,
    FastTextParams,
    fasttext_line,
    label_probabilities,
    load_model,
    precision_at_fraction,
    roc_auc,
    split_examples,
    stratified_folds,
    train_fasttext,
)
from pipeline.core.errors import require

DEFAULT_MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "quality.ftz")

HIGH, LOW = "hq", "lq"  # the model's two fastText labels
HIGH_LABELS = frozenset({"1", "true", "hq", "high", "positive"})
LOW_LABELS = frozenset({"0", "false", "lq", "low", "negative"})

MAX_WORDS = 1000
"""Tokens of a document the model sees (training and scoring alike)."""
KEPT_FRACTIONS = (0.1, 0.5)
"""Kept fractions at which precision is reported: DCLM keeps the top ~10%."""

QUALITY_PARAMS = FastTextParams(
    epoch=25, lr=0.5, dim=32, word_ngrams=2, min_count=1, bucket=200_000, quantize=True, cutoff=10_000
)

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]")  # words (inner apostrophes kept) and single punctuation marks


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class QualityClassifierConfig:
    """The fastText quality classifier (classifiers/quality.py), applied to the documents the
    heuristics keep. It scores documents in `languages` (`quality_score`; others stay null and are
    not filtered by it), then keeps by `min_score`, by `keep_top_fraction` computed over the whole
    run, or keeps everything (both null: the score is recorded for later selection)."""

    enabled: bool = True
    """Score documents at all; false leaves quality_score null."""
    model_path: str | None = None
    """A fastText quality model; null is the shipped classifiers/models/quality.ftz (DCLM annotations,
    English; see its model card)."""
    languages: tuple[str, ...] = ("en",)
    """Languages the model was trained on; empty scores every language."""
    min_score: float | None = None
    """Drop scored documents below this P(high quality): QUALITY_SCORE_TOO_LOW."""
    keep_top_fraction: float | None = None
    """Keep this top share of scored documents, by score over the whole run (DCLM keeps ~0.1); the
    cut is an approximate quantile (1/1000 resolution): BELOW_QUALITY_TOP_FRACTION."""

    def check(self, key: str) -> None:
        if self.min_score is not None:
            require(0.0 <= self.min_score <= 1.0, f"{key}.min_score", f"must be in [0, 1], not {self.min_score}")
        if self.keep_top_fraction is not None:
            require(
                0.0 < self.keep_top_fraction <= 1.0,
                f"{key}.keep_top_fraction",
                f"must be in (0, 1], not {self.keep_top_fraction}",
            )
        require(
            self.min_score is None or self.keep_top_fraction is None,
            key,
            "set min_score or keep_top_fraction, not both",
        )
        require(
            self.enabled or (self.min_score is None and self.keep_top_fraction is None),
            key,
            "min_score and keep_top_fraction need enabled: true",
        )

    def __post_init__(self) -> None:
        self.check("quality.classifier")


def quality_model_input(text: str, max_words: int = MAX_WORDS) -> str:
    """The one text form the model sees: lowercase, words and punctuation marks as
    separate tokens, the first `max_words` of them, one line."""
    return " ".join(_TOKEN.findall(text.lower().replace("\u2019", "'"))[:max_words])


def is_high_quality_label(label: str) -> bool:
    """Map a file's label to the binary task: 1/true/hq/high/positive vs 0/false/lq/low/negative."""
    label = label.strip().lower()
    if label in HIGH_LABELS:
        return True
    if label in LOW_LABELS:
        return False
    raise ValueError(
        f"label {label!r} is neither high quality ({', '.join(sorted(HIGH_LABELS))}) "
        f"nor low quality ({', '.join(sorted(LOW_LABELS))})"
    )


class QualityScorer:
    """Loads a quality model once (in `DoFn.setup`); `score(text)` gives P(high quality) in [0, 1]."""

    def __init__(self, model_path: str | None = None):
        self._model = load_model(model_path or DEFAULT_MODEL_PATH, "quality", HIGH)

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """P(high quality) of each document: shape (len(texts),)."""
        return label_probabilities(self._model, [quality_model_input(t) for t in texts], HIGH)

    def score(self, text: str) -> float:
        return float(self.score_texts([text])[0])


# --- metrics -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class QualityMetrics:
    """How well a score ranks documents; a keep-the-top filter cares only about the order."""

    n: int
    positives: int
    roc_auc: float  # nan when only one class is present
    precision_at: Mapping[float, float]  # kept fraction -> share of high-quality documents among the kept


def evaluate(
    scores: Sequence[float], truth: Sequence[bool], fractions: Sequence[float] = KEPT_FRACTIONS
) -> QualityMetrics:
    truth = np.asarray(truth, dtype=bool)
    return QualityMetrics(
        n=len(truth),
        positives=int(truth.sum()),
        roc_auc=roc_auc(scores, truth),
        precision_at={f: precision_at_fraction(scores, truth, f) for f in fractions},
    )


def format_quality_table(rows: Mapping[str, QualityMetrics]) -> str:
    """A plain-text table, one row per named evaluation; `base` is the share of positives (a random filter's
    precision)."""
    fractions = sorted({f for m in rows.values() for f in m.precision_at})
    header = f"{'':<24} {'n':>6} {'pos':>6} {'base':>6} {'ROC AUC':>7}" + "".join(
        f" {f'P@{f:.0%}':>7}" for f in fractions
    )
    lines = [header]
    for name, m in rows.items():
        cells = "".join(f" {m.precision_at[f]:>7.3f}" if f in m.precision_at else f" {'-':>7}" for f in fractions)
        lines.append(
            f"{name:<24} {m.n:>6} {m.positives:>6} {m.positives / m.n if m.n else 0:>6.3f} {m.roc_auc:>7.4f}{cells}"
        )
    return "\n".join(lines)


# --- training ----------------------------------------------------------------


def as_examples(positives: Sequence[str] = (), negatives: Sequence[str] = ()) -> list[Example]:
    """Unlabelled piles as labelled examples: positives high quality, negatives low."""
    return [Example(t, HIGH) for t in positives] + [Example(t, LOW) for t in negatives]


@dataclasses.dataclass(frozen=True, slots=True)
class TrainingResult:
    model: object  # the fastText model, quantized when the params say so
    train_size: int  # training documents
    held_out: QualityMetrics  # on the held-out split


def train_quality_model(
    examples: Sequence[Example], *, seed: int = 0, test_fraction: float = 0.2, params: FastTextParams = QUALITY_PARAMS
) -> TrainingResult:
    """Train on labelled documents (`as_examples` turns positive and negative piles
    into them), holding out `test_fraction` of each label (stratified, fixed by
    `seed`) and measuring on it."""
    _check_labels(examples)
    train, test = split_examples(examples, test_fraction=test_fraction, seed=seed)
    model = _fit(train, params, seed)
    return TrainingResult(model, len(train), _measure(model, test))


@dataclasses.dataclass(frozen=True, slots=True)
class CrossValidation:
    folds: tuple[QualityMetrics, ...]  # one per fold, measured on that fold
    out_of_fold: np.ndarray  # (len(examples),): each example's score from the model that did not see it

    @property
    def roc_auc(self) -> tuple[float, float]:
        """(mean, standard deviation) of the per-fold ROC AUC."""
        return _mean_std([m.roc_auc for m in self.folds])

    def precision_at(self, fraction: float) -> tuple[float, float]:
        """(mean, standard deviation) of the per-fold precision at a kept fraction."""
        return _mean_std([m.precision_at[fraction] for m in self.folds])


def cross_validate(
    examples: Sequence[Example], *, folds: int = 5, seed: int = 0, params: FastTextParams = QUALITY_PARAMS
) -> CrossValidation:
    """Stratified k-fold cross-validation: each fold is scored by a model trained on the others."""
    _check_labels(examples)
    parts = stratified_folds(examples, folds=folds, seed=seed)
    metrics, out_of_fold = [], np.zeros(len(examples))
    for i, test_indices in enumerate(parts):
        train = [examples[k] for j, part in enumerate(parts) if j != i for k in part]
        test = [examples[k] for k in test_indices]
        model = _fit(train, params, seed)
        metrics.append(_measure(model, test))
        out_of_fold[test_indices] = _probabilities(model, test)
    return CrossValidation(tuple(metrics), out_of_fold)


def _check_labels(examples: Sequence[Example]) -> None:
    classes = {is_high_quality_label(e.label) for e in examples}  # an unknown label fails before any training
    if classes != {True, False}:
        raise ValueError(
            "training needs both high- and low-quality documents; "
            f"got only {'high' if True in classes else 'low' if classes else 'none'}"
        )


def _fit(train: Sequence[Example], params: FastTextParams, seed: int):
    lines = [fasttext_line(HIGH if is_high_quality_label(e.label) else LOW, quality_model_input(e.text)) for e in train]
    random.Random(seed).shuffle(
        lines
    )  # fastText reads in order: interleave the labels (cross-validation folds come grouped)
    return train_fasttext(lines, params, seed=seed)


def _probabilities(model, examples: Sequence[Example]) -> np.ndarray:
    return label_probabilities(model, [quality_model_input(e.text) for e in examples], HIGH)


def _measure(model, test: Sequence[Example]) -> QualityMetrics:
    return evaluate(_probabilities(model, test), [is_high_quality_label(e.label) for e in test])


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))
