"""Read WARC, ARC and WET files into `Capture`s, accounting for every record.

`read_archive(stream, source, config)` yields, for each record in the file, either
a `Capture` (an HTTP 200 HTML response decoded to Unicode, or a WET text record)
or a `Rejection` with one `DropReason`. Gzip files are read member by member
(see `gzip_members.py`), so a corrupt member costs only its own records; a
stretch of garbage between members counts as one CORRUPT_RECORD. Pure code: no Beam.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Generator, Iterator
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecordLoader

from pipeline.config import IngestConfig
from pipeline.core.records import Capture, DropReason, Provenance, Rejection, describe_error
from pipeline.warc.decoding import charset_from_content_type, decode_html, is_binary
from pipeline.warc.gzip_members import (
    GZIP_MAGIC,
    CorruptMemberError,
    InflationBombError,
    MemberReader,
    RawStream,
    TruncatedMemberError,
)

STAGE = "ReadWarc"
_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_SNIFF_HTML = re.compile(rb"<\s*(!doctype\s+html|html|head|body)\b", re.IGNORECASE)
_SKIPPED_TYPES = {
    "request": DropReason.REQUEST_RECORD,
    "metadata": DropReason.METADATA_RECORD,
    "revisit": DropReason.REVISIT_RECORD,
    "warcinfo": DropReason.WARCINFO_RECORD,
}


def record_id(source: str, offset: int, index: int) -> str:
    """Stable document id: the same record of the same file gets the same id on every run."""
    return hashlib.blake2b(f"{source}\0{offset}\0{index}".encode(), digest_size=10).hexdigest()


class _QuietArchiveIterator(ArchiveIterator):
    """warcio's iterator without its stderr warning on a record not followed by blank lines: that
    warning prints the line after the record, i.e. page text, into the worker's log. The record is
    counted instead (`err_count`, see `_read_records`)."""

    INC_RECORD = ""

    def _next_record(self, next_line):
        record = super()._next_record(next_line)
        # with arc2warc, an ARC record's format reads "warc"; its header kind tells it was converted
        record.from_arc = self.loader.last_format in ("arc", "arc2warc")
        return record


class _FormatNotingLoader(ArcWarcRecordLoader):
    """warcio's record loader, remembering the format of the record it last parsed."""

    last_format = ""

    def _detect_type_load_headers(self, *args, **kwargs):
        the_format, headers = super()._detect_type_load_headers(*args, **kwargs)
        self.last_format = the_format
        return the_format, headers


class _NoHeaderValues(logging.Filter):
    """warcio warns "Replacing spaces in invalid WARC-Target-URI: <value>"; in a corrupt record that
    value can be page text, which must not reach logs. The fix itself is kept; the warning is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Replacing spaces in invalid WARC-Target-URI")


logging.getLogger("warcio.recordloader").addFilter(_NoHeaderValues())


class _FileState:
    """What one file's records share: the source name and the crawl id seen so far."""

    def __init__(self, source: str):
        self.source = source
        match = _CRAWL_ID.search(source)
        self.crawl = match.group(0) if match else ""


def read_archive(stream: BinaryIO, source: str, config: IngestConfig) -> Iterator[Capture | Rejection]:
    """Yield one Capture or Rejection per record of a WARC/ARC/WET file (gzip or plain)."""
    raw = RawStream(stream)
    state = _FileState(source)
    if raw.peek(64).lstrip().startswith((b"WARC/", b"filedesc://")):
        # An uncompressed file has no member boundaries to resynchronize on: an error ends it.
        failure = yield from _read_records(raw, state, 0, config)
        if failure is not None:
            index, err = failure
            yield _reject(state, DropReason.CORRUPT_RECORD, 0, index, type(err).__name__)
        return
    while raw.peek(1):
        offset = raw.offset
        if raw.peek(len(GZIP_MAGIC)) != GZIP_MAGIC:
            skipped = raw.skip_to_gzip_header()
            yield _reject(state, DropReason.CORRUPT_RECORD, offset, 0, f"{skipped} bytes of garbage between members")
            continue
        member = MemberReader(raw)
        failure = yield from _read_records(member, state, offset, config)
        if failure is not None:
            index, err = failure
            member.recover()
            # A corrupt member can make the decompressor run on to the end of the file;
            # the file ended inside this member only if no later member was found.
            if isinstance(err, TruncatedMemberError) and not raw.peek(1):
                yield _reject(state, DropReason.TRUNCATED_RECORD, offset, index, "file ends inside a gzip member")
            elif isinstance(err, InflationBombError):
                yield _reject(state, DropReason.DECOMPRESSION_BOMB, offset, index, str(err))
            else:
                yield _reject(state, DropReason.CORRUPT_RECORD, offset, index, type(err).__name__)


