"""TagDomains with TestPipeline, and the rules/classifier decision on its own."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from classifiers.content_tagging import ContentTagger
from filters.domain_rules import DomainRules
from filters.taxonomy import Taxonomy
from pipeline.config import ConfigError, DomainClassifierConfig, DomainsConfig, config_from_dict
from pipeline.core.records import Document, Provenance
from pipeline.stages.tag_domains import TagDomains, domain_model_of

PROV = Provenance("t.warc.gz", 0, 0)
PROSE = "The mill ground grain for the village for two hundred years, and the river turned its wheel."
CODE = "import os\ndef main():\n    path = os.getcwd()\n    print(path);\n    return 0\n"


def _doc(id_: str, url: str, text: str = PROSE) -> Document:
    return Document(id=id_, url=url, host="", text=text, provenance=PROV)


def test_tag_domains(tmp_path):
    user_rules = tmp_path / "mine.yaml"
    user_rules.write_text("rules:\n  - {domain: mill.example, tag: academic}\n", encoding="utf-8")
    docs = [
        _doc("wiki", "https://en.wikipedia.org/wiki/Watermill"),
        _doc("gov", "https://www.gov.uk/guidance/x"),
        _doc("forum", "https://example.com/forum/thread/42"),
        _doc("mine", "https://www.mill.example/history"),
        _doc("code", "https://example.com/snippet", CODE),
        _doc("plain", "https://example.com/about"),
    ]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | TagDomains(DomainsConfig(rules_files=(str(user_rules),)))
        assert_that(
            out.kept | beam.Map(lambda d: (d.id, d.domain, d.domain_rule)),
            equal_to(
                [
                    ("wiki", "encyclopedia", "domain:wikipedia.org"),
                    ("gov", "government_legal", "tld:gov.uk"),
                    ("forum", "forum_qa", "path:/forums?/"),
                    ("mine", "academic", "domain:mill.example"),
                    ("code", "code", "content:code"),
                    ("plain", "other", "default"),  # an about page: a format taxonomy 1 has no tag for
                ]
            ),
            label="kept",
        )
        # formats: the URL rules' tags where they name one, path words, content signals; the model elsewhere
        assert_that(
            out.kept | beam.Map(lambda d: (d.id, d.format, d.format_source)),
            equal_to(
                [
                    ("wiki", "knowledge_article", "domain:wikipedia.org"),
                    ("gov", "news_article", "model"),
                    ("forum", "qa_forum", "path:/forums?/"),
                    ("mine", "academic_writing", "domain:mill.example"),
                    ("code", "documentation", "content:code"),
                    (
                        "plain",
                        "about_page",
                        "path:/(about|about-us|uber-uns|ueber-uns|wir-uber-uns|kontakt|contact|contact-us|team|a-propos)(\\.\\w+)?/?$",
                    ),
                ]
            ),
            label="formats",
        )
        assert_that(
            out.kept | beam.Map(lambda d: (d.id, d.topic != "unknown", d.topic_score is not None)),
            equal_to(
                [(i, True, i != "gov") for i in ("wiki", "gov", "forum", "mine", "code", "plain")]
            ),  # gov: tld rule
            label="every document gets a topic; the model's ones carry its probability",
        )
        assert_that(out.dropped, equal_to([]), label="never drops")


def test_disabled_stage_passes_documents_through():
    with TestPipeline() as p:
        out = p | beam.Create([_doc("a", "https://en.wikipedia.org/wiki/X")]) | TagDomains(DomainsConfig(enabled=False))
        assert_that(out.kept | beam.Map(lambda d: (d.domain, d.domain_rule)), equal_to([("unknown", "")]))


class _FixedModel:
    """Stands in for a DomainClassifier: one answer for every text."""

    def __init__(self, tag: str | None, score: float):
        self._answer = (tag, score)

    def predict(self, text: str) -> tuple[str | None, float]:
        return self._answer


@pytest.fixture(scope="module")
def rules() -> DomainRules:
    return DomainRules.load()


@pytest.mark.parametrize(
    "mode, model, url, expected",
    [
        # backup: the model speaks only where the rules say "other", and only when confident
        ("backup", _FixedModel("news", 0.9), "https://example.com/about", ("news", "classifier:domain.ftz")),
        (
            "backup",
            _FixedModel("news", 0.9),
            "https://en.wikipedia.org/wiki/X",
            ("encyclopedia", "domain:wikipedia.org"),
        ),
        ("backup", _FixedModel("news", 0.4), "https://example.com/about", ("other", "default")),
        ("backup", _FixedModel(None, 0.0), "https://example.com/about", ("other", "default")),
        # replace: the model first wherever it is confident, the rules elsewhere
        ("replace", _FixedModel("news", 0.9), "https://en.wikipedia.org/wiki/X", ("news", "classifier:domain.ftz")),
        (
            "replace",
            _FixedModel("news", 0.4),
            "https://en.wikipedia.org/wiki/X",
            ("encyclopedia", "domain:wikipedia.org"),
        ),
    ],
)
def test_decide_domain_with_a_model(rules, mode, model, url, expected):
    settings = DomainClassifierConfig(model_path="/models/domain.ftz", min_score=0.5, mode=mode)
    tagger = ContentTagger(
        rules,
        Taxonomy.load(),
        topic_model=None,
        format_model=None,
        domain_model=domain_model_of(model, settings),
        domain_model_first=mode == "replace",
    )
    tags = tagger.tag(url, "", PROSE, {})
    assert (tags.domain, tags.domain_rule) == expected


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"domains": {"classifier": {"mode": "vote"}}},
            "domains.classifier.mode: unknown mode 'vote'; allowed: backup, replace",
        ),
        ({"domains": {"classifier": {"min_score": 1.5}}}, "domains.classifier.min_score: must be in [0, 1]"),
        ({"domains": {"rules_files": [""]}}, "domains.rules_files[0]: must be a file path"),
        (
            {"domains": {"content": True}},
            "domains.content: unknown key; allowed: enabled, rules_files, content_signals, classifier, content_model",
        ),
    ],
)
def test_bad_domains_config_names_the_key(raw, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert message in str(err.value)
