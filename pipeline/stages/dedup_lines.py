"""`DedupLines`: remove the lines a site repeats on many pages (its template), before document dedup.

    docs | KeyLines | GroupByLine | DecideLines | JoinRemovals | RemoveLines        (LineDedupConfig)

KeyLines: per document, each distinct normalized line once, keyed by (scope, line key), with the
document's id, its text and URL keys and the line's indices (`filters/line_dedup.py`); the
document itself leaves keyed by id, packed. GroupByLine: one group per (scope, line), holding ids
and keys, never text. DecideLines: `line_removals` (at least `min_docs` different texts hold the
line: every holder but the smallest id and its copies loses it) -> (doc id, indices).
JoinRemovals: the documents and their removals, by id (CoGroupByKey). RemoveLines: a document
that loses nothing passes as it came; one left with fewer than `min_words` words is dropped
(TOO_SHORT_AFTER_LINE_DEDUP); the others carry the rest of their text and
`metadata["lines_removed"]`.

Why a GroupByKey and not a combiner: a combiner (count, smallest id) per line bounds memory, but
the documents that lose the line still have to be told, which needs their ids, so the group is
needed anyway. Its values are small and `line_removals` reads them twice without holding them
(a runner pages the values of a large group). With `scope: run` a line like "Home" is one
group holding every document of the run that has it: one worker walks it, twice.

Poison records (pipeline/accounting/guard.py): keying a document and removing its lines are
guarded; the decision sees ids and numbers only.

Counts are Beam counters (namespace "DedupLines") and, exact on every runner, the one-element
PCollection `DedupLines.stats` (a dict of `STAT_NAMES`), which `WriteLineDedupStats` writes to
`stats/line_dedup.json`.
"""

from __future__ import annotations

import dataclasses

import apache_beam as beam

from filters.line_dedup import judge, line_keys, line_removals, remove_lines, text_key, url_key
from pipeline.accounting.funnel import write_json
from pipeline.accounting.guard import (
    DEAD_LETTER,
    DROPPED,
    BeamCounter,
    StageFn,
    StageOutput,
    SumByKey,
    flatten_outputs,
    rejected,
)
from pipeline.accounting.packing import pack, unpack
from pipeline.config import LineDedupConfig
from pipeline.core.layout import LINE_DEDUP, under
from pipeline.core.records import Document, Rejection

STAGE = "DedupLines"
LINES = "lines"
STATS = "stats"
LINES_REMOVED = "lines_removed"  # the metadata key of a changed document
STAT_NAMES = ("documents_changed", "documents_dropped", "lines_removed", "chars_removed")
"""documents_changed: documents that lost at least one line, documents_dropped among them."""


class _KeyLinesFn(StageFn):
    stage = STAGE

    def __init__(self, config: LineDedupConfig):
        self._config = config

    def process_one(self, doc: Document):
        # Document -> (id, packed Document); on LINES, ((scope, line key), (id, text key, URL key, indices))
        # per distinct line: plain tuples, shaped as filters.line_dedup.Occurrence, pack tighter in a shuffle
        scope = doc.host if self._config.scope == "host" else ""
        copy_keys = text_key(doc.text), url_key(doc.url)
        for key, indices in line_keys(doc.text).items():
            yield beam.pvalue.TaggedOutput(LINES, ((scope, key), (doc.id, *copy_keys, indices)))
        yield doc.id, pack(doc)


def _decide(line_group, min_docs: int):
    # ((scope, line key), Iterable[occurrence]) -> (doc id, indices) for each document that loses the line
    _, occurrences = line_group
    yield from line_removals(occurrences, min_docs)


class _RemoveLinesFn(StageFn):
    stage = STAGE

    def __init__(self, config: LineDedupConfig):
        self._config = config

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def documents_of(self, element) -> list[Document]:
        return [unpack(blob) for blob in element[1]["doc"]]

    def process_one(self, joined):
        # (id, {doc: [packed Document], removed: [indices, ...]}) -> Document, or TOO_SHORT_AFTER_LINE_DEDUP
        _, groups = joined
        indices = [index for part in groups["removed"] for index in part]
        for doc in self.documents_of(joined):
            if not indices:
                yield doc
                continue
            removal = remove_lines(doc.text, indices)
            verdict = judge(removal, self._config.min_words)
            changes = {
                "documents_changed": 1,
                "documents_dropped": int(not verdict.keep),
                "lines_removed": removal.lines_removed,
                "chars_removed": removal.chars_removed,
            }
            for name, n in changes.items():
                self._counter.inc(name, n)
                yield beam.pvalue.TaggedOutput(STATS, (name, n))
            if verdict.keep:
                metadata = {**doc.metadata, LINES_REMOVED: str(removal.lines_removed)}
                yield dataclasses.replace(doc, text=removal.text, metadata=metadata)
            else:
                detail = f"words={removal.words} lines_removed={removal.lines_removed}"
                yield rejected(Rejection(STAGE, verdict.reason, doc.id, doc.url, detail), self._counter)


def _stats_dict(pairs: list[tuple[str, int]], config: LineDedupConfig) -> dict:
    totals = dict(pairs)
    settings = {name: getattr(config, name) for name in ("enabled", "scope", "min_docs", "min_words")}
    return settings | {name: totals.get(name, 0) for name in STAT_NAMES}


class DedupLines(beam.PTransform):
    """PCollection[Document] -> StageOutput(kept: Document, dropped: Rejection, dead_letters).

    After it is applied, `stats` is a one-element PCollection[dict]: the settings and `STAT_NAMES` -> count.
    """

    def __init__(self, config: LineDedupConfig):
        super().__init__()
        self._config = config
        self.stats = None

    def expand(self, docs) -> StageOutput:
        config = self._config
        if not config.enabled:
            none = docs.pipeline | "Nothing" >> beam.Create([])
            out, stats = StageOutput(docs | "NothingToDo" >> beam.Map(lambda doc: doc), none, none), none
        else:
            keyed = docs | "KeyLines" >> beam.ParDo(_KeyLinesFn(config)).with_outputs(
                LINES, DROPPED, DEAD_LETTER, main="kept"
            )
            removals = (
                keyed[LINES]
                | "GroupByLine" >> beam.GroupByKey()
                | "DecideLines" >> beam.FlatMap(_decide, config.min_docs)  # PCollection[(id, indices)]
            )
            removed = (
                {"doc": keyed.kept, "removed": removals}
                | "JoinRemovals" >> beam.CoGroupByKey()
                | "RemoveLines"
                >> beam.ParDo(_RemoveLinesFn(config)).with_outputs(STATS, DROPPED, DEAD_LETTER, main="kept")
            )
            steps = [StageOutput(keyed.kept, keyed[DROPPED], keyed[DEAD_LETTER])]
            steps.append(StageOutput(removed.kept, removed[DROPPED], removed[DEAD_LETTER]))
            out = flatten_outputs("All", removed.kept, steps)
            stats = removed[STATS]
        self.stats = (
            stats | "SumStats" >> beam.CombineGlobally(SumByKey()) | "StatsDict" >> beam.Map(_stats_dict, config)
        )
        return out


class WriteLineDedupStats(beam.PTransform):
    """`DedupLines.stats` -> `OUT/stats/line_dedup.json`; the output, [its path] once written, is what
    the manifest waits for (as RecordStats' list of paths)."""

    def __init__(self, output_dir: str):
        super().__init__()
        self._path = under(output_dir, LINE_DEDUP)

    def expand(self, stats):
        return stats | "WriteJson" >> beam.Map(self._write)

    def _write(self, stats: dict) -> list[str]:
        write_json(self._path, stats)
        return [self._path]