def _read_records(
    stream: MemberReader | RawStream, state: _FileState, offset: int, config: IngestConfig
) -> Generator[Capture | Rejection, None, tuple[int, Exception] | None]:
    """Yield one result per record of `stream`; on an error, return (index of the record lost, error).

    Each result is held back until the bytes after its record have been read: a
    too-short Content-Length shows only there (warcio counts a record not followed
    by blank lines in `err_count`), and a gzip member's CRC only at the member's
    end. An error then replaces the held result, so no record is both kept and
    rejected, and a record from a corrupt member is never kept.
    """
    records = _QuietArchiveIterator(stream, arc2warc=True, ensure_http_headers=False)
    records.loader = _FormatNotingLoader(verify_http=False, arc2warc=True)  # as ArchiveIterator makes it
    index, held, bad_endings = 0, None, 0
    try:
        for record in records:
            if held is not None:
                yield _check_ending(held, records.err_count > bad_endings, state, offset, index)
                held, index = None, index + 1
            bad_endings = records.err_count
            held = _classify_guarded(record, state, offset, index, config)
        if isinstance(stream, MemberReader):
            stream.drain()
    except Exception as err:  # noqa: BLE001 -- any failure costs the record being read only
        return index, err
    if held is not None:
        yield _check_ending(held, records.err_count > bad_endings, state, offset, index)
    return None


def _check_ending(
    held: Capture | Rejection, bad_ending: bool, state: _FileState, offset: int, index: int
) -> Capture | Rejection:
    """A record not followed by blank lines had a too-short Content-Length: its payload is cut."""
    if bad_ending:
        return _reject(state, DropReason.CORRUPT_RECORD, offset, index, "Content-Length too short", held.url)
    return held


def _reject(
    state: _FileState, reason: DropReason, offset: int, index: int, detail: str = "", url: str = ""
) -> Rejection:
    return Rejection(STAGE, reason, record_id(state.source, offset, index), url, detail)


def _classify_guarded(record, state: _FileState, offset: int, index: int, config: IngestConfig) -> Capture | Rejection:
    """`_classify`, where a bug on one record costs that record (STAGE_ERROR) and reading goes on.
    Stream errors propagate: they cost the rest of the member, as for any corrupt record."""
    try:
        return _classify(record, state, offset, index, config)
    except (TruncatedMemberError, CorruptMemberError):
        raise
    except Exception as err:  # noqa: BLE001 -- a poison record must not end the file
        detail = f"{describe_error(err)} (member at {offset}, record {index})"
        return _reject(
            state, DropReason.STAGE_ERROR, offset, index, detail, record.rec_headers.get_header("WARC-Target-URI") or ""
        )


