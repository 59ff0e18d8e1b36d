"""ApplySafety on its own, with TestPipeline."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import BlocklistConfig, PiiConfig, SafetyConfig
from pipeline.core.records import Document, Provenance
from pipeline.stages.apply_safety import ApplySafety

PROV = Provenance("t.warc.gz", 0, 0)
PROSE = "The library opens at nine and the reading room stays quiet until the afternoon school groups arrive. " * 4


def _doc(id_: str, url: str, text: str) -> Document:
    return Document(id=id_, url=url, host="", text=text, provenance=PROV, lang="en", lang_score=0.99)


def test_apply_safety(tmp_path):
    domains = tmp_path / "domains"
    domains.write_text("blocked.example\n")
    config = SafetyConfig(blocklist=BlocklistConfig(domain_files=(str(domains),)), pii=PiiConfig(max_per_100_words=5))
    docs = [
        _doc("clean", "https://ok.example/a", PROSE),
        _doc("pii", "https://ok.example/b", PROSE + " Write to jane.doe@example.org or call +44 20 7946 0958."),
        _doc("dense", "https://ok.example/c", "a@example.org b@example.org c@example.org call 555-0100"),
        _doc("blocked", "https://www.blocked.example/x", PROSE),
        _doc("toxic", "https://ok.example/d", "you are a stupid worthless bitch, shut up you dumb fucking idiot. " * 6),
    ]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | ApplySafety(config)
        assert_that(
            out.kept
            | beam.Map(lambda d: (d.id, dict(d.pii_counts), "jane.doe" in d.text, d.toxicity_score is not None)),
            equal_to([("clean", {}, False, True), ("pii", {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}, False, True)]),
            label="kept",
        )
        assert_that(
            out.dropped | beam.Map(lambda r: (r.id, r.reason.value, "@" in r.detail)),
            equal_to(
                [("dense", "too_much_pii", False), ("blocked", "blocked_domain", False), ("toxic", "toxic", False)]
            ),
            label="dropped",
        )
        assert_that(
            out.kept | beam.Filter(lambda d: d.id == "pii") | beam.Map(lambda d: "<EMAIL_ADDRESS>" in d.text),
            equal_to([True]),
            label="placeholder",
        )
