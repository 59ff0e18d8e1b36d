"""What every filtering stage shares: a main output and a dropped output.

A stage's `DoFn` yields kept records on the main output and `Rejection`s on the
`DROPPED` tag; `run_stage` applies it and returns both as a `StageOutput`, so
the graph can hand every stage's drops to the funnel.
"""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.document import Rejection

DROPPED = "dropped"


class StageOutput(NamedTuple):
    kept: beam.PCollection
    dropped: beam.PCollection  # PCollection[Rejection]


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


def rejected(rejection: Rejection, counter: BeamCounter) -> beam.pvalue.TaggedOutput:
    counter.inc(f"dropped_{rejection.reason.value}")
    return beam.pvalue.TaggedOutput(DROPPED, rejection)


def run_stage(pcoll: beam.PCollection, label: str, dofn: beam.DoFn) -> StageOutput:
    results = pcoll | label >> beam.ParDo(dofn).with_outputs(DROPPED, main="kept")
    return StageOutput(results.kept, results[DROPPED])
