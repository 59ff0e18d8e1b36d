"""Quality settings: the heuristic rule families and the fastText classifier."""

from __future__ import annotations

import dataclasses

from pipeline.config.errors import require as _require


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class QualityConfig:
    """Heuristic quality rules, one nested config per family, applied by `ApplyQuality` in this order
    (cheapest first): C4 line cleaning and document rules, FineWeb, Gopher quality, Gopher repetition.

    A threshold set to null turns its rule off. Each family has `languages`: per-language rule
    sets (FineWeb-2 style). A language entry is a complete set: keys it leaves out take the paper's
    values, not the family's top-level ones. zh, ja and th have entries by default because their
    words are single characters (see filters/words.py).
    """

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
                _require(value is None or value >= 0, f"{key}.{name}", f"must be >= 0 or null, not {value}")
            for name in ("min_mean_word_length", "max_mean_word_length", "max_hash_ratio", "max_ellipsis_ratio"):
                value = getattr(self, name)
                _require(value is None or value >= 0, f"{key}.{name}", f"must be >= 0 or null, not {value}")
            for name in ("max_bullet_line_frac", "max_ellipsis_line_frac", "min_alpha_word_frac"):
                value = getattr(self, name)
                _require(value is None or 0.0 <= value <= 1.0, f"{key}.{name}", f"must be in [0, 1] or null, not {value}")
            _require(None in (self.min_words, self.max_words) or self.min_words <= self.max_words,
                     f"{key}.max_words", f"must be >= min_words ({self.min_words})")
            _require(None in (self.min_mean_word_length, self.max_mean_word_length)
                     or self.min_mean_word_length <= self.max_mean_word_length,
                     f"{key}.max_mean_word_length", f"must be >= min_mean_word_length ({self.min_mean_word_length})")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class GopherQuality(GopherQualityRules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.GopherQualityRules] = dataclasses.field(
            default_factory=lambda: {
                # one token per character: a mean "word" length of ~1 says nothing
                lang: QualityConfig.GopherQualityRules(min_mean_word_length=None, max_mean_word_length=None)
                for lang in ("zh", "ja", "th")
            }
        )
        """Per-language rule sets. zh, ja, th: mean word length off (their words are characters)."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.gopher")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class GopherRepetitionRules:
        """Gopher's repetition filter (Rae et al. 2021, Table A1); validated by the family holding it.

        Duplicates are the occurrences after the first. Character fractions are of all lines'
        (paragraphs') characters, and for n-grams of all word characters, each counted once."""

        max_duplicate_line_frac: float | None = 0.30
        """Share of lines repeating an earlier line: TOO_MANY_DUPLICATE_LINES. Gopher: 0.30."""
        max_duplicate_paragraph_frac: float | None = 0.30
        """Share of paragraphs (blank-line separated) repeating an earlier one: TOO_MANY_DUPLICATE_PARAGRAPHS. Gopher: 0.30."""
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
            for rule in dataclasses.fields(QualityConfig.GopherRepetitionRules):
                value = getattr(self, rule.name)
                _require(value is None or 0.0 <= value <= 1.0, f"{key}.{rule.name}", f"must be in [0, 1] or null, not {value}")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class GopherRepetition(GopherRepetitionRules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.GopherRepetitionRules] = dataclasses.field(
            default_factory=lambda: {
                # Thai characters are letters: a 5-gram of them is about one word, and repeats in any prose
                "th": QualityConfig.GopherRepetitionRules(**{
                    rule.name: None for rule in dataclasses.fields(QualityConfig.GopherRepetitionRules) if "gram" in rule.name
                }),
            }
        )
        """Per-language rule sets. th: n-gram rules off (its tokens are letters); zh, ja keep them on
        characters (a Han character is a morpheme: a 5-gram is about three words)."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.repetition")

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
                _require(value is None or value >= 1, f"{key}.{name}", f"must be >= 1 or null, not {value}")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class C4(C4Rules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.C4Rules] = dataclasses.field(default_factory=dict)
        """Per-language rule sets. Note th: with terminal_punctuation on, Thai (no sentence marks) loses every line."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.c4")

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
                _require(value is None or 0.0 <= value <= 1.0, f"{key}.{name}", f"must be in [0, 1] or null, not {value}")
            _require(self.short_line_chars >= 1, f"{key}.short_line_chars", f"must be >= 1, not {self.short_line_chars}")
            _require(self.max_newlines_per_word is None or self.max_newlines_per_word >= 0, f"{key}.max_newlines_per_word",
                     f"must be >= 0 or null, not {self.max_newlines_per_word}")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class FineWeb(FineWebRules):
        enabled: bool = True
        """Apply this family."""
        languages: dict[str, QualityConfig.FineWebRules] = dataclasses.field(
            default_factory=lambda: {
                # a Han or kana character carries what ~2.5 Latin ones do (median sentence: 41 vs 101 characters)
                "zh": QualityConfig.FineWebRules(short_line_chars=12),
                "ja": QualityConfig.FineWebRules(short_line_chars=12),
                "th": QualityConfig.FineWebRules(min_line_punctuation_frac=None),  # Thai marks no sentence ends
            }
        )
        """Per-language rule sets. zh, ja: short lines are 12 characters; th: line punctuation rule off."""

        def __post_init__(self) -> None:
            QualityConfig._check_family(self, "quality.fineweb")

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class Classifier:
        """The fastText quality classifier (classifiers/quality.py), applied to the documents the
        heuristics keep. It scores documents in `languages` (`quality_score`; others stay null and are
        not filtered by it), then keeps by `min_score`, by `keep_top_fraction` computed over the whole
        run, or keeps everything (both null: the score is recorded for later selection)."""

        enabled: bool = True
        """Score documents at all; false leaves quality_score null."""
        model_path: str | None = None
        """A fastText quality model; null is the shipped classifiers/models/quality.ftz (DCLM annotations,
        English; see its model card)."""
        languages: tuple[str, ...] = ("en",)
        """Languages the model was trained on; empty scores every language."""
        min_score: float | None = None
        """Drop scored documents below this P(high quality): QUALITY_SCORE_TOO_LOW."""
        keep_top_fraction: float | None = None
        """Keep this top share of scored documents, by score over the whole run (DCLM keeps ~0.1); the
        cut is an approximate quantile (1/1000 resolution): BELOW_QUALITY_TOP_FRACTION."""

        def check(self, key: str) -> None:
            if self.min_score is not None:
                _require(0.0 <= self.min_score <= 1.0, f"{key}.min_score", f"must be in [0, 1], not {self.min_score}")
            if self.keep_top_fraction is not None:
                _require(0.0 < self.keep_top_fraction <= 1.0, f"{key}.keep_top_fraction",
                         f"must be in (0, 1], not {self.keep_top_fraction}")
            _require(self.min_score is None or self.keep_top_fraction is None, key,
                     "set min_score or keep_top_fraction, not both")
            _require(self.enabled or (self.min_score is None and self.keep_top_fraction is None), key,
                     "min_score and keep_top_fraction need enabled: true")

        def __post_init__(self) -> None:
            self.check("quality.classifier")

    @staticmethod
    def _check_family(family, key: str) -> None:
        family.check(key)
        for lang, rules in family.languages.items():
            _require(bool(lang), f"{key}.languages", "language codes must not be empty")
            rules.check(f"{key}.languages.{lang}")

    enabled: bool = True
    """Run ApplyQuality at all; false passes every document through."""
    c4: C4 = dataclasses.field(default_factory=C4)
    fineweb: FineWeb = dataclasses.field(default_factory=FineWeb)
    gopher: GopherQuality = dataclasses.field(default_factory=GopherQuality)
    repetition: GopherRepetition = dataclasses.field(default_factory=GopherRepetition)
    classifier: Classifier = dataclasses.field(default_factory=Classifier)
