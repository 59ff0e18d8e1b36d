import dataclasses

import pytest

from filters.fineweb import FineWebConfig, judge, measure
from pipeline.core.records import DropReason

CONFIG = FineWebConfig()

PROSE = [
    "The committee met on Tuesday to discuss the new library, which will open next spring.",
    "Members agreed that the building should have a reading room with large windows.",
    "Several residents asked whether the old branch would close before the new one opens.",
    "A local architect presented drawings of the design, with a wooden roof and a garden.",
]


def reason(text, lang="en", config=CONFIG):
    return judge(measure(text), config, lang).reason


def test_prose_is_kept_and_measured():
    stats = measure("\n".join(PROSE))
    assert reason("\n".join(PROSE)) is None
    assert stats.punctuated_line_frac == 1.0
    assert stats.short_line_frac(30) == 0.0
    assert stats.duplicate_line_char_frac == 0.0
    assert stats.newlines_per_word == pytest.approx(3 / sum(len(line.split()) for line in PROSE))


@pytest.mark.parametrize(
    "lines, expected",
    [
        ([""], DropReason.TOO_FEW_PUNCTUATED_LINES),  # empty text: one blank line
        (["One line without a mark at the end, but long enough to matter"], DropReason.TOO_FEW_PUNCTUATED_LINES),
        ([line.rstrip(".") for line in PROSE] * 2 + [PROSE[0]], DropReason.TOO_FEW_PUNCTUATED_LINES),  # 1 of 9
        (
            [line.rstrip(".") for line in PROSE] * 2 + PROSE[:2],
            DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB,
        ),  # 2 of 10
        (["Short one.", "Short two.", "Short three.", PROSE[0]], DropReason.TOO_MANY_SHORT_LINES),  # 3 of 4
        (PROSE + [PROSE[0]], DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB),
        ([f"Item {i} is forty characters long, or so it is." for i in range(20)], None),
    ],
)
def test_each_rule_names_its_failure(lines, expected):
    assert reason("\n".join(lines)) == expected


def test_a_list_has_too_many_newlines_per_word():
    # two words per line: 1 newline per ~2 words > 0.3, though every line is long and punctuated
    lines = [f"Supercalifragilisticexpialidocious{i} extraordinarily!" for i in range(10)]
    assert reason("\n".join(lines)) == DropReason.TOO_MANY_NEWLINES


def test_comparisons_are_datatrove_s():
    # exactly at the thresholds: <= and >= drop, as in datatrove
    lines = [f"Line number {i} has no terminal mark at all here" for i in range(22)]
    lines += [f"Line number {i} has a terminal mark at the end." for i in range(3)]
    stats = measure("\n".join(lines))
    assert stats.punctuated_line_frac == 0.12
    assert reason("\n".join(lines)) == DropReason.TOO_FEW_PUNCTUATED_LINES


def test_language_entries():
    zh = [
        "我们今天在城市图书馆讨论了新的建设计划。",
        "委员会同意明年春天开放阅览室和儿童花园。",
        "居民希望保留旧馆，主席答应再开一年。",
    ]
    assert reason("\n".join(zh), "zh") is None  # short lines are 12 characters for zh
    assert reason("\n".join(zh), "zh", dataclasses.replace(CONFIG, languages={})) == DropReason.TOO_MANY_SHORT_LINES
    thai = [
        "คณะกรรมการประชุมเมื่อวันอังคารเพื่อหารือเรื่องห้องสมุดใหม่ที่จะเปิดในฤดูใบไม้ผลิหน้า",
        "สมาชิกเห็นว่าอาคารควรมีห้องอ่านหนังสือที่มีหน้าต่างบานใหญ่และมุมที่เงียบสงบสำหรับทุกคน",
    ]
    assert reason("\n".join(thai), "th") is None  # Thai marks no sentence end: rule off
    assert reason("\n".join(thai), "en") == DropReason.TOO_FEW_PUNCTUATED_LINES
