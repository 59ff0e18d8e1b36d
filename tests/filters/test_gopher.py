import dataclasses
import random
from collections import Counter

import pytest

from filters.gopher import (
    GopherQualityConfig,
    GopherRepetitionConfig,
    GopherRepetitionRules,
    judge_quality,
    judge_repetition,
    measure_quality,
    measure_repetition,
    ngram_char_fractions,
)
from pipeline.core.records import DropReason

QUALITY = GopherQualityConfig()
REPETITION = GopherRepetitionConfig()

PROSE = """The committee met on Tuesday to discuss the new library, which will open next spring near the river.
Members agreed that the building should have a reading room with large windows and quiet corners.
Several residents asked whether the old branch would close, and the chair promised to keep it open for another year.
A local architect presented drawings of the design, showing a wooden roof and a small garden for children.
The budget, approved last month, covers construction as well as new books, computers and staff training.
Work is expected to begin in March once the final permits arrive from the city planning office."""

# 100 distinct Han characters: prose-like text without repeated n-grams
ZH = (
    "我们今天在城市图书馆讨论了新的建设计划，委员会同意明年春天开放阅览室。居民希望保留旧馆，主席答应再开一年。"
    "建筑师展示了木质屋顶和儿童花园的设计，预算包括书籍、电脑以及员工培训，工程将在三月开始。"
)
TH = "คณะกรรมการประชุมเมื่อวันอังคารเพื่อหารือเรื่องห้องสมุดใหม่ที่จะเปิดในฤดูใบไม้ผลิหน้า และสมาชิกเห็นว่าอาคารควรมีห้องอ่านหนังสือ"


def quality_reason(text, lang="en", config=QUALITY):
    return judge_quality(measure_quality(text, lang), config, lang).reason


def repetition_reason(text, lang="en", config=REPETITION):
    return judge_repetition(measure_repetition(text), config, lang).reason


def test_prose_is_kept_and_measured():
    stats = measure_quality(PROSE, "en")
    assert quality_reason(PROSE) is None and repetition_reason(PROSE) is None
    assert stats.words == len(PROSE.split())
    assert stats.stop_words == 21
    assert 4.5 < stats.mean_word_length < 6
    assert stats.hash_ratio == stats.ellipsis_ratio == stats.bullet_line_frac == 0.0


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", DropReason.TOO_FEW_WORDS),
        ("One short line with the words and that.", DropReason.TOO_FEW_WORDS),
        ("the of " * 20 + "| — ... & " * 20, DropReason.TOO_FEW_WORDS),  # symbols are not words
        ("the cat " * 50_001, DropReason.TOO_MANY_WORDS),
        ("a to b of " * 20, DropReason.WORDS_TOO_SHORT),
        ("the internationalization of characterization " * 15, DropReason.WORDS_TOO_LONG),
        (PROSE + " #news" * 12, DropReason.TOO_MANY_HASHES),
        (PROSE + " and so on..." * 20, DropReason.TOO_MANY_ELLIPSES),
        ("\n".join(f"- item {i} with the price and the size" for i in range(20)), DropReason.TOO_MANY_BULLET_LINES),
        ("\n".join(f"• item {i} with the price and the size" for i in range(20)), DropReason.TOO_MANY_BULLET_LINES),
        (PROSE + "\n" + "\n".join(f"Read the story of day {i}…" for i in range(4)), DropReason.TOO_MANY_ELLIPSIS_LINES),
        ("the of " * 20 + " ".join(str(1000 + i) for i in range(60)), DropReason.TOO_FEW_ALPHA_WORDS),
        ("Members agreed: a reading room, large windows, quiet corners. " * 8, DropReason.TOO_FEW_STOP_WORDS),
    ],
)
def test_each_quality_rule_names_its_failure(text, reason):
    assert quality_reason(text) == reason


def test_bullet_and_ellipsis_lines_at_the_limit_are_kept():
    lines = [f"- item {i} with the price and the size of the thing" for i in range(9)] + ["The last line is prose."]
    assert measure_quality("\n".join(lines), "en").bullet_line_frac == 0.9
    assert quality_reason("\n".join(lines)) is None


def test_a_threshold_set_to_none_turns_its_rule_off():
    text = "Members agreed: a reading room, large windows, quiet corners. " * 8
    assert quality_reason(text, config=dataclasses.replace(QUALITY, min_stop_words=None)) is None


def test_stop_words_are_those_of_the_language_and_skipped_without_a_list():
    german = (
        "Der Ausschuss traf sich am Dienstag, um über die neue Bibliothek zu sprechen, die im Frühling eröffnet wird. "
        * 4
    )
    assert quality_reason(german, "en") == DropReason.TOO_FEW_STOP_WORDS
    assert quality_reason(german, "de") is None
    assert measure_quality(german, "xx").stop_words is None
    assert quality_reason(german, "xx") is None


def test_zh_ja_th_words_are_characters_and_mean_word_length_is_off_for_them():
    stats = measure_quality(ZH, "zh")
    assert stats.words == sum(ch.isalnum() for ch in ZH)  # Han characters, without the punctuation tokens
    assert stats.mean_word_length == 1.0
    assert quality_reason(ZH, "zh") is None
    no_override = dataclasses.replace(QUALITY, languages={})
    assert quality_reason(ZH, "zh", no_override) == DropReason.WORDS_TOO_SHORT  # what the zh entry prevents
    assert quality_reason(ZH[:30], "zh") == DropReason.TOO_FEW_WORDS
    assert quality_reason(TH, "th") is None
    assert measure_quality("ひらがなとカタカナの文章です。" * 4, "ja").stop_words >= 8


