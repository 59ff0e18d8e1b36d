"""Quality settings: one section per heuristic rule family (filters/quality.py lists them), then
the fastText classifier. Each family's thresholds live beside its measurement in filters/."""

from __future__ import annotations

import dataclasses

from classifiers.quality import QualityClassifierConfig
from filters.quality import QUALITY_FAMILIES

_FIELDS = [
    ("enabled", bool, dataclasses.field(default=True)),
    *(
        (key, family.config_class, dataclasses.field(default_factory=family.config_class))
        for key, family in QUALITY_FAMILIES.items()
    ),
    ("classifier", QualityClassifierConfig, dataclasses.field(default_factory=QualityClassifierConfig)),
]

QualityConfig = dataclasses.make_dataclass(
    "QualityConfig",
    _FIELDS,
    frozen=True,
    kw_only=True,
    slots=True,
    namespace={"__module__": __name__},
)
QualityConfig.__doc__ = """Heuristic quality rules, one section per family, applied by `ApplyQuality` in the order of
filters/quality.py: C4 line cleaning and document rules, FineWeb, Gopher quality, Gopher repetition;
then the fastText quality classifier. `enabled: false` passes every document through.

A threshold set to null turns its rule off. Each family has `languages`: per-language rule sets
(FineWeb-2 style); a language entry is a complete set (keys it leaves out take the paper's values,
not the family's top-level ones). zh, ja and th have entries by default because their words are
single characters (see filters/words.py)."""
