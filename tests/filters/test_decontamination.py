"""Decontamination on the real evaluation sets (GSM8K test, HumanEval) planted into real pages."""

from __future__ import annotations

import gzip
import io
import json
import random

import numpy as np
import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there

from filters.decontamination import (
    EvalSet,
    IndexFormatError,
    NgramIndex,
    decontaminate,
    describe,
    ngram_hashes,
    read_summary,
)
from filters.eval_sets import EvalSetError, read_items, set_name
from filters.evaluation.contamination import plant, reformat, shared_ngram
from filters.text_normalization import normalize_for_dedup, normalized_code_points
from pipeline.core.records import DropReason
from pipeline.fixtures.eval_pages import load_page_texts

PAGES = 60  # real page texts (~3 s to extract); the bench uses all of them
OVERLAP = 0.5  # DecontamConfig's default


@pytest.fixture(scope="module")
def benchmarks(shared_data):
    folder = shared_data / "benchmarks"
    if not folder.is_dir():
        skip_or_fail(f"evaluation sets not found at {folder}")
    return folder


@pytest.fixture(scope="module")
def gsm8k(benchmarks):
    return read_items(benchmarks / "gsm8k" / "test.jsonl", ["question", "answer"])


@pytest.fixture(scope="module")
def humaneval(benchmarks):
    return read_items(benchmarks / "humaneval" / "HumanEval.jsonl.gz", ["prompt"])


@pytest.fixture(scope="module")
def index(gsm8k, humaneval):
    return NgramIndex.build([EvalSet("gsm8k", gsm8k), EvalSet("humaneval", humaneval)])


@pytest.fixture(scope="module")
def pages(shared_data):
    return load_page_texts(shared_data / "extraction" / "trafilatura-eval" / "html", limit=PAGES)


@pytest.fixture(scope="module")
def planted_items(gsm8k, humaneval):
    """(item id, text): every 13th GSM8K question and every 4th HumanEval prompt."""
    return [(i, gsm8k[i][0]) for i in range(0, len(gsm8k), 13)] + [
        (len(gsm8k) + i, humaneval[i][0]) for i in range(0, len(humaneval), 4)
    ]


def test_ngram_hashes_are_stable():
    # stored in index files: a change here needs a new INDEX_FORMAT_VERSION
    hashes = ngram_hashes(normalized_code_points("The quick brown fox jumps over THE lazy dog!"), 8)
    assert [hex(h) for h in hashes.tolist()] == ["0x6ca5af1bf2afd4f8", "0x3fea0b0a52a2f6ff"]
    assert len(ngram_hashes(normalized_code_points("seven words are not enough here ok"), 8)) == 0


def test_the_real_sets_index(index):
    gsm8k, humaneval = index.sets
    assert (gsm8k.name, gsm8k.items, gsm8k.parts, humaneval.items, humaneval.parts) == ("gsm8k", 1319, 2638, 164, 164)
    assert gsm8k.too_short == 1  # one answer of fewer than 13 words
    assert len(index.hashes) == gsm8k.ngrams + humaneval.ngrams
    assert index.item_name(0) == "gsm8k:0" and index.item_name(1319 + 7) == "humaneval:7"


@pytest.mark.parametrize("how, goal", [("verbatim", 1.0), ("reformatted", 0.95), ("embedded", 1.0)])
def test_planted_items_are_caught(index, pages, planted_items, how, goal):
    rng = random.Random(17)
    caught = 0
    for k, (item, text) in enumerate(planted_items):
        doc = plant(pages[k % len(pages)], text, how, rng)
        result = decontaminate(doc, index, mode="drop", min_item_overlap=OVERLAP, min_words_after_redaction=50)
        if item in result.items:
            caught += 1
            assert result.reason == DropReason.CONTAMINATED
    assert caught / len(planted_items) >= goal


def test_reformatting_changes_the_text_not_the_words():
    rng = random.Random(3)
    question = "Janet's ducks lay 16 eggs per day. She eats three for breakfast, every morning."
    variant = reformat(question, rng)
    assert variant != question
    assert len(normalize_for_dedup(variant).split()) >= len(normalize_for_dedup(question).split()) - 3


def test_clean_real_pages_are_kept(index, pages):
    assert [i for i, page in enumerate(pages) if index.find(page, OVERLAP).items] == []


