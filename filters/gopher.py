"""Gopher's quality and repetition rules (Rae et al. 2021, Appendix A.1.1 and Table A1).

Two families, each a pure `measure_*(text, lang)` returning frozen stats and a
`judge_*(stats, config, lang)` applying the thresholds of its config dataclass below:

- quality (`gopher_quality_v1`): word count, mean word length, '#' and ellipsis
  per word, bullet and ellipsis lines, words with a letter, stop words. Words are
  those of `filters.words.split_words` (whitespace, or characters in zh/ja/th);
  a "non-symbol" word has a letter or a digit.
- repetition (`gopher_repetition_v1`): duplicate lines and paragraphs, the most
  frequent 2/3/4-gram, duplicate 5..10-grams. A duplicate is an occurrence after
  the first. Character fractions count each character once: for n-grams, the
  characters of the words covered by duplicate occurrences over all word
  characters (whitespace excluded); for lines and paragraphs, their characters
  over those of all lines (paragraphs).

The n-gram counting is vectorized: words become 64-bit hashes, an n-gram's key is
a polynomial hash of its words' (wrapping uint64 arithmetic), and repeated keys are
found by one stable sort per n. An n-gram can only repeat where both (n-1)-grams
inside it repeat, so each n sorts only those candidate positions: on prose most
5..10-grams are ruled out before sorting.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Iterable

import numpy as np

from filters.rule_family import Outcome, RuleFamily, check_family, format_number, rules_for
from filters.words import count_stop_words, has_spaceless_script, split_words
from pipeline.core.errors import require
from pipeline.core.records import KEEP, DropReason, Verdict, drop

QUALITY = "gopher_quality_v1"
REPETITION = "gopher_repetition_v1"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GopherQualityRules:
    """Gopher's quality filter (Rae et al. 2021, Appendix A.1.1); validated by the family holding it."""

    min_words: int | None = 50
    """Fewer non-symbol words: TOO_FEW_WORDS. Gopher: 50."""
    max_words: int | None = 100_000
    """More non-symbol words: TOO_MANY_WORDS. Gopher: 100,000."""
    min_mean_word_length: float | None = 3.0
    """Mean length of non-symbol words below this: WORDS_TOO_SHORT. Gopher: 3."""
    max_mean_word_length: float | None = 10.0
    """Mean length of non-symbol words above this: WORDS_TOO_LONG. Gopher: 10."""
    max_hash_ratio: float | None = 0.1
    """'#' per word above this: TOO_MANY_HASHES. Gopher: 0.1."""
    max_ellipsis_ratio: float | None = 0.1
    """Ellipses ('...' or '…') per word above this: TOO_MANY_ELLIPSES. Gopher: 0.1."""
    max_bullet_line_frac: float | None = 0.9
    """Share of non-empty lines starting with a bullet above this: TOO_MANY_BULLET_LINES. Gopher: 0.9."""
    max_ellipsis_line_frac: float | None = 0.3
    """Share of non-empty lines ending with an ellipsis above this: TOO_MANY_ELLIPSIS_LINES. Gopher: 0.3."""
    min_alpha_word_frac: float | None = 0.8
    """Share of words with a letter below this: TOO_FEW_ALPHA_WORDS. Gopher: 0.8."""
    min_stop_words: int | None = 2
    """Fewer stop words (filters/words.py; skipped for a language without a list): TOO_FEW_STOP_WORDS.
    Gopher: 2 of "the, be, to, of, and, that, have, with"."""

    def check(self, key: str) -> None:
        for name in ("min_words", "max_words", "min_stop_words"):
            value = getattr(self, name)
            require(value is None or value >= 0, f"{key}.{name}", f"must be >= 0 or null, not {value}")
        for name in ("min_mean_word_length", "max_mean_word_length", "max_hash_ratio", "max_ellipsis_ratio"):
            value = getattr(self, name)
            require(value is None or value >= 0, f"{key}.{name}", f"must be >= 0 or null, not {value}")
        for name in ("max_bullet_line_frac", "max_ellipsis_line_frac", "min_alpha_word_frac"):
            value = getattr(self, name)
            require(value is None or 0.0 <= value <= 1.0, f"{key}.{name}", f"must be in [0, 1] or null, not {value}")
        require(
            None in (self.min_words, self.max_words) or self.min_words <= self.max_words,
            f"{key}.max_words",
            f"must be >= min_words ({self.min_words})",
        )
        require(
            None in (self.min_mean_word_length, self.max_mean_word_length)
            or self.min_mean_word_length <= self.max_mean_word_length,
            f"{key}.max_mean_word_length",
            f"must be >= min_mean_word_length ({self.min_mean_word_length})",
        )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GopherQualityConfig(GopherQualityRules):
    enabled: bool = True
    """Apply this family."""
    languages: dict[str, GopherQualityRules] = dataclasses.field(
        default_factory=lambda: {
            # one token per character: a mean "word" length of ~1 says nothing
            lang: GopherQualityRules(min_mean_word_length=None, max_mean_word_length=None)
            for lang in ("zh", "ja", "th")
        }
    )
    """Per-language rule sets. zh, ja, th: mean word length off (their words are characters)."""

    def __post_init__(self) -> None:
        check_family(self, "quality.gopher")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GopherRepetitionRules:
    """Gopher's repetition filter (Rae et al. 2021, Table A1); validated by the family holding it.

    Duplicates are the occurrences after the first. Character fractions are of all lines'
    (paragraphs') characters, and for n-grams of all word characters, each counted once."""

    max_duplicate_line_frac: float | None = 0.30
    """Share of lines repeating an earlier line: TOO_MANY_DUPLICATE_LINES. Gopher: 0.30."""
    max_duplicate_paragraph_frac: float | None = 0.30
    """Share of paragraphs (blank-line separated) repeating an earlier one: TOO_MANY_DUPLICATE_PARAGRAPHS.
    Gopher: 0.30."""
    max_duplicate_line_char_frac: float | None = 0.20
    """Characters in duplicate lines: TOO_MANY_DUPLICATE_LINE_CHARS. Gopher: 0.20."""
    max_duplicate_paragraph_char_frac: float | None = 0.20
    """Characters in duplicate paragraphs: TOO_MANY_DUPLICATE_PARAGRAPH_CHARS. Gopher: 0.20."""
    max_top_2gram_char_frac: float | None = 0.20
    """Characters in all occurrences of the most frequent word 2-gram: TOP_2GRAM_TOO_FREQUENT. Gopher: 0.20."""
    max_top_3gram_char_frac: float | None = 0.18
    """Same for 3-grams: TOP_3GRAM_TOO_FREQUENT. Gopher: 0.18."""
    max_top_4gram_char_frac: float | None = 0.16
    """Same for 4-grams: TOP_4GRAM_TOO_FREQUENT. Gopher: 0.16."""
    max_duplicate_5gram_char_frac: float | None = 0.15
    """Characters covered by duplicate word 5-grams: TOO_MANY_DUPLICATE_5GRAMS. Gopher: 0.15."""
    max_duplicate_6gram_char_frac: float | None = 0.14
    """Same for 6-grams: TOO_MANY_DUPLICATE_6GRAMS. Gopher: 0.14."""
    max_duplicate_7gram_char_frac: float | None = 0.13
    """Same for 7-grams: TOO_MANY_DUPLICATE_7GRAMS. Gopher: 0.13."""
    max_duplicate_8gram_char_frac: float | None = 0.12
    """Same for 8-grams: TOO_MANY_DUPLICATE_8GRAMS. Gopher: 0.12."""
    max_duplicate_9gram_char_frac: float | None = 0.11
    """Same for 9-grams: TOO_MANY_DUPLICATE_9GRAMS. Gopher: 0.11."""
    max_duplicate_10gram_char_frac: float | None = 0.10
    """Same for 10-grams: TOO_MANY_DUPLICATE_10GRAMS. Gopher: 0.10."""

    def check(self, key: str) -> None:
        for rule in dataclasses.fields(GopherRepetitionRules):
            value = getattr(self, rule.name)
            require(
                value is None or 0.0 <= value <= 1.0, f"{key}.{rule.name}", f"must be in [0, 1] or null, not {value}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GopherRepetitionConfig(GopherRepetitionRules):
    enabled: bool = True
    """Apply this family."""
    languages: dict[str, GopherRepetitionRules] = dataclasses.field(
        default_factory=lambda: {
            # Thai characters are letters: a 5-gram of them is about one word, and repeats in any prose
            "th": GopherRepetitionRules(
                **{rule.name: None for rule in dataclasses.fields(GopherRepetitionRules) if "gram" in rule.name}
            ),
        }
    )
    """Per-language rule sets. th: n-gram rules off (its tokens are letters); zh, ja keep them on
    characters (a Han character is a morpheme: a 5-gram is about three words)."""

    def __post_init__(self) -> None:
        check_family(self, "quality.repetition")


# A word (whitespace-delimited token) with no letter: "2024", "12.5%", "—", "|". It is a
# symbol word if it has no digit either (underscores count as symbols).
_NO_LETTER_WORD = re.compile(r"(?<!\S)(?:[^\w\s]|[\d_])+(?!\S)")
_DIGIT = re.compile(r"\d")
_BULLETS = ("-", "*", "•", "‣", "◦", "▪", "●", "·", "–")
_ELLIPSES = ("...", "…")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
_TOP_NGRAMS = (2, 3, 4)
_DUPLICATE_NGRAMS = (5, 6, 7, 8, 9, 10)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio): order matters in the n-gram key


