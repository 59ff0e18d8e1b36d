import gzip
import json
import os
import random
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifiers.langid import lid176_path
from classifiers.toxicity import (
    DEFAULT_MODEL_PATH,
    ToxicityScorer,
    document_score,
    evaluate,
    is_toxic_label,
    split_passages,
    toxicity_model_input,
)
from classifiers.training import load_examples, split_examples
from gristmill.cli import main
from pipeline.config import ToxicityConfig

REPO = Path(__file__).resolve().parents[2]
MODEL_CARD = REPO / "classifiers" / "models" / "TOXICITY_MODEL_CARD.md"
MAX_SCORE = ToxicityConfig().max_score

CLEAN_PROSE = (
    "The library opens at nine on weekdays and at ten on Saturdays.\n"
    "Volunteers will repaint the reading room next month, so the children's corner moves upstairs for two weeks.\n"
    "Please return borrowed laptops to the front desk before closing time; late returns delay the next booking."
)
TOXIC_RANT = (
    "shut the fuck up you stupid bitch nobody cares\n"
    "these hoes are trash and so are you, fucking idiot\n"
    "i swear this nigga is the dumbest piece of shit alive"
)


# --- pure functions ----------------------------------------------------------


def test_toxicity_model_input():
    assert (
        toxicity_model_input("RT @some_user: Check THIS out!!! http://t.co/x1 &amp; sooooo good &#128514;")
        == "xxuser check this out xxurl soo good"
    )
    assert toxicity_model_input("Don’t visit www.example.com/a?b=c, it's #awful") == "don't visit xxurl it's awful"
    assert toxicity_model_input("line one\nline two\t") == "line one line two"
    assert toxicity_model_input("") == ""


def test_gendered_words_fold_together():
    assert (
        toxicity_model_input("She told her mother")
        == toxicity_model_input("He told his father")
        == "xxpron told xxpron father"
    )
    assert toxicity_model_input("Women and girls") == "men and boys"


def test_toxic_labels():
    assert [is_toxic_label(x) for x in ("hate", "offensive", "toxic", "1", "TRUE")] == [True] * 5
    assert [is_toxic_label(x) for x in ("neither", "clean", "0", "false")] == [False] * 4
    with pytest.raises(
        ValueError, match=r"label 'spam' is neither toxic \(1, hate, offensive, toxic, true\) nor clean"
    ):
        is_toxic_label("spam")


def test_passages_merge_short_lines_and_split_long_ones():
    assert split_passages("") == []
    assert split_passages("Menu\nHome\nAbout us\nThe opening hours change in May.") == [
        "menu home about us the opening hours change in may"
    ]
    long_line = " ".join(f"w{i}" for i in range(45))
    pieces = split_passages(long_line)
    assert [len(p.split()) for p in pieces] == [15, 15, 15]  # 45 words: three equal pieces, not 20 + 20 + 5
    assert split_passages("a b c d e f\ntail") == ["a b c d e f tail"]  # a short tail joins the last passage
    assert split_passages("just two") == ["just two"]


def test_document_score_is_a_length_weighted_quantile():
    assert document_score([], []) == 0.0
    assert document_score([0.9, 0.1], [10, 90]) == 0.1  # the toxic passage is 10% of the words: not enough
    assert document_score([0.9, 0.1], [30, 70]) == 0.9  # 30%: enough
    assert document_score([0.9, 0.1], [20, 80]) == 0.9  # exactly 20% counts
    assert document_score([0.2, 0.95, 0.7, 0.0], [10, 10, 10, 70]) == 0.7  # top two passages cover 20%
    assert document_score([0.9, 0.1], [10, 90], share=0.1) == 0.9


def test_evaluate_reports_hate_vs_neither_only_with_davidson_labels():
    results = evaluate([0.9, 0.8, 0.2, 0.6], ["hate", "offensive", "neither", "neither"])
    assert results["toxic vs clean"].roc_auc == 1.0
    assert results["hate vs neither"].n == 3 and results["hate vs neither"].positives == 1
    assert list(evaluate([0.9, 0.1], ["1", "0"])) == ["toxic vs clean"]


# --- the shipped model -------------------------------------------------------


@pytest.fixture(scope="module")
def scorer() -> ToxicityScorer:
    return ToxicityScorer()


