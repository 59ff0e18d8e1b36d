"""`gristmill decontam index` on the real GSM8K and HumanEval files, read in place."""

from __future__ import annotations

import pytest
from conftest import skip_or_fail

from filters.decontamination import NgramIndex
from gristmill.cli import main


@pytest.fixture(scope="module")
def files(shared_data) -> list[str]:
    folder = shared_data / "benchmarks"
    if not folder.is_dir():
        skip_or_fail(f"evaluation sets not found at {folder}")
    return [str(folder / "gsm8k" / "test.jsonl"), str(folder / "humaneval" / "HumanEval.jsonl.gz")]


def test_builds_an_index_the_stage_can_load(files, tmp_path, capsys):
    out = tmp_path / "sub" / "index.npz"
    code = main(
        ["decontam", "index", *files, "--out", str(out), "--field", "test.jsonl=question,answer"]
        + ["--field", "HumanEval.jsonl.gz=prompt", "--name", "HumanEval.jsonl.gz=he"]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert f"indexed 2 evaluation sets into {out}" in printed
    assert "| gsm8k | test.jsonl:question,answer | 1,319 | 2,638 | 1 | 0 |" in printed
    assert "| he | HumanEval.jsonl.gz:prompt | 164 | 164 | 0 | 0 |" in printed
    assert "n-grams left out as boilerplate (in >= 10 items): 2" in printed
    with open(out, "rb") as source:
        index = NgramIndex.load(source)
    question = (
        "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her "
        "friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck "
        "egg. How much in dollars does she make every day at the farmers' market?"
    )
    assert index.find(f"Our puzzle of the day! {question} Answer tomorrow.", 0.5).items == (0,)


def test_settings_reach_the_index(files, tmp_path, capsys):
    out = tmp_path / "index.npz"
    code = main(["decontam", "index", files[1], "--out", str(out), "--field", f"{files[1]}=prompt", "--ngram", "8"])
    assert code == 0
    with open(out, "rb") as source:
        index = NgramIndex.load(source)
    assert (index.ngram, index.max_items_per_ngram, [s.name for s in index.sets]) == (8, 10, ["humaneval"])


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "name the fields to index (its records have: question, answer)"),
        (["--field", "test.jsonl=nope"], "record 0 has no field nope"),
        (["--field", "other.jsonl=question"], "--field other.jsonl=question: expected FILE=FIELD naming exactly one"),
    ],
)
def test_errors_name_the_file_and_exit_2(files, tmp_path, capsys, extra, message):
    assert main(["decontam", "index", files[0], "--out", str(tmp_path / "i.npz"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "i.npz").exists()
