"""`ReadWarc`: input specs to a PCollection of `Capture`s, every record accounted for."""

from __future__ import annotations

import logging
import pickle
import zlib

import apache_beam as beam

from pipeline.config import IngestConfig
from pipeline.document import Capture, DropReason, Rejection
from pipeline.progress import ProgressWriter
from pipeline.sources import expand_inputs, open_input
from pipeline.stage import DROPPED, BeamCounter, StageOutput, rejected
from pipeline.warc_reader import STAGE, read_archive

log = logging.getLogger(__name__)


class _ReadArchiveFn(beam.DoFn):
    def __init__(self, config: IngestConfig, progress_dir: str | None):
        self._config = config
        self._progress_dir = progress_dir

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)
        self._progress = ProgressWriter(self._progress_dir, "read")

    def process(self, uri: str):
        # PCollection[str] -> PCollection[Capture] + dropped PCollection[Rejection]
        self._counter.inc("files")
        try:
            with open_input(uri, self._config) as stream:
                for item in read_archive(stream, uri, self._config):
                    self._counter.inc("records")
                    self._progress.add()
                    yield item if isinstance(item, Capture) else rejected(item, self._counter)
        except Exception as err:  # noqa: BLE001 -- retries are exhausted: count it, keep the run going
            log.error("ReadWarc: cannot read %s: %s", uri, type(err).__name__)
            self._progress.add()
            yield rejected(Rejection(STAGE, DropReason.UNREADABLE_INPUT, url=uri, detail=type(err).__name__), self._counter)

    def finish_bundle(self) -> None:
        self._progress.flush()


def pack_capture(capture: Capture) -> bytes:
    """Captures cross the shuffle zlib-compressed: HTML shrinks ~5x, and a local
    runner holds everything read in memory until the next stage starts."""
    return zlib.compress(pickle.dumps(capture, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack_capture(blob: bytes) -> Capture:
    return pickle.loads(zlib.decompress(blob))


class ReadWarc(beam.PTransform):
    """Read every record of the inputs; keep 200 HTML responses (and WET text).

    Files are the unit read by one worker; the Reshuffle after reading makes
    records the unit of parallel work for the expensive stages downstream.
    """

    def __init__(self, inputs: list[str], config: IngestConfig, progress_dir: str | None = None):
        super().__init__()
        self._files = expand_inputs(inputs, config)
        self._config = config
        self._progress_dir = progress_dir
        log.info("ReadWarc: %d input files", len(self._files))

    @property
    def files(self) -> list[str]:
        return list(self._files)

    def expand(self, pbegin) -> StageOutput:
        results = (
            pbegin
            | "ListFiles" >> beam.Create(self._files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "ReadRecords" >> beam.ParDo(_ReadArchiveFn(self._config, self._progress_dir)).with_outputs(DROPPED, main="kept")
        )
        captures = (
            results.kept
            | "PackCaptures" >> beam.Map(pack_capture)
            | "SpreadRecords" >> beam.Reshuffle()
            | "UnpackCaptures" >> beam.Map(unpack_capture)
        )
        return StageOutput(captures, results[DROPPED])
