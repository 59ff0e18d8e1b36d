"""Tagging settings: taxonomy-1 domains (URL rules files, content signals, an optional fastText
classifier) and the topic and format models."""

from __future__ import annotations

import dataclasses

from pipeline.core.errors import require as _require

CLASSIFIER_MODES = ("backup", "replace")
CONTENT_MODELS = ("fasttext", "embedding", "none")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DomainClassifierConfig:
    model_path: str | None = None
    """A fastText model from `gristmill classifiers train domain`; None tags by rules alone (no model ships)."""
    min_score: float = 0.5
    """The model's tag is taken only when its probability reaches this; below it the rules decide."""
    mode: str = "backup"
    """'backup': the model tags only documents the rules leave as 'other'; 'replace': the model tags
    every document it is confident about, the rules the rest."""

    def __post_init__(self) -> None:
        _require(
            0.0 <= self.min_score <= 1.0, "domains.classifier.min_score", f"must be in [0, 1], not {self.min_score}"
        )
        _require(
            self.mode in CLASSIFIER_MODES,
            "domains.classifier.mode",
            f"unknown mode {self.mode!r}; allowed: {', '.join(CLASSIFIER_MODES)}",
        )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DomainsConfig:
    enabled: bool = True
    """False leaves every document's domain 'unknown'."""
    rules_files: tuple[str, ...] = ()
    """Extra rules files (the format of filters/domain_rules.yaml), tried before the shipped rules;
    earlier files win over later ones."""
    content_signals: bool = True
    """When no URL rule matches, tag code, forum, shop, scholarly and news pages by their text
    (filters/domain_content.py) before falling back to 'other'."""
    classifier: DomainClassifierConfig = dataclasses.field(default_factory=DomainClassifierConfig)
    content_model: str = "fasttext"
    """Where a page's evidence names no topic or format: 'fasttext', the shipped content models
    (classifiers/models/CONTENT_MODEL_CARD.md; ~2,000+ documents/s per core); 'embedding', zero-shot
    topics from the packaged all-MiniLM-L6-v2 (English only, ~tens of documents/s per core; needs the
    `embed` extra), formats still by fastText; 'none', evidence only (the rest stay 'unknown')."""
    topic_model_path: str | None = None
    """A fastText topic model (`gristmill classifiers train topic`); null is the shipped one."""
    format_model_path: str | None = None
    """A fastText format model (`gristmill classifiers train format`); null is the shipped one."""

    def __post_init__(self) -> None:
        _require(
            self.content_model in CONTENT_MODELS,
            "domains.content_model",
            f"unknown model {self.content_model!r}; allowed: {', '.join(CONTENT_MODELS)}",
        )
        for i, path in enumerate(self.rules_files):
            _require(bool(path.strip()), f"domains.rules_files[{i}]", "must be a file path, not empty")
