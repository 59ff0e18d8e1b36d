"""Deduplicate on inline documents: URL, exact and near duplicates, cluster sizes, capping, conservation."""

from __future__ import annotations

import json
import random

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to

from pipeline.config import DedupConfig
from pipeline.core.records import Document, DropReason, Provenance, Rejection
from pipeline.stages.deduplicate import (
    STAGE,
    Deduplicate,
    WriteDuplicateClusters,
    cluster_member,
    fetch_order,
    text_key,
    url_key,
)

URL, EXACT, NEAR = DropReason.URL_DUPLICATE, DropReason.EXACT_DUPLICATE, DropReason.NEAR_DUPLICATE


def _doc(id_: str, text: str, url: str = "", fetch_time: str = "2024-01-01T00:00:00Z") -> Document:
    return Document(
        id_, url or f"https://site.test/{id_}", "site.test", text, Provenance("t.warc.gz", 0, 0, fetch_time=fetch_time)
    )


def _texts(count: int, words: int = 300, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(5000)
    ]
    return [[rng.choice(vocabulary) for _ in range(words)] for _ in range(count)]


def _changed(words: list[str], positions: list[int]) -> str:
    return " ".join("changed" + w if i in positions else w for i, w in enumerate(words))


def _matches(predicate):
    """A matcher for assert_that: predicate(list of elements) must hold."""

    def check(actual):
        if not predicate(list(actual)):
            raise BeamAssertException(f"unexpected {list(actual)}")

    return check


def _run(docs: list[Document], config: DedupConfig, check_kept, check_dropped, check_stats=None) -> None:
    """Apply Deduplicate; check kept (id, dup_cluster_size), dropped Rejections, stats and conservation."""
    with TestPipeline() as p:
        dedup = Deduplicate(config)
        out = p | beam.Create(docs) | dedup
        assert_that(out.kept | "KeptSizes" >> beam.Map(lambda d: (d.id, d.dup_cluster_size)), check_kept, label="kept")
        assert_that(out.dropped, check_dropped, label="dropped")
        if check_stats is not None:
            assert_that(dedup.stats, check_stats, label="stats")
        ids = (
            out.kept | "KeptIds" >> beam.Map(lambda d: d.id),
            out.dropped | "DroppedIds" >> beam.Map(lambda r: r.id),
        ) | beam.Flatten()
        assert_that(ids, equal_to([d.id for d in docs]), label="every document kept or dropped exactly once")


def test_url_exact_and_near_duplicates():
    t = _texts(9)
    docs = [
        # the same page fetched three times, and twice at the same moment
        _doc("u1", " ".join(t[0]), "http://www.news.test/story/", "2024-01-01T00:00:00Z"),
        _doc("u2", " ".join(t[1]), "https://news.test/story", "2024-03-01T00:00:00Z"),
        _doc("u0", " ".join(t[2]), "https://news.test/story#comments", ""),
        _doc("v2", " ".join(t[3]), "https://news.test/other", "2024-02-01T00:00:00Z"),
        _doc("v1", " ".join(t[4]), "https://news.test/other", "2024-02-01T00:00:00Z"),
        # equal after normalization: case, punctuation, digits
        _doc("e2", "The Meeting is on May 3, at 10:30! " + " ".join(t[5])),
        _doc("e1", "the meeting is on may 17 at 9 00 " + " ".join(t[5])),
        _doc("e3", "THE MEETING -- IS ON MAY 3 AT 10.30 " + " ".join(t[5])),
        # near: a few words changed; n4 is an exact copy of n2 with different punctuation
        _doc("n1", " ".join(t[6])),
        _doc("n2", _changed(t[6], [10, 150, 290])),
        _doc("n3", _changed(t[6], [70, 200])),
        _doc("n4", _changed(t[6], [10, 150, 290]).replace(" ", ", ", 5)),
        # distinct, short, and without words
        _doc("d1", " ".join(t[7])),
        _doc("d2", " ".join(t[8][:3])),
        _doc("d3", "!!! ???"),
        _doc("d4", "🙂 🙂"),
    ]
    url = {d.id: d.url for d in docs}
    kept = [("u2", 1), ("v1", 1), ("e1", 3), ("n1", 4), ("d1", 1), ("d2", 1), ("d3", 1), ("d4", 1)]
    dropped = [
        Rejection(STAGE, URL, "u1", url["u1"], "kept=u2"),
        Rejection(STAGE, URL, "u0", url["u0"], "kept=u2"),
        Rejection(STAGE, URL, "v2", url["v2"], "kept=v1"),
        Rejection(STAGE, EXACT, "e2", url["e2"], "kept=e1"),
        Rejection(STAGE, EXACT, "e3", url["e3"], "kept=e1"),
        Rejection(STAGE, EXACT, "n4", url["n4"], "kept=n2"),
        Rejection(STAGE, NEAR, "n2", url["n2"], "kept=n1"),
        Rejection(STAGE, NEAR, "n3", url["n3"], "kept=n1"),
    ]

    def nothing_capped_or_unsettled(stats):
        (stats,) = stats
        capped_or_unsettled = stats["lsh_buckets_capped"] + stats["lsh_members_capped"] + stats["unsettled_nodes"]
        return stats["candidate_edges"] >= 2 and capped_or_unsettled == 0

    _run(docs, DedupConfig(), equal_to(kept), equal_to(dropped), _matches(nothing_capped_or_unsettled))


