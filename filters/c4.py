"""C4's page cleaning (Raffel et al. 2020, Sec. 2.2), as TFDS `c4_utils.clean_page` does it.

A rewrite, not only a filter: `clean(text, config, lang)` removes lines (too long a
word, no terminal punctuation, too few words, "javascript", cookie and policy
notices), deletes Wikipedia citation markers, and returns the kept text with a
count per cause. It also notes what C4 drops whole pages for (a kept line with
"lorem ipsum" or "{", too few sentences); `judge` turns that into a verdict.
Citation markers go first; the other checks run in TFDS's order, so a line
removed by an earlier rule is never seen by a later one (a "{" on a javascript
line does not drop the page).

Sentences are counted with a rule, not a trained splitter: every kept line is at
least one sentence, plus one per sentence mark followed by more text on the line
(see `_sentence_breaks` for the marks it does not count). C4 runs nltk's punkt on each line, datatrove's C4 filter
spaCy's sentencizer; bench/bench_quality.py compares the page decisions with the latter.
"""

from __future__ import annotations

import dataclasses
import operator
import re

from filters.rule_family import Outcome, RuleFamily, check_family, rules_for
from filters.words import TERMINAL_PUNCTUATION, has_spaceless_script, split_words
from pipeline.core.errors import require
from pipeline.core.records import KEEP, DropReason, Verdict, drop