def test_shipped_model_is_small():
    assert os.path.getsize(DEFAULT_MODEL_PATH) < 2_000_000


def test_toxic_text_scores_high_and_clean_prose_low(scorer):
    assert scorer.score(TOXIC_RANT) > MAX_SCORE
    assert scorer.score(CLEAN_PROSE) < 0.1
    assert scorer.score("") == 0.0
    assert scorer.score(" \n\t") == 0.0
    texts = scorer.score_texts(["you stupid bitch", "lovely weather for a picnic"])
    assert texts[0] > 0.9 and texts[1] < 0.1


def test_one_insult_does_not_condemn_a_long_page(scorer):
    page = "\n".join([CLEAN_PROSE] * 4 + ["shut the fuck up you stupid bitch"] + [CLEAN_PROSE] * 4)
    assert scorer.score(page) < 0.1
    half = "\n".join([CLEAN_PROSE, TOXIC_RANT])
    assert scorer.score(half) > MAX_SCORE


def test_score_ignores_gender(scorer):
    he = "He said his brother drove him to the station, and the man thanked his father."
    she = "She said her sister drove her to the station, and the woman thanked her mother."
    assert scorer.score(he) == scorer.score(she)


def test_clean_text_about_identity_groups_is_kept(scorer):
    groups = ["black", "white", "asian", "mexican", "jewish", "muslim", "christian", "gay", "lesbian", "transgender"]
    page = "\n".join(
        f"The {g} community organised a food drive at the library this weekend, and many families came." for g in groups
    )
    assert scorer.score(page) < MAX_SCORE


def test_model_errors_are_specific(tmp_path):
    with pytest.raises(FileNotFoundError, match="toxicity model not found"):
        ToxicityScorer(str(tmp_path / "missing.ftz"))
    if os.path.exists(lid176_path()):
        with pytest.raises(ValueError, match="is not a toxicity model"):
            ToxicityScorer(lid176_path())


# --- command line ------------------------------------------------------------


