"""Input specs and streams: local paths, s3:// against a real SeaweedFS, `cc:` crawls, and resumed HTTP reads."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import http.server
import io
import ipaddress
import logging
import re
import socket
import ssl
import threading
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there
from s3_server import SeaweedS3, SeaweedUnavailable  # tests/ is on sys.path: pytest puts conftest.py's folder there

from pipeline.config import IngestConfig, S3Config
from pipeline.warc.sources import InputError, ResumableStream, expand_inputs, open_input

CRAWL = "CC-MAIN-2024-22"
# A small stand-in for Common Crawl: warc.paths.gz lists copies of the shared WARCs, in this order.
CRAWL_FILES = {
    f"crawl-data/{CRAWL}/segments/1716000000.1/warc/CC-MAIN-0000.warc.gz": "dolma/sample-0000.warc.gz",
    f"crawl-data/{CRAWL}/segments/1716000000.1/warc/CC-MAIN-0001.warc.gz": "whirlwind/whirlwind.warc.gz",
    f"crawl-data/{CRAWL}/segments/1716000000.2/warc/CC-MAIN-0002.warc.gz": "jwarc/cc.warc.gz",
}
LISTING = f"crawl-data/{CRAWL}/warc.paths.gz"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(uri: str, config: IngestConfig) -> bytes:
    with open_input(uri, config) as stream:
        return stream.read()


def _crawl_objects(shared_data: Path) -> dict[str, bytes]:
    """Key -> bytes of the stand-in crawl: the WARC copies and their warc.paths.gz."""
    objects = {key: (shared_data / "warc" / source).read_bytes() for key, source in CRAWL_FILES.items()}
    objects[LISTING] = gzip.compress("".join(f"{key}\n" for key in CRAWL_FILES).encode())
    return objects


# --- local paths ------------------------------------------------------------------------------


@pytest.fixture()
def local_tree(tmp_path: Path) -> Path:
    for name in (
        "a.warc.gz",
        "b.arc.gz",
        "sub/c.warc.wet.gz",
        "sub/deeper/d.warc",
        "sub/e.wet",
        "LICENSE",
        "sub/f.warc.wat.gz",
        "notes.txt",
    ):
        path = tmp_path / "crawl" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path / "crawl"


def test_a_local_file_is_itself(local_tree):
    assert expand_inputs([str(local_tree / "notes.txt")], IngestConfig()) == [str(local_tree / "notes.txt")]


def test_a_folder_yields_only_archives_at_any_depth(local_tree):
    found = expand_inputs([str(local_tree)], IngestConfig())
    assert found == sorted(
        str(local_tree / n) for n in ("a.warc.gz", "b.arc.gz", "sub/c.warc.wet.gz", "sub/deeper/d.warc", "sub/e.wet")
    )


def test_globs_follow_glob_semantics_and_repeats_are_dropped(local_tree):
    config = IngestConfig()
    assert expand_inputs([str(local_tree / "*.warc.gz")], config) == [str(local_tree / "a.warc.gz")]
    assert expand_inputs([str(local_tree / "**" / "*.wet*")], config) == [
        str(local_tree / "sub/c.warc.wet.gz"),
        str(local_tree / "sub/e.wet"),
    ]
    both = expand_inputs([str(local_tree / "a.warc.gz"), str(local_tree)], config)
    assert (
        both[0] == str(local_tree / "a.warc.gz") and both.count(str(local_tree / "a.warc.gz")) == 1 and len(both) == 5
    )


@pytest.mark.parametrize("name", ["missing.warc.gz", "nothing-*.warc.gz", "empty-folder"])
def test_a_local_spec_matching_nothing_is_named(local_tree, name):
    (local_tree / "empty-folder").mkdir()
    spec = str(local_tree / name)
    with pytest.raises(InputError, match=re.escape(f"input '{spec}' matches no WARC/ARC/WET file")):
        expand_inputs([str(local_tree / "a.warc.gz"), spec], IngestConfig())


@pytest.mark.parametrize(
    "spec, message",
    [
        ("cc:", "expected cc:CC-MAIN-YYYY-WW"),
        ("cc:2024-22:1", "expected cc:CC-MAIN-YYYY-WW"),
        (f"cc:{CRAWL}:1:2", "expected cc:CC-MAIN-YYYY-WW"),
        (f"cc:{CRAWL}:two", "N must be an integer"),
        (f"cc:{CRAWL}:0", "N must be >= 1"),
        (f"cc:{CRAWL}:-1", "N must be >= 1"),
        ("cc:CC-MAIN-2099-01:1", "crawl-data/CC-MAIN-2099-01/warc.paths.gz not found"),
    ],
)
def test_bad_crawl_specs_are_input_errors(tmp_path, spec, message):
    # a local base: nothing here may reach the real Common Crawl
    with pytest.raises(InputError, match=message) as raised:
        expand_inputs([spec], IngestConfig(commoncrawl_base=f"{tmp_path}/"))
    assert repr(spec) in str(raised.value)


# --- ResumableStream, without a network -------------------------------------------------------


class _FlakyOpener:
    """open_at(offset) over fixed bytes; scripted failures: the first body breaks after `break_after` bytes,
    then `failed_reopens` reopen attempts raise before one succeeds."""

    def __init__(self, data: bytes, *, break_after: int, failed_reopens: int):
        self.data = data
        self.offsets: list[int] = []
        self._break_after = break_after
        self._failed_reopens = failed_reopens

    def __call__(self, offset: int):
        self.offsets.append(offset)
        if len(self.offsets) == 1:
            return _BreakingBody(self.data[: self._break_after])
        if self._failed_reopens:
            self._failed_reopens -= 1
            raise ConnectionRefusedError("scripted")
        return io.BytesIO(self.data[offset:])


class _BreakingBody(io.BytesIO):
    def read(self, size=-1):
        data = super().read(size)
        if not data:
            raise ConnectionResetError("scripted")
        return data


def test_a_stream_resumes_at_its_offset_after_a_break_and_a_failed_reopen():
    data = bytes(range(256)) * 400
    opener = _FlakyOpener(data, break_after=30_000, failed_reopens=1)
    with ResumableStream(opener, attempts=4, name="flaky", backoff_s=0) as stream:
        assert stream.read() == data
    assert opener.offsets == [0, 30_000, 30_000]


def test_a_stream_gives_up_after_its_attempts_and_never_retries_a_missing_file():
    calls = []

    def refused(offset):
        calls.append(offset)
        raise ConnectionRefusedError("scripted")

    with pytest.raises(ConnectionRefusedError):
        ResumableStream(refused, attempts=3, name="down", backoff_s=0)
    assert len(calls) == 3

    def missing(offset):
        calls.append(offset)
        raise FileNotFoundError("gone")

    calls.clear()
    with pytest.raises(FileNotFoundError):
        ResumableStream(missing, attempts=3, name="gone", backoff_s=0)
    assert calls == [0]


# --- HTTP(S): a threaded server with Range support and scripted faults -------------------------


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 -- http.server's name
        server: RangeServer = self.server.owner
        rng = self.headers.get("Range")
        server.requests.append((self.path, rng))
        faults = server.faults.get(self.path)
        fault = faults.pop(0) if faults else None
        body = server.files.get(self.path.lstrip("/"))
        if body is None or fault == 503:
            self.send_response(404 if body is None else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "ignore-range":  # a server without Range support answers 200 and the whole body
            rng = None
        start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
        payload = body[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if fault == "drop":
            # half the body, then close: the client sees a clean EOF short of Content-Length
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class RangeServer:
    """Serves `files` (path -> bytes) on 127.0.0.1, over TLS when given a context; records every request."""

    def __init__(self, files: dict[str, bytes], tls: ssl.SSLContext | None = None):
        self.files = files
        self.faults: dict[str, list] = {}
        self.requests: list[tuple[str, str | None]] = []
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
        self._httpd.owner = self
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self._httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> RangeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gristmill test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_certificate(tmp_path_factory) -> tuple[Path, Path]:
    return _self_signed_certificate(tmp_path_factory.mktemp("tls"))


def _serve_crawl(scheme: str, tls_certificate, shared_data: Path, monkeypatch) -> RangeServer:
    """A server of the stand-in crawl; for https its certificate is trusted through SSL_CERT_FILE."""
    tls = None
    if scheme == "https":
        cert_path, key_path = tls_certificate
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert_path, key_path)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    return RangeServer(_crawl_objects(shared_data), tls)


@pytest.fixture(params=["http", "https"])
def range_server(request, tls_certificate, shared_data, monkeypatch):
    """A fresh server per test: its own fault script and request log."""
    with _serve_crawl(request.param, tls_certificate, shared_data, monkeypatch) as server:
        yield server


@pytest.fixture()
def https_server(tls_certificate, shared_data, monkeypatch):
    with _serve_crawl("https", tls_certificate, shared_data, monkeypatch) as server:
        yield server


def test_a_dropped_connection_and_a_503_are_resumed_with_range_requests(range_server):
    key = next(iter(CRAWL_FILES))
    expected = range_server.files[key]
    range_server.faults[f"/{key}"] = ["drop", 503]
    got = _read(range_server.url + key, IngestConfig(http_retries=4))
    assert len(got) == len(expected) and _sha256(got) == _sha256(expected)
    half = len(expected) // 2
    assert range_server.requests == [(f"/{key}", None), (f"/{key}", f"bytes={half}-"), (f"/{key}", f"bytes={half}-")]


def test_a_resume_against_a_server_that_ignores_range_skips_to_the_offset(range_server):
    key = next(iter(CRAWL_FILES))
    expected = range_server.files[key]
    range_server.faults[f"/{key}"] = ["drop", "ignore-range"]
    got = _read(range_server.url + key, IngestConfig(http_retries=3))
    assert _sha256(got) == _sha256(expected)


def test_a_missing_url_is_file_not_found_without_retries(range_server, caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.warc.sources"), pytest.raises(FileNotFoundError):
        open_input(range_server.url + "crawl-data/nope.warc.gz", IngestConfig(http_retries=4))
    assert range_server.requests == [("/crawl-data/nope.warc.gz", None)]
    assert not caplog.records


def test_a_crawl_is_listed_and_read_over_https(https_server, shared_data):
    config = IngestConfig(commoncrawl_base=https_server.url)
    found = expand_inputs([f"cc:{CRAWL}:2"], config)
    assert found == [https_server.url + key for key in list(CRAWL_FILES)[:2]]
    for uri, source in zip(found, CRAWL_FILES.values()):
        assert _sha256(_read(uri, config)) == _sha256((shared_data / "warc" / source).read_bytes())
    assert expand_inputs([f"cc:{CRAWL}"], config) == [https_server.url + key for key in CRAWL_FILES]
    with pytest.raises(InputError, match="CC-MAIN-2099-01/warc.paths.gz not found"):
        expand_inputs(["cc:CC-MAIN-2099-01:1"], config)


# --- S3 against SeaweedFS ---------------------------------------------------------------------

# Expansion only looks at names, so most objects are one byte; "crawlx/" is a sibling prefix
# that a careless prefix match would take for "crawl".
_PRIVATE_KEYS = (
    "top.warc.gz",
    "crawl/a.warc.gz",
    "crawl/b.arc.gz",
    "crawl/notes.txt",
    "crawl/seg-1/c.warc.gz",
    "crawl/seg-1/d.warc.wat.gz",
    "crawl/seg-2/e.warc.wet.gz",
    "crawlx/f.warc.gz",
)


@pytest.fixture(scope="module")
def s3(tmp_path_factory, shared_data):
    """SeaweedFS with a private bucket `warcs-in` and a public stand-in `commoncrawl` bucket."""
    try:
        server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"), public_buckets=("commoncrawl",)).start()
    except SeaweedUnavailable as err:
        skip_or_fail(str(err))
    try:
        client = server.client()
        client.create_bucket(Bucket="warcs-in")
        for key in _PRIVATE_KEYS:
            client.put_object(Bucket="warcs-in", Key=key, Body=b"x")
        client.put_object(
            Bucket="warcs-in",
            Key="real/sample.warc.gz",
            Body=(shared_data / "warc" / "dolma" / "sample-0001.warc.gz").read_bytes(),
        )
        client.create_bucket(Bucket="commoncrawl")
        for key, body in _crawl_objects(shared_data).items():
            client.put_object(Bucket="commoncrawl", Key=key, Body=body)
        yield server
    finally:
        server.stop()


@pytest.fixture()
def signed(s3, monkeypatch) -> IngestConfig:
    """Credentials in the environment only, as on a worker; nothing from ~/.aws or instance metadata."""
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return IngestConfig(commoncrawl_base="s3://commoncrawl/", s3=S3Config(endpoint_url=s3.endpoint_url, max_attempts=3))


@pytest.fixture()
def no_credentials(signed, monkeypatch) -> IngestConfig:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return signed


@pytest.mark.parametrize(
    "spec, keys",
    [
        ("s3://warcs-in/top.warc.gz", ["top.warc.gz"]),
        ("s3://warcs-in/crawl/notes.txt", ["crawl/notes.txt"]),  # named exactly: taken whatever its suffix
        (
            "s3://warcs-in/crawl/",
            ["crawl/a.warc.gz", "crawl/b.arc.gz", "crawl/seg-1/c.warc.gz", "crawl/seg-2/e.warc.wet.gz"],
        ),
        (
            "s3://warcs-in/crawl",
            ["crawl/a.warc.gz", "crawl/b.arc.gz", "crawl/seg-1/c.warc.gz", "crawl/seg-2/e.warc.wet.gz"],
        ),
        ("s3://warcs-in/crawl/*.warc.gz", ["crawl/a.warc.gz"]),  # '*' stays in one folder, as a local glob
        ("s3://warcs-in/crawl/*/*.warc.gz", ["crawl/seg-1/c.warc.gz"]),
        (
            "s3://warcs-in/crawl/**/*.warc*.gz",
            ["crawl/a.warc.gz", "crawl/seg-1/c.warc.gz", "crawl/seg-1/d.warc.wat.gz", "crawl/seg-2/e.warc.wet.gz"],
        ),
        ("s3://warcs-in/crawl*/?.warc.gz", ["crawl/a.warc.gz", "crawlx/f.warc.gz"]),
    ],
)
def test_s3_keys_prefixes_and_globs_are_listed(signed, spec, keys):
    assert expand_inputs([spec], signed) == [f"s3://warcs-in/{k}" for k in keys]


@pytest.mark.parametrize(
    "spec",
    [
        "s3://warcs-in/nothing/",
        "s3://warcs-in/crawl/*.parquet",
        "s3://warcs-in/crawl/missing.warc.gz",
        "s3://no-such-bucket/x.warc.gz",
    ],
)
def test_an_s3_spec_matching_nothing_is_named(signed, spec):
    with pytest.raises(InputError, match=re.escape(repr(spec))):
        expand_inputs([spec], signed)


def test_an_s3_object_streams_exact_bytes_and_a_missing_one_is_file_not_found(signed, shared_data):
    expected = (shared_data / "warc" / "dolma" / "sample-0001.warc.gz").read_bytes()
    assert _sha256(_read("s3://warcs-in/real/sample.warc.gz", signed)) == _sha256(expected)
    with pytest.raises(FileNotFoundError):
        open_input("s3://warcs-in/real/missing.warc.gz", signed)
    with pytest.raises(FileNotFoundError):
        open_input("s3://no-such-bucket/x.warc.gz", signed)


def test_a_crawl_is_listed_and_read_from_s3(signed, shared_data):
    found = expand_inputs([f"cc:{CRAWL}:2"], signed)
    assert found == [f"s3://commoncrawl/{key}" for key in list(CRAWL_FILES)[:2]]
    for uri, source in zip(found, CRAWL_FILES.values()):
        assert _sha256(_read(uri, signed)) == _sha256((shared_data / "warc" / source).read_bytes())
    with pytest.raises(InputError, match="s3://commoncrawl/crawl-data/CC-MAIN-2099-01/warc.paths.gz not found"):
        expand_inputs(["cc:CC-MAIN-2099-01:1"], signed)


@pytest.mark.parametrize("anonymous", ["yes", "auto"])
def test_a_public_bucket_is_read_unsigned(no_credentials, anonymous, shared_data):
    import dataclasses

    config = dataclasses.replace(no_credentials, s3=dataclasses.replace(no_credentials.s3, anonymous=anonymous))
    found = expand_inputs([f"cc:{CRAWL}:1"], config)
    assert _sha256(_read(found[0], config)) == _sha256(
        (shared_data / "warc" / "dolma" / "sample-0000.warc.gz").read_bytes()
    )


def test_unsigned_requests_to_a_private_bucket_fail_at_once(signed, caplog):
    import dataclasses

    config = dataclasses.replace(signed, s3=dataclasses.replace(signed.s3, anonymous="yes"))
    with pytest.raises(ClientError, match="AccessDenied"):
        expand_inputs(["s3://warcs-in/crawl/"], config)
    with (
        caplog.at_level(logging.WARNING, logger="pipeline.warc.sources"),
        pytest.raises(ClientError, match="AccessDenied"),
    ):
        open_input("s3://warcs-in/real/sample.warc.gz", config)
    assert not caplog.records, "an access error is not worth retrying"