def test_each_kind_can_be_switched_off():
    t = _texts(2)
    docs = [
        _doc("a", " ".join(t[0]), "https://x.test/same"),
        _doc("b", " ".join(t[1]), "https://x.test/same"),
        _doc("c", " ".join(t[1]).upper()),
        _doc("d", _changed(t[0], [5])),
    ]
    _run(
        docs,
        DedupConfig(url=False, exact=False, near=False),
        equal_to([(d.id, 1) for d in docs]),
        equal_to([]),
        equal_to([{"lsh_buckets_capped": 0, "lsh_members_capped": 0, "candidate_edges": 0, "unsettled_nodes": 0}]),
    )
    # without URL dedup, b survives as the exact survivor of {b, c}; a and d are near duplicates
    reasons = _matches(lambda actual: sorted((r.id, r.reason) for r in actual) == [("c", EXACT), ("d", NEAR)])
    _run(docs, DedupConfig(url=False), equal_to([("a", 2), ("b", 2)]), reasons)


def test_pathological_buckets_are_capped_and_counted():
    # five copies share every bucket; only the 3 smallest ids are linked
    text = " ".join(_texts(1)[0])
    docs = [_doc(f"c{i}", text) for i in range(1, 6)] + [_doc("other", " ".join(_texts(1, seed=1)[0]))]
    config = DedupConfig(url=False, exact=False, max_bucket_size=3)
    linked = [("c2", NEAR, "kept=c1"), ("c3", NEAR, "kept=c1")]
    dropped = _matches(lambda actual: sorted((r.id, r.reason, r.detail) for r in actual) == linked)
    stats = [{"lsh_buckets_capped": 14, "lsh_members_capped": 14 * 2, "candidate_edges": 14 * 2, "unsettled_nodes": 0}]
    _run(docs, config, equal_to([("c1", 3), ("c4", 1), ("c5", 1), ("other", 1)]), dropped, equal_to(stats))


def _chain() -> list[Document]:
    # a window sliding along one long text: neighbours are near duplicates (Jaccard ~0.87), ends are not
    words = _texts(1, words=30 * 20 + 300, seed=5)[0]
    return [_doc(f"k{i:02d}", " ".join(words[20 * i : 20 * i + 300])) for i in range(30)]


def test_a_chain_of_near_duplicates_is_one_cluster():
    _run(_chain(), DedupConfig(), equal_to([("k00", 30)]), _matches(lambda actual: len(actual) == 29))


def test_one_round_and_the_union_find_settle_a_long_chain():
    _run(
        _chain(),
        DedupConfig(url=False, exact=False, components_rounds=1),
        equal_to([("k00", 30)]),
        _matches(lambda a: len(a) == 29),
    )


def test_unsettled_components_keep_more_and_count_it():
    docs = _chain()

    def split_but_sizes_add_up(kept):
        sizes = dict(kept)
        return len(sizes) > 1 and sum(sizes.values()) == len(docs)

    def every_survivor_kept(dropped):
        survivors = {r.detail.removeprefix("kept=") for r in dropped}
        return dropped and all(r.reason == NEAR for r in dropped) and not survivors & {r.id for r in dropped}

    config = DedupConfig(url=False, exact=False, components_rounds=1, components_max_residual_edges=0)
    counted = _matches(lambda stats: stats[0]["unsettled_nodes"] > 0)
    _run(docs, config, _matches(split_but_sizes_add_up), _matches(every_survivor_kept), counted)


def test_keys_and_fetch_order():
    old, new, undated = (
        _doc(i, "x", fetch_time=t) for i, t in [("b", "2024-01-01T00:00Z"), ("c", "2024-06-01T00:00Z"), ("a", "")]
    )
    assert sorted([old, new, undated], key=fetch_order) == [new, old, undated]
    assert text_key(_doc("a", "Hello, World 1")) == text_key(_doc("b", "hello world 2")) != text_key(_doc("c", "hello"))
    assert text_key(_doc("a", "!!!")) != text_key(_doc("b", "!!!"))  # nothing to compare: never grouped
    assert len(text_key(_doc("a", "words"))) == 16
    assert url_key(_doc("a", "x", "http://www.x.test/p/")) == url_key(_doc("b", "y", "https://x.test/p")) == "x.test/p"
    assert url_key(Document("a", "", "", "x", old.provenance)) == "id:a"  # no URL: never grouped


def test_cluster_lines_name_each_survivor_and_the_ids_it_replaced(tmp_path):
    dropped = [
        Rejection(STAGE, URL, "b", "https://a.test/", "kept=a"),
        Rejection(STAGE, EXACT, "d", "https://d.test/", "kept=c"),
        Rejection(STAGE, EXACT, "e", "https://e.test/", "kept=c"),
        Rejection(STAGE, NEAR, "c", "https://c.test/", "kept=a"),
        Rejection("ApplyQuality", DropReason.TOO_FEW_WORDS, "f", "https://f.test/", ""),  # not a dedup drop: not listed
    ]
    assert list(cluster_member(dropped[0])) == [(("url", "a"), "b")]
    assert list(cluster_member(dropped[4])) == []
    with TestPipeline() as p:
        _ = p | beam.Create(dropped) | WriteDuplicateClusters(str(tmp_path))
    lines = sorted(
        line for path in (tmp_path / "dedup_clusters").glob("part-*.jsonl") for line in path.read_text().splitlines()
    )
    assert [json.loads(line) for line in lines] == [
        {"step": "exact", "survivor": "c", "duplicates": ["d", "e"]},
        {"step": "near", "survivor": "a", "duplicates": ["c"]},
        {"step": "url", "survivor": "a", "duplicates": ["b"]},
    ]
