"""`ReadWarc`: input specs to a PCollection of `Capture`s, every record accounted for."""

from __future__ import annotations

import logging

import apache_beam as beam

from pipeline.accounting.guard import DROPPED, BeamCounter, StageOutput, rejected
from pipeline.accounting.packing import pack, unpack
from pipeline.accounting.progress import ProgressWriter
from pipeline.config import IngestConfig
from pipeline.core.records import Capture, DropReason, Rejection
from pipeline.warc.reader import STAGE, read_archive
from pipeline.warc.sources import expand_inputs, open_input

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
            yield rejected(
                Rejection(STAGE, DropReason.UNREADABLE_INPUT, url=uri, detail=type(err).__name__), self._counter
            )

    def finish_bundle(self) -> None:
        self._progress.flush()


def spreads_records(setting: str, files: int, workers: int) -> bool:
    """Whether ReadWarc shuffles the records it read (`ingest.spread_records`).

    'auto' spreads only when it can help: more than one worker and fewer files than
    workers. Otherwise each worker reads, extracts and filters its own files in one
    fused stage and the HTML never crosses a shuffle, which costs CPU (every page
    packed, held by the runner and unpacked: 62.5 s vs 58 s for 1,147 pages on one
    worker) and memory (the runner holds the shuffle: on the vs_datatrove 4x input,
    4,745 pages, 684 MB of HTML, 8 files, 2 workers, it peaked at 1,103 MiB with the
    record shuffle and 423 MiB without it).
    """
    if setting == "auto":
        return 1 < workers and files < workers
    return setting == "always"


class ReadWarc(beam.PTransform):
    """Read every record of the inputs; keep 200 HTML responses (and WET text).

    Files are the unit read by one worker. When there are too few files for the
    workers (`spreads_records`), a Reshuffle after reading makes records the unit
    of parallel work for the expensive stages downstream; captures cross that
    shuffle packed (pipeline/accounting/packing.py): HTML shrinks ~5x.
    """

    def __init__(self, inputs: list[str], config: IngestConfig, progress_dir: str | None = None, *, workers: int = 1):
        super().__init__()
        self._files = expand_inputs(inputs, config)
        self._config = config
        self._progress_dir = progress_dir
        self._spread = spreads_records(config.spread_records, len(self._files), workers)
        log.info(
            "ReadWarc: %d input files, %d workers: %s",
            len(self._files),
            workers,
            "records spread over the workers" if self._spread else "each worker reads whole files",
        )

    @property
    def files(self) -> list[str]:
        return list(self._files)

    def expand(self, pbegin) -> StageOutput:
        results = (
            pbegin
            | "ListFiles" >> beam.Create(self._files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "ReadRecords"
            >> beam.ParDo(_ReadArchiveFn(self._config, self._progress_dir)).with_outputs(DROPPED, main="kept")
        )
        if not self._spread:
            return StageOutput(results.kept, results[DROPPED])
        captures = (
            results.kept
            | "PackCaptures" >> beam.Map(pack)
            | "SpreadRecords" >> beam.Reshuffle()
            | "UnpackCaptures" >> beam.Map(unpack)
        )
        return StageOutput(captures, results[DROPPED])
