"""Toxicity: a fastText classifier of short texts, applied to web documents passage by passage.

The shipped model (`models/toxicity.ftz`, see `models/TOXICITY_MODEL_CARD.md`) is
trained by `gristmill classifiers train toxicity` on the Davidson et al. (2017)
tweets, where *toxic* means hate speech or offensive language (classes 0 and 1)
and *clean* means neither (class 2), plus clean prose sentences as extra clean
examples: trained on tweets alone (83% of them toxic), the model scores 19% of
clean English web passages above 0.5 (the card has the measurements).

A model of tweet-length texts cannot score a 5,000-word page in one pass (one
insult in a 1,200-word clean page still scores 0.81: the score follows any
profanity, at lengths it never saw), nor can the page's *most* toxic line decide
(one quoted insult drops a news article). So a
document is cut into tweet-sized passages (lines, long ones split evenly, short
ones merged with the next), each passage gets P(toxic), and the document score
is a length-weighted high quantile: the P(toxic) that the most toxic
`TOXIC_SHARE` of the document's words reach. A document scores high only when a
fifth of its text is toxic.
"""

from __future__ import annotations

import dataclasses
import html
import os
import random
import re
from collections.abc import Sequence

import numpy as np

from classifiers.training import (
    BinaryMetrics,
    Example,
    FastTextParams,
    binary_metrics,
    fasttext_line,
    label_probabilities,
    load_model,
    split_examples,
    train_fasttext,
)

DEFAULT_MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "toxicity.ftz")

TOXIC, CLEAN = "toxic", "clean"  # the model's two fastText labels
TOXIC_LABELS = frozenset({"hate", "offensive", "toxic", "1", "true"})
CLEAN_LABELS = frozenset({"neither", "clean", "0", "false"})

# Passages: Davidson tweets run 3-50 words (median 13). Lines shorter than
# _MIN_PASSAGE_WORDS (menu items, captions) join the next line; longer lines are
# cut into equal pieces of at most _MAX_PASSAGE_WORDS. 20 beat 40 on the
# document benchmark: a longer window dilutes an abusive sentence into its neighbours.
_MIN_PASSAGE_WORDS = 5
_MAX_PASSAGE_WORDS = 20
TOXIC_SHARE = 0.2
"""The document score is the P(toxic) reached by the most toxic 20% of its words
(length-weighted quantile). 0.2 keeps a page with one abusive paragraph among
ten, and catches pages a quarter toxic or worse (see the model card)."""

# Tweet-level AUC moved < 0.002 between 10 and 50 epochs, dim 16 and 64, or with
# char n-grams; lr 0.1 lost 0.004. Keeping the 25,000 strongest rows when
# quantizing gives a 0.8 MB file at no measured cost.
TOXICITY_PARAMS = FastTextParams(
    epoch=10, lr=0.05, dim=32, word_ngrams=2, min_count=1, bucket=200_000, quantize=True, cutoff=25_000
)

