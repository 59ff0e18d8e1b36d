import json
import math

import pytest

from classifiers.training import (
    Example,
    FastTextParams,
    LabelledDataError,
    binary_metrics,
    detect_format,
    fasttext_line,
    format_metrics_table,
    label_probabilities,
    load_examples,
    load_texts,
    roc_auc,
    split_examples,
    train_fasttext,
)

DAVIDSON_HEADER = ",count,hate_speech,offensive_language,neither,class,tweet\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- loading -----------------------------------------------------------------


def test_davidson_rows_become_named_labels(tmp_path):
    path = _write(
        tmp_path,
        "d.csv",
        DAVIDSON_HEADER
        + '0,3,3,0,0,0,"a hateful ""quoted"" tweet"\n'
        + "1,3,0,3,0,1,an offensive tweet\n"
        + '2,3,0,0,3,2,"a tweet over\ntwo lines"\n',
    )
    assert detect_format(path) == "davidson"
    assert load_examples(path) == [
        Example('a hateful "quoted" tweet', "hate"),
        Example("an offensive tweet", "offensive"),
        Example("a tweet over\ntwo lines", "neither"),
    ]


def test_davidson_bad_class_names_the_line(tmp_path):
    path = _write(tmp_path, "d.csv", DAVIDSON_HEADER + "0,3,0,3,0,1,fine\n1,3,0,3,0,3,bad class\n")
    with pytest.raises(LabelledDataError, match=r"d\.csv:3: label '3' not one of 0, 1, 2"):
        load_examples(path, "davidson")


def test_davidson_short_row_and_missing_column(tmp_path):
    short = _write(tmp_path, "short.csv", DAVIDSON_HEADER + "0,3,0,3\n")
    with pytest.raises(LabelledDataError, match=r"short\.csv:2: row has fewer fields than the header"):
        load_examples(short, "davidson")
    generic = _write(tmp_path, "g.csv", "text,label\nhello,0\n")
    with pytest.raises(LabelledDataError, match=r"g\.csv:1: header lacks column\(s\) class, tweet"):
        load_examples(generic, "davidson")


def test_generic_csv(tmp_path):
    path = _write(tmp_path, "g.csv", 'id,text,label\n7,You are lovely,0\n8,"shut up, idiot", 1 \n')
    assert detect_format(path) == "csv"
    assert load_examples(path) == [Example("You are lovely", "0"), Example("shut up, idiot", "1")]


def test_generic_csv_errors(tmp_path):
    with pytest.raises(LabelledDataError, match=r"header lacks column\(s\) label"):
        load_examples(_write(tmp_path, "a.csv", "text,class\nhi,0\n"), "csv")
    with pytest.raises(LabelledDataError, match=r"b\.csv:3: empty text"):
        load_examples(_write(tmp_path, "b.csv", "text,label\nhi,0\n  ,1\n"), "csv")
    with pytest.raises(LabelledDataError, match=r"c\.csv:2: label 'not toxic' is empty or contains whitespace"):
        load_examples(_write(tmp_path, "c.csv", "text,label\nhi,not toxic\n"), "csv")
    with pytest.raises(LabelledDataError, match=r"missing\.csv: no such file"):
        load_examples(tmp_path / "missing.csv", "csv")


