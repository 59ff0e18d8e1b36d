from pathlib import Path

import pytest

from classifiers.langid import LanguageIdentifier, LanguagePrediction, judge_language
from pipeline.core.records import DropReason

# Languages with sentence files in the shared lingua set; lid.176 must get most of them right.
LANGS = ["en", "de", "fr", "es", "ru", "ja", "zh", "ar", "pt", "it", "pl", "tr"]


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


def test_real_sentences_in_twelve_languages(identifier, shared_data: Path):
    for lang in LANGS:
        lines = (
            (shared_data / "langid" / "lingua" / "sentences" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
        )
        paragraph = " ".join(lines[:8])
        prediction = identifier.predict(paragraph)
        assert prediction.lang == lang, (lang, prediction)
        assert prediction.score > 0.8, (lang, prediction)


def test_sentence_level_accuracy(identifier, shared_data: Path):
    correct = total = 0
    for lang in LANGS:
        lines = (
            (shared_data / "langid" / "lingua" / "sentences" / f"{lang}.txt")
            .read_text(encoding="utf-8")
            .splitlines()[:100]
        )
        correct += sum(identifier.predict(line).lang == lang for line in lines)
        total += len(lines)
    assert correct / total > 0.9


def test_newlines_and_empty_text(identifier):
    assert identifier.predict("") == LanguagePrediction("", 0.0)
    assert identifier.predict("   \n\t ") == LanguagePrediction("", 0.0)
    multi_line = identifier.predict("The weather is fine today.\nWe will walk to the park\nand eat lunch there.")
    assert multi_line.lang == "en"


def test_judge():
    en = LanguagePrediction("en", 0.7)
    assert judge_language(en, min_score=0.5).keep
    assert judge_language(en, min_score=0.5, thresholds={"en": 0.8}).reason is DropReason.LANGUAGE_SCORE_TOO_LOW
    assert judge_language(en, min_score=0.9, thresholds={"en": 0.65}).keep
    assert judge_language(en, min_score=0.5, languages=("de", "fr")).reason is DropReason.LANGUAGE_NOT_WANTED
    assert judge_language(LanguagePrediction("de", 0.3), min_score=0.5).reason is DropReason.LANGUAGE_SCORE_TOO_LOW
