"""The pipeline graph, read as one sentence:

    ReadWarc | ExtractText | IdentifyLanguage | ApplySafety | DedupLines | Deduplicate | ApplyQuality
    | Decontaminate | TagDomains | WriteShards
    (+ RecordFunnel, RecordStats, WriteManifest, WriteDeadLetters)

Decontaminate is in the graph (and the funnel) only with `decontam.enabled`: it needs an index file.

TagDomains drops nothing; it is in the funnel like every stage. The mixture is
not a stage: WriteManifest plans it from the shards' per-domain token counts
(pipeline/core/mixture.py).
"""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, WorkerOptions

from pipeline.accounting.dead_letter import WriteDeadLetters
from pipeline.accounting.funnel import RecordFunnel, funnel_inputs, write_json
from pipeline.accounting.progress import ProgressWriter
from pipeline.accounting.stats import RecordStats
from pipeline.config import GristmillConfig
from pipeline.core.layout import MANIFEST, MIXTURE_ERROR, under
from pipeline.core.manifest import build_manifest, domain_counts
from pipeline.core.mixture import MixtureError
from pipeline.core.schema import SCHEMA_VERSION
from pipeline.stages.apply_quality import ApplyQuality
from pipeline.stages.apply_safety import ApplySafety
from pipeline.stages.decontaminate import Decontaminate
from pipeline.stages.dedup_lines import DedupLines, WriteLineDedupStats
from pipeline.stages.deduplicate import Deduplicate, WriteDuplicateClusters
from pipeline.stages.extract_text import ExtractText
from pipeline.stages.identify_language import IdentifyLanguage
from pipeline.stages.read_warc import ReadWarc
from pipeline.stages.tag_domains import TagDomains
from pipeline.stages.write_shards import WriteShards

LOCAL_RUNNERS = {"DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner"}
UNKNOWN_WORKERS = 16  # a remote runner given no worker count: ReadWarc assumes this many (ingest.spread_records)


class _CountKeptFn(beam.DoFn):
    """Pass-through that reports kept documents to the local progress display."""

    def __init__(self, progress_dir: str | None):
        self._progress_dir = progress_dir

    def setup(self) -> None:
        self._progress = ProgressWriter(self._progress_dir, "kept")

    def process(self, doc):
        self._progress.add()
        yield doc

    def finish_bundle(self) -> None:
        self._progress.flush()


def _write_manifest(
    shards: list[dict],
    funnel: dict,
    *,
    output_dir: str,
    config: GristmillConfig,
    inputs: list[str],
    version: str,
    stats_paths: list[list[str]] | None = None,
) -> dict | None:
    """Write manifest.json or, when this run's data cannot fill the configured mixture, the reason
    to stats/mixture_error.json instead (and no manifest). The command line reports that file after
    the run: an exception here would reach the user buried in a runner's traceback.

    `stats_paths` is unused: taking it as a side input makes the manifest wait for the stats
    files, so it is written last and a run is complete exactly when manifest.json exists."""
    try:
        manifest = build_manifest(
            shards,
            funnel,
            config_hash=config.config_hash(),
            inputs=inputs,
            schema_version=SCHEMA_VERSION,
            version=version,
            mixture=config.mixture,
            domain_taxonomy_version=_taxonomy_version(config),
        )
    except MixtureError as err:
        counts = {
            name: {"documents": d.documents, "tokens_estimate": d.tokens} for name, d in domain_counts(shards).items()
        }
        write_json(under(output_dir, MIXTURE_ERROR), {"error": str(err), "domains": counts})
        return None
    write_json(under(output_dir, MANIFEST), manifest)
    return manifest


def _taxonomy_version(config: GristmillConfig) -> int | None:
    """The domain taxonomy the run tagged with (None when tagging is off)."""
    if not config.domains.enabled:
        return None
    from filters.domain_rules import DomainRules

    return DomainRules.load(config.domains.rules_files).taxonomy_version


