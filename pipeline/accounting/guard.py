"""What every filtering stage shares: a main output, a dropped output and a dead-letter output.

A stage's `DoFn` yields kept records on the main output and `Rejection`s on the
`DROPPED` tag; `run_stage` applies it and returns both as a `StageOutput`, so
the graph can hand every stage's drops to the funnel.

Poison records: a per-document DoFn subclasses `StageFn` and writes its logic in
`process_one`. An exception there costs that element only: each record it held
is dropped as STAGE_ERROR (so the funnel still adds up) and goes, whole, to the
`DEAD_LETTER` output as a `DeadLetter`, which the graph writes to
`OUT/dead_letter/` for reprocessing. The Rejection and the log line name the
exception type and where it was raised, never its message (it may quote the page).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.core.records import DropReason, Rejection, describe_error

log = logging.getLogger(__name__)

DROPPED = "dropped"
DEAD_LETTER = "dead_letter"
_MESSAGE_CHARS = 500  # of an exception's message, kept in the dead letter only


class StageOutput(NamedTuple):
    kept: beam.PCollection
    dropped: beam.PCollection  # PCollection[Rejection]
    dead_letters: beam.PCollection | None = None  # PCollection[DeadLetter]; None for a stage that has none


@dataclasses.dataclass(frozen=True, slots=True)
class StageError:
    """An unexpected exception on one element, described twice: safely, and for debugging."""

    detail: str  # "ValueError at gopher.py:120 in measure_quality": type and place, no message, so no page text
    message: str  # the message, truncated: it may quote the document, so it goes to the dead letter only

    @classmethod
    def of(cls, err: BaseException) -> StageError:
        return cls(describe_error(err), str(err)[:_MESSAGE_CHARS])


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record a stage failed on, whole (text included), with the failure: for reprocessing, never for logs."""

    stage: str
    id: str
    url: str
    error: str  # StageError.detail, as in the record's Rejection
    message: str  # StageError.message
    record: Any  # the Capture or Document as the stage received it (None where only its place is known)


class BeamCounter:
    """The `Counter` protocol over Beam metrics, for live progress on the runner's UI."""

    def __init__(self, namespace: str):
        self._namespace = namespace
        self._counters: dict = {}

    def inc(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self._namespace, name)
        counter.inc(n)


class SumByKey(beam.CombineFn):
    """(key, n) pairs -> [(key, total)], sorted: counts as data (exact on every runner, unlike metrics),
    summed in one combine over the whole PCollection, so one shuffle however many keys."""

    def create_accumulator(self) -> dict:
        return {}

    def add_input(self, totals: dict, pair) -> dict:
        key, n = pair
        totals[key] = totals.get(key, 0) + n
        return totals

    def merge_accumulators(self, accumulators) -> dict:
        merged: dict = {}
        for totals in accumulators:
            for key, n in totals.items():
                merged[key] = merged.get(key, 0) + n
        return merged

    def extract_output(self, totals: dict) -> list:
        return sorted(totals.items())


def rejected(rejection: Rejection, counter: BeamCounter) -> beam.pvalue.TaggedOutput:
    counter.inc(f"dropped_{rejection.reason.value}")
    return beam.pvalue.TaggedOutput(DROPPED, rejection)


def dead_lettered(
    stage: str, records: Iterable[Any], error: StageError, counter: BeamCounter
) -> Iterator[beam.pvalue.TaggedOutput]:
    """For each record a failure cost: a STAGE_ERROR Rejection on DROPPED and the record on DEAD_LETTER."""
    for record in records:
        doc_id, url = getattr(record, "id", ""), getattr(record, "url", "")
        log.warning("%s: %s on record %s; it goes to dead_letter/", stage, error.detail, doc_id)
        counter.inc("stage_error")
        yield rejected(Rejection(stage, DropReason.STAGE_ERROR, doc_id, url, error.detail), counter)
        yield beam.pvalue.TaggedOutput(DEAD_LETTER, DeadLetter(stage, doc_id, url, error.detail, error.message, record))


class StageFn(beam.DoFn):
    """A per-document stage DoFn whose failure on one element costs that element only.

    Subclasses set `stage` and implement `process_one(element, *side_inputs)`,
    yielding what `process` would. Its outputs are collected before any is
    emitted, so an element that fails halfway is never both kept and dead-lettered.
    """

    stage = ""  # the funnel's name for the stage, e.g. "ExtractText"

    def documents_of(self, element) -> list:
        """The records `element` holds: what a failure on it costs (a dedup group holds several)."""
        return [element]

    def process(self, element, *args, **kwargs):
        try:
            outputs = list(self.process_one(element, *args, **kwargs))
        except Exception as err:  # noqa: BLE001 -- a poison record must not end the run
            yield from dead_lettered(
                self.stage, self.documents_of(element), StageError.of(err), BeamCounter(self.stage)
            )
            return
        yield from outputs

    def process_one(self, element, *args, **kwargs):
        raise NotImplementedError


def run_stage(pcoll: beam.PCollection, label: str, dofn: beam.DoFn) -> StageOutput:
    results = pcoll | label >> beam.ParDo(dofn).with_outputs(DROPPED, DEAD_LETTER, main="kept")
    return StageOutput(results.kept, results[DROPPED], results[DEAD_LETTER])


def flatten_outputs(label: str, kept: beam.PCollection, parts: list[StageOutput]) -> StageOutput:
    """One StageOutput for a stage made of steps: `kept`, and every step's drops and dead letters."""
    pipeline = kept.pipeline
    none = pipeline | f"{label}None" >> beam.Create([])  # Flatten needs one input; an empty one adds nothing
    dropped = [part.dropped for part in parts] + [none] | f"{label}Dropped" >> beam.Flatten()
    dead = [part.dead_letters for part in parts if part.dead_letters is not None] + [
        none
    ] | f"{label}DeadLetters" >> beam.Flatten()
    return StageOutput(kept, dropped, dead)
