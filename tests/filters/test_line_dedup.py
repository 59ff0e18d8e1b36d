"""filters/line_dedup.py: line keys, the per-line decision, removal and the judgement, without Beam."""

from __future__ import annotations

import collections

import pytest

from filters.line_dedup import (
    LineRemoval,
    Occurrence,
    count_words,
    judge,
    line_keys,
    line_removals,
    remove_lines,
    text_key,
    url_key,
)
from pipeline.core.records import DropReason
from pipeline.fixtures.eval_pages import load_boilerplate, load_page_texts


def _occurrence(doc_id: str, text: str = "", url: str = "", indices: tuple[int, ...] = (0,)) -> Occurrence:
    return Occurrence(
        doc_id, text_key(text or f"text of {doc_id}"), url_key(url or f"https://site.test/{doc_id}"), indices
    )


def test_lines_equal_after_normalization_share_a_key_and_list_every_place():
    keys = line_keys("Home | News\nSome text here.\nHOME - news!\nSome  text here")
    assert sorted(keys.values()) == [(0, 2), (1, 3)]
    assert len(keys) == 2 and all(len(key) == 8 for key in keys)


def test_lines_that_normalize_to_nothing_or_to_numbers_only_are_never_counted():
    assert line_keys("---\n| | |\n\n   \n★★★") == {}
    assert line_keys("155\n[14]\n2,5 %\n3.14") == {}  # every number folds to 0: "155" would equal "250"
    assert list(line_keys("---\nPage 2 of 3\n[7]").values()) == [(1,)]


def test_keys_are_stable_across_processes():
    # blake2b of the normalized line's UTF-32, never Python's salted hash(): runners hash in many processes
    assert line_keys("Home") == line_keys("  HOME! ") == {bytes.fromhex("4873d7899951a98e"): (0,)}


def test_a_frequent_line_stays_only_in_the_smallest_id():
    occurrences = [_occurrence(i, indices=(n,)) for n, i in enumerate(["c", "a", "d", "b"])]
    assert sorted(line_removals(occurrences, min_docs=3)) == [("b", (3,)), ("c", (0,)), ("d", (2,))]


def test_a_line_in_fewer_than_min_docs_texts_stays_everywhere():
    occurrences = [_occurrence("a"), _occurrence("b")]
    assert list(line_removals(occurrences, min_docs=3)) == []
    assert list(line_removals([], min_docs=2)) == []


def test_exact_copies_count_once_and_keep_the_survivors_lines():
    copies = [_occurrence(i, text="one text", url=f"https://site.test/{i}") for i in ("a", "b", "c")]
    assert list(line_removals(copies, min_docs=2)) == []  # three copies are one text
    others = [_occurrence("d"), _occurrence("e")]
    assert sorted(line_removals(copies + others, min_docs=3)) == [("d", (0,)), ("e", (0,))]


def test_a_refetch_of_the_survivors_url_keeps_the_line():
    occurrences = [
        _occurrence("a", text="fetched in May", url="https://site.test/page"),
        _occurrence("b", text="fetched in June", url="http://www.site.test/page/"),  # the same normalized URL
        _occurrence("c"),
        _occurrence("d"),
    ]
    assert sorted(line_removals(occurrences, min_docs=3)) == [("c", (0,)), ("d", (0,))]


def test_occurrences_are_read_as_plain_tuples_too():
    # the Beam stage shuffles plain tuples shaped as Occurrence
    occurrences = [tuple(_occurrence(i)) for i in ("b", "a", "c")]
    assert sorted(line_removals(occurrences, min_docs=3)) == [("b", (0,)), ("c", (0,))]


def test_removing_nothing_returns_the_text_itself():
    text = "Menu\nA body of text."
    assert remove_lines(text, []).text is text


def test_removal_rejoins_the_other_lines_and_counts_what_went():
    removal = remove_lines("Menu\nFirst paragraph.\nSecond paragraph.\n\nFooter", [0, 4])
    assert removal == LineRemoval("First paragraph.\nSecond paragraph.", 2, len("Menu") + len("Footer"), 4)


def test_words_are_counted_without_symbols_and_per_character_in_japanese():
    assert count_words("| a | b |\n---") == 2
    assert count_words("東京都に行きました。") == 9


def test_a_document_left_too_short_is_dropped_with_its_reason():
    assert judge(LineRemoval("Two words", 3, 40, 2), min_words=50).reason is DropReason.TOO_SHORT_AFTER_LINE_DEDUP
    assert judge(LineRemoval("long enough", 3, 40, 50), min_words=50).keep


@pytest.fixture(scope="module")
def real_pages(shared_data):
    """Eight real main texts (trafilatura-eval) and one site's real boilerplate (its `without` snippets)."""
    eval_dir = shared_data / "extraction" / "trafilatura-eval"
    texts = load_page_texts(eval_dir / "html", limit=8)
    template = next(snippets for snippets in load_boilerplate(eval_dir / "evaldata.json") if len(snippets) >= 3)
    return texts, template[:3]


def test_a_real_template_is_removed_from_every_page_but_the_smallest_id(real_pages):
    texts, template = real_pages
    header, footer = template[0], "\n".join(template[1:])
    pages = {f"id{n}": f"{header}\n{text}\n{footer}" for n, text in enumerate(texts)}
    groups: dict[bytes, list[Occurrence]] = collections.defaultdict(list)
    for doc_id, page in pages.items():
        for key, indices in line_keys(page).items():
            groups[key].append(Occurrence(doc_id, text_key(page), url_key(f"https://site.test/{doc_id}"), indices))
    removed: dict[str, list[int]] = collections.defaultdict(list)
    for occurrences in groups.values():
        for doc_id, indices in line_removals(occurrences, min_docs=3):
            removed[doc_id].extend(indices)
    assert "id0" not in removed
    for n, text in enumerate(texts[1:], start=1):
        assert remove_lines(pages[f"id{n}"], removed[f"id{n}"]).text == text.strip()