@dataclasses.dataclass(frozen=True, slots=True)
class GopherQualityStats:
    words: int  # non-symbol words
    mean_word_length: float  # of non-symbol words, in characters (punctuation attached to a word counts)
    hash_ratio: float  # '#' per non-symbol word
    ellipsis_ratio: float  # '...' or '…' per non-symbol word
    bullet_line_frac: float  # of non-blank lines
    ellipsis_line_frac: float  # of non-blank lines
    alpha_word_frac: float  # words with a letter, of all words
    stop_words: int | None  # None: no stop-word list for the language


def measure_quality(text: str, lang: str) -> GopherQualityStats:
    tokens = split_words(text)
    # the word-level patterns need whitespace between tokens (zh/ja/th tokens are characters)
    spaced = " ".join(tokens) if has_spaceless_script(text) else text
    no_letter_words = _NO_LETTER_WORD.findall(spaced)
    symbol_words = [word for word in no_letter_words if not _DIGIT.search(word)]
    words = len(tokens) - len(symbol_words)
    chars = len("".join(tokens)) - len("".join(symbol_words))
    lines = [line for line in map(str.strip, text.split("\n")) if line]
    per_word = max(words, 1)
    return GopherQualityStats(
        words=words,
        mean_word_length=chars / words if words else 0.0,
        hash_ratio=text.count("#") / per_word,
        ellipsis_ratio=sum(map(text.count, _ELLIPSES)) / per_word,
        bullet_line_frac=sum(1 for line in lines if line.startswith(_BULLETS)) / len(lines) if lines else 0.0,
        ellipsis_line_frac=sum(1 for line in lines if line.endswith(_ELLIPSES)) / len(lines) if lines else 0.0,
        alpha_word_frac=1.0 - len(no_letter_words) / len(tokens) if tokens else 0.0,
        stop_words=count_stop_words(text, lang),
    )


