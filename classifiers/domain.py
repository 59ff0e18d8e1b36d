"""Domain: a multi-class fastText classifier over the domain taxonomy's tags.

No model ships: the URL rules (`filters/domain_rules.py`) tag documents, and a
user with labelled pages trains a model with `gristmill classifiers train domain
--data FILE` (csv or jsonl, `text` and `label`, labels being taxonomy tags). The
pipeline then uses it to back up the rules (documents the rules leave "other")
or to replace them (config `domains.classifier`).

The model sees a document's first `_MAX_WORDS` words, lower-cased, digits folded
to 0: a page's genre shows early, and fastText's cost is linear in length.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence

from classifiers.training import Example, FastTextParams, fasttext_line, load_model, split_examples, train_fasttext

_LABEL_PREFIX = "__label__"
_MAX_WORDS = 1_000
_TOKEN = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
_QUANTIZE_MIN_ROWS = 256  # fastText refuses to quantize a smaller input matrix (words + buckets)

# Measured on 240 trafilatura-eval pages labelled by the URL rules (80 each of
# other, blog_personal, news; 20% held out): word unigrams reached 0.60 accuracy,
# bigrams 0.40, char n-grams 0.54; 1,000 words beat 300 (0.60 vs 0.46). Without
# n-grams no hash buckets are needed (bucket=0). Quantizing: 3.4 MB -> 0.75 MB.
DOMAIN_PARAMS = FastTextParams(
    epoch=30, lr=0.5, dim=32, word_ngrams=1, min_count=1, bucket=0, quantize=True, cutoff=20_000
)


def domain_model_input(text: str) -> str:
    """The one form the model sees, in training and in prediction: one line of lower-case words."""
    words = _TOKEN.findall(text.lower())[:_MAX_WORDS]
    return _DIGIT.sub("0", " ".join(words))


class DomainClassifier:
    """Loads a domain model once (in `DoFn.setup`); `predict(text)` gives `(tag, probability)`."""

    def __init__(self, model_path: str, *, tags: Collection[str] | None = None):
        """`tags`, when given, is the taxonomy: a model with a label outside it is refused."""
        self._model = load_model(model_path, "domain")
        self.labels = tuple(label.removeprefix(_LABEL_PREFIX) for label in self._model.labels)
        unknown = sorted(set(self.labels) - set(tags)) if tags is not None else []
        if unknown:
            raise ValueError(
                f"{model_path} is not a domain model of this taxonomy: labels {', '.join(unknown)} "
                f"are not tags ({', '.join(tags)})"
            )

    def predict(self, text: str) -> tuple[str | None, float]:
        """The most probable tag and its probability; `(None, 0.0)` for a text without words."""
        line = domain_model_input(text)
        if not line:
            return None, 0.0
        labels, probabilities = self._model.predict(line, k=1)
        return labels[0].removeprefix(_LABEL_PREFIX), min(float(probabilities[0]), 1.0)  # softmax can round above 1


# --- training and metrics ----------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ClassMetrics:
    support: int  # held-out examples of this class
    precision: float
    recall: float
    f1: float


@dataclasses.dataclass(frozen=True, slots=True)
class MulticlassMetrics:
    n: int
    accuracy: float
    macro_f1: float  # unweighted mean of per-class F1 over classes in the truth or the predictions
    per_class: Mapping[str, ClassMetrics]


@dataclasses.dataclass(frozen=True, slots=True)
class DomainTrainingResult:
    model: object  # the fastText model, quantized when the params say so
    train_size: int
    held_out: MulticlassMetrics


def check_labels(examples: Sequence[Example], tags: Collection[str]) -> None:
    """Every label must be a taxonomy tag, and there must be two at least."""
    for example in examples:
        if example.label not in tags:
            raise ValueError(f"label {example.label!r} is not a domain tag; allowed: {', '.join(tags)}")
    if len({e.label for e in examples}) < 2:
        raise ValueError("a domain classifier needs examples of at least two tags")


def train_domain_model(
    examples: Sequence[Example],
    tags: Collection[str],
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    params: FastTextParams = DOMAIN_PARAMS,
) -> DomainTrainingResult:
    """Train on `examples` less a held-out split (stratified, fixed by `seed`) and measure on that split.
    A vocabulary too small to quantize gives an unquantized model (small anyway)."""
    check_labels(examples, tags)  # an unknown label fails before any training
    train, test = split_examples(examples, test_fraction=test_fraction, seed=seed)
    lines = [domain_model_input(e.text) for e in train]
    if len({word for line in lines for word in line.split()}) + 1 < _QUANTIZE_MIN_ROWS:  # + 1: fastText's "</s>"
        params = dataclasses.replace(params, quantize=False)
    model = train_fasttext([fasttext_line(e.label, line) for e, line in zip(train, lines)], params, seed=seed)
    predicted = _top_labels(model, [domain_model_input(e.text) for e in test])
    return DomainTrainingResult(model, len(train), multiclass_metrics(predicted, [e.label for e in test]))


def _top_labels(model, lines: Sequence[str]) -> list[str]:
    if not lines:
        return []
    labels, _ = model.predict(list(lines), k=1)
    return [top[0].removeprefix(_LABEL_PREFIX) if top else "" for top in labels]


def multiclass_metrics(predicted: Sequence[str], truth: Sequence[str]) -> MulticlassMetrics:
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predictions for {len(truth)} labels")
    per_class = {}
    for tag in sorted(set(truth) | set(predicted)):
        tp = sum(1 for p, t in zip(predicted, truth) if p == tag and t == tag)
        predicted_n = sum(1 for p in predicted if p == tag)
        support = sum(1 for t in truth if t == tag)
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        per_class[tag] = ClassMetrics(support, precision, recall, f1)
    n = len(truth)
    accuracy = sum(1 for p, t in zip(predicted, truth) if p == t) / n if n else 0.0
    macro_f1 = sum(m.f1 for m in per_class.values()) / len(per_class) if per_class else 0.0
    return MulticlassMetrics(n, accuracy, macro_f1, per_class)


def format_multiclass_table(metrics: MulticlassMetrics) -> str:
    """Per-class precision, recall and F1, then accuracy and macro-F1."""
    lines = [f"{'tag':<20} {'n':>6} {'prec':>6} {'recall':>6} {'F1':>6}"]
    for tag, m in metrics.per_class.items():
        lines.append(f"{tag:<20} {m.support:>6} {m.precision:>6.3f} {m.recall:>6.3f} {m.f1:>6.3f}")
    lines.append(f"{'accuracy':<20} {metrics.n:>6} {metrics.accuracy:>6.3f}")
    lines.append(f"{'macro F1':<20} {metrics.n:>6} {metrics.macro_f1:>6.3f}")
    return "\n".join(lines)
