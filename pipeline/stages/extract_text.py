"""`ExtractText`: Capture (HTML) to Document (main text), with a per-page time limit, and what the page
declares about itself (Open Graph, schema.org: read outside the sandbox, in bounded time)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import apache_beam as beam

from filters.page_metadata import read_page_metadata, to_metadata
from pipeline.accounting.guard import BeamCounter, StageFn, StageOutput, rejected, run_stage
from pipeline.config import ExtractConfig
from pipeline.core.records import Capture, Document, DropReason, Rejection
from pipeline.extraction.sandbox import ExtractionSandbox, SandboxResult

STAGE = "ExtractText"


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def to_document(
    capture: Capture, result: SandboxResult, config: ExtractConfig, declared: Mapping[str, str] | None = None
) -> Document | Rejection:
    """Turn one extraction result into a Document, or the reason it has none. `declared`: what the
    page declares about itself (filters/page_metadata.py), kept in the metadata for TagDomains."""
    if result.timed_out:
        return Rejection(STAGE, DropReason.EXTRACTION_TIMEOUT, capture.id, capture.url, f">{config.timeout_s}s")
    if result.error:
        return Rejection(STAGE, DropReason.EXTRACTION_ERROR, capture.id, capture.url, result.error)
    text = result.text.strip()
    if len(text) < config.min_text_chars:
        return Rejection(STAGE, DropReason.EMPTY_TEXT, capture.id, capture.url)
    return Document(
        id=capture.id,
        url=capture.url,
        host=host_of(capture.url),
        text=text,
        provenance=capture.provenance,
        charset=capture.charset,
        metadata={"extractor": "wet" if capture.is_text else config.backend, **(declared or {})},
    )


class _ExtractFn(StageFn):
    stage = STAGE

    def __init__(self, config: ExtractConfig):
        self._config = config

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)
        self._sandbox = ExtractionSandbox(self._config)
        self._sandbox.start()

    def process_one(self, capture: Capture):
        # PCollection[Capture] -> PCollection[Document]
        if capture.is_text:  # WET records are text already
            result, declared = SandboxResult(text=capture.content), None
        else:
            result = self._sandbox.extract(capture.content, capture.url)
            declared = to_metadata(read_page_metadata(capture.content))
        out = to_document(capture, result, self._config, declared)
        if isinstance(out, Rejection):
            yield rejected(out, self._counter)
        else:
            self._counter.inc("kept")
            yield out

    def teardown(self) -> None:
        self._sandbox.close()


class ExtractText(beam.PTransform):
    def __init__(self, config: ExtractConfig):
        super().__init__()
        self._config = config

    def expand(self, captures) -> StageOutput:
        return run_stage(captures, "Extract", _ExtractFn(self._config))