# (reason, measured field, threshold in the config, drop when fails(measured, threshold)), judged in this order
QUALITY_RULES = (
    (DropReason.TOO_FEW_WORDS, "words", "min_words", operator.lt),
    (DropReason.TOO_MANY_WORDS, "words", "max_words", operator.gt),
    (DropReason.WORDS_TOO_SHORT, "mean_word_length", "min_mean_word_length", operator.lt),
    (DropReason.WORDS_TOO_LONG, "mean_word_length", "max_mean_word_length", operator.gt),
    (DropReason.TOO_MANY_HASHES, "hash_ratio", "max_hash_ratio", operator.gt),
    (DropReason.TOO_MANY_ELLIPSES, "ellipsis_ratio", "max_ellipsis_ratio", operator.gt),
    (DropReason.TOO_MANY_BULLET_LINES, "bullet_line_frac", "max_bullet_line_frac", operator.gt),
    (DropReason.TOO_MANY_ELLIPSIS_LINES, "ellipsis_line_frac", "max_ellipsis_line_frac", operator.gt),
    (DropReason.TOO_FEW_ALPHA_WORDS, "alpha_word_frac", "min_alpha_word_frac", operator.lt),
    (DropReason.TOO_FEW_STOP_WORDS, "stop_words", "min_stop_words", operator.lt),
)


def judge_quality(stats: GopherQualityStats, config: GopherQualityConfig, lang: str) -> Verdict:
    return _judge(stats, rules_for(config, lang), QUALITY_RULES)


