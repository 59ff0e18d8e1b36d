"""Line-level dedup settings: which lines are a site's template, and what is too little to keep."""

from __future__ import annotations

import dataclasses

from pipeline.core.errors import require as _require

LINE_DEDUP_SCOPES = ("host", "run")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LineDedupConfig:
    enabled: bool = True
    """Remove lines repeated across documents (DedupLines), before document dedup."""
    scope: str = "host"
    """Where a line is counted: "host" (templates are per site, and a common line on unrelated sites,
    "Home", a licence notice, is not a template there) or "run" (every document together, as CCNet's
    shards)."""
    min_docs: int = 3
    """A line held by at least this many different texts of a scope is removed from all but the
    smallest id (bench/bench_line_dedup.py measures 2, 3 and 5)."""
    min_words: int = 50
    """A document left with fewer words is dropped (TOO_SHORT_AFTER_LINE_DEDUP); Gopher's minimum
    (Rae et al. 2021), which ApplyQuality would apply next. A zh/ja/th character is a word."""

    def __post_init__(self) -> None:
        _require(
            self.scope in LINE_DEDUP_SCOPES,
            "lines.scope",
            f"must be one of {', '.join(LINE_DEDUP_SCOPES)}, not {self.scope!r}",
        )
        _require(
            self.min_docs >= 2,
            "lines.min_docs",
            f"must be >= 2 (a line in one document is not repeated), not {self.min_docs}",
        )
        _require(self.min_words >= 1, "lines.min_words", f"must be >= 1, not {self.min_words}")
