"""What the benchmarks share: the real pages, a Common Crawl-like WARC writer, process-tree sampling
and CPU counters. Benchmarks import it as `harness` (bench/ is on sys.path when a script runs)."""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from extraction_quality import Snippets, load_annotations  # bench/, next to this file
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO.parent / "shared" / "data" / "extraction" / "trafilatura-eval"
SAMPLE_INTERVAL_S = 0.2  # how often a process tree is sampled

PeakRss = dict[str, tuple[int, int]]  # process kind -> (processes seen, peak RSS bytes)


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    url: str
    payload: bytes  # the HTML bytes as served, not decoded
    content_type: str
    snippets: Snippets | None  # None: the page is not in evaldata.json


def load_pages(limit: int | None) -> list[Page]:
    """The eval pages in file-name order; URL and snippets from evaldata.json where listed."""
    annotations = load_annotations(EVAL_DIR / "evaldata.json")
    pages = []
    for path in sorted((EVAL_DIR / "html").glob("*.gz"))[:limit]:
        name = path.name.removesuffix(".gz")
        payload = gzip.decompress(path.read_bytes())
        try:
            payload.decode("utf-8")
            content_type = "text/html; charset=utf-8"
        except UnicodeDecodeError:
            content_type = "text/html"  # a legacy charset: the pipeline reads <meta> or detects it
        url, snippets = annotations.get(name, (f"https://trafilatura-eval.invalid/{name}", None))
        if not url.startswith(("http://", "https://")):  # 37 eval keys are labels such as "hard::x.html"
            url = f"https://trafilatura-eval.invalid/{name}"
        pages.append(Page(url, payload, content_type, snippets))
    return pages


def write_warc(pages: list[Page], path: Path, *, part_of: str = "bench-trafilatura-eval", typed: bool = False) -> None:
    """Common Crawl layout: warcinfo, then a request and a response record per page, each its own gzip member.

    typed: responses carry Common Crawl's `WARC-Identified-Payload-Type: text/html` (datatrove's
    reader sniffs the type with libmagic without it, and skips ~1 page in 8)."""
    with open(path, "wb") as sink:
        writer = WARCWriter(sink, gzip=True)
        writer.write_record(
            writer.create_warcinfo_record(path.name, {"software": "gristmill bench", "isPartOf": part_of})
        )
        for page in pages:
            parts = urlsplit(page.url)
            request_headers = StatusAndHeaders(
                f"GET {parts.path or '/'} HTTP/1.1",
                [("Host", parts.netloc), ("User-Agent", "CCBot/2.0")],
                is_http_request=True,
            )
            response_headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", page.content_type), ("Content-Length", str(len(page.payload)))],
                protocol="HTTP/1.1",
            )
            request = writer.create_warc_record(page.url, "request", http_headers=request_headers)
            response = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(page.payload),
                http_headers=response_headers,
                warc_headers_dict={"WARC-Identified-Payload-Type": "text/html"} if typed else None,
            )
            writer.write_request_response_pair(request, response)


def process_kind(process: psutil.Process, root_pid: int) -> str:
    if process.pid == root_pid:
        return "main (gristmill run, runner)"
    if process.name() == "sh":  # Beam launches each SDK worker through `/bin/sh -c`
        return "/bin/sh wrapper"
    cmdline = " ".join(process.cmdline())
    if "pipeline.extraction.sandbox" in cmdline:
        return "extraction sandbox"
    if "sdk_worker_main" in cmdline:
        return "Beam SDK worker"
    return f"other ({process.name()})"


class TreeRssSampler:
    """Peak RSS per process kind over a process and all its descendants, and their CPU time.

    `classify(process, root_pid)` names a process's kind (default: gristmill's process kinds).
    `cpu_seconds()`: each process's own user + system time as last sampled, summed (not
    RUSAGE_CHILDREN: datatrove's pool workers are children of a forkserver nobody reaps)."""

    def __init__(self, root_pid: int, classify=None):
        self._root = psutil.Process(root_pid)
        self._classify = classify or process_kind
        self._peaks: dict[int, tuple[str, int]] = {}  # pid -> (kind, peak RSS)
        self._cpu: dict[int, float] = {}  # pid -> user + system seconds as last sampled

    def sample(self) -> None:
        try:
            tree = [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in tree:
            try:
                with process.oneshot():
                    kind, peak = self._peaks.get(process.pid) or (self._classify(process, self._root.pid), 0)
                    self._peaks[process.pid] = (kind, max(peak, process.memory_info().rss))
                    times = process.cpu_times()
                    self._cpu[process.pid] = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue

    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def peaks_by_kind(self) -> PeakRss:
        by_kind: PeakRss = {}
        for kind, peak in self._peaks.values():
            count, best = by_kind.get(kind, (0, 0))
            by_kind[kind] = (count + 1, max(best, peak))
        return by_kind


def busy_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far."""
    machine = psutil.cpu_times()
    return sum(machine) - machine.idle - machine.iowait


def cpu_snapshot() -> tuple[float, float, float]:
    """(wall clock, machine-wide busy CPU seconds, CPU seconds of this process and its reaped children)."""
    own = os.times()
    return time.perf_counter(), busy_cpu_seconds(), own.user + own.system + own.children_user + own.children_system


def other_cpu_share(start: tuple[float, float, float]) -> float:
    """CPU other processes used since `start`, as a share of all cores: what the timings competed with."""
    (wall0, busy0, own0), (wall1, busy1, own1) = start, cpu_snapshot()
    return max((busy1 - busy0) - (own1 - own0), 0.0) / ((wall1 - wall0) * (os.cpu_count() or 1))