_URL = re.compile(r"(?:https?://|www\.)\S+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_ELONGATION = re.compile(r"(\w)\1{2,}")  # "sooooo" -> "soo"
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # letters and digits, inner apostrophes kept
_TWEET_MARKERS = frozenset({"rt"})  # retweet marker: tweet-only, absent from web text
# Davidson's offensive tweets are mostly about women, so a model trained on them
# learns "she/her" as evidence of abuse: swapping he->she in clean web passages
# quadrupled the passages flagged (model card). Folding gendered pronouns into one
# token and female nouns into their male pair makes the score blind to that swap.
# Gendered slurs are left alone: they are the signal.
_GENDER_FOLD = {
    **dict.fromkeys(("he", "she", "him", "her", "his", "hers", "himself", "herself"), "xxpron"),
    "woman": "man",
    "women": "men",
    "girl": "boy",
    "girls": "boys",
    "lady": "gentleman",
    "ladies": "gentlemen",
    "female": "male",
    "females": "males",
    "wife": "husband",
    "wives": "husbands",
    "mother": "father",
    "mothers": "fathers",
    "mom": "dad",
    "mum": "dad",
    "daughter": "son",
    "daughters": "sons",
    "sister": "brother",
    "sisters": "brothers",
    "aunt": "uncle",
    "niece": "nephew",
    "girlfriend": "boyfriend",
    "queen": "king",
    "mrs": "mr",
    "ms": "mr",
    "grandmother": "grandfather",
    "grandma": "grandpa",
}


def toxicity_model_input(text: str) -> str:
    """The one text form the model sees, in training and in scoring: HTML entities
    decoded, lowercase, URLs and @mentions as placeholder tokens, runs of a
    repeated character cut to two, gendered words folded together, punctuation and
    emoji dropped, one line."""
    text = html.unescape(text).lower().replace("\u2019", "'")
    text = _URL.sub(" xxurl ", text)
    text = _MENTION.sub(" xxuser ", text)
    text = _ELONGATION.sub(r"\1\1", text)
    return " ".join(_GENDER_FOLD.get(t, t) for t in _TOKEN.findall(text) if t not in _TWEET_MARKERS)


def is_toxic_label(label: str) -> bool:
    """Map a file's label to the binary task: hate and offensive are toxic, neither is clean."""
    label = label.lower()
    if label in TOXIC_LABELS:
        return True
    if label in CLEAN_LABELS:
        return False
    raise ValueError(
        f"label {label!r} is neither toxic ({', '.join(sorted(TOXIC_LABELS))}) "
        f"nor clean ({', '.join(sorted(CLEAN_LABELS))})"
    )


def split_passages(text: str) -> list[str]:
    """Normalized, tweet-sized passages of a document, in order."""
    passages: list[list[str]] = []
    pending: list[str] = []
    for line in text.splitlines():
        pending += toxicity_model_input(line).split()
        if len(pending) >= _MIN_PASSAGE_WORDS:
            pieces = -(-len(pending) // _MAX_PASSAGE_WORDS)
            size = -(-len(pending) // pieces)
            passages += [pending[i : i + size] for i in range(0, len(pending), size)]
            pending = []
    if pending:
        if passages:
            passages[-1] += pending
        else:
            passages.append(pending)
    return [" ".join(p) for p in passages]


def document_score(probabilities: Sequence[float], word_counts: Sequence[int], share: float = TOXIC_SHARE) -> float:
    """The length-weighted (1 - share) quantile of passage probabilities: the
    highest p such that passages scoring >= p hold at least `share` of the words."""
    if len(probabilities) == 0:
        return 0.0
    p = np.asarray(probabilities, dtype=float)
    w = np.asarray(word_counts, dtype=float)
    order = np.argsort(-p, kind="stable")
    covered = np.cumsum(w[order]) / w.sum()
    return float(p[order][np.searchsorted(covered, share - 1e-9)])


class ToxicityScorer:
    """Loads a toxicity model once (in `DoFn.setup`); `score(text)` gives a document score in [0, 1]."""

    def __init__(self, model_path: str | None = None):
        self._model = load_model(model_path or DEFAULT_MODEL_PATH, "toxicity", TOXIC)

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """P(toxic) of each short text (a tweet, a sentence) taken whole: shape (len(texts),)."""
        return label_probabilities(self._model, [toxicity_model_input(t) for t in texts], TOXIC)

    def score(self, text: str) -> float:
        passages = split_passages(text)
        if not passages:
            return 0.0
        probabilities = label_probabilities(self._model, passages, TOXIC)
        return document_score(probabilities, [p.count(" ") + 1 for p in passages])


# --- training ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class TrainingResult:
    model: object  # the fastText model, quantized when the params say so
    train_size: int  # training lines (labelled examples + clean texts)
    held_out: dict[str, BinaryMetrics]  # evaluation name -> metrics on the held-out split


def train_toxicity_model(
    examples: Sequence[Example],
    clean_texts: Sequence[str] = (),
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    params: FastTextParams = TOXICITY_PARAMS,
) -> TrainingResult:
    """Train on labelled examples plus clean texts (extra negatives), holding out
    `test_fraction` of each (stratified, fixed by `seed`) and measuring on it."""
    for example in examples:
        is_toxic_label(example.label)  # an unknown label fails before any training
    prose = [Example(t, CLEAN) for t in clean_texts if t.strip()]
    train, test = split_examples(examples, test_fraction=test_fraction, seed=seed)
    prose_train, prose_test = split_examples(prose, test_fraction=test_fraction, seed=seed) if prose else ([], [])
    lines = [
        fasttext_line(TOXIC if is_toxic_label(e.label) else CLEAN, toxicity_model_input(e.text))
        for e in train + prose_train
    ]
    random.Random(seed).shuffle(lines)  # fastText reads in order: interleave the two sources
    model = train_fasttext(lines, params, seed=seed)

    def probabilities(items: Sequence[Example]) -> np.ndarray:
        return label_probabilities(model, [toxicity_model_input(e.text) for e in items], TOXIC)

    held_out = evaluate(probabilities(test), [e.label for e in test])
    if prose_test:
        held_out["clean prose"] = binary_metrics(probabilities(prose_test), np.zeros(len(prose_test), dtype=bool))
    return TrainingResult(model, len(lines), held_out)


def evaluate(scores: Sequence[float], labels: Sequence[str], threshold: float = 0.5) -> dict[str, BinaryMetrics]:
    """Metrics of toxicity scores against file labels: toxic vs clean, and hate vs
    neither (offensive left out) when the labels are Davidson's three classes."""
    scores = np.asarray(scores, dtype=float)
    names = np.array([label.lower() for label in labels])
    results = {"toxic vs clean": binary_metrics(scores, [is_toxic_label(n) for n in names], threshold)}
    hate_or_neither = (names == "hate") | (names == "neither")
    if (names == "hate").any() and (names == "neither").any():
        results["hate vs neither"] = binary_metrics(
            scores[hate_or_neither], names[hate_or_neither] == "hate", threshold
        )
    return results
