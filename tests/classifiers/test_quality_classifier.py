import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifiers.quality import (
    DEFAULT_MODEL_PATH,
    QUALITY_PARAMS,
    QualityScorer,
    as_examples,
    cross_validate,
    evaluate,
    format_quality_table,
    is_high_quality_label,
    quality_model_input,
    train_quality_model,
)
from classifiers.toxicity import DEFAULT_MODEL_PATH as TOXICITY_MODEL_PATH
from classifiers.training import (
    Example,
    LabelledDataError,
    load_examples,
    load_texts,
    precision_at_fraction,
    sample_texts,
    stratified_folds,
)
from gristmill.cli import main
from pipeline.core.manifest import build_manifest
from pipeline.core.mixture_config import MixtureConfig

REPO = Path(__file__).resolve().parents[2]
MODEL_CARD = REPO / "classifiers" / "models" / "QUALITY_MODEL_CARD.md"
FAST = dataclasses.replace(QUALITY_PARAMS, quantize=False)  # the quantizing retrain is most of the training time


@pytest.fixture(scope="module")
def dclm(shared_data) -> Path:
    return shared_data / "quality" / "dclm-annotations"


# --- pure functions ----------------------------------------------------------


def test_quality_model_input():
    assert quality_model_input("The CAT's  hat,\nisn\u2019t it?") == "the cat's hat , isn't it ?"
    assert quality_model_input("one two three four", max_words=2) == "one two"
    assert quality_model_input("  \n ") == ""


def test_labels():
    assert [is_high_quality_label(label) for label in ("1", "true", "HQ", "high", "positive ")] == [True] * 5
    assert [is_high_quality_label(label) for label in ("0", "False", "lq", "low", "negative")] == [False] * 5
    with pytest.raises(
        ValueError, match=r"label 'spam' is neither high quality \(1, high, hq, positive, true\) nor low quality"
    ):
        is_high_quality_label("spam")


def test_precision_at_fraction_by_hand():
    scores, truth = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0], [1, 0, 1, 1, 0, 0, 1, 0, 0, 0]
    assert precision_at_fraction(scores, truth, 0.1) == 1.0  # top 1
    assert precision_at_fraction(scores, truth, 0.2) == 0.5  # top 2
    assert precision_at_fraction(scores, truth, 0.5) == 0.6  # top 5
    assert precision_at_fraction(scores, truth, 0.01) == 1.0  # at least one kept
    with pytest.raises(ValueError, match="fraction must be in"):
        precision_at_fraction(scores, truth, 0.0)
    metrics = evaluate(scores, truth, fractions=(0.2, 0.5))
    assert (metrics.n, metrics.positives, metrics.precision_at) == (10, 4, {0.2: 0.5, 0.5: 0.6})
    table = format_quality_table({"toy": metrics})
    assert re.search(r"toy\s+10\s+4\s+0\.400\s+\d\.\d{4}\s+0\.500\s+0\.600$", table), table


def test_stratified_folds_cover_everything_once_and_keep_label_shares():
    examples = [Example(f"doc {i}", "1" if i % 4 else "0") for i in range(40)]  # 30 high, 10 low
    parts = stratified_folds(examples, folds=5, seed=3)
    assert sorted(i for part in parts for i in part) == list(range(40))
    assert [sum(examples[i].label == "0" for i in part) for part in parts] == [2] * 5
    assert parts == stratified_folds(examples, folds=5, seed=3) != stratified_folds(examples, folds=5, seed=4)
    with pytest.raises(ValueError, match="folds must be between 2 and the number of examples"):
        stratified_folds(examples, folds=1)


def test_sample_texts_is_seeded_and_keeps_order():
    texts = [f"t{i}" for i in range(100)]
    sample = sample_texts(texts, 10, seed=1)
    assert len(sample) == 10 and sample == sorted(sample, key=texts.index)
    assert sample == sample_texts(texts, 10, seed=1) != sample_texts(texts, 10, seed=2)
    assert sample_texts(texts, None) == texts == sample_texts(texts, 500)


# --- loading unlabelled texts ------------------------------------------------


