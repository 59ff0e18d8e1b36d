"""Where WARC files come from: local paths and globs, s3://, https://, and `cc:` crawl specs.

`expand_inputs` turns the user's input specs into a sorted list of file URIs (at
graph-construction time, as Beam's own file sources do). `open_input` opens one
for streaming; remote streams resume with a Range request after a dropped
connection, and S3 requests use botocore's adaptive retries (503 SlowDown).
"""

from __future__ import annotations

import fnmatch
import glob
import gzip
import http.client
import io
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import BinaryIO

from pipeline.config import IngestConfig, S3Config

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc", ".wet.gz", ".wet", ".warc.wet.gz")
_RETRYABLE_HTTP = {429, 500, 502, 503, 504}


class InputError(ValueError):
    """An input spec names nothing readable."""


def s3_client(config: S3Config):
    """A boto3 S3 client: endpoint override, adaptive retries, unsigned when anonymous."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    session = boto3.session.Session()
    unsigned = config.anonymous == "yes" or (config.anonymous == "auto" and session.get_credentials() is None)
    client_config = Config(
        retries={"mode": "adaptive", "max_attempts": config.max_attempts},
        signature_version=UNSIGNED if unsigned else None,
        connect_timeout=20,
        read_timeout=120,
    )
    return session.client("s3", endpoint_url=config.endpoint_url, region_name=config.region, config=client_config)


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def expand_inputs(specs: list[str], config: IngestConfig) -> list[str]:
    """Resolve input specs to file URIs; raise InputError naming a spec that matches nothing."""
    files: list[str] = []
    for spec in specs:
        found = _expand_one(spec, config)
        if not found:
            raise InputError(f"input {spec!r} matches no WARC/ARC/WET file")
        files.extend(found)
    return list(dict.fromkeys(files))  # keep order, drop repeats


def _expand_one(spec: str, config: IngestConfig) -> list[str]:
    if spec.startswith("cc:"):
        return _expand_crawl(spec, config)
    if spec.startswith("s3://"):
        return _expand_s3(spec, config.s3)
    if spec.startswith(("https://", "http://")):
        return [spec]
    path = os.path.expanduser(spec)
    if os.path.isdir(path):
        return sorted(
            p for p in glob.glob(os.path.join(path, "**", "*"), recursive=True) if p.endswith(ARCHIVE_SUFFIXES)
        )
    if glob.has_magic(path):
        return sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
    return [path] if os.path.isfile(path) else []


def _expand_s3(uri: str, config: S3Config) -> list[str]:
    """s3://bucket/key, s3://bucket/prefix/ (every archive under it) or s3://bucket/glob*."""
    bucket, key = split_s3(uri)
    client = s3_client(config)
    has_glob = glob.has_magic(key)
    prefix = key.split("*")[0].split("?")[0].split("[")[0] if has_glob else key
    keys = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []) if _s3_key_matches(obj["Key"], key, has_glob))
    except client.exceptions.NoSuchBucket:
        raise InputError(f"input {uri!r}: bucket {bucket!r} does not exist") from None
    return [f"s3://{bucket}/{k}" for k in sorted(keys)]


def _s3_key_matches(name: str, spec_key: str, has_glob: bool) -> bool:
    if has_glob:
        return _glob_match(name.split("/"), spec_key.split("/"))
    if name == spec_key:
        return True
    under = not spec_key or name.startswith(spec_key.rstrip("/") + "/")
    return under and name.endswith(ARCHIVE_SUFFIXES)


def _glob_match(parts: list[str], pattern: list[str]) -> bool:
    """Match '/'-separated parts as a local glob does: '*' stays in one folder, a '**' part spans any number."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_match(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob_match(parts[1:], pattern[1:])


def _expand_crawl(spec: str, config: IngestConfig) -> list[str]:
    """`cc:CC-MAIN-2024-22:3`: the first 3 files of the crawl's warc.paths.gz."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[1].startswith("CC-MAIN-"):
        raise InputError(f"crawl spec {spec!r}: expected cc:CC-MAIN-YYYY-WW[:N]")
    crawl = parts[1]
    try:
        count = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise InputError(f"crawl spec {spec!r}: N must be an integer") from None
    if count is not None and count < 1:
        raise InputError(f"crawl spec {spec!r}: N must be >= 1")
    base = config.commoncrawl_base.rstrip("/") + "/"
    listing = f"{base}crawl-data/{crawl}/warc.paths.gz"
    try:
        with open_input(listing, config) as stream:
            lines = gzip.decompress(stream.read()).decode().split()
    except FileNotFoundError as err:
        raise InputError(f"crawl spec {spec!r}: {listing} not found") from err
    return [base + path for path in lines[:count]]