def test_one_shared_ngram_does_not_drop_a_page(index, pages, planted_items):
    rng = random.Random(5)
    for k, (item, text) in enumerate(planted_items):
        doc = shared_ngram(pages[k % len(pages)], text, index.ngram, rng)
        assert item in index.find(doc, 1e-9).items  # the page does share an n-gram (GPT-3's rule would drop it)
        assert index.find(doc, OVERLAP).items == ()


TEMPLATE = "Read the question below carefully and then write down the answer as a whole number: how many"
THINGS = ["marbles", "apples", "stamps", "coins", "books", "shells", "cards", "pens", "kites", "cups", "hats", "rings"]
QUESTIONS = [  # the template, then words of this item only
    f"{TEMPLATE} {thing} does {name} keep if {name} sells half of the {thing} on {day}?"
    for thing, name, day in zip(
        THINGS,
        "Ann Bo Cy Di Ed Flo Gus Hal Ivy Jo Kai Lu".split(),
        "Mon Tue Wed Thu Fri Sat Sun Mon Tue Wed Thu Fri".split(),
    )
]
PROSE = " ".join(
    f"Paragraph {i} tells the story of the old mill by the river and the people who worked in it." for i in range(8)
)


def test_ngrams_common_to_many_items_are_not_indexed():
    index = NgramIndex.build([EvalSet("quiz", [(q,) for q in QUESTIONS])], ngram=8, max_items_per_ngram=10)
    template_ngrams = len(normalize_for_dedup(TEMPLATE).split()) - 8 + 1
    assert index.common_ngrams == template_ngrams
    assert index.find(f"{PROSE}\n{TEMPLATE} Then more prose follows here.\n{PROSE}", 1e-9).items == ()
    assert index.find(f"{PROSE}\n{QUESTIONS[3]}\n{PROSE}", OVERLAP).items == (3,)
    kept = NgramIndex.build([EvalSet("quiz", [(q,) for q in QUESTIONS])], ngram=8, max_items_per_ngram=20)
    assert kept.common_ngrams == 0 and len(kept.hashes) == len(index.hashes) + template_ngrams * len(QUESTIONS)


def test_short_parts_are_counted_not_indexed():
    index = NgramIndex.build([EvalSet("mixed", [("too short to index",), (QUESTIONS[0], "also short")])], ngram=8)
    (summary,) = index.sets
    assert (summary.items, summary.parts, summary.too_short, summary.all_common) == (2, 3, 2, 0)
    assert index.find("it is too short to index anyway, this text", 1e-9).items == ()


def test_an_item_matches_by_any_of_its_parts(index, gsm8k, pages):
    answer = gsm8k[10][1]
    assert index.find(f"{pages[0]}\n{answer}", OVERLAP).items == (10,)


def test_redact_keeps_the_rest(index, gsm8k, pages):
    page, question = pages[1], gsm8k[42][0]
    for how in ("verbatim", "embedded"):
        doc = plant(page, question, how, random.Random(8))
        result = decontaminate(doc, index, mode="redact", min_item_overlap=OVERLAP, min_words_after_redaction=50)
        assert (result.items, result.reason) == ((42,), None)
        assert index.find(result.text, 1e-9).items == ()
        assert normalize_for_dedup(question) not in normalize_for_dedup(result.text)
        assert len(question) - 5 <= result.redacted_chars <= len(question)  # a final "?" may stay
        kept_words = normalize_for_dedup(result.text).split()
        assert len(kept_words) >= len(normalize_for_dedup(page).split()) - 2
    for paragraph in page.split("\n"):  # planted as its own paragraph: every paragraph of the page is intact
        assert (
            paragraph
            in decontaminate(
                plant(page, question, "verbatim", random.Random(8)),
                index,
                mode="redact",
                min_item_overlap=OVERLAP,
                min_words_after_redaction=50,
            ).text
        )


def test_redact_drops_a_document_with_too_little_left(index, gsm8k):
    doc = f"Homework for Monday:\n{gsm8k[5][0]}\nGood luck!"
    result = decontaminate(doc, index, mode="redact", min_item_overlap=OVERLAP, min_words_after_redaction=50)
    assert (result.items, result.reason, result.text) == ((5,), DropReason.CONTAMINATED, doc)
    kept = decontaminate(doc, index, mode="redact", min_item_overlap=OVERLAP, min_words_after_redaction=3)
    assert kept.reason is None and kept.text.split() == ["Homework", "for", "Monday:", "?", "Good", "luck!"]


