"""`Decontaminate`: drop, or redact, documents that hold evaluation-set items (benchmark test data).

The index (`gristmill decontam index`, filters/decontamination.py) is one file
read through Beam's filesystems (local, s3://, gs://): its header when the graph
is built, so a wrong path or a file of another kind fails the launch rather than
every worker; the whole index once per worker process in `setup()`, shared by
the DoFn instances of its threads (`apache_beam.utils.shared`), since it can be
the largest object a worker holds (~12 bytes per indexed n-gram).

Per document, `decontaminate` looks every n-gram up at once (one `searchsorted`);
a matched document is dropped as CONTAMINATED, its detail naming the items
("gsm8k:12 humaneval:3"), never text; in `redact` mode the matched passages are
cut out instead and the rest kept, unless too little is left. Each matched
document also leaves an event on the `matches` output; combined over the run
they become `stats/contamination.parquet`, one row per evaluation set.
"""

from __future__ import annotations

import dataclasses
import functools

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.shared import Shared

from filters.decontamination import IndexFormatError, NgramIndex, SetSummary, decontaminate, describe, read_summary
from pipeline.accounting.guard import DEAD_LETTER, DROPPED, BeamCounter, StageFn, StageOutput, rejected
from pipeline.accounting.stats import STATS_FORMAT_VERSION, write_parquet
from pipeline.config.decontam import DecontamConfig
from pipeline.core.layout import CONTAMINATION, under
from pipeline.core.records import Document, Rejection

STAGE = "Decontaminate"
MATCHES = "matches"
DROPPED_ACTION, REDACTED_ACTION = "dropped", "redacted"

CONTAMINATION_SCHEMA = pa.schema(
    [
        ("eval_set", pa.string()),
        ("items", pa.int64()),
        ("documents_matched", pa.int64()),
        ("documents_dropped", pa.int64()),
        ("documents_redacted", pa.int64()),
        ("items_matched", pa.int64()),
    ],
    metadata={"gristmill_stats_format_version": str(STATS_FORMAT_VERSION)},
)


@dataclasses.dataclass(frozen=True, slots=True)
class ContaminationEvent:
    """One matched document, for the stats: what was done, and its items as (set, position in the set's file)."""

    action: str  # DROPPED_ACTION or REDACTED_ACTION
    items: tuple[tuple[str, int], ...]


def _open_index(uri: str, read):
    """`read(stream, uri)` on the index file; a missing or unreadable file is an IndexFormatError naming it."""
    try:
        source = FileSystems.open(uri)
    except Exception as err:  # noqa: BLE001 -- Beam wraps every filesystem's errors differently
        raise IndexFormatError(f"{uri}: cannot open the decontamination index ({type(err).__name__}: {err})") from err
    with source:
        return read(source, uri)


class _DecontaminateFn(StageFn):
    stage = STAGE

    def __init__(self, config: DecontamConfig):
        self._config = config
        self._shared = Shared()

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)
        self._index = self._shared.acquire(functools.partial(_open_index, self._config.index, NgramIndex.load))

    def process_one(self, doc: Document):
        # PCollection[Document] -> PCollection[Document] (clean or redacted); CONTAMINATED on DROPPED; events on MATCHES
        config = self._config
        result = decontaminate(
            doc.text,
            self._index,
            mode=config.mode,
            min_item_overlap=config.min_item_overlap,
            min_words_after_redaction=config.min_words_after_redaction,
        )
        if not result.items:
            yield doc
            return
        items = tuple(self._index.item_key(item) for item in result.items)
        if result.reason is not None:
            yield beam.pvalue.TaggedOutput(MATCHES, ContaminationEvent(DROPPED_ACTION, items))
            detail = describe(self._index, result.items)
            yield rejected(Rejection(STAGE, result.reason, doc.id, doc.url, detail), self._counter)
            return
        self._counter.inc("redacted_documents")
        self._counter.inc("redacted_chars", result.redacted_chars)
        yield beam.pvalue.TaggedOutput(MATCHES, ContaminationEvent(REDACTED_ACTION, items))
        yield dataclasses.replace(doc, text=result.text)


class ContaminationStatsFn(beam.CombineFn):
    """PCollection[ContaminationEvent] -> {set: [documents matched, dropped, redacted, {items matched}]}.

    The item sets are bounded by the index (in practice a handful of items), so accumulators stay small."""

    def create_accumulator(self) -> dict:
        return {}

    def add_input(self, accumulator: dict, event: ContaminationEvent) -> dict:
        by_set: dict[str, set[int]] = {}
        for name, item in event.items:
            by_set.setdefault(name, set()).add(item)
        for name, items in by_set.items():
            row = accumulator.setdefault(name, [0, 0, 0, set()])
            row[0] += 1
            row[1 if event.action == DROPPED_ACTION else 2] += 1
            row[3] |= items
        return accumulator

    def merge_accumulators(self, accumulators) -> dict:
        merged: dict = {}
        for accumulator in accumulators:
            for name, (matched, dropped, redacted, items) in accumulator.items():
                row = merged.setdefault(name, [0, 0, 0, set()])
                row[0], row[1], row[2] = row[0] + matched, row[1] + dropped, row[2] + redacted
                row[3] |= items
        return merged

    def extract_output(self, accumulator: dict) -> dict:
        return accumulator


def contamination_table(counts: dict, sets: list[SetSummary]) -> pa.Table:
    """One row per evaluation set of the index, in its order (a set nothing matched has zeros)."""
    rows = []
    for s in sets:
        matched, dropped, redacted, items = counts.get(s.name, (0, 0, 0, set()))
        rows.append(
            {
                "eval_set": s.name,
                "items": s.items,
                "documents_matched": matched,
                "documents_dropped": dropped,
                "documents_redacted": redacted,
                "items_matched": len(items),
            }
        )
    return pa.Table.from_pylist(rows, schema=CONTAMINATION_SCHEMA)


def _write_contamination(counts: dict, sets: list[SetSummary], output_dir: str) -> list[str]:
    path = under(output_dir, CONTAMINATION)
    write_parquet(path, contamination_table(counts, sets))
    return [path]


class Decontaminate(beam.PTransform):
    """PCollection[Document] -> StageOutput. With `output_dir`, it also writes stats/contamination.parquet;
    `written` is then the one-element PCollection of [its path] (the manifest waits for it)."""

    def __init__(self, config: DecontamConfig, output_dir: str | None = None):
        super().__init__()
        self._config = config
        self._output_dir = output_dir
        self._sets = _open_index(config.index, read_summary)  # fails the launch, not the workers
        self.written: beam.PCollection | None = None

    def expand(self, docs) -> StageOutput:
        results = docs | "Match" >> beam.ParDo(_DecontaminateFn(self._config)).with_outputs(
            DROPPED, DEAD_LETTER, MATCHES, main="kept"
        )
        if self._output_dir is not None:
            self.written = (
                results[MATCHES]
                | "CombineMatches" >> beam.CombineGlobally(ContaminationStatsFn())
                | "WriteContamination" >> beam.Map(_write_contamination, sets=self._sets, output_dir=self._output_dir)
            )
        return StageOutput(results.kept, results[DROPPED], results[DEAD_LETTER])
