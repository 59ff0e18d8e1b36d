"""The topic and format models: inputs, training, folds by host, the shipped models, and their rebuild."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from classifiers.content import (
    DEFAULT_MODEL_PATHS,
    ContentClassifier,
    content_model_input,
    group_folds,
    shape_tokens,
    train_content_model,
)
from classifiers.training import Example
from filters.taxonomy import Taxonomy

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = Taxonomy.load()
SHOP = "Red shoes\nPrice: 49,99 €\nIn stock\nAdd to cart\nSize 42\n$ 12.00 shipping\nSold by Shoe Co\n€ 3 off"
STEPS = "Pancakes\n1. Mix the flour and the eggs.\n2. Add milk slowly.\n3. Stir well.\n4. Bake both sides."


def test_shape_tokens_see_layout_in_any_language():
    assert "__price1" in shape_tokens(SHOP) and "__steps" in shape_tokens(STEPS)  # 3 prices: the 2..4 bucket
    assert "__steps" not in shape_tokens(SHOP) and shape_tokens("") == ["__empty"]
    prose = "Une longue phrase qui continue encore et encore sans s'arrêter vraiment. " * 30
    assert "__short0" in shape_tokens(prose) and "__punct3" in shape_tokens(prose)


def test_model_input_is_bounded_and_folds_digits():
    line = content_model_input("Das Spiel endete 3:1 am 12.05.2024", "topic")
    assert line == "das spiel endete 0 0 am 00 00 0000"
    assert content_model_input("word " * 100_000, "topic").count("word") == 600
    assert content_model_input(SHOP, "format").startswith("__lines")


def test_folds_never_split_a_host():
    hosts = ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] + ["e"] * 2
    parts = group_folds(hosts, 3)
    assert sorted(i for part in parts for i in part) == list(range(len(hosts)))
    for part in parts:
        for other in parts:
            if part is not other:
                assert not {hosts[i] for i in part} & {hosts[i] for i in other}


def test_a_trained_model_predicts_and_can_be_restricted(tmp_path):
    sports = [Example(f"the team won the match in the league final goal {i}", "sports") for i in range(30)]
    food = [Example(f"bake the cake with flour sugar and butter recipe {i}", "lifestyle") for i in range(30)]
    model = train_content_model(sports + food, "topic")
    path = tmp_path / "topic.ftz"
    model.save_model(str(path))
    classifier = ContentClassifier(str(path), "topic", classes=TAXONOMY.topics)
    assert classifier.predict("a great goal in the final match")[0] == "sports"
    label, probability = classifier.predict("a great goal in the final match", allowed={"lifestyle"})
    assert (label, probability) == ("lifestyle", pytest.approx(1.0))
    assert classifier.predict("") == (None, 0.0)
    with pytest.raises(ValueError, match="not a format model of this taxonomy"):
        ContentClassifier(str(path), "format", classes=TAXONOMY.formats)


def test_the_shipped_models_are_small_and_of_this_taxonomy():
    for axis, classes in (("topic", TAXONOMY.topics), ("format", TAXONOMY.formats)):
        path = Path(DEFAULT_MODEL_PATHS[axis])
        assert path.stat().st_size < 10_000_000
        model = ContentClassifier(str(path), axis, classes=classes)
        assert len(model.labels) >= 10
    topic = ContentClassifier(DEFAULT_MODEL_PATHS["topic"], "topic")
    assert (
        topic.predict("The striker scored twice as the club won the championship final in the stadium")[0] == "sports"
    )
    fmt = ContentClassifier(DEFAULT_MODEL_PATHS["format"], "format")
    assert fmt.predict(STEPS + "\n5. Serve warm with syrup.")[0] == "tutorial_howto"


@pytest.mark.slow
def test_the_card_rebuild_command_labels_real_pages_and_trains(shared_data, tmp_path):
    """The model card's commands on a slice of the shared pages: labels from evidence, and a model."""
    pages = tmp_path / "pages.jsonl"

    def gristmill(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "gristmill.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    gristmill("classifiers", "label-pages", str(shared_data / "warc"), "--out", str(pages))
    rows = [json.loads(line) for line in pages.read_text().splitlines()]
    assert len(rows) > 100 and all(r["text"] and r["source"] for r in rows)
    formats = {r["format"] for r in rows if r["format"]}
    assert "knowledge_article" in formats and len(formats) >= 3  # Wikipedia pages by their URL rule, and more
    assert all(r["topic"] in TAXONOMY.topics for r in rows if r["topic"])
    out = gristmill(
        "classifiers", "train", "format", "--data", str(pages), "--folds", "3", "--output", str(tmp_path / "format.ftz")
    )
    assert "3-fold cross-validation, folds by host" in out and "| truth \\ predicted |" in out
    assert ContentClassifier(str(tmp_path / "format.ftz"), "format", classes=TAXONOMY.formats).labels