def test_a_drop_names_its_items_never_text(index):
    assert describe(index, (0, 1320)) == "gsm8k:0 humaneval:1"
    assert describe(index, tuple(range(8))) == "gsm8k:0 gsm8k:1 gsm8k:2 gsm8k:3 gsm8k:4 +3 more"


def test_index_round_trip_through_a_file(index, gsm8k, pages, tmp_path):
    path = tmp_path / "index.npz"
    with open(path, "wb") as sink:
        index.save(sink)
    with open(path, "rb") as source:
        loaded = NgramIndex.load(source)
    with open(path, "rb") as source:
        assert read_summary(source) == list(index.sets)
    for name in ("hashes", "parts", "part_items", "part_ngrams"):
        assert np.array_equal(getattr(loaded, name), getattr(index, name)), name
    assert (loaded.ngram, loaded.sets, loaded.common_ngrams) == (index.ngram, index.sets, index.common_ngrams)
    doc = plant(pages[2], gsm8k[99][0], "embedded", random.Random(1))
    assert loaded.find(doc, OVERLAP).items == index.find(doc, OVERLAP).items == (99,)

    class Unseekable(io.RawIOBase):  # an object-store stream may not seek: the index is read whole first
        def __init__(self, data: bytes):
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert len(NgramIndex.load(Unseekable(path.read_bytes())).hashes) == len(index.hashes)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_bad_index_files_raise_a_clear_error(index):
    good = io.BytesIO()
    index.save(good)
    meta = json.loads(np.load(io.BytesIO(good.getvalue()))["meta"].tobytes())
    old = {**meta, "format_version": 0}
    arrays = {k: v for k, v in np.load(io.BytesIO(good.getvalue())).items() if k != "meta"}
    cases = {
        b"not an index at all": "not a gristmill decontamination index",
        good.getvalue()[: len(good.getvalue()) // 2]: "not a gristmill decontamination index",
        _npz(x=np.zeros(3)): "not a gristmill decontamination index",
        _npz(meta=np.frombuffer(b'{"format": "other"}', np.uint8)): "not a gristmill decontamination index",
        _npz(meta=np.frombuffer(json.dumps(old).encode(), np.uint8), **arrays): "rebuild it",
        _npz(
            **{**arrays, "hashes": arrays["hashes"][::-1].copy()},
            meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
        ): "inconsistent",
    }
    for data, message in cases.items():
        with pytest.raises(IndexFormatError, match=message):
            NgramIndex.load(io.BytesIO(data), "bad.npz")


def test_read_items_formats(tmp_path):
    (tmp_path / "qa.jsonl").write_text('{"q": "one?", "a": 1}\n\n{"q": "two?", "a": [2, 3]}\n', encoding="utf-8")
    assert read_items(tmp_path / "qa.jsonl", ["q", "a"]) == [("one?", "1"), ("two?", "2\n3")]
    (tmp_path / "qa.csv.gz").write_bytes(gzip.compress(b'q,a\n"one, really?",1\ntwo?,2\n'))
    assert read_items(tmp_path / "qa.csv.gz", ["q"]) == [("one, really?",), ("two?",)]
    (tmp_path / "lines.txt").write_text("first item\n\nsecond item\r\n", encoding="utf-8")
    assert read_items(tmp_path / "lines.txt") == [("first item",), ("second item",)]
    with pytest.raises(EvalSetError, match="name the fields to index .its records have: q, a"):
        read_items(tmp_path / "qa.jsonl")
    with pytest.raises(EvalSetError, match="record 0 has no field b"):
        read_items(tmp_path / "qa.jsonl", ["q", "b"])
    (tmp_path / "bad.jsonl").write_text('{"q": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(EvalSetError, match="bad.jsonl:2: a JSON list"):
        read_items(tmp_path / "bad.jsonl", ["q"])
    assert [set_name(p) for p in ("a/gsm8k/test.jsonl", "x/HumanEval.jsonl.gz", "mmlu_dev.csv")] == [
        "gsm8k",
        "humaneval",
        "mmlu_dev",
    ]