def _classify(record, state: _FileState, offset: int, index: int, config: IngestConfig) -> Capture | Rejection:
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI") or ""
    rec_type = record.rec_type
    if rec_type == "warcinfo":
        _note_crawl(record, state)
    if rec_type in _SKIPPED_TYPES:
        return _reject(state, _SKIPPED_TYPES[rec_type], offset, index, url=url)
    if rec_type == "conversion":
        return _text_capture(record, state, offset, index, url, config)
    if rec_type != "response":
        return _reject(state, DropReason.OTHER_RECORD_TYPE, offset, index, rec_type, url)
    http = record.http_headers
    if http is None:
        return _reject(state, DropReason.NOT_HTML, offset, index, "not an HTTP response", url)
    status = http.get_statuscode()
    if status != "200":
        return _reject(state, DropReason.HTTP_STATUS, offset, index, f"status={status}", url)
    if headers.get_header("WARC-Truncated") and not config.keep_truncated:
        return _reject(state, DropReason.TRUNCATED_RECORD, offset, index, "WARC-Truncated", url)
    content_type = http.get_header("Content-Type") or ""
    mime = content_type.split(";")[0].strip().lower()
    if mime and mime not in config.html_content_types:
        return _reject(state, DropReason.NOT_HTML, offset, index, mime[:60], url)
    try:
        payload = record.content_stream().read(config.max_payload_bytes + 1)
    except (TruncatedMemberError, CorruptMemberError):
        raise
    except Exception as err:  # noqa: BLE001 -- bad chunking or content encoding
        return _reject(state, DropReason.DECODE_ERROR, offset, index, f"payload: {type(err).__name__}", url)
    if len(payload) > config.max_payload_bytes:
        return _reject(state, DropReason.TOO_LARGE, offset, index, f">{config.max_payload_bytes} bytes", url)
    if record.raw_stream.limit > 0:
        return _reject(state, DropReason.TRUNCATED_RECORD, offset, index, "shorter than Content-Length", url)
    if not payload.strip():
        return _reject(state, DropReason.EMPTY_PAYLOAD, offset, index, url=url)
    if is_binary(payload):
        return _reject(state, DropReason.BINARY_PAYLOAD, offset, index, url=url)
    if not mime and not _SNIFF_HTML.search(payload[:2048]):
        return _reject(state, DropReason.NOT_HTML, offset, index, "no content type, not HTML", url)
    decoded = decode_html(payload, charset_from_content_type(content_type))
    if decoded is None:
        return _reject(state, DropReason.DECODE_ERROR, offset, index, "charset", url)
    html, charset = decoded
    return Capture(
        record_id(state.source, offset, index), url, html, _provenance(record, state, offset, index), charset
    )


def _text_capture(
    record, state: _FileState, offset: int, index: int, url: str, config: IngestConfig
) -> Capture | Rejection:
    """A WET `conversion` record: text Common Crawl already extracted (UTF-8)."""
    payload = record.content_stream().read(config.max_payload_bytes + 1)
    if len(payload) > config.max_payload_bytes:
        return _reject(state, DropReason.TOO_LARGE, offset, index, f">{config.max_payload_bytes} bytes", url)
    if not payload.strip():
        return _reject(state, DropReason.EMPTY_PAYLOAD, offset, index, url=url)
    text = payload.decode("utf-8", "replace")
    return Capture(
        record_id(state.source, offset, index),
        url,
        text,
        _provenance(record, state, offset, index),
        "utf-8",
        is_text=True,
    )


def _provenance(record, state: _FileState, offset: int, index: int) -> Provenance:
    headers = record.rec_headers
    return Provenance(
        source_file=state.source,
        source_offset=offset,
        record_index=index,
        # ARC has no record ids: warcio invents a random one per read, which would make reruns differ
        warc_record_id=""
        if getattr(record, "from_arc", False)
        else (headers.get_header("WARC-Record-ID") or "").strip("<>"),
        crawl=state.crawl,
        fetch_time=headers.get_header("WARC-Date") or "",
    )


def _note_crawl(record, state: _FileState) -> None:
    """Common Crawl's warcinfo says `isPartOf: CC-MAIN-2024-22`."""
    if state.crawl:
        return
    body = record.content_stream().read(64 * 1024).decode("utf-8", "replace")
    for line in body.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "ispartof" and value.strip():
            state.crawl = value.strip()
            return
