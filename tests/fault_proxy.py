"""A fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 server, for reliability tests.

Clients use the proxy's `endpoint_url`; SigV4 signs the Host header the client
sent, and the proxy forwards every request byte for byte (Host included), so
the server checks the signature against the same Host. For a seeded share of
requests, chosen per request kind, the proxy answers instead of the server:

- `slow_down`: 503 with S3's `SlowDown` XML body (the request never reaches the server);
- `internal`: 500 `InternalError` (never reaches the server);
- `drop`: closes the connection without a response (never reaches the server);
- `truncate` (GET only): forwards, then sends the headers and half the body and closes.

Faults happen before the server sees the request, so a retry of a non-idempotent
call (CompleteMultipartUpload, DeleteObjects) is always safe; `truncate` only
hits object reads. `counts` tallies requests and injected faults by kind.

    with FaultProxy(s3.endpoint_url, FaultPlan.uniform(0.15), seed=7) as proxy:
        ...  # point clients at proxy.endpoint_url
        assert proxy.faults("get")["truncate"] > 0
"""

from __future__ import annotations

import collections
import dataclasses
import random
import socket
import socketserver
import threading
import urllib.parse

KINDS = ("get", "head", "list", "put", "multipart", "copy", "delete")
FAULTS = ("slow_down", "internal", "drop", "truncate")
_ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
)
_ERRORS = {
    "slow_down": (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
    "internal": (500, "Internal Server Error", "InternalError", "We encountered an internal error. Please try again."),
}
_MAX_HEAD_BYTES = 64 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class FaultRates:
    """Share of requests of one kind answered with each fault (they are exclusive; the sum is at most 1)."""

    slow_down: float = 0.0
    internal: float = 0.0
    drop: float = 0.0
    truncate: float = 0.0  # applied to `get` only: other responses have no body worth cutting

    def __post_init__(self):
        if min(self.slow_down, self.internal, self.drop, self.truncate) < 0 or self.total > 1:
            raise ValueError(f"fault rates must be >= 0 and sum to at most 1: {self}")

    @property
    def total(self) -> float:
        return self.slow_down + self.internal + self.drop + self.truncate


@dataclasses.dataclass(frozen=True, slots=True)
class FaultPlan:
    """FaultRates per request kind (`KINDS`); kinds not named get none.

    `first` scripts the faults of the first requests of a kind, in order, before
    the random draws start: `{"get": ("truncate", "drop")}` cuts off the first
    object read and drops the second, so a run with few requests of a kind
    still meets every fault.
    """

    rates: dict[str, FaultRates] = dataclasses.field(default_factory=dict)
    first: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        unknown = (set(self.rates) | set(self.first)) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown request kinds {sorted(unknown)}; allowed: {', '.join(KINDS)}")
        for kind, faults in self.first.items():
            bad = [f for f in faults if f not in FAULTS or (f == "truncate" and kind != "get")]
            if bad:
                raise ValueError(
                    f"first[{kind!r}]: faults {bad} do not apply; allowed: {', '.join(FAULTS)} (truncate: get only)"
                )

    @classmethod
    def uniform(cls, share: float, *, first: dict[str, tuple[str, ...]] | None = None) -> FaultPlan:
        """`share` of every request kind faulted, split evenly over the faults that apply to it."""
        rates = {}
        for kind in KINDS:
            if kind == "get":
                rates[kind] = FaultRates(slow_down=share / 4, internal=share / 4, drop=share / 4, truncate=share / 4)
            else:
                rates[kind] = FaultRates(slow_down=share / 3, internal=share / 3, drop=share / 3)
        return cls(rates, first or {})

    def choose(self, kind: str, seen: int, draw: float) -> str | None:
        """The fault for the request of `kind` after `seen` others, given a uniform draw in [0, 1); None: forward it."""
        scripted = self.first.get(kind, ())
        if seen < len(scripted):
            return scripted[seen]
        rates = self.rates.get(kind)
        if rates is None:
            return None
        edge = 0.0
        for fault in FAULTS:
            edge += getattr(rates, fault)
            if draw < edge:
                return fault
        return None


def request_kind(method: str, target: str, headers: dict[str, str]) -> str:
    """Which S3 call a request is, from its method, path and query (path-style addressing)."""
    parsed = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
    has_key = "/" in parsed.path.strip("/")
    if method == "HEAD":
        return "head"
    if method == "GET":
        return "get" if has_key and "uploadId" not in query else "list"
    if method == "DELETE" or (method == "POST" and "delete" in query):
        return "delete"
    if method == "PUT" and "x-amz-copy-source" in headers:
        return "copy"
    if "uploads" in query or "uploadId" in query:
        return "multipart"
    return "put"


def _read_head(rfile) -> bytes | None:
    """The request or status line and headers, raw, up to and including the blank line; None at EOF."""
    lines = []
    size = 0
    while True:
        line = rfile.readline(_MAX_HEAD_BYTES)
        if not line:
            if lines:
                raise ConnectionError("connection closed inside a message head")
            return None
        lines.append(line)
        size += len(line)
        if size > _MAX_HEAD_BYTES:
            raise ConnectionError("message head too long")
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    first, *rest = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in rest:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return first, headers


def _read_body(rfile, headers: dict[str, str], *, until_eof: bool) -> bytes:
    """The message body exactly as sent (chunked framing kept)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = rfile.readline(_MAX_HEAD_BYTES)
            if not size_line:
                raise ConnectionError("connection closed inside a chunked body")
            parts.append(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = rfile.readline(_MAX_HEAD_BYTES)
                    if not trailer:
                        raise ConnectionError("connection closed inside chunked trailers")
                    parts.append(trailer)
                    if trailer in (b"\r\n", b"\n"):
                        return b"".join(parts)
            chunk = rfile.read(size + 2)
            if len(chunk) != size + 2:
                raise ConnectionError("connection closed inside a chunk")
            parts.append(chunk)
    if "content-length" in headers:
        length = int(headers["content-length"])
        body = rfile.read(length)
        if len(body) != length:
            raise ConnectionError("connection closed inside a body")
        return body
    return rfile.read() if until_eof else b""


class _Handler(socketserver.StreamRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        proxy = self.server.proxy
        try:
            while self._one_request(proxy):
                pass
        except (ConnectionError, OSError, ValueError):
            pass  # the client went away or sent garbage: nothing to answer

    def _one_request(self, proxy: FaultProxy) -> bool:
        """Serve one request; return whether the connection stays open."""
        head = _read_head(self.rfile)
        if head is None:
            return False
        first, headers = _parse_head(head)
        method, target, _ = first.split(" ", 2)
        if headers.get("expect", "").lower() == "100-continue":
            # answer the interim response here; the server's own `100 Continue` is skipped below
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        body = _read_body(self.rfile, headers, until_eof=False)
        kind = request_kind(method, target, headers)
        fault = proxy.decide(kind)
        if fault == "drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            return False
        if fault in _ERRORS:
            status, phrase, code, message = _ERRORS[fault]
            payload = _ERROR_BODY.format(code=code, message=message).encode()
            self.wfile.write(
                f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/xml\r\nContent-Length: {len(payload)}\r\n"
                f"x-amz-request-id: fault-proxy\r\n\r\n".encode()
                + payload
            )
            self.wfile.flush()
            return True
        response_head, response_body, upstream_closes = self._forward(proxy, head, body, no_body=method == "HEAD")
        if fault == "truncate" and len(response_body) > 1:
            self.wfile.write(response_head + response_body[: len(response_body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return False
        self.wfile.write(response_head + response_body)
        self.wfile.flush()
        return not upstream_closes and headers.get("connection", "").lower() != "close"

    @staticmethod
    def _forward(proxy: FaultProxy, head: bytes, body: bytes, *, no_body: bool) -> tuple[bytes, bytes, bool]:
        """Send the request unchanged to the server; return its (head, body, closes connection)."""
        with socket.create_connection(proxy.upstream, timeout=120) as upstream:
            upstream.sendall(head + body)
            rfile = upstream.makefile("rb")
            while True:
                response_head = _read_head(rfile)
                if response_head is None:
                    raise ConnectionError("the server closed the connection without answering")
                status_line, response_headers = _parse_head(response_head)
                status = int(status_line.split(" ", 2)[1])
                if status >= 200:
                    break  # 1xx interim answers (100 Continue) were already given to the client
            if no_body or status in (204, 304):
                response_body = b""
            else:
                response_body = _read_body(rfile, response_headers, until_eof=True)
            closes = response_headers.get("connection", "").lower() == "close" or (
                "content-length" not in response_headers
                and "chunked" not in response_headers.get("transfer-encoding", "").lower()
                and not no_body
            )
            return response_head, response_body, closes


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: FaultProxy):
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)


class FaultProxy:
    """The proxy: started by `start()` or `with`, on a free port of 127.0.0.1."""

    def __init__(self, upstream_url: str, plan: FaultPlan, *, seed: int = 0):
        parsed = urllib.parse.urlsplit(upstream_url)
        self.upstream = (parsed.hostname, parsed.port or 80)
        self.plan = plan
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()  # (kind, "requests" | fault) -> n
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def decide(self, kind: str) -> str | None:
        """Count a request of `kind` and draw its fault (None: forward it)."""
        with self._lock:
            fault = self.plan.choose(kind, self.counts[kind, "requests"], self._rng.random())
            if fault == "truncate" and kind != "get":
                fault = None
            self.counts[kind, "requests"] += 1
            if fault:
                self.counts[kind, fault] += 1
            return fault

    def requests(self, kind: str | None = None) -> int:
        return sum(n for (k, what), n in self.counts.items() if what == "requests" and kind in (None, k))

    def faults(self, kind: str | None = None) -> dict[str, int]:
        """Injected faults by type, for one request kind or all."""
        with self._lock:
            return {
                fault: sum(n for (k, what), n in self.counts.items() if what == fault and kind in (None, k))
                for fault in FAULTS
            }

    def summary(self) -> dict[str, dict[str, int]]:
        """{kind: {"requests": n, fault: n, ...}} for every kind seen."""
        with self._lock:
            table: dict[str, dict[str, int]] = {}
            for (kind, what), n in sorted(self.counts.items()):
                table.setdefault(kind, {})[what] = n
            return table

    def start(self) -> FaultProxy:
        self._server = _ProxyServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
