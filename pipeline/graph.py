"""The pipeline graph, read as one sentence:

    ReadWarc | ExtractText | IdentifyLanguage | ApplySafety | Deduplicate | ApplyQuality | WriteShards
    (+ RecordFunnel, WriteManifest)

Domain tagging and mixture reweighting (still to come) slot in before WriteShards
and add their (name, StageOutput) to the funnel.
"""

from __future__ import annotations

import apache_beam as beam

from pipeline.config import GristmillConfig
from pipeline.extract import ExtractText
from pipeline.funnel import RecordFunnel, funnel_inputs, write_json
from pipeline.ingest import ReadWarc
from pipeline.dedup import Deduplicate
from pipeline.langid import IdentifyLanguage
from pipeline.quality import ApplyQuality
from pipeline.safety import ApplySafety
from pipeline.manifest import build_manifest
from pipeline.progress import ProgressWriter
from pipeline.schema import SCHEMA_VERSION
from pipeline.write import WriteShards

MANIFEST_PATH = "manifest.json"


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


def _write_manifest(shards: list[dict], funnel: dict, *, output_dir: str, config: GristmillConfig, inputs: list[str], version: str) -> dict:
    manifest = build_manifest(
        shards, funnel, config_hash=config.config_hash(), inputs=inputs, schema_version=SCHEMA_VERSION, version=version
    )
    write_json(f"{output_dir.rstrip('/')}/{MANIFEST_PATH}", manifest)
    return manifest


def build_pipeline(
    p: beam.Pipeline, *, inputs: list[str], output_dir: str, config: GristmillConfig, version: str, progress_dir: str | None = None
) -> ReadWarc:
    """Add the whole graph to `p`; return the ReadWarc transform (it knows the input files)."""
    read_warc = ReadWarc(inputs, config.ingest, progress_dir)
    read = p | "ReadWarc" >> read_warc
    extracted = read.kept | "ExtractText" >> ExtractText(config.extract)
    identified = extracted.kept | "IdentifyLanguage" >> IdentifyLanguage(config.langid)
    safe = identified.kept | "ApplySafety" >> ApplySafety(config.safety)
    unique = safe.kept | "Deduplicate" >> Deduplicate(config.dedup)
    good = unique.kept | "ApplyQuality" >> ApplyQuality(config.quality)
    kept = good.kept | "CountKept" >> beam.ParDo(_CountKeptFn(progress_dir))
    shards = kept | "WriteShards" >> WriteShards(output_dir, config.output)

    stages = [
        ("ReadWarc", read),
        ("ExtractText", extracted),
        ("IdentifyLanguage", identified),
        ("ApplySafety", safe),
        ("Deduplicate", unique),
        ("ApplyQuality", good),
    ]
    funnel = funnel_inputs(stages) | "RecordFunnel" >> RecordFunnel(output_dir, [name for name, _ in stages])
    (
        shards
        | "CollectShards" >> beam.combiners.ToList()
        | "WriteManifest"
        >> beam.Map(
            _write_manifest,
            funnel=beam.pvalue.AsSingleton(funnel),
            output_dir=output_dir,
            config=config,
            inputs=read_warc.files,
            version=version,
        )
    )
    return read_warc
