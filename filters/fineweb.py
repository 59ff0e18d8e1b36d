"""FineWeb's own quality rules (Penedo et al. 2024), as datatrove's FineWebQualityFilter applies them.

Line-level: the share of lines ending in terminal punctuation, the share of short
lines, the characters in duplicated lines, and newlines per word (a list, not
prose). Lines are the text split on "\\n", blank ones included, as in datatrove;
terminal punctuation is `filters.words.TERMINAL_PUNCTUATION` (FineWeb's marks
plus their CJK, Indic and Arabic counterparts), checked after trailing spaces.
"""

from __future__ import annotations

import dataclasses

from filters.gopher import find_duplicates
from filters.rule_family import Outcome, RuleFamily, check_family, format_number, rules_for
from filters.words import TERMINAL_PUNCTUATION, split_words
from pipeline.core.errors import require
from pipeline.core.records import KEEP, DropReason, Verdict, drop

NAME = "fineweb_v1"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FineWebRules:
    """FineWeb's own rules (Penedo et al. 2024; datatrove FineWebQualityFilter, whose comparisons
    these keep); validated by the family holding it."""

    min_line_punctuation_frac: float | None = 0.12
    """Share of lines ending in terminal punctuation at or below this: TOO_FEW_PUNCTUATED_LINES. FineWeb: 0.12."""
    max_short_line_frac: float | None = 0.67
    """Share of lines of at most short_line_chars at or above this: TOO_MANY_SHORT_LINES. FineWeb: 0.67."""
    short_line_chars: int = 30
    """A line this long or shorter is short. FineWeb: 30."""
    max_duplicate_line_char_frac: float | None = 0.01
    """Characters in duplicate non-empty lines, at or above this share of the non-newline characters:
    TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB. FineWeb's code: 0.01 (its blog post says 0.1)."""
    max_newlines_per_word: float | None = 0.3
    """Newlines per word above this (a list, not prose): TOO_MANY_NEWLINES. FineWeb: 0.3."""

    def check(self, key: str) -> None:
        for name in ("min_line_punctuation_frac", "max_short_line_frac", "max_duplicate_line_char_frac"):
            value = getattr(self, name)
            require(value is None or 0.0 <= value <= 1.0, f"{key}.{name}", f"must be in [0, 1] or null, not {value}")
        require(self.short_line_chars >= 1, f"{key}.short_line_chars", f"must be >= 1, not {self.short_line_chars}")
        require(
            self.max_newlines_per_word is None or self.max_newlines_per_word >= 0,
            f"{key}.max_newlines_per_word",
            f"must be >= 0 or null, not {self.max_newlines_per_word}",
        )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FineWebConfig(FineWebRules):
    enabled: bool = True
    """Apply this family."""
    languages: dict[str, FineWebRules] = dataclasses.field(
        default_factory=lambda: {
            # a Han or kana character carries what ~2.5 Latin ones do (median sentence: 41 vs 101 characters)
            "zh": FineWebRules(short_line_chars=12),
            "ja": FineWebRules(short_line_chars=12),
            "th": FineWebRules(min_line_punctuation_frac=None),  # Thai marks no sentence ends
        }
    )
    """Per-language rule sets. zh, ja: short lines are 12 characters; th: line punctuation rule off."""

    def __post_init__(self) -> None:
        check_family(self, "quality.fineweb")


@dataclasses.dataclass(frozen=True, slots=True)
class FineWebStats:
    line_lengths: tuple[int, ...]  # characters per line, blank lines included
    punctuated_line_frac: float
    duplicate_line_char_frac: float  # duplicate non-blank lines' characters / characters other than "\n"
    newlines_per_word: float

    def short_line_frac(self, short_line_chars: int) -> float:
        if not self.line_lengths:
            return 0.0
        return sum(1 for n in self.line_lengths if n <= short_line_chars) / len(self.line_lengths)


def measure(text: str) -> FineWebStats:
    lines = text.split("\n")
    punctuated = sum(1 for line in lines if line.rstrip().endswith(TERMINAL_PUNCTUATION))
    _, _, _, duplicate_chars = find_duplicates(line for line in lines if line.strip())
    chars = len(text) - (len(lines) - 1)
    words = len(split_words(text))
    return FineWebStats(
        line_lengths=tuple(map(len, lines)),
        punctuated_line_frac=punctuated / len(lines),
        duplicate_line_char_frac=duplicate_chars / chars if chars else 0.0,
        newlines_per_word=(len(lines) - 1) / words if words else 0.0,
    )


def judge(stats: FineWebStats, config: FineWebConfig, lang: str) -> Verdict:
    rules = rules_for(config, lang)
    # datatrove's comparisons: <= and >= for the first three, > for the last
    if rules.min_line_punctuation_frac is not None and stats.punctuated_line_frac <= rules.min_line_punctuation_frac:
        return drop(DropReason.TOO_FEW_PUNCTUATED_LINES)
    if (
        rules.max_short_line_frac is not None
        and stats.short_line_frac(rules.short_line_chars) >= rules.max_short_line_frac
    ):
        return drop(DropReason.TOO_MANY_SHORT_LINES)
    if (
        rules.max_duplicate_line_char_frac is not None
        and stats.duplicate_line_char_frac >= rules.max_duplicate_line_char_frac
    ):
        return drop(DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB)
    if rules.max_newlines_per_word is not None and stats.newlines_per_word > rules.max_newlines_per_word:
        return drop(DropReason.TOO_MANY_NEWLINES)
    return KEEP


def assess(text: str, lang: str, config: FineWebConfig) -> Outcome:
    stats = measure(text)
    verdict = judge(stats, config, lang)
    return Outcome(
        text,
        stats,
        verdict,
        {"punctuated_line_frac": format_number(stats.punctuated_line_frac)} if verdict.keep else {},
    )


FAMILY = RuleFamily(
    key="fineweb",
    name=NAME,
    config_class=FineWebConfig,
    assess=assess,
    metadata_keys=("punctuated_line_frac",),
    # the short-line share depends on the rule's line length, so a drop for it quotes no value
    measured={
        DropReason.TOO_FEW_PUNCTUATED_LINES: "punctuated_line_frac",
        DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB: "duplicate_line_char_frac",
        DropReason.TOO_MANY_NEWLINES: "newlines_per_word",
    },
)
