import dataclasses

import pytest

from filters.c4 import C4Config, clean, judge
from pipeline.core.records import DropReason

FINEWEB_STYLE = C4Config()  # the default: C4 without its terminal punctuation rule
C4_STYLE = dataclasses.replace(FINEWEB_STYLE, terminal_punctuation=True)

PROSE = [
    "The committee met on Tuesday to discuss the new library.",
    "Members agreed that the building should have a reading room.",
    "Several residents asked whether the old branch would close.",
    "A local architect presented drawings of the design.",
    "Work is expected to begin in March.",
]


def reason(text, config=FINEWEB_STYLE, lang="en"):
    return judge(clean(text, config, lang), config, lang).reason


def test_prose_is_kept_unchanged():
    cleaning = clean("\n".join(PROSE), C4_STYLE, "en")
    assert cleaning.text == "\n".join(PROSE)
    assert (cleaning.lines, cleaning.kept_lines, cleaning.sentences) == (5, 5, 5)
    assert judge(cleaning, C4_STYLE, "en").keep


def test_line_rules_remove_lines_and_count_each_cause():
    text = "\n".join(
        [
            "Home",  # too few words (and no terminal punctuation)
            "  Menu | About us  ",  # no terminal punctuation
            "Please enable JavaScript to view the comments.",
            "By using this site you agree to our Terms of Use.",
            "This site uses cookies to improve your experience.",
            "A word that is far too long: " + "x" * 1001 + ".",
            "",  # blank lines are skipped, not counted
            "Read more...",  # ends in an ellipsis
            "The river rose by two metres overnight[1] and flooded the lower town.[citation needed]",
            *PROSE,
        ]
    )
    cleaning = clean(text, C4_STYLE, "en")
    assert cleaning.removed_lines == {
        "too_long_word": 1,
        "no_terminal_punctuation": 3,
        "too_few_words": 0,
        "javascript": 1,
        "policy": 2,
    }
    assert (cleaning.lines, cleaning.kept_lines, cleaning.citations) == (13, 6, 2)
    assert cleaning.text.splitlines()[0] == "The river rose by two metres overnight and flooded the lower town."
    assert judge(cleaning, C4_STYLE, "en").keep

    fineweb_style = clean(text, FINEWEB_STYLE, "en")  # lines without terminal punctuation stay
    assert fineweb_style.removed_lines["no_terminal_punctuation"] == 0
    assert fineweb_style.removed_lines["too_few_words"] == 2  # "Home", "Read more..."
    assert "Menu | About us" in fineweb_style.text.splitlines() and "Read more..." not in fineweb_style.text


def test_each_switch_turns_its_line_rule_off():
    text = "\n".join(["Please enable JavaScript to view the comments.", "Our privacy policy changed today.", *PROSE])
    everything_on = clean(text, FINEWEB_STYLE, "en")
    assert everything_on.kept_lines == 5
    off = dataclasses.replace(
        FINEWEB_STYLE, remove_javascript_lines=False, remove_policy_lines=False, min_words_per_line=None
    )
    assert clean(text + "\nHome", off, "en").kept_lines == 8


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\n".join(PROSE + ["Lorem ipsum dolor sit amet, consectetur adipiscing elit."]), DropReason.LOREM_IPSUM),
        ("\n".join(PROSE + ["function show() { return the value; }"]), DropReason.CURLY_BRACE),
        ("\n".join(PROSE[:4]), DropReason.TOO_FEW_SENTENCES),
        ("", DropReason.TOO_FEW_SENTENCES),
        ("One line only, with five words.", DropReason.TOO_FEW_SENTENCES),
    ],
)
def test_page_rules_name_their_failure(text, expected):
    assert reason(text) == expected


def test_page_rules_see_only_lines_that_passed_the_line_rules_before_them():
    # C4's order: a javascript line is removed before the curly brace check, a short line before lorem ipsum
    assert reason("\n".join(PROSE + ["if (javascript) { run(); }"])) is None
    assert reason("\n".join(PROSE + ["Lorem ipsum"])) is None
    assert reason("\n".join(PROSE + ["Lorem ipsum dolor sit amet"]), C4_STYLE) is None  # no terminal punctuation
    no_page_rules = dataclasses.replace(FINEWEB_STYLE, drop_lorem_ipsum=False, drop_curly_brace=False)
    assert reason("\n".join(PROSE + ["Lorem ipsum dolor { sit amet."]), no_page_rules) is None


def test_all_lines_removed_when_the_sentence_rule_is_off():
    no_sentences = dataclasses.replace(FINEWEB_STYLE, min_sentences=None)
    assert reason("Home\nMenu", no_sentences) == DropReason.ALL_LINES_REMOVED
    assert reason("", no_sentences) == DropReason.ALL_LINES_REMOVED
    assert reason("Just one line of text.", no_sentences) is None


def test_sentences_are_counted_within_lines():
    cleaning = clean(
        'It rained. Then it snowed! Did it stop? "Yes." (It did.)\nA line without a mark', FINEWEB_STYLE, "en"
    )
    assert cleaning.sentences == 6
    assert clean("Version 2.5 is out. It costs $3.50 now.", FINEWEB_STYLE, "en").sentences == 2
    # not before a lower-case word, nor after an initial or a German ordinal; a year ends a sentence
    german = "Am 11. Februar kam J. Smith. Er ging, z.B. nach Hause. Dann e.g. nicht. Ende 2011. Jetzt."
    assert clean(german, FINEWEB_STYLE, "de").sentences == 5


def test_cjk_lines_count_characters_as_words_and_full_width_marks_end_sentences():
    text = "我们今天讨论了新的计划。委员会同意了。\n居民希望保留旧馆！\n好。"
    cleaning = clean(text, C4_STYLE, "zh")
    assert cleaning.kept_lines == 2  # "好。" is one word
    assert cleaning.sentences == 3
    assert reason(text * 3, C4_STYLE, "zh") is None