NAME = "c4_v1"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class C4Rules:
    """C4's page cleaning (Raffel et al. 2020, Sec. 2.2; TFDS c4_utils.clean_page), in its order:
    line rules remove lines, document rules drop the page. Validated by the family holding it."""

    max_word_length: int | None = 1000
    """Remove lines with a longer word. C4: 1,000 characters."""
    remove_citations: bool = True
    """Delete Wikipedia-style markers ([1], [edit], [citation needed]) from lines. C4: true."""
    terminal_punctuation: bool = False
    """Remove lines not ending in terminal punctuation (or ending in '...'). C4: true; FineWeb: false,
    which is the default here (FineWeb's line-punctuation ratio rule replaces it)."""
    min_words_per_line: int | None = 3
    """Remove lines with fewer words. C4: 3."""
    remove_javascript_lines: bool = True
    """Remove lines mentioning 'javascript'. C4: true."""
    remove_policy_lines: bool = True
    """Remove lines with 'terms of use', 'privacy policy', 'cookie policy', 'uses cookies', ... C4: true."""
    drop_lorem_ipsum: bool = True
    """Drop the page if a kept line has 'lorem ipsum': LOREM_IPSUM. C4: true."""
    drop_curly_brace: bool = True
    """Drop the page if a kept line has '{' (code): CURLY_BRACE. C4: true."""
    min_sentences: int | None = 5
    """Drop the page with fewer sentences in its kept lines: TOO_FEW_SENTENCES. C4: 5."""

    def check(self, key: str) -> None:
        for name in ("max_word_length", "min_words_per_line", "min_sentences"):
            value = getattr(self, name)
            require(value is None or value >= 1, f"{key}.{name}", f"must be >= 1 or null, not {value}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class C4Config(C4Rules):
    enabled: bool = True
    """Apply this family."""
    languages: dict[str, C4Rules] = dataclasses.field(default_factory=dict)
    """Per-language rule sets. Note th: with terminal_punctuation on, Thai (no sentence marks) loses every line."""

    def __post_init__(self) -> None:
        check_family(self, "quality.c4")


_ELLIPSIS = "..."
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
_POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
# Every javascript, lorem ipsum or policy line contains one of these: pages without any
# (most) skip the per-line lower-casing and substring checks.
_FLAG_SUBSTRINGS = ("javascript", "lorem ipsum", "cookie", "terms of use", "privacy policy")
# A sentence ends inside a line where a mark is followed by more text on the same line
# (kept lines are stripped, so whitespace after a mark means more text follows). Groups:
# the mark and the next character, both empty for CJK marks.
_SENTENCE_BREAK = re.compile(
    r"([.!?\u0964\u061f\u06d4]+)[\"'\u201d\u2019)\]]*[^\S\n]+(?=(\S))"
    r"|[\u3002\uff01\uff1f]+[\u300d\u300f\u201d\u2019\uff09]*(?=[^\n])"
)
# What a period ends when it ends no sentence: an initial ("J."), a number of 1-3 digits ("11.")
_INITIAL_OR_ORDINAL = re.compile(r"(?:^|\W)(?:[^\W\d_]|\d{1,3})$")


def _sentence_breaks(text: str) -> int:
    """Sentence ends inside lines, as a trained splitter mostly sees them: not before a lower-case
    word ("e.g. the", "ca. zwei"), and a period not after an initial ("J. Smith") or a number of
    one to three digits (German ordinals: "am 11. Februar", "im 4. Stock")."""
    breaks = 0
    for match in _SENTENCE_BREAK.finditer(text):
        mark, following = match.group(1, 2)
        if following and following.islower():
            continue
        start = match.start()
        if mark == "." and _INITIAL_OR_ORDINAL.search(text, max(0, start - 4), start):
            continue
        breaks += 1
    return breaks


@dataclasses.dataclass(frozen=True, slots=True)
class C4Cleaning:
    """The cleaned text and what cleaning saw. Blank lines are skipped and not counted."""

    text: str
    lines: int  # non-blank input lines (a line of citation markers only is blank)
    kept_lines: int
    too_long_word_lines: int
    no_terminal_punctuation_lines: int
    too_few_words_lines: int
    javascript_lines: int
    policy_lines: int
    citations: int  # markers deleted from lines (the lines stay)
    sentences: int  # in the kept lines
    has_lorem_ipsum: bool  # on a line that passed the line rules before it
    has_curly_brace: bool  # same

    @property
    def removed_lines(self) -> dict[str, int]:
        """Removed lines by cause, for counters."""
        return {
            "too_long_word": self.too_long_word_lines,
            "no_terminal_punctuation": self.no_terminal_punctuation_lines,
            "too_few_words": self.too_few_words_lines,
            "javascript": self.javascript_lines,
            "policy": self.policy_lines,
        }


def clean(text: str, config: C4Config, lang: str) -> C4Cleaning:
    rules = rules_for(config, lang)
    spaceless = has_spaceless_script(text)
    lowered = text.lower()
    flagged = any(flag in lowered for flag in _FLAG_SUBSTRINGS)
    kept: list[str] = []
    lines = too_long = no_punct = too_few = javascript = policy = citations = 0
    lorem = curly = False
    for line in text.splitlines():
        line = line.strip()
        if rules.remove_citations and "[" in line:
            line, n = _CITATION.subn("", line)
            line = line.strip()
            citations += n
        if not line:
            continue
        lines += 1
        if rules.max_word_length is not None and len(line) > rules.max_word_length:
            if any(len(word) > rules.max_word_length for word in line.split()):
                too_long += 1
                continue
        if rules.terminal_punctuation and (not line.endswith(TERMINAL_PUNCTUATION) or line.endswith(_ELLIPSIS)):
            no_punct += 1
            continue
        if rules.min_words_per_line is not None:
            words = len(split_words(line)) if spaceless else len(line.split())
            if words < rules.min_words_per_line:
                too_few += 1
                continue
        lower = line.lower() if flagged else ""
        if "lorem ipsum" in lower:
            lorem = True
        if rules.remove_javascript_lines and "javascript" in lower:
            javascript += 1
            continue
        if "{" in line:
            curly = True
        if rules.remove_policy_lines and lower and any(p in lower for p in _POLICY_SUBSTRINGS):
            policy += 1
            continue
        kept.append(line)
    cleaned = "\n".join(kept)
    return C4Cleaning(
        text=cleaned,
        lines=lines,
        kept_lines=len(kept),
        too_long_word_lines=too_long,
        no_terminal_punctuation_lines=no_punct,
        too_few_words_lines=too_few,
        javascript_lines=javascript,
        policy_lines=policy,
        citations=citations,
        sentences=len(kept) + _sentence_breaks(cleaned),
        has_lorem_ipsum=lorem,
        has_curly_brace=curly,
    )


def _below(value, limit) -> bool:
    return value < limit


# (reason, measured field, rule in the config, drop when fails(measured, rule)), judged in this order
RULES = (
    (DropReason.LOREM_IPSUM, "has_lorem_ipsum", "drop_lorem_ipsum", operator.and_),
    (DropReason.CURLY_BRACE, "has_curly_brace", "drop_curly_brace", operator.and_),
    (DropReason.TOO_FEW_SENTENCES, "sentences", "min_sentences", _below),
)


def judge(cleaning: C4Cleaning, config: C4Config, lang: str) -> Verdict:
    rules = rules_for(config, lang)
    for reason, measured, rule, fails in RULES:
        limit = getattr(rules, rule)
        if limit is not None and fails(getattr(cleaning, measured), limit):
            return drop(reason)
    if not cleaning.kept_lines:
        return drop(DropReason.ALL_LINES_REMOVED)  # reached only with min_sentences off
    return KEEP


def assess(text: str, lang: str, config: C4Config) -> Outcome:
    """Clean, then judge the cleaned page; a kept page records how many lines went and its sentences."""
    cleaning = clean(text, config, lang)
    verdict = judge(cleaning, config, lang)
    metadata = {"c4_lines_removed": str(cleaning.lines - cleaning.kept_lines), "sentences": str(cleaning.sentences)}
    return Outcome(cleaning.text, cleaning, verdict, metadata if verdict.keep else {}, cleaning.removed_lines)


FAMILY = RuleFamily(
    key="c4",
    name=NAME,
    config_class=C4Config,
    assess=assess,
    metadata_keys=("c4_lines_removed", "sentences"),
    measured={**{reason: measured for reason, measured, *_ in RULES}, DropReason.ALL_LINES_REMOVED: "lines"},
)
