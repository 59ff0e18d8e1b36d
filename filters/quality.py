"""The heuristic quality rule families, in the order `ApplyQuality` runs them, and `assess`.

Cheapest first (bench/bench_quality.py): C4's line cleaning and page rules, then
FineWeb (~4x cheaper than either Gopher family), Gopher quality (it drops more than
repetition, at about the same cost), Gopher repetition. The kept set does not depend
on the order; the first failing rule is the drop's reason. A family is one module
(see filters/rule_family.py); adding one is a line here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from filters import c4, fineweb, gopher
from filters.rule_family import RuleFamily, format_number
from pipeline.core.records import DropReason

QUALITY_FAMILIES: Mapping[str, RuleFamily] = {
    family.key: family for family in (c4.FAMILY, fineweb.FAMILY, gopher.QUALITY_FAMILY, gopher.REPETITION_FAMILY)
}

METADATA_KEYS = tuple(key for family in QUALITY_FAMILIES.values() for key in family.metadata_keys)
"""Everything a kept document's metadata may gain from the families (typed columns in pipeline/core/schema.py)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome for one text: kept (reason None) with its cleaned text, or dropped."""

    text: str  # after the rewriting families (C4 cleaning)
    reason: DropReason | None = None
    detail: str = ""  # for a drop: the family and the measured value, e.g. "gopher_quality_v1 words=12"
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    removed_lines: dict[str, int] = dataclasses.field(default_factory=dict)  # lines rewrites removed, by cause


def assess(text: str, lang: str, config) -> Assessment:
    """Each enabled family of `config` (a QualityConfig: one section per family key) in order,
    until one drops the text."""
    metadata: dict[str, str] = {}
    removed: dict[str, int] = {}
    for key, family in QUALITY_FAMILIES.items():
        family_config = getattr(config, key)
        if not family_config.enabled:
            continue
        outcome = family.assess(text, lang, family_config)
        text = outcome.text
        removed.update(outcome.removed_lines)
        reason = outcome.verdict.reason
        if reason is not None:
            measured = family.measured.get(reason)
            detail = (
                f"{family.name} {measured}={format_number(getattr(outcome.stats, measured))}"
                if measured
                else family.name
            )
            return Assessment(text, reason, detail, removed_lines=removed)
        metadata.update(outcome.metadata)
    return Assessment(text, metadata=metadata, removed_lines=removed)