def open_input(uri: str, config: IngestConfig) -> BinaryIO:
    """Open a file URI for streaming reads."""
    if uri.startswith("s3://"):
        return ResumableStream(_s3_opener(uri, config.s3), attempts=config.s3.max_attempts, name=uri)
    if uri.startswith(("https://", "http://")):
        return ResumableStream(_http_opener(uri), attempts=config.http_retries, name=uri)
    return open(uri, "rb")


def _s3_opener(uri: str, config: S3Config) -> Callable[[int], BinaryIO]:
    bucket, key = split_s3(uri)
    client = s3_client(config)

    def open_at(offset: int) -> BinaryIO:
        try:
            kwargs = {"Range": f"bytes={offset}-"} if offset else {}
            return client.get_object(Bucket=bucket, Key=key, **kwargs)["Body"]
        except (client.exceptions.NoSuchKey, client.exceptions.NoSuchBucket) as err:
            raise FileNotFoundError(uri) from err

    return open_at


def _http_opener(url: str) -> Callable[[int], BinaryIO]:
    def open_at(offset: int) -> BinaryIO:
        headers = {"User-Agent": "gristmill/0.1 (+https://github.com/gristmill)"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise FileNotFoundError(url) from err
            raise
        if offset and response.status != 206:  # the server ignored Range: skip to the offset ourselves
            remaining = offset
            while remaining:
                chunk = response.read(min(remaining, 1 << 20))
                if not chunk:
                    raise http.client.IncompleteRead(b"", remaining)
                remaining -= len(chunk)
        return response

    return open_at


def _is_retryable(err: Exception) -> bool:
    from botocore.exceptions import ClientError

    if isinstance(err, FileNotFoundError):
        return False
    if isinstance(err, urllib.error.HTTPError):
        return err.code in _RETRYABLE_HTTP
    if isinstance(err, ClientError):  # AccessDenied and the like will not change on a retry
        return err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in _RETRYABLE_HTTP
    return True  # dropped connections, timeouts, botocore read errors


class ResumableStream(io.RawIOBase):
    """A read-only stream that reopens at its current offset after a failure."""

    def __init__(self, open_at: Callable[[int], BinaryIO], *, attempts: int, name: str, backoff_s: float = 0.5):
        self._open_at = open_at
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._name = name
        self._offset = 0
        self._body: BinaryIO | None = None
        self._retry(lambda: None)  # open now, so that a missing file fails here

    def _discard_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            try:
                body.close()
            except Exception:  # noqa: BLE001 -- the old body is already broken
                pass

    def _retry(self, action):
        """Run `action` on an open body; each attempt (re)opens at the current offset if needed."""
        for attempt in range(1, self._attempts + 1):
            try:
                if self._body is None:
                    self._body = self._open_at(self._offset)
                return action()
            except Exception as err:  # noqa: BLE001 -- filtered by _is_retryable
                if attempt == self._attempts or not _is_retryable(err):
                    raise
                log.warning(
                    "%s: %s at byte %d; retry %d/%d",
                    self._name,
                    type(err).__name__,
                    self._offset,
                    attempt,
                    self._attempts,
                )
                self._discard_body()
                time.sleep(min(self._backoff_s * 2 ** (attempt - 1), 20.0))

    def _read_body(self, size: int) -> bytes:
        data = self._body.read(size)
        if not data and size and getattr(self._body, "length", None):
            # http.client answers b"" instead of raising when the server closes mid-body;
            # its `length` still holds the bytes that Content-Length promised
            raise http.client.IncompleteRead(b"", self._body.length)
        return data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._retry(lambda: self._read_body(len(buffer)))
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
        super().close()