def read_mixture_error(output_dir: str) -> str | None:
    """The reason a finished run wrote no manifest (an impossible mixture), or None."""
    path = under(output_dir, MIXTURE_ERROR)
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as source:
        return json.loads(source.read())["error"]


def planned_workers(options: PipelineOptions) -> int:
    """How many workers the runner will have, as far as the options say: --direct_num_workers on a
    local runner, else --max_num_workers or --num_workers (Dataflow), else UNKNOWN_WORKERS."""
    if (options.view_as(StandardOptions).runner or "DirectRunner") in LOCAL_RUNNERS:
        return max(1, options.view_as(DirectOptions).direct_num_workers or 1)
    worker = options.view_as(WorkerOptions)
    return max(1, worker.max_num_workers or worker.num_workers or UNKNOWN_WORKERS)


def build_pipeline(
    p: beam.Pipeline,
    *,
    inputs: list[str],
    output_dir: str,
    config: GristmillConfig,
    version: str,
    progress_dir: str | None = None,
) -> ReadWarc:
    """Add the whole graph to `p`; return the ReadWarc transform (it knows the input files)."""
    read_warc = ReadWarc(inputs, config.ingest, progress_dir, workers=planned_workers(p.options))
    read = p | "ReadWarc" >> read_warc
    extracted = read.kept | "ExtractText" >> ExtractText(config.extract)
    identified = extracted.kept | "IdentifyLanguage" >> IdentifyLanguage(config.langid)
    safe = identified.kept | "ApplySafety" >> ApplySafety(config.safety)
    dedup_lines = DedupLines(config.lines)
    lines = safe.kept | "DedupLines" >> dedup_lines
    unique = lines.kept | "Deduplicate" >> Deduplicate(config.dedup)
    if config.dedup.write_clusters:
        unique.dropped | "WriteDuplicateClusters" >> WriteDuplicateClusters(output_dir)
    good = unique.kept | "ApplyQuality" >> ApplyQuality(config.quality)
    decontaminate = Decontaminate(config.decontam, output_dir) if config.decontam.enabled else None
    clean = good.kept | "Decontaminate" >> decontaminate if decontaminate is not None else good
    tagged = clean.kept | "TagDomains" >> TagDomains(config.domains)
    kept = tagged.kept | "CountKept" >> beam.ParDo(_CountKeptFn(progress_dir))
    shards = kept | "WriteShards" >> WriteShards(output_dir, config.output, axis=config.mixture.axis)

    stages = [
        ("ReadWarc", read),
        ("ExtractText", extracted),
        ("IdentifyLanguage", identified),
        ("ApplySafety", safe),
        ("DedupLines", lines),
        ("Deduplicate", unique),
        ("ApplyQuality", good),
        *([("Decontaminate", clean)] if decontaminate is not None else []),
        ("TagDomains", tagged),
    ]
    funnel = funnel_inputs(stages) | "RecordFunnel" >> RecordFunnel(output_dir, [name for name, _ in stages])
    (
        [out.dead_letters for _, out in stages if out.dead_letters is not None]
        | "AllDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters" >> WriteDeadLetters(output_dir)
    )
    stats_paths = (
        kept | "RecordStats" >> RecordStats(output_dir, funnel),
        dedup_lines.stats | "WriteLineDedupStats" >> WriteLineDedupStats(output_dir),
        *([decontaminate.written] if decontaminate is not None else []),
    ) | "StatsWritten" >> beam.Flatten()
    (
        shards
        | "CollectShards" >> beam.combiners.ToList()
        | "WriteManifest"
        >> beam.Map(
            _write_manifest,
            funnel=beam.pvalue.AsSingleton(funnel),
            stats_paths=beam.pvalue.AsList(stats_paths),
            output_dir=output_dir,
            config=config,
            inputs=read_warc.files,
            version=version,
        )
    )
    return read_warc
