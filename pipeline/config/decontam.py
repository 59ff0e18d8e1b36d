"""Decontamination settings: the evaluation-set index and what to do with a document that holds an item."""

from __future__ import annotations

import dataclasses

from filters.decontamination import MODES
from pipeline.core.errors import require as _require


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DecontamConfig:
    enabled: bool = False
    """Off by default: the stage needs an index built from the evaluation sets you report on."""
    index: str = ""
    """The index file from `gristmill decontam index` (a local path, s3:// or gs://). Its n-gram
    size and the evaluation sets and fields it holds were chosen when it was built."""
    mode: str = "drop"
    """'drop': a document holding an item is dropped (CONTAMINATED); 'redact': the matched passages
    are cut out and the rest kept, unless fewer than `min_words_after_redaction` words remain."""
    min_item_overlap: float = 0.5
    """A document holds an item when it has at least this share of one of the item's parts' indexed
    n-grams (the majority of them). Measured (bench/bench_decontam.py, GSM8K + HumanEval planted into
    1,027 real pages): 0.5 catches 100% verbatim and embedded items and ~99% reformatted ones, and no
    page sharing a single 13-gram with a question or prompt is dropped (each has >= 3 n-grams);
    dropping on any shared 13-gram (GPT-3's rule) would drop all of those. 0.3: 99.8% reformatted caught,
    0.13% of those pages dropped; 0.7: 94.3% caught."""
    min_words_after_redaction: int = 50
    """In 'redact' mode, a document left with fewer normalized words is dropped instead (Gopher's
    50-word minimum for a document)."""

    def __post_init__(self) -> None:
        _require(self.mode in MODES, "decontam.mode", f"unknown mode {self.mode!r}; allowed: {', '.join(MODES)}")
        _require(
            0.0 < self.min_item_overlap <= 1.0,
            "decontam.min_item_overlap",
            f"must be in (0, 1], not {self.min_item_overlap}",
        )
        _require(
            self.min_words_after_redaction >= 0,
            "decontam.min_words_after_redaction",
            f"must be >= 0, not {self.min_words_after_redaction}",
        )
        _require(
            not self.enabled or bool(self.index),
            "decontam.index",
            "decontamination is enabled but no index is set: build one with `gristmill decontam index`",
        )