@dataclasses.dataclass(frozen=True, slots=True)
class GopherRepetitionStats:
    duplicate_line_frac: float
    duplicate_paragraph_frac: float
    duplicate_line_char_frac: float
    duplicate_paragraph_char_frac: float
    top_2gram_char_frac: float  # 0 when no 2-gram occurs twice
    top_3gram_char_frac: float
    top_4gram_char_frac: float
    duplicate_5gram_char_frac: float
    duplicate_6gram_char_frac: float
    duplicate_7gram_char_frac: float
    duplicate_8gram_char_frac: float
    duplicate_9gram_char_frac: float
    duplicate_10gram_char_frac: float


def find_duplicates(items: Iterable[str]) -> tuple[int, int, int, int]:
    """(items, duplicate items, characters, duplicate characters); a duplicate repeats an earlier item."""
    seen: set[str] = set()
    count = duplicates = chars = duplicate_chars = 0
    for item in items:
        count += 1
        chars += len(item)
        if item in seen:
            duplicates += 1
            duplicate_chars += len(item)
        else:
            seen.add(item)
    return count, duplicates, chars, duplicate_chars


def _fractions(items: Iterable[str]) -> tuple[float, float]:
    count, duplicates, chars, duplicate_chars = find_duplicates(items)
    return (duplicates / count if count else 0.0), (duplicate_chars / chars if chars else 0.0)


def measure_repetition(text: str) -> GopherRepetitionStats:
    lines = (line.strip() for line in text.split("\n"))
    paragraphs = (p.strip() for p in _PARAGRAPH_BREAK.split(text))
    line_frac, line_char_frac = _fractions(line for line in lines if line)
    paragraph_frac, paragraph_char_frac = _fractions(p for p in paragraphs if p)
    top, duplicate = ngram_char_fractions(split_words(text))
    return GopherRepetitionStats(line_frac, paragraph_frac, line_char_frac, paragraph_char_frac, *top, *duplicate)


def ngram_char_fractions(words: list[str]) -> tuple[list[float], list[float]]:
    """Character fractions of the top 2/3/4-gram (all its occurrences) and of duplicate 5..10-grams."""
    top = [0.0] * len(_TOP_NGRAMS)
    duplicate = [0.0] * len(_DUPLICATE_NGRAMS)
    n_words = len(words)
    if n_words < 3:  # fewer than two 2-grams: nothing can repeat
        return top, duplicate
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=n_words)  # (W,)
    offsets = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])  # (W+1,) characters before each word
    total = int(offsets[-1])
    word_keys = np.fromiter(map(hash, words), dtype=np.int64, count=n_words).view(np.uint64)  # (W,)
    keys = word_keys
    candidates = np.arange(n_words - 1)  # positions whose n-gram may repeat
    for n in range(2, _DUPLICATE_NGRAMS[-1] + 1):
        count = n_words - n + 1  # n-grams in the text
        keys = keys[:count] * _MIX + word_keys[n - 1 :]  # (count,) key of the n-gram starting at each word
        order = np.argsort(keys[candidates], kind="stable")  # stable: equal keys stay in text order
        starts = candidates[order]  # (C,) candidate positions, grouped by key
        sorted_keys = keys[starts]
        same = sorted_keys[1:] == sorted_keys[:-1]  # (C-1,) same n-gram as the one before it
        if not same.any():
            break  # no n-gram repeats, so no longer one does either
        if n in _TOP_NGRAMS:
            top[n - 2] = _top_fraction(same, starts, offsets, n, total)
        else:
            later = starts[1:][same]  # occurrences after the first
            duplicate[n - 5] = _covered_chars(later, n, lengths) / total
        repeated = np.zeros(count, dtype=bool)
        repeated[starts[1:][same]] = True
        repeated[starts[:-1][same]] = True
        candidates = np.flatnonzero(repeated[:-1] & repeated[1:])  # (n+1)-grams whose two n-grams repeat
        if candidates.size < 2:
            break
    return top, duplicate


def _top_fraction(same: np.ndarray, starts: np.ndarray, offsets: np.ndarray, n: int, total: int) -> float:
    """Characters in all occurrences of the most frequent n-gram (the longest, among equally frequent ones)."""
    group_starts = np.flatnonzero(np.concatenate(([True], ~same)))  # (G,) first index of each key's run
    counts = np.diff(np.append(group_starts, same.size + 1))  # (G,)
    best = counts.max()
    first = starts[group_starts[counts == best]]  # a position of each most frequent n-gram
    chars = offsets[first + n] - offsets[first]
    return float(best * chars.max()) / total if total else 0.0