def test_cli_eval_prints_metrics(tmp_path, capsys):
    data = tmp_path / "labelled.jsonl"
    rows = [
        {"text": TOXIC_RANT, "label": "toxic"},
        {"text": CLEAN_PROSE, "label": "clean"},
        {"text": "you stupid bitch", "label": 1},
        {"text": "lovely weather for a picnic", "label": 0},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["classifiers", "eval", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"toxic vs clean\s+4\s+2\s+0\.50\s+1\.000\s+1\.000\s+1\.000\s+0\.000\s+1\.0000", out), out
    assert main(["classifiers", "eval", "--data", str(data), "--documents"]) == 0
    assert f"{MAX_SCORE:.2f}" in capsys.readouterr().out


def test_cli_errors_name_the_problem(tmp_path, capsys):
    data = tmp_path / "bad.csv"
    data.write_text("text,label\nhello,spam\n")
    assert main(["classifiers", "train", "toxicity", "--data", str(data), "--output", str(tmp_path / "m.ftz")]) == 2
    assert "label 'spam' is neither toxic" in capsys.readouterr().err
    assert main(["classifiers", "eval", "--model", str(tmp_path / "none.ftz"), "--data", str(data)]) == 2
    assert "toxicity model not found" in capsys.readouterr().err
    assert not (tmp_path / "m.ftz").exists()


# --- rebuild and document-level measurement (real data) ----------------------


def _card_rebuild() -> tuple[list[str], float]:
    """The rebuild command and the AUC floor, as the model card states them."""
    card = MODEL_CARD.read_text(encoding="utf-8")
    command = re.search(r"```sh\n(gristmill classifiers train toxicity [^\n]+)\n```", card).group(1)
    floor = float(re.search(r"held-out toxic-vs-clean ROC AUC of at least (0\.\d+)", card).group(1))
    return shlex.split(command), floor


@pytest.mark.slow
def test_model_card_rebuild_command_reaches_its_auc_floor(tmp_path, shared_data):
    argv, floor = _card_rebuild()
    output = tmp_path / "toxicity.ftz"
    argv[argv.index("--output") + 1] = str(output)
    result = subprocess.run(
        [sys.executable, "-m", "gristmill.cli", *argv[1:]], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    auc = float(re.search(r"^toxic vs clean .* (\d\.\d+)$", result.stdout, re.M).group(1))
    assert auc >= floor, result.stdout
    assert output.stat().st_size <= 5_000_000


def _web_pages(shared_data: Path) -> list[tuple[str, str]]:
    """(language, main text) of the trafilatura benchmark pages, extracted as the pipeline does."""
    import trafilatura

    from classifiers.langid import LanguageIdentifier

    identifier = LanguageIdentifier()
    pages = []
    for path in sorted((shared_data / "extraction" / "trafilatura-eval" / "html").glob("*.gz")):
        text = trafilatura.extract(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"), favor_precision=True)
        if text:
            pages.append((identifier.predict(text).lang, text))
    return pages


def _with_tweets(text: str, tweets: list[str], share: float, rng: random.Random) -> str:
    """Insert paragraphs of three tweets at random places until they are `share` of the words."""
    paragraphs = text.split("\n")
    wanted, added = len(text.split()) * share / (1 - share), 0
    while added < wanted:
        paragraph = " ".join(rng.choice(tweets) for _ in range(3))
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), paragraph)
        added += len(paragraph.split())
    return "\n".join(paragraphs)


def document_benchmark(scorer: ToxicityScorer, shared_data: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Document scores by kind. Clean: real web pages (English, other languages),
    DCLM-annotated web documents, English pages with 25% held-out *neither* tweets.
    Toxic: English pages with 10/25/50% of their words in held-out toxic tweets,
    and pages of toxic tweets only. Held-out = the model card's split (seed 0)."""
    davidson = load_examples(shared_data / "toxicity" / "davidson" / "labeled_dev.csv")
    _, held_out = split_examples(davidson, seed=0)
    toxic = [e.text for e in held_out if is_toxic_label(e.label)]
    neither = [e.text for e in held_out if e.label == "neither"]
    pages = _web_pages(shared_data)
    english = [text for lang, text in pages if lang == "en"]
    dclm = [
        json.loads(line)["text"]
        for line in (shared_data / "quality" / "dclm-annotations" / "majority_data.jsonl").open()
    ]
    rng = random.Random(seed)
    docs = {
        "clean: web, English": english,
        "clean: web, other languages": [text for lang, text in pages if lang != "en"],
        "clean: DCLM web documents": dclm,
        "clean: web + 25% neither tweets": [_with_tweets(t, neither, 0.25, rng) for t in english],
        "toxic: web + 10% toxic tweets": [_with_tweets(t, toxic, 0.10, rng) for t in english],
        "toxic: web + 25% toxic tweets": [_with_tweets(t, toxic, 0.25, rng) for t in english],
        "toxic: web + 50% toxic tweets": [_with_tweets(t, toxic, 0.50, rng) for t in english],
        "toxic: tweets only": [
            "\n".join(" ".join(rng.choice(toxic) for _ in range(3)) for _ in range(10)) for _ in range(150)
        ],
    }
    return {kind: np.array([scorer.score(text) for text in texts]) for kind, texts in docs.items()}


@pytest.mark.slow
def test_document_level_false_positives_and_recall(scorer, shared_data, capsys):
    scores = document_benchmark(scorer, shared_data)
    with capsys.disabled():
        print(
            f"\ndocuments flagged (toxicity_score > t), shipped model:\n{'':34}"
            + "".join(f"{t:>8}" for t in (0.5, 0.7, 0.8, 0.9))
        )
        for kind, s in scores.items():
            print(f"{kind:<34}" + "".join(f"{(s > t).mean():>8.3f}" for t in (0.5, 0.7, 0.8, 0.9)) + f"   n={len(s)}")
    flagged = {kind: (s > MAX_SCORE).mean() for kind, s in scores.items()}
    assert len(scores["clean: web, English"]) > 150
    assert flagged["clean: web, English"] <= 0.01
    assert flagged["clean: web, other languages"] <= 0.005
    assert flagged["clean: DCLM web documents"] <= 0.01  # the one flagged at 0.8 swears throughout
    assert flagged["clean: web + 25% neither tweets"] <= 0.03
    assert flagged["toxic: web + 25% toxic tweets"] >= 0.9
    assert flagged["toxic: web + 50% toxic tweets"] >= 0.98
    assert flagged["toxic: tweets only"] == 1.0
