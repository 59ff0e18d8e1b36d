"""Extraction quality on trafilatura-eval: `with` snippets found, `without` snippets absent.

`evaldata.json` maps a page URL to `{file, with: [...], without: [...]}`: `with`
snippets belong to the main text, `without` snippets are boilerplate. Scoring
follows `evaluate_result` in trafilatura's `tests/comparison*.py`: a `with` snippet
in the text is a true positive, one missing a false negative; a `without`
snippet in the text is a false positive, one absent a true negative.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path


@dataclasses.dataclass(frozen=True, slots=True)
class Snippets:
    with_: tuple[str, ...]  # must be in the main text
    without: tuple[str, ...]  # must not


@dataclasses.dataclass(frozen=True, slots=True)
class Quality:
    pages: int
    with_found: float  # recall
    without_absent: float  # share of boilerplate snippets kept out
    f1: float  # of precision (with found / all snippets found) and recall


def load_annotations(evaldata: Path) -> dict[str, tuple[str, Snippets]]:
    """File name (without .gz) -> (URL, snippets)."""
    entries = json.loads(evaldata.read_text(encoding="utf-8"))
    return {
        entry["file"]: (url, Snippets(tuple(entry["with"]), tuple(entry["without"]))) for url, entry in entries.items()
    }


def score_quality(pairs: Iterable[tuple[Snippets, str]]) -> Quality:
    """Pool the snippet counts of every (snippets, extracted text) pair."""
    pages = found = missed = leaked = absent = 0
    for snippets, text in pairs:
        pages += 1
        hits = sum(snippet in text for snippet in snippets.with_)
        leaks = sum(snippet in text for snippet in snippets.without)
        found, missed = found + hits, missed + len(snippets.with_) - hits
        leaked, absent = leaked + leaks, absent + len(snippets.without) - leaks
    precision = found / max(found + leaked, 1)
    recall = found / max(found + missed, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(pages, recall, absent / max(absent + leaked, 1), f1)