def _write_parquet(path: Path, texts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": [f"id{i}" for i in range(len(texts))], "text": texts}), path)


def _gristmill_output(folder: Path, shards: dict[str, list[str]]) -> Path:
    """A minimal pipeline output folder: Parquet shards under data/ and the manifest listing them."""
    infos = []
    for domain, texts in shards.items():
        relative = f"data/domain={domain}/part-00000-of-00001.parquet"
        _write_parquet(folder / relative, texts)
        infos.append(
            {
                "path": relative,
                "domain": domain,
                "rows": len(texts),
                "bytes": (folder / relative).stat().st_size,
                "tokens_estimate": 10,
            }
        )
    manifest = build_manifest(
        infos,
        {"records_read": 9},
        config_hash="test",
        inputs=[],
        schema_version=1,
        version="test",
        mixture=MixtureConfig(),
    )
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_load_texts_from_every_kind_of_source(tmp_path):
    (tmp_path / "docs.txt").write_text("first doc\n\nsecond doc\n")
    (tmp_path / "docs.jsonl").write_text(
        '{"text": "json one", "label": 1}\n\n{"text": "json\\ntwo", "url": "x"}\n{"text": " "}\n'
    )
    _write_parquet(tmp_path / "docs.parquet", ["pq one", "", "pq two"])
    out = _gristmill_output(tmp_path / "out", {"news": ["news a", "news b"], "blog": ["blog a"]})
    assert load_texts(tmp_path / "docs.txt") == ["first doc", "second doc"]
    assert load_texts(tmp_path / "docs.jsonl") == ["json one", "json\ntwo"]
    assert load_texts(tmp_path / "docs.parquet") == ["pq one", "pq two"]
    assert load_texts(out) == ["blog a", "news a", "news b"]  # manifest order: shards sorted by path
    assert load_texts(out, per_file=1) == ["blog a", "news a"]


def test_load_texts_errors_name_the_file(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"body": "no text"}\n')
    with pytest.raises(LabelledDataError, match=r"bad\.jsonl:2: expected an object with a string 'text' key"):
        load_texts(tmp_path / "bad.jsonl")
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "notext.parquet")
    with pytest.raises(LabelledDataError, match=r"notext\.parquet: no 'text' column \(has: body\)"):
        load_texts(tmp_path / "notext.parquet")
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(LabelledDataError, match=r"fake\.parquet: not a Parquet file"):
        load_texts(tmp_path / "fake.parquet")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(LabelledDataError, match=r"manifest\.json: format: must be 'gristmill-manifest'"):
        load_texts(tmp_path / "out")
    with pytest.raises(LabelledDataError, match=r"missing\.parquet: no such file"):
        load_texts(tmp_path / "missing.parquet")


# --- training and the shipped model (real DCLM annotations) ------------------


def test_training_on_dclm_ranks_held_out_documents(dclm):
    examples = load_examples(dclm / "majority_data.jsonl")
    result = train_quality_model(examples, seed=0, params=FAST)
    assert result.train_size == 400 and (result.held_out.n, result.held_out.positives) == (99, 54)
    assert result.held_out.roc_auc > 0.75, result.held_out
    assert result.held_out.precision_at[0.1] >= 0.7, result.held_out


def test_cross_validation_scores_every_document_once(dclm):
    examples = load_examples(dclm / "majority_data.jsonl")[:200]
    cv = cross_validate(examples, folds=4, seed=0, params=FAST)
    assert len(cv.folds) == 4 and sum(m.n for m in cv.folds) == 200
    assert cv.out_of_fold.shape == (200,) and 0.0 < cv.out_of_fold.min() and cv.out_of_fold.max() <= 1.0
    mean, std = cv.roc_auc
    assert mean == pytest.approx(np.mean([m.roc_auc for m in cv.folds])) and mean > 0.6 and std > 0.0


def test_training_needs_both_classes_and_known_labels():
    with pytest.raises(ValueError, match="needs both high- and low-quality documents; got only high"):
        train_quality_model(as_examples(positives=["a b c"] * 10))
    with pytest.raises(ValueError, match="label 'spam' is neither"):
        train_quality_model([Example("a b", "spam"), Example("c d", "1")])


def test_shipped_model_is_small_and_ranks_the_agreement_set(dclm):
    assert os.path.getsize(DEFAULT_MODEL_PATH) <= 1_000_000
    examples = load_examples(dclm / "agreement_data.jsonl")
    scorer = QualityScorer()
    scores = scorer.score_texts([e.text for e in examples])
    truth = np.array([is_high_quality_label(e.label) for e in examples])
    # in-sample for ~80% of these documents (the model trained on them): a sanity floor, not an estimate
    assert scores[truth].mean() - scores[~truth].mean() > 0.3
    assert scorer.score(examples[0].text) == pytest.approx(scores[0])
    assert scorer.score("") < 0.01


def test_scorer_errors_are_specific(tmp_path):
    with pytest.raises(FileNotFoundError, match="quality model not found"):
        QualityScorer(str(tmp_path / "missing.ftz"))
    with pytest.raises(ValueError, match="is not a quality model"):
        QualityScorer(TOXICITY_MODEL_PATH)


# --- command line ------------------------------------------------------------


