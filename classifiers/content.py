"""Topic and format from a page's text: two fastText models over the taxonomy's classes.

The models are students: `gristmill classifiers label-pages` labels real pages by what
they declare (schema.org, Open Graph, sections), by the URL rules and by a zero-shot
embedding model (classifiers/labelling.py), and `gristmill classifiers train topic|format`
fits these models to the labels from the text alone, so pages with no metadata on hosts no
rule knows are tagged too (see models/CONTENT_MODEL_CARD.md).

What a model sees: the first 600 words of the first 6,000 characters (`filters.topic_words.words_of`:
the topic vocabularies read the same words), lower-cased, digits folded to 0. The
format model also sees a few *shape tokens* (`shape_tokens`): a page's kind shows in its
layout as much as in its words (many short lines and prices: a shop; a question and
replies: a forum; numbered steps: a how-to), and shape carries across languages.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import re
from collections.abc import Collection, Mapping, Sequence

import numpy as np

from classifiers.training import Example, FastTextParams, fasttext_line, load_model, train_fasttext
from filters.topic_words import MAX_CHARS
from filters.topic_words import words_of as model_words

AXES = ("topic", "format")
MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
DEFAULT_MODEL_PATHS = {axis: os.path.join(MODELS_DIR, f"{axis}.ftz") for axis in AXES}


# Small data (about a thousand labelled pages): unigrams only, so no hash buckets; dim 32. The
# quantized model keeps the `cutoff` most useful words.
CONTENT_PARAMS = FastTextParams(
    epoch=40, lr=0.5, dim=32, word_ngrams=1, min_count=2, bucket=0, quantize=True, cutoff=40_000
)

_LABEL_PREFIX = "__label__"
_DIGIT = re.compile(r"\d")
_PRICE = re.compile(r"(?:[$€£¥]\s?\d|\d[\d.,]*\s?(?:€|eur|usd|\$|£|chf)\b)", re.IGNORECASE)
_DATE = re.compile(r"\b(?:\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)\b")
_STEP = re.compile(r"^[ \t]*(?:step[ \t]*\d+|schritt[ \t]*\d+|\d+[.)][ \t])", re.IGNORECASE | re.MULTILINE)
_CODE = re.compile(
    r"[{};][ \t]*$|^[ \t]*(?:def |class |import |function |var |const |#include|<\?php|\$ )", re.MULTILINE
)
_ENDS = frozenset(".!?:;。！？")
_QUANTIZE_MIN_ROWS = 256  # fastText refuses to quantize a smaller input matrix


def _bucket(value: float, edges: Sequence[float]) -> int:
    """Index of the first edge above `value` (len(edges) when none)."""
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


def shape_tokens(text: str) -> list[str]:
    """Layout features as pseudo-words (`__lines3`, `__short2`, `__price`, ...), language-neutral."""
    head = text[:MAX_CHARS]
    lines = [line for line in (raw.strip() for raw in head.split("\n")) if line]
    if not lines:
        return ["__empty"]
    words = [line.count(" ") + 1 for line in lines]
    total = sum(words)
    n = len(lines)
    tokens = [
        f"__lines{_bucket(n, (3, 8, 20, 50, 150))}",
        f"__words{_bucket(total, (50, 150, 400, 1000, 3000))}",
        f"__wpl{_bucket(total / n, (4, 8, 15, 30, 60))}",
        f"__short{_bucket(sum(1 for w in words if w <= 4) / n, (0.1, 0.3, 0.5, 0.7))}",
        f"__punct{_bucket(sum(1 for line in lines if line[-1] in _ENDS) / n, (0.2, 0.5, 0.8))}",
        f"__ask{_bucket(sum(1 for line in lines if line[-1] == '?') / n, (0.02, 0.1, 0.25))}",
    ]
    prices = len(_PRICE.findall(head))
    if prices:
        tokens.append(f"__price{_bucket(prices, (2, 5, 15))}")
    if _DATE.search(head):
        tokens.append("__date")
    if len(_STEP.findall(head)) >= 3:
        tokens.append("__steps")
    if len(_CODE.findall(head)) >= 3:
        tokens.append("__code")
    return tokens


def model_line(words: Sequence[str], text: str, axis: str) -> str:
    """The one line a model sees, in training and in prediction: the words, digits folded to 0, and
    for the format model the shape tokens first."""
    line = _DIGIT.sub("0", " ".join(words))
    if axis == "format":
        return " ".join([*shape_tokens(text), line]).strip()
    return line


def content_model_input(text: str, axis: str) -> str:
    return model_line(model_words(text), text, axis)


class ContentClassifier:
    """One axis's model, loaded once (in `DoFn.setup`). `predict(text)` gives (class, probability);
    `allowed` restricts the choice to some classes (e.g. the article kinds when a page declares
    og:type=article), the probabilities renormalized over them."""

    def __init__(self, model_path: str, axis: str, *, classes: Collection[str] | None = None):
        if axis not in AXES:
            raise ValueError(f"axis must be one of {', '.join(AXES)}, not {axis!r}")
        self.axis = axis
        self._model = load_model(model_path, f"{axis} classifier")
        self.labels = tuple(label.removeprefix(_LABEL_PREFIX) for label in self._model.labels)
        unknown = sorted(set(self.labels) - set(classes)) if classes is not None else []
        if unknown:
            raise ValueError(
                f"{model_path} is not a {axis} model of this taxonomy: labels {', '.join(unknown)} are not {axis}s"
            )

    def probabilities(self, text: str, words: Sequence[str] | None = None) -> dict[str, float]:
        """Every class's probability (empty for a text without words); `words`: model_words(text), if known."""
        line = model_line(model_words(text) if words is None else words, text, self.axis)
        if not line:
            return {}
        labels, probs = self._model.predict(line, k=-1, threshold=0.0)
        return {label.removeprefix(_LABEL_PREFIX): min(float(p), 1.0) for label, p in zip(labels, probs)}

    def predict(
        self, text: str, allowed: Collection[str] | None = None, words: Sequence[str] | None = None
    ) -> tuple[str | None, float]:
        probs = self.probabilities(text, words)
        if allowed is not None:
            probs = {label: p for label, p in probs.items() if label in allowed}
        if not probs:
            return None, 0.0
        total = sum(probs.values())
        best = max(probs, key=probs.__getitem__)
        return best, probs[best] / total if total > 0 else 0.0


