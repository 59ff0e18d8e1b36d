import dataclasses

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from filters.quality import METADATA_KEYS, assess
from filters.words import STOP_WORDS
from pipeline.config import QualityConfig
from pipeline.core.records import Document, DropReason, Provenance
from pipeline.stages.apply_quality import ApplyQuality

CONFIG = QualityConfig()
PROV = Provenance("test.warc.gz", 0, 0)

PROSE = """The committee met on Tuesday to discuss the new library, which will open next spring near the river.
Members agreed that the building should have a reading room with large windows and quiet corners.
Several residents asked whether the old branch would close, and the chair promised to keep it open for another year.
A local architect presented drawings of the design, showing a wooden roof and a small garden for children.
The budget, approved last month, covers construction as well as new books, computers and staff training.
Work is expected to begin in March once the final permits arrive from the city planning office."""
BOILERPLATE = "Home\nPlease enable JavaScript to use this site.\nWe use cookies: see our cookie policy for details."
ZH = (
    "我们今天在城市图书馆讨论了新的建设计划，委员会同意明年春天开放阅览室。\n居民希望保留旧馆，主席答应再开一年。\n"
    "建筑师展示了木质屋顶和儿童花园的设计。\n预算包括书籍、电脑以及员工培训。\n工程将在三月开始，预计明年完工。"
)


def test_cleans_then_keeps_with_measurements():
    result = assess(BOILERPLATE + "\n" + PROSE, "en", CONFIG)
    assert result.reason is None
    assert result.text == PROSE
    assert result.removed_lines == {
        "too_long_word": 0,
        "no_terminal_punctuation": 0,
        "too_few_words": 1,
        "javascript": 1,
        "policy": 1,
    }
    assert set(result.metadata) == set(METADATA_KEYS)
    assert result.metadata["words"] == str(len(PROSE.split()))
    assert result.metadata["c4_lines_removed"] == "3"
    assert result.metadata["sentences"] == "6"
    assert result.metadata["stop_words"] == "21"


def test_the_first_failing_family_names_the_drop():
    # C4 first, then FineWeb, Gopher quality, Gopher repetition
    lorem = PROSE.splitlines()[:5] + ["Lorem ipsum dolor sit amet, consectetur adipiscing elit."]
    result = assess("\n".join(lorem), "en", CONFIG)
    assert (result.reason, result.detail) == (DropReason.LOREM_IPSUM, "c4_v1 has_lorem_ipsum=True")
    few = assess("\n".join(PROSE.splitlines()[:4]), "en", CONFIG)
    assert (few.reason, few.detail) == (DropReason.TOO_FEW_SENTENCES, "c4_v1 sentences=4")
    short = assess("\n".join(f"Line {i} says the river rose overnight again." for i in range(6)), "en", CONFIG)
    assert (short.reason, short.detail) == (DropReason.TOO_FEW_WORDS, "gopher_quality_v1 words=48")
    repeated = assess(PROSE + "\n" + PROSE, "en", CONFIG)
    assert repeated.reason == DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB
    no_fineweb = dataclasses.replace(CONFIG, fineweb=dataclasses.replace(CONFIG.fineweb, enabled=False))
    assert assess(PROSE + "\n" + PROSE, "en", no_fineweb).reason == DropReason.TOO_MANY_DUPLICATE_LINES


def test_empty_and_cjk_text():
    assert assess("", "en", CONFIG).reason == DropReason.TOO_FEW_SENTENCES
    only_gopher = dataclasses.replace(
        CONFIG,
        c4=dataclasses.replace(CONFIG.c4, enabled=False),
        fineweb=dataclasses.replace(CONFIG.fineweb, enabled=False),
    )
    assert assess("", "en", only_gopher).reason == DropReason.TOO_FEW_WORDS
    zh = assess(ZH, "zh", CONFIG)
    assert zh.reason is None and zh.text == ZH
    assert int(zh.metadata["words"]) > 80  # characters
    assert assess(ZH, "en", CONFIG).reason is not None  # judged as English, it fails


def test_natural_sentences_of_the_largest_web_languages_are_kept(shared_data):
    """Leipzig sentences (lingua-py), ten to a text: the default rules keep nearly all, zh, ja and th included.
    (Some Leipzig sentences repeat boilerplate, which the repetition rules rightly catch.)"""
    folder = shared_data / "langid" / "lingua" / "sentences"
    for lang in sorted(STOP_WORDS):
        path = folder / f"{lang}.txt"
        if not path.exists():
            continue
        sentences = path.read_text(encoding="utf-8").splitlines()
        texts = ["\n".join(sentences[i : i + 10]) for i in range(0, len(sentences) - 9, 10)]
        kept = sum(assess(text, lang, CONFIG).reason is None for text in texts) / len(texts)
        assert kept >= 0.85, (lang, kept)
    thai = (folder / "th.txt").read_text(encoding="utf-8").splitlines()
    without_entry = dataclasses.replace(CONFIG, repetition=dataclasses.replace(CONFIG.repetition, languages={}))
    dropped = [assess("\n".join(thai[i : i + 10]), "th", without_entry).reason for i in range(0, 300, 10)]
    assert dropped.count(DropReason.TOO_MANY_DUPLICATE_5GRAMS) >= 5  # what the th entry prevents: letters are not words


def _doc(doc_id: str, text: str, lang: str = "en") -> Document:
    return Document(
        id=doc_id,
        url=f"https://a.example/{doc_id}",
        host="a.example",
        text=text,
        provenance=PROV,
        lang=lang,
        metadata={"extractor": "trafilatura"},
    )


def test_apply_quality_in_beam():
    docs = [
        _doc("prose", BOILERPLATE + "\n" + PROSE),
        _doc("zh", ZH, "zh"),
        _doc("lorem", PROSE + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit."),
        _doc("menu", "Home\nAbout\nContact"),
        _doc("list", "\n".join(f"- the item {i} and the price" for i in range(30))),
    ]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | ApplyQuality(CONFIG)
        assert_that(
            out.kept
            | beam.Map(
                lambda d: (d.id, d.text == PROSE or d.id == "zh", d.metadata["extractor"], "words" in d.metadata)
            ),
            equal_to([("prose", True, "trafilatura", True), ("zh", True, "trafilatura", True)]),
            label="kept",
        )
        assert_that(
            out.dropped | beam.Map(lambda r: (r.stage, r.id, r.reason.value)),
            equal_to(
                [
                    ("ApplyQuality", "lorem", "lorem_ipsum"),
                    ("ApplyQuality", "menu", "too_few_sentences"),
                    ("ApplyQuality", "list", "too_few_punctuated_lines"),
                ]
            ),
            label="dropped",
        )


def test_disabled_stage_passes_everything_through():
    docs = [_doc("menu", "Home\nAbout\nContact")]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | ApplyQuality(dataclasses.replace(CONFIG, enabled=False))
        assert_that(
            out.kept | beam.Map(lambda d: (d.id, d.text)), equal_to([("menu", "Home\nAbout\nContact")]), label="kept"
        )
        assert_that(out.dropped, equal_to([]), label="dropped")