def test_cli_train_and_eval_roundtrip(tmp_path, dclm, capsys):
    data = tmp_path / "small.jsonl"
    data.write_text("".join(line for i, line in enumerate((dclm / "majority_data.jsonl").open()) if i % 4 == 0))
    model = tmp_path / "models" / "q.ftz"
    assert main(["classifiers", "train", "quality", "--data", str(data), "--folds", "3", "--output", str(model)]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"^trained quality on 100 documents \(125 labelled, 0 positive, 0 negative\)", out, re.MULTILINE
    ), out
    assert re.search(
        r"^3-fold cross-validation on all 125 documents .*ROC AUC 0\.\d{3} ± 0\.\d{3}, P@10% ", out, re.MULTILINE
    ), out
    assert re.search(r"^high vs low quality\s+25\s+14\s+0\.560\s+0\.\d{4}\s+", out, re.MULTILINE), out
    assert model.is_file() and model.stat().st_size < 1_000_000
    assert main(["classifiers", "eval", "--task", "quality", "--model", str(model), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert f"quality model {model} on 125 documents" in out
    assert re.search(r"^high vs low quality\s+125\s+70\s+0\.560\s+", out, re.MULTILINE), out


def test_cli_trains_on_positive_and_negative_piles(tmp_path, dclm, capsys):
    examples = load_examples(dclm / "majority_data.jsonl")
    (tmp_path / "hq.jsonl").write_text("".join(json.dumps({"text": e.text}) + "\n" for e in examples if e.label == "1"))
    crawl = _gristmill_output(tmp_path / "crawl", {"unknown": [e.text for e in examples if e.label == "0"]})
    model = tmp_path / "q.ftz"
    argv = [
        "classifiers",
        "train",
        "quality",
        "--positives",
        str(tmp_path / "hq.jsonl"),
        "--negatives",
        str(crawl),
        "--max-per-source",
        "60",
        "--folds",
        "0",
        "--output",
        str(model),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(0 labelled, 60 positive, 60 negative)" in out and "cross-validation" not in out, out
    assert QualityScorer(str(model)).score(examples[0].text) > 0.0


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "quality needs --data FILE (labelled), or both --positives and --negatives"),
        (["--positives", "x.txt"], "quality needs --data FILE"),
        (["--data", "{bad}"], "label 'spam' is neither high quality"),
        (["--data", "{good}", "--clean-text", "x.txt"], "--clean-text does not apply to quality"),
        (["--data", "{good}", "--max-per-source", "0"], "--max-per-source must be at least 1"),
        (["--positives", "{missing}", "--negatives", "{good}"], "missing.txt: no such file"),
    ],
)
def test_cli_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, extra, message):
    (tmp_path / "bad.jsonl").write_text('{"text": "a doc", "label": "spam"}\n')
    (tmp_path / "good.jsonl").write_text('{"text": "a doc", "label": 1}\n{"text": "b doc", "label": 0}\n')
    paths = {"bad": tmp_path / "bad.jsonl", "good": tmp_path / "good.jsonl", "missing": tmp_path / "missing.txt"}
    argv = ["classifiers", "train", "quality", *[a.format(**paths) for a in extra], "--output", str(tmp_path / "m.ftz")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.ftz").exists()


def test_cli_task_specific_flags(tmp_path, capsys):
    data = tmp_path / "good.jsonl"
    data.write_text('{"text": "a doc", "label": 1}\n')
    assert (
        main(
            [
                "classifiers",
                "train",
                "toxicity",
                "--data",
                str(data),
                "--positives",
                "x",
                "--output",
                str(tmp_path / "m.ftz"),
            ]
        )
        == 2
    )
    assert "--positives does not apply to toxicity" in capsys.readouterr().err
    assert main(["classifiers", "eval", "--task", "quality", "--data", str(data), "--documents"]) == 2
    assert "--documents applies to toxicity only" in capsys.readouterr().err


# --- the model card ----------------------------------------------------------


def _card_rebuild() -> tuple[list[str], float]:
    """The rebuild command and the cross-validated AUC floor, as the model card states them."""
    card = MODEL_CARD.read_text(encoding="utf-8")
    command = re.search(r"```sh\n(gristmill classifiers train quality [^\n]+)\n```", card).group(1)
    floor = float(re.search(r"cross-validated ROC AUC of at least (0\.\d+)", card).group(1))
    return shlex.split(command), floor


@pytest.mark.slow
def test_model_card_rebuild_command_reaches_its_auc_floor(tmp_path, shared_data):
    argv, floor = _card_rebuild()
    output = tmp_path / "quality.ftz"
    argv[argv.index("--output") + 1] = str(output)
    result = subprocess.run(
        [sys.executable, "-m", "gristmill.cli", *argv[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    auc = float(re.search(r"cross-validation .* ROC AUC (\d\.\d+) ±", result.stdout).group(1))
    assert auc >= floor, result.stdout
    assert output.stat().st_size <= 1_000_000
    assert output.read_bytes() == Path(DEFAULT_MODEL_PATH).read_bytes()  # training is deterministic