def test_repetition_rules_name_their_failure():
    unique = [f"Line number {i} tells its own story about item {i * 7}." for i in range(10)]
    assert repetition_reason("\n".join(unique + ["Same line here."] * 6)) == DropReason.TOO_MANY_DUPLICATE_LINES
    long_line = "This long line repeats itself with many words so that its characters weigh a lot in the page."
    short = [f"Entry {i}." for i in range(12)]
    assert repetition_reason("\n".join(short + [long_line] * 4)) == DropReason.TOO_MANY_DUPLICATE_LINE_CHARS


def test_paragraph_rules():
    no_lines = dataclasses.replace(REPETITION, max_duplicate_line_frac=None, max_duplicate_line_char_frac=None)
    paragraphs = [f"Paragraph {i} has a first line.\nAnd a second line for {i}." for i in range(5)]
    repeated = "\n\n".join(paragraphs + [paragraphs[0]] * 3)
    assert repetition_reason(repeated, config=no_lines) == DropReason.TOO_MANY_DUPLICATE_PARAGRAPHS
    long_paragraph = (
        "A long paragraph that is repeated.\n" + "It has a lot of words in it, far more than the others do. " * 4
    )
    text = "\n\n".join([f"Note {i}." for i in range(10)] + [long_paragraph] * 3)
    only_chars = dataclasses.replace(no_lines, max_duplicate_paragraph_frac=None)
    assert repetition_reason(text, config=only_chars) == DropReason.TOO_MANY_DUPLICATE_PARAGRAPH_CHARS


def test_ngram_rules():
    # "hello world" is 10 of every 38 word characters: top 2-gram fraction > 0.20, no repeated 3-gram
    words = []
    for i in range(30):
        words += ["hello", "world", f"alpha{i}", f"beta{i}", f"gam{i}"]
    assert repetition_reason(" ".join(words)) == DropReason.TOP_2GRAM_TOO_FREQUENT
    # ten 5-word phrases said twice each, between unique words: only the 5-gram rule fires
    phrases = [[f"p{i}w{j}x" for j in range(5)] for i in range(10)]
    words = [word for i, phrase in enumerate(phrases * 2) for word in (*phrase, f"filler{i}")]
    assert repetition_reason(" ".join(words)) == DropReason.TOO_MANY_DUPLICATE_5GRAMS
    # a whole passage said twice
    passage = PROSE.replace("\n", " ")
    only_10grams = dataclasses.replace(
        REPETITION, **{f.name: None for f in dataclasses.fields(GopherRepetitionRules) if "10gram" not in f.name}
    )
    assert repetition_reason(passage + " " + passage, config=only_10grams) == DropReason.TOO_MANY_DUPLICATE_10GRAMS


def test_repetition_of_empty_one_line_and_cjk_text():
    assert measure_repetition("") == measure_repetition("word")
    assert repetition_reason("") is None and repetition_reason("One line.") is None
    assert repetition_reason(ZH, "zh") is None
    assert repetition_reason(ZH + ZH[:60], "zh") == DropReason.TOO_MANY_DUPLICATE_5GRAMS  # character 5-grams
    # Thai characters are letters: the th entry turns the n-gram rules off, the line rules stay
    assert repetition_reason(TH + " " + TH, "th") is None
    assert repetition_reason(TH + " " + TH, "th", dataclasses.replace(REPETITION, languages={})) is not None
    assert repetition_reason("\n".join([TH] * 3), "th") == DropReason.TOO_MANY_DUPLICATE_LINES


def _reference(words: list[str]) -> tuple[list[float], list[float]]:
    """The definitions, spelled out with Counters and sets."""
    total = sum(map(len, words))
    top, duplicate = [], []
    for n in range(2, 11):
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        counts = Counter(grams)
        if n <= 4:
            best = max(counts.values(), default=0)
            chars = max((sum(map(len, g)) for g, c in counts.items() if c == best), default=0)
            top.append(best * chars / total if best > 1 else 0.0)
        else:
            seen, covered = set(), set()
            for i, gram in enumerate(grams):
                if gram in seen:
                    covered.update(range(i, i + n))
                seen.add(gram)
            duplicate.append(sum(len(words[i]) for i in covered) / total if total else 0.0)
    return top, duplicate


def test_vectorized_ngram_fractions_match_the_definitions():
    rng = random.Random(7)
    for trial in range(300):
        vocabulary = [f"w{i}" * rng.randint(1, 3) for i in range(rng.randint(1, 12))]
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 80))]
        if trial % 3 == 0 and len(words) > 12:  # splice in long repeats
            start = rng.randrange(len(words) - 12)
            words += words[start : start + rng.randint(5, 12)]
        top, duplicate = ngram_char_fractions(words)
        expected_top, expected_duplicate = _reference(words)
        assert top == pytest.approx(expected_top) and duplicate == pytest.approx(expected_duplicate), words
