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
from filters.words import TERMINAL_PUNCTUATION, split_words
from pipeline.config import QualityConfig
from pipeline.document import KEEP, DropReason, Verdict, drop

NAME = "fineweb_v1"


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


def measure(text: str, lang: str) -> FineWebStats:
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


def judge(stats: FineWebStats, config: QualityConfig.FineWeb, lang: str) -> Verdict:
    rules = config.languages.get(lang, config)
    # datatrove's comparisons: <= and >= for the first three, > for the last
    if rules.min_line_punctuation_frac is not None and stats.punctuated_line_frac <= rules.min_line_punctuation_frac:
        return drop(DropReason.TOO_FEW_PUNCTUATED_LINES)
    if rules.max_short_line_frac is not None and stats.short_line_frac(rules.short_line_chars) >= rules.max_short_line_frac:
        return drop(DropReason.TOO_MANY_SHORT_LINES)
    if rules.max_duplicate_line_char_frac is not None and stats.duplicate_line_char_frac >= rules.max_duplicate_line_char_frac:
        return drop(DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB)
    if rules.max_newlines_per_word is not None and stats.newlines_per_word > rules.max_newlines_per_word:
        return drop(DropReason.TOO_MANY_NEWLINES)
    return KEEP
