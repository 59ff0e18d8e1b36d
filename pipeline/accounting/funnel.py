"""The funnel: per stage, records in, out and dropped by reason, computed as data.

Drops leave every stage on its dropped output; `RecordFunnel` counts them and
each stage's kept output with Beam combiners and writes `stats/funnel.json`
itself, so the numbers are exact on every runner (runner metrics may be late,
approximate or absent). `build_funnel` is pure and checks conservation.
"""

from __future__ import annotations

import json

import apache_beam as beam

from pipeline.accounting.commit import write_file
from pipeline.accounting.guard import StageOutput, SumByKey
from pipeline.core.layout import FUNNEL, under

FUNNEL_FORMAT_VERSION = 1
_KEPT = "__kept__"


def build_funnel(events: list[tuple[tuple[str, str], int]], stage_names: list[str]) -> dict:
    """Assemble the funnel from ((stage, reason or __kept__), count) events.

    A stage's `in` is what the previous stage kept (the first stage's is its
    out + drops: the records read). `conserved` is true when every stage's
    in = out + dropped and records_read = kept + all dropped.
    """
    kept = {name: 0 for name in stage_names}
    drops: dict[str, dict[str, int]] = {name: {} for name in stage_names}
    for (stage, reason), count in events:
        if stage not in kept:
            raise ValueError(f"funnel event for unknown stage {stage!r}")
        if reason == _KEPT:
            kept[stage] += count
        else:
            drops[stage][reason] = drops[stage].get(reason, 0) + count
    stages = []
    conserved = True
    previous_out = None
    for name in stage_names:
        dropped = sum(drops[name].values())
        in_ = kept[name] + dropped
        if previous_out is not None and in_ != previous_out:
            conserved = False
        stages.append(
            {
                "stage": name,
                "in": in_,
                "out": kept[name],
                "dropped": dropped,
                "dropped_by_reason": dict(sorted(drops[name].items())),
            }
        )
        previous_out = kept[name]
    by_reason: dict[str, int] = {}
    for stage_drops in drops.values():
        for reason, count in stage_drops.items():
            by_reason[reason] = by_reason.get(reason, 0) + count
    records_read = stages[0]["in"] if stages else 0
    total_kept = stages[-1]["out"] if stages else 0
    total_dropped = sum(by_reason.values())
    return {
        "format_version": FUNNEL_FORMAT_VERSION,
        "records_read": records_read,
        "kept": total_kept,
        "dropped": total_dropped,
        "conserved": conserved and records_read == total_kept + total_dropped,
        "dropped_by_reason": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "stages": stages,
    }


def funnel_inputs(stages: list[tuple[str, StageOutput]]) -> dict[str, beam.PCollection]:
    """The dict `RecordFunnel` is applied to."""
    inputs = {}
    for name, out in stages:
        inputs[f"{name}/kept"] = out.kept
        inputs[f"{name}/dropped"] = out.dropped
    return inputs


def write_json(path: str, payload: dict) -> None:
    """Write JSON through Beam's filesystems (local, s3://, gs://), via a hidden temporary name."""
    data = json.dumps(payload, indent=2, sort_keys=False).encode()
    write_file(path, lambda sink: sink.write(data))


class RecordFunnel(beam.PTransform):
    """Stage outputs -> PCollection[funnel dict] (one element), written to stats/funnel.json.

    Apply it to `funnel_inputs(stages)`: a dict of every stage's kept and
    dropped PCollections, so the graph records them as the funnel's inputs.
    """

    def __init__(self, output_dir: str, stage_names: list[str]):
        super().__init__()
        self._output_dir = output_dir.rstrip("/")
        self._stage_names = list(stage_names)

    def expand(self, outputs: dict[str, beam.PCollection]):
        # every record becomes one ((stage, reason or __kept__), 1) event; one combine counts them all
        # (one shuffle for the whole funnel, not one per stage and output: each costs the local runner a stage)
        events = []
        for name in self._stage_names:
            events.append(
                outputs[f"{name}/kept"] | f"KeptEvent{name}" >> beam.Map(lambda _, stage=name: ((stage, _KEPT), 1))
            )
            events.append(
                outputs[f"{name}/dropped"] | f"DropEvent{name}" >> beam.Map(lambda r: ((r.stage, r.reason.value), 1))
            )
        return (
            events
            | "AllEvents" >> beam.Flatten()
            | "CountEvents" >> beam.CombineGlobally(SumByKey())
            | "BuildFunnel" >> beam.Map(build_funnel, stage_names=self._stage_names)
            | "WriteFunnel" >> beam.Map(self._write)
        )

    def _write(self, funnel: dict) -> dict:
        write_json(under(self._output_dir, FUNNEL), funnel)
        return funnel