def _covered_chars(positions: np.ndarray, n: int, lengths: np.ndarray) -> int:
    """Characters of the words covered by n-grams starting at `positions`, each word once."""
    delta = np.zeros(lengths.size + 1, dtype=np.int64)
    delta[positions] += 1  # positions are distinct, so fancy += is exact
    delta[positions + n] -= 1
    covered = np.cumsum(delta[:-1]) > 0  # (W,)
    return int(lengths[covered].sum())


# (reason, measured field, threshold in the config), judged in this order; all drop when measured > threshold
REPETITION_RULES = tuple(
    (reason, name, f"max_{name}", operator.gt)
    for reason, name in (
        (DropReason.TOO_MANY_DUPLICATE_LINES, "duplicate_line_frac"),
        (DropReason.TOO_MANY_DUPLICATE_PARAGRAPHS, "duplicate_paragraph_frac"),
        (DropReason.TOO_MANY_DUPLICATE_LINE_CHARS, "duplicate_line_char_frac"),
        (DropReason.TOO_MANY_DUPLICATE_PARAGRAPH_CHARS, "duplicate_paragraph_char_frac"),
        (DropReason.TOP_2GRAM_TOO_FREQUENT, "top_2gram_char_frac"),
        (DropReason.TOP_3GRAM_TOO_FREQUENT, "top_3gram_char_frac"),
        (DropReason.TOP_4GRAM_TOO_FREQUENT, "top_4gram_char_frac"),
        (DropReason.TOO_MANY_DUPLICATE_5GRAMS, "duplicate_5gram_char_frac"),
        (DropReason.TOO_MANY_DUPLICATE_6GRAMS, "duplicate_6gram_char_frac"),
        (DropReason.TOO_MANY_DUPLICATE_7GRAMS, "duplicate_7gram_char_frac"),
        (DropReason.TOO_MANY_DUPLICATE_8GRAMS, "duplicate_8gram_char_frac"),
        (DropReason.TOO_MANY_DUPLICATE_9GRAMS, "duplicate_9gram_char_frac"),
        (DropReason.TOO_MANY_DUPLICATE_10GRAMS, "duplicate_10gram_char_frac"),
    )
)


def judge_repetition(stats: GopherRepetitionStats, config: GopherRepetitionConfig, lang: str) -> Verdict:
    return _judge(stats, rules_for(config, lang), REPETITION_RULES)


def _judge(stats, rules, table) -> Verdict:
    for reason, measured, threshold, fails in table:
        limit = getattr(rules, threshold)
        value = getattr(stats, measured)
        if limit is not None and value is not None and fails(value, limit):
            return drop(reason)
    return KEEP


def assess_quality(text: str, lang: str, config: GopherQualityConfig) -> Outcome:
    stats = measure_quality(text, lang)
    verdict = judge_quality(stats, config, lang)
    metadata = {"words": str(stats.words), "mean_word_length": f"{stats.mean_word_length:.2f}"}
    if stats.stop_words is not None:
        metadata["stop_words"] = str(stats.stop_words)
    return Outcome(text, stats, verdict, metadata if verdict.keep else {})


def assess_repetition(text: str, lang: str, config: GopherRepetitionConfig) -> Outcome:
    stats = measure_repetition(text)
    verdict = judge_repetition(stats, config, lang)
    return Outcome(
        text,
        stats,
        verdict,
        {"duplicate_5gram_char_frac": format_number(stats.duplicate_5gram_char_frac)} if verdict.keep else {},
    )


QUALITY_FAMILY = RuleFamily(
    key="gopher",
    name=QUALITY,
    config_class=GopherQualityConfig,
    assess=assess_quality,
    metadata_keys=("words", "mean_word_length", "stop_words"),
    measured={reason: measured for reason, measured, *_ in QUALITY_RULES},
)
REPETITION_FAMILY = RuleFamily(
    key="repetition",
    name=REPETITION,
    config_class=GopherRepetitionConfig,
    assess=assess_repetition,
    metadata_keys=("duplicate_5gram_char_frac",),
    measured={reason: measured for reason, measured, *_ in REPETITION_RULES},
)
