"""ApplyQuality's fastText classifier step, with the shipped model on the DCLM human labels."""

import dataclasses
import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import ConfigError, QualityConfig, config_from_dict
from pipeline.core.records import Document, DropReason, Provenance
from pipeline.stages.apply_quality import ApplyQuality, top_fraction_cut

PROV = Provenance("test.warc.gz", 0, 0)
BASE = QualityConfig()
HEURISTICS_OFF = dataclasses.replace(
    BASE,
    c4=dataclasses.replace(BASE.c4, enabled=False),
    fineweb=dataclasses.replace(BASE.fineweb, enabled=False),
    gopher=dataclasses.replace(BASE.gopher, enabled=False),
    repetition=dataclasses.replace(BASE.repetition, enabled=False),
)


def _classifier(**changes) -> QualityConfig:
    return dataclasses.replace(HEURISTICS_OFF, classifier=dataclasses.replace(BASE.classifier, **changes))


@pytest.fixture(scope="module")
def dclm_docs(shared_data):
    rows = [json.loads(line) for line in (shared_data / "quality/dclm-annotations/agreement_data.jsonl").open()]
    return [
        Document(
            id=f"d{i:03d}",
            url=f"https://example.com/{i}",
            host="example.com",
            text=row["text"],
            provenance=PROV,
            lang="en",
            lang_score=0.9,
        )
        for i, row in enumerate(rows[:60])
    ]


def test_top_fraction_cut():
    quantiles = [i / 10 for i in range(11)]  # 0.0 ... 1.0
    assert top_fraction_cut(quantiles, 0.1) == 0.9
    assert top_fraction_cut(quantiles, 1.0) == 0.0
    assert top_fraction_cut(quantiles, 0.5) == 0.5
    assert top_fraction_cut([], 0.1) is None


def test_config_refuses_both_cuts_and_bad_values():
    with pytest.raises(ConfigError, match="quality.classifier: set min_score or keep_top_fraction, not both"):
        config_from_dict({"quality": {"classifier": {"min_score": 0.5, "keep_top_fraction": 0.1}}})
    with pytest.raises(ConfigError, match=r"quality.classifier.keep_top_fraction: must be in \(0, 1\]"):
        config_from_dict({"quality": {"classifier": {"keep_top_fraction": 0}}})
    with pytest.raises(ConfigError, match="need enabled: true"):
        config_from_dict({"quality": {"classifier": {"enabled": False, "min_score": 0.2}}})


def test_scores_only_the_model_languages_and_keeps_all_by_default(dclm_docs):
    french = dataclasses.replace(dclm_docs[0], id="fr", lang="fr")
    with TestPipeline() as p:
        out = p | beam.Create([dclm_docs[0], french]) | ApplyQuality(_classifier())
        assert_that(
            out.kept
            | beam.Map(
                lambda d: (d.id, d.quality_score is None or 0.0 <= d.quality_score <= 1.0, d.quality_score is None)
            ),
            equal_to([("d000", True, False), ("fr", True, True)]),
            label="kept",
        )
        assert_that(out.dropped, equal_to([]), label="dropped")


def test_min_score_drops_below_the_threshold(dclm_docs):
    from classifiers.quality import QualityScorer

    scores = {d.id: QualityScorer().score(d.text) for d in dclm_docs}
    threshold = sorted(scores.values())[len(scores) // 2]
    with TestPipeline() as p:
        out = p | beam.Create(dclm_docs) | ApplyQuality(_classifier(min_score=threshold))
        assert_that(
            out.kept | beam.Map(lambda d: d.id),
            equal_to([i for i, s in scores.items() if s >= threshold]),
            label="kept",
        )
        assert_that(
            out.dropped | beam.Map(lambda r: (r.id, r.reason)),
            equal_to([(i, DropReason.QUALITY_SCORE_TOO_LOW) for i, s in scores.items() if s < threshold]),
            label="dropped",
        )


def test_keep_top_fraction_over_the_run(dclm_docs):
    from classifiers.quality import QualityScorer

    scores = sorted((QualityScorer().score(d.text), d.id) for d in dclm_docs)
    top = [doc_id for _, doc_id in scores[-15:]]  # 60 documents, a quarter kept
    with TestPipeline() as p:
        out = p | beam.Create(dclm_docs) | ApplyQuality(_classifier(keep_top_fraction=0.25))
        # the cut is a quantile of 60 scores: it lands on the 15th-highest score, or one either side
        assert_that(out.kept | beam.combiners.Count.Globally(), lambda n: _near(n, 15), label="count")
        assert_that(out.kept | beam.Map(lambda d: d.id), lambda kept: _all_in(top[2:], kept), label="best kept")
        assert_that(
            out.dropped | beam.Map(lambda r: r.reason),
            lambda reasons: _all_are(reasons, DropReason.BELOW_QUALITY_TOP_FRACTION),
            label="dropped",
        )


def _near(counts, expected):
    assert len(counts) == 1 and abs(counts[0] - expected) <= 1, counts


def _all_in(required, kept):
    assert set(required) <= set(kept), sorted(set(required) - set(kept))


def _all_are(reasons, reason):
    assert reasons and set(reasons) == {reason}, reasons
