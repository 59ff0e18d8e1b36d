"""What every heuristic quality rule family provides, so `ApplyQuality` can loop over them.

A family is one module in `filters/` holding its thresholds (a frozen config
dataclass: the paper's values as defaults, per-language rule sets), a pure
measurement and a judge. It exposes itself as one `RuleFamily` value, and
`filters/quality.py` lists the families in the order they run: adding a family is
one module, one line in that registry, its drop reasons in `DropReason` (the
funnel's vocabulary) and its tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.core.errors import require
from pipeline.core.records import DropReason, Verdict


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """One family's result on one text."""

    text: str  # the text the next family sees (a rewriting family, C4, changes it)
    stats: Any  # the family's measurement (a frozen stats dataclass)
    verdict: Verdict
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)  # for a kept text: what its document records
    removed_lines: Mapping[str, int] = dataclasses.field(default_factory=dict)  # lines a rewrite removed, by cause


@dataclasses.dataclass(frozen=True, slots=True)
class RuleFamily:
    """A family as the registry lists it."""

    key: str  # its section under `quality:` in the config, e.g. "gopher"
    name: str  # versioned, for drop details and reproducibility, e.g. "gopher_quality_v1"
    config_class: type  # its thresholds; `enabled` and `languages` (lang -> rule set) included
    assess: Callable[[str, str, Any], Outcome]  # (text, lang, config) -> Outcome
    metadata_keys: tuple[str, ...]  # what a kept document's metadata gains (columns of pipeline/core/schema.py)
    measured: Mapping[DropReason, str]  # per reason, the stats field a drop's detail quotes


def check_family(family, key: str) -> None:
    """Validate a family config and each of its per-language rule sets (`check(key)` on each)."""
    family.check(key)
    for lang, rules in family.languages.items():
        require(bool(lang), f"{key}.languages", "language codes must not be empty")
        rules.check(f"{key}.languages.{lang}")


def rules_for(config, lang: str):
    """The rule set a language gets: its own entry (complete), else the family's top-level values."""
    return config.languages.get(lang, config)


def format_number(value: float | int | bool) -> str:
    """A measurement as a metadata string or in a drop's detail: integers whole, floats to 4 significant digits."""
    return str(value) if isinstance(value, (int, bool)) else f"{value:.4g}"
