"""Run the graph: Beam options, output folder preparation, progress, and the summary."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    S3Options,
    StandardOptions,
    WorkerOptions,
)

from pipeline.accounting.progress import ProgressDisplay
from pipeline.config import GristmillConfig
from pipeline.core.layout import FUNNEL, MANIFEST, RUN_PARTS, under
from pipeline.graph import LOCAL_RUNNERS, build_pipeline


class OutputExistsError(RuntimeError):
    """The output folder holds an earlier run and --overwrite was not given."""


def _given(beam_args: list[str], flag: str) -> bool:
    """Whether the user set a Beam flag (as `--flag value` or `--flag=value`)."""
    return any(arg == flag or arg.startswith(flag + "=") for arg in beam_args)


def pipeline_options(beam_args: list[str], config: GristmillConfig) -> tuple[PipelineOptions, GristmillConfig]:
    """Beam options from the command line, with gristmill's local defaults.

    Defaults: DirectRunner with one worker per core, in the cheapest mode for that
    (`local_running_mode`). `--s3_endpoint_url` also points gristmill's own S3 reader at
    that server.
    """
    options = PipelineOptions(beam_args)
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = "DirectRunner"
    if standard.runner in LOCAL_RUNNERS:
        direct = options.view_as(DirectOptions)
        if not _given(beam_args, "--direct_num_workers"):
            direct.direct_num_workers = os.cpu_count() or 1
        if not _given(beam_args, "--direct_running_mode"):
            direct.direct_running_mode = local_running_mode(direct.direct_num_workers)
    if not _given(beam_args, "--default_sdk_harness_log_level"):
        options.view_as(
            WorkerOptions
        ).default_sdk_harness_log_level = "ERROR"  # Beam workers warn about their own set-up on every start
    endpoint = options.view_as(S3Options).s3_endpoint_url
    if endpoint and not config.ingest.s3.endpoint_url:
        s3 = dataclasses.replace(config.ingest.s3, endpoint_url=endpoint)
        config = dataclasses.replace(config, ingest=dataclasses.replace(config.ingest, s3=s3))
    return options, config


def local_running_mode(workers: int) -> str:
    """One worker runs in the runner's own process (`in_memory`): no SDK worker process to start
    and import Beam and the models into, no gRPC data plane; more workers need processes, since
    threads would share one GIL. Measured on 1,147 real pages, one core: in_memory 58.6 s,
    multi_processing 62.5 s (bench/perf_pipeline.py)."""
    return "in_memory" if workers <= 1 else "multi_processing"


def prepare_output(output_dir: str, overwrite: bool) -> None:
    """Refuse to mix runs in one folder; with overwrite, remove the earlier run's outputs."""
    existing = [under(output_dir, part) for part in RUN_PARTS]
    present = [path for path in existing if FileSystems.exists(path)]
    if not present:
        return
    if not overwrite:
        raise OutputExistsError(
            f"{output_dir} already holds a run ({', '.join(os.path.basename(p) for p in present)}); "
            "pass --overwrite to replace it"
        )
    for path in present:
        if "://" not in path and os.path.isdir(path):
            shutil.rmtree(path)
        elif "://" in path and not path.endswith(".json"):
            matches = FileSystems.match([path.rstrip("/") + "/**"])[0].metadata_list
            if matches:
                FileSystems.delete([m.path for m in matches])
        else:
            FileSystems.delete([path])


def run_pipeline(
    inputs: list[str],
    output_dir: str,
    config: GristmillConfig,
    beam_args: list[str],
    *,
    version: str,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Run to completion; return the funnel (read back from what the pipeline wrote)."""
    options, config = pipeline_options(beam_args, config)
    FileSystems.set_options(options)  # s3:// needs its endpoint and keys before the pipeline exists
    prepare_output(output_dir, overwrite)
    local = options.view_as(StandardOptions).runner in LOCAL_RUNNERS and progress
    progress_dir = tempfile.mkdtemp(prefix="gristmill-progress-") if local else None
    try:
        p = beam.Pipeline(options=options)
        build_pipeline(
            p, inputs=inputs, output_dir=output_dir, config=config, version=version, progress_dir=progress_dir
        )
        if progress_dir:
            with ProgressDisplay(progress_dir):
                p.run().wait_until_finish()
        else:
            p.run().wait_until_finish()
    finally:
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
    with FileSystems.open(under(output_dir, FUNNEL)) as source:
        return json.loads(source.read())


def format_summary(funnel: dict, output_dir: str) -> str:
    """The end-of-run table: per stage in/out/dropped, then drops by reason."""
    lines = [f"{'stage':<18}{'in':>10}{'out':>10}{'dropped':>10}"]
    for stage in funnel["stages"]:
        lines.append(f"{stage['stage']:<18}{stage['in']:>10,}{stage['out']:>10,}{stage['dropped']:>10,}")
    lines.append("")
    width = max([len("drop reason"), *map(len, funnel["dropped_by_reason"])]) + 2
    lines.append(f"{'drop reason':<{width}}{'records':>10}")
    for reason, count in funnel["dropped_by_reason"].items():
        lines.append(f"{reason:<{width}}{count:>10,}")
    lines.append("")
    status = "conserved" if funnel["conserved"] else "NOT CONSERVED (a bug: please report)"
    lines.append(
        f"records read {funnel['records_read']:,} = kept {funnel['kept']:,} + dropped {funnel['dropped']:,}: {status}"
    )
    lines.append(f"outputs: {output_dir.rstrip('/')}/{{data/, {MANIFEST}, stats/}} (funnel: {FUNNEL})")
    return "\n".join(lines)
