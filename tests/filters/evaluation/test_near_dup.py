"""The near-duplicate corpus on real pages: edits land on their Jaccard, brute force is exact,
Beam's Deduplicate clusters exactly as the numpy reference, and detection follows the S-curve."""

from __future__ import annotations

import math
import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from filters.evaluation.near_dup import (
    FINEWEB_DETECTION,
    Edit,
    JaccardPairs,
    Shingler,
    build_corpus,
    clusters_from_survivors,
    document_ids,
    exact_jaccard_pairs,
    jaccard,
    lsh_clusters,
    s_curve,
    score_detection,
    share_a_band,
    signatures,
)
from filters.text_normalization import normalize_for_dedup
from pipeline.config import DedupConfig
from pipeline.core.records import Document, DropReason, Provenance
from pipeline.fixtures.eval_pages import load_boilerplate, load_page_texts
from pipeline.stages.deduplicate import Deduplicate

BASES = 40
TARGETS = (0.95, 0.85, 0.8, 0.75, 0.6)  # one variant each per base; edits taken in turn
CONFIG = DedupConfig(url=False, exact=False)  # near dedup only: exact copies are near copies too


@pytest.fixture(scope="module")
def corpus(shared_data):
    eval_dir = shared_data / "extraction" / "trafilatura-eval"
    bases = load_page_texts(eval_dir / "html", limit=BASES)
    assert len(bases) == BASES
    return build_corpus(bases, load_boilerplate(eval_dir / "evaldata.json"), [TARGETS] * BASES, seed=0)


@pytest.fixture(scope="module")
def sets(corpus) -> list[np.ndarray]:
    return Shingler().shingle_sets([c.text for c in corpus])


@pytest.fixture(scope="module")
def truth(sets) -> JaccardPairs:
    return exact_jaccard_pairs(sets)


@pytest.fixture(scope="module")
def sigs(corpus) -> np.ndarray:
    return signatures([c.text for c in corpus], CONFIG)


def _word_ngrams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = normalize_for_dedup(text).split(" ")
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_variants_land_near_their_targets(corpus, truth):
    variants = [c for c in corpus if c.edit is not None]
    assert len(variants) == BASES * len(TARGETS)
    assert {c.edit for c in variants} == set(Edit)
    errors = [abs(c.jaccard - c.target) for c in variants]
    assert np.mean(errors) < 0.01 and max(errors) < 0.05  # the most: a paragraph swap alone, on a short text
    found = dict(zip(map(tuple, truth.pairs.tolist()), truth.jaccard))
    for i, c in enumerate(corpus):
        if c.edit is not None:  # the recorded Jaccard is the brute force's
            assert found[(c.base, i)] == pytest.approx(c.jaccard)
            words, base_words = len(c.text.split()), len(corpus[c.base].text.split())
            if c.edit is Edit.INSERT:
                assert words > base_words
            if c.edit is Edit.DELETE:
                assert words < base_words


def test_brute_force_jaccard_is_the_jaccard_of_word_5gram_sets(corpus, truth):
    rng = random.Random(1)
    texts = [c.text for c in corpus]
    ngrams = [_word_ngrams(text) for text in texts]
    sample = rng.sample(range(len(truth.pairs)), 60)
    for (i, j), value in zip(truth.pairs[sample].tolist(), truth.jaccard[sample]):
        assert value == pytest.approx(
            len(ngrams[i] & ngrams[j]) / len(ngrams[i] | ngrams[j]), abs=1e-3
        )  # 32-bit hashes
    listed = set(map(tuple, truth.pairs.tolist()))
    unlisted = [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts)) if (i, j) not in listed]
    assert unlisted
    for i, j in rng.sample(unlisted, 300):  # a pair left out shares no shingle
        assert not ngrams[i] & ngrams[j]


def test_beam_deduplicate_clusters_exactly_as_the_reference(corpus, sigs):
    ids = document_ids(len(corpus))
    labels = lsh_clusters(sigs, ids, CONFIG)
    expected = [(ids[i], ids[label]) for i, label in enumerate(labels) if label != i]  # (removed, survivor)
    assert 0 < len(expected) < len(corpus)
    assert (clusters_from_survivors(ids, dict(expected)) == labels).all()
    docs = [
        Document(doc_id, f"https://near.test/{doc_id}", "near.test", c.text, Provenance("t.warc.gz", 0, 0))
        for doc_id, c in zip(ids, corpus)
    ]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | Deduplicate(CONFIG)
        removals = out.dropped | beam.Map(lambda r: (r.id, r.detail.removeprefix("kept="), r.reason))
        assert_that(removals, equal_to([(i, s, DropReason.NEAR_DUPLICATE) for i, s in expected]), label="removed")
        kept = out.kept | "KeptIds" >> beam.Map(lambda d: d.id)
        assert_that(kept, equal_to([ids[i] for i, label in enumerate(labels) if label == i]), label="kept")


def test_detection_against_exact_jaccard(corpus, sets, truth, sigs):
    labels = lsh_clusters(sigs, document_ids(len(corpus)), CONFIG)
    shared_band = share_a_band(sigs, truth.pairs, CONFIG)
    detected = labels[truth.pairs[:, 0]] == labels[truth.pairs[:, 1]]
    assert detected[truth.jaccard >= 0.9].all()
    far = truth.jaccard < 0.3
    assert far.sum() > 50 and not detected[far].any() and not shared_band[far].any()
    # a pair with a band in common is in one cluster; the converse may come through a chain
    assert detected[shared_band].all()

    scores = score_detection(sets, truth, labels, shared_band, CONFIG, curve_at=(0.6, 0.75, 0.8, 0.85))
    assert scores.pairs_at_recall > 2 * BASES and scores.recall > 0.9
    assert scores.precision_any[0.7] > 0.9  # removed with a cluster mate at J >= 0.7
    assert scores.precision_survivor[0.7] <= scores.precision_any[0.7]
    for point in scores.curve:  # band sharing follows the S-curve, within 3 binomial sigmas
        sigma = math.sqrt(point.theory_expected * (1 - point.theory_expected) / point.pairs)
        assert point.pairs >= 20 and abs(point.shared_band - point.theory_expected) < 3 * sigma + 0.02, point
        assert point.detected >= point.shared_band


def test_s_curve_is_fineweb_s_reported_values():
    # FineWeb's 56/77/92/98.8% at J = 0.7/0.75/0.8/0.85 are 1 - (1 - J^8)^14, rounded
    for j, reported in FINEWEB_DETECTION.items():
        assert float(s_curve(j, 14, 8)) == pytest.approx(reported, abs=0.005)
    assert jaccard(np.array([1, 2, 3], np.uint32), np.array([2, 3, 4, 5], np.uint32)) == pytest.approx(2 / 5)
    assert jaccard(np.zeros(0, np.uint32), np.zeros(0, np.uint32)) == 0.0