# --- training and evaluation ------------------------------------------------------------------------------------


def balanced_lines(examples: Sequence[Example], axis: str, *, seed: int = 0, max_repeat: int = 4) -> list[str]:
    """Training lines with small classes repeated (up to `max_repeat` times, towards the median
    class size) so fastText's softmax does not learn the largest class as a default; shuffled."""
    by_label: dict[str, list[Example]] = {}
    for example in examples:
        by_label.setdefault(example.label, []).append(example)
    median = sorted(len(group) for group in by_label.values())[len(by_label) // 2]
    lines = []
    for label, group in sorted(by_label.items()):
        repeat = max(1, min(max_repeat, math.ceil(median / len(group))))
        lines += [fasttext_line(label, content_model_input(e.text, axis)) for e in group] * repeat
    random.Random(seed).shuffle(lines)
    return lines


def train_content_model(
    examples: Sequence[Example], axis: str, *, seed: int = 0, params: FastTextParams = CONTENT_PARAMS
):
    """A fastText model of `axis` on all `examples` (labels already checked against the taxonomy)."""
    if len({e.label for e in examples}) < 2:
        raise ValueError(f"a {axis} classifier needs examples of at least two classes")
    lines = balanced_lines(examples, axis, seed=seed)
    vocabulary = {word for line in lines for word in line.split()[1:]}
    if len(vocabulary) + 1 < _QUANTIZE_MIN_ROWS:
        params = dataclasses.replace(params, quantize=False)
    return train_fasttext(lines, params, seed=seed)


def group_folds(groups: Sequence[str], folds: int, *, seed: int = 0) -> list[list[int]]:
    """Indices in `folds` parts such that no group (a host) is split across parts: a model tested
    on a page never saw another page of its site, whose template and words it would recognize."""
    by_group: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        by_group.setdefault(group, []).append(i)
    names = sorted(by_group)
    random.Random(seed).shuffle(names)
    parts: list[list[int]] = [[] for _ in range(folds)]
    for name in sorted(names, key=lambda n: -len(by_group[n])):  # largest groups first, each to the smallest part
        min(parts, key=len).extend(by_group[name])
    return parts


def cross_validated_predictions(
    examples: Sequence[Example],
    groups: Sequence[str],
    axis: str,
    *,
    folds: int = 5,
    seed: int = 0,
    params: FastTextParams = CONTENT_PARAMS,
) -> list[tuple[str | None, float]]:
    """For every example, the (class, probability) of a model trained on the other folds (folds by group)."""
    predictions: list[tuple[str | None, float]] = [(None, 0.0)] * len(examples)
    for part in group_folds(groups, folds, seed=seed):
        held = set(part)
        train = [e for i, e in enumerate(examples) if i not in held]
        model = train_content_model(train, axis, seed=seed, params=dataclasses.replace(params, quantize=False))
        for i in part:
            line = content_model_input(examples[i].text, axis)
            if not line:
                continue
            labels, probs = model.predict(line, k=1)
            predictions[i] = (labels[0].removeprefix(_LABEL_PREFIX), min(float(probs[0]), 1.0))
    return predictions


def confusion(predicted: Sequence[str | None], truth: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """(C, C) counts, rows the truth, columns the prediction, in `classes` order (others not counted)."""
    index = {name: i for i, name in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for p, t in zip(predicted, truth):
        if p in index and t in index:
            matrix[index[t], index[p]] += 1
    return matrix


def format_confusion(matrix: np.ndarray, classes: Sequence[str]) -> str:
    """A Markdown confusion table, rows the truth; classes absent from both sides are left out."""
    present = [i for i in range(len(classes)) if matrix[i].sum() or matrix[:, i].sum()]
    short = {i: classes[i][:10] for i in present}
    lines = ["| truth \\ predicted | " + " | ".join(short[i] for i in present) + " |", "|---|" + "---:|" * len(present)]
    for i in present:
        lines.append(f"| {classes[i]} | " + " | ".join(str(matrix[i, j]) for j in present) + " |")
    return "\n".join(lines)


def label_counts(labels: Sequence[str | None]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for label in labels:
        if label is not None:
            counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