def test_jsonl(tmp_path):
    rows = [
        {"text": "one", "label": "toxic"},
        {"text": "two", "label": 0},
        {"text": "three", "label": True, "extra": 1},
    ]
    path = _write(tmp_path, "x.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert detect_format(path) == "jsonl"
    assert load_examples(path) == [Example("one", "toxic"), Example("two", "0"), Example("three", "true")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"x\.jsonl:2: not valid JSON"),
        ('{"text": "no label"}', r"x\.jsonl:2: expected an object with 'text' and 'label' keys"),
        ('["text", "label"]', r"x\.jsonl:2: expected an object"),
        ('{"text": 5, "label": 1}', r"x\.jsonl:2: 'text' must be a string, not int"),
        ('{"text": "hi", "label": [1]}', r"x\.jsonl:2: 'label' must be a string or integer, not \[1\]"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path, line, message):
    path = _write(tmp_path, "x.jsonl", '{"text": "fine", "label": 1}\n' + line + "\n")
    with pytest.raises(LabelledDataError, match=message):
        load_examples(path)


def test_unknown_format(tmp_path):
    with pytest.raises(LabelledDataError, match="unknown format 'xml'; allowed: davidson, csv, jsonl"):
        load_examples(_write(tmp_path, "a.xml", "<a/>"), "xml")


def test_load_texts_from_file_and_folder(tmp_path):
    folder = tmp_path / "sentences"
    folder.mkdir()
    _write(folder, "b.txt", "b1\n\nb2\nb3\n")
    _write(folder, "a.txt", "  a1  \na2\n")
    _write(folder, "ignored.md", "not a text file\n")
    assert load_texts(folder) == ["a1", "a2", "b1", "b2", "b3"]
    assert load_texts(folder, per_file=1) == ["a1", "b1"]
    assert load_texts(folder / "b.txt") == ["b1", "b2", "b3"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabelledDataError, match="folder holds no .txt files"):
        load_texts(tmp_path / "empty")


# --- splitting ---------------------------------------------------------------


def test_split_is_stratified_disjoint_and_fixed_by_seed():
    examples = [Example(f"t{i}", "a") for i in range(100)] + [Example(f"u{i}", "b") for i in range(10)]
    train, test = split_examples(examples, test_fraction=0.2, seed=3)
    assert sorted(e.text for e in train + test) == sorted(e.text for e in examples)
    assert sum(e.label == "a" for e in test) == 20 and sum(e.label == "b" for e in test) == 2
    assert split_examples(examples, test_fraction=0.2, seed=3) == (train, test)
    assert split_examples(examples, test_fraction=0.2, seed=4)[1] != test
    with pytest.raises(ValueError, match="test_fraction"):
        split_examples(examples, test_fraction=1.0)


# --- metrics -----------------------------------------------------------------


def test_roc_auc_by_hand():
    # positives 0.35, 0.8; negatives 0.1, 0.4: 3 of 4 pairs ordered right
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5  # a tie counts half
    assert roc_auc([0.2, 0.9, 0.9, 0.1], [False, True, False, True]) == 0.375  # (0 + 0.5 + 1 + 0) / 4
    assert math.isnan(roc_auc([0.1, 0.2], [True, True]))


def test_binary_metrics_by_hand():
    m = binary_metrics([0.9, 0.8, 0.3, 0.6, 0.2], [True, True, True, False, False], threshold=0.5)
    # predicted 1 1 0 1 0: tp 2, fp 1, fn 1, tn 1
    assert (m.n, m.positives, m.threshold) == (5, 3, 0.5)
    assert m.precision == pytest.approx(2 / 3) and m.recall == pytest.approx(2 / 3) and m.f1 == pytest.approx(2 / 3)
    assert m.false_positive_rate == 0.5
    assert m.roc_auc == pytest.approx(5 / 6)  # 0.3 < 0.6 is the one misordered pair
    nothing = binary_metrics([0.1, 0.2], [True, False], threshold=0.5)
    assert (nothing.precision, nothing.recall, nothing.f1) == (0.0, 0.0, 0.0)
    assert binary_metrics([0.5], [True], threshold=0.5).recall == 1.0  # the threshold itself counts as positive


def test_metrics_table_has_one_row_per_evaluation():
    table = format_metrics_table({"toxic vs clean": binary_metrics([0.9, 0.1], [True, False])})
    header, row = table.splitlines()
    assert header.split() == ["n", "pos", "thresh", "prec", "recall", "F1", "FPR", "ROC", "AUC"]
    assert row.split() == ["toxic", "vs", "clean", "2", "1", "0.50", "1.000", "1.000", "1.000", "0.000", "1.0000"]


# --- training ----------------------------------------------------------------


def _tiny_corpus() -> list[str]:
    good = ["what a lovely sunny day", "thanks for the kind help", "the garden looks lovely today", "kind people help"]
    bad = ["you stupid idiot", "shut up you idiot", "what a stupid moron", "idiot moron shut up"]
    return [fasttext_line("clean", t) for t in good * 25] + [fasttext_line("toxic", t) for t in bad * 25]


def test_training_is_deterministic_and_learns():
    params = FastTextParams(epoch=5, dim=8, bucket=10_000, quantize=False)
    first = train_fasttext(_tiny_corpus(), params, seed=1)
    # Earlier models leave their weights in freed memory: fastText must not start
    # the next model from them (see training._zeroed_allocations).
    for _ in range(2):
        second = train_fasttext(_tiny_corpus(), params, seed=1)
        assert (first.get_input_matrix() == second.get_input_matrix()).all()
    texts = ["you idiot", "a lovely day", "moron"]
    p = label_probabilities(first, texts, "toxic")
    assert list(p) == list(label_probabilities(second, texts, "toxic"))
    assert p[0] > 0.5 > p[1] and p[2] > 0.5
    assert all(0.0 <= x <= 1.0 for x in p)
    assert len(label_probabilities(first, [], "toxic")) == 0
    with pytest.raises(ValueError, match="model has no label 'spam'; its labels: "):
        label_probabilities(first, texts, "spam")
