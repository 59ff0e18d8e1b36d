"""What the extraction sandbox costs: the same pages extracted in-process and through `ExtractionSandbox`.

    taskset -c 0 .venv/bin/python bench/bench_sandbox.py              # 400 eval pages, resiliparse and trafilatura
    taskset -c 0 .venv/bin/python bench/bench_sandbox.py --pages 100 --backend resiliparse

The sandbox sends each page's HTML to a child process and its text back (one
pickle round trip per page). With resiliparse (~2 ms a page) the round trip is
most of the difference; with trafilatura (~30 ms) it is what issue 16 asks to be
noise. CPU seconds count both processes (the child's are read when it exits);
the sandbox's start (a fresh interpreter importing the extractor) is timed apart.
Pinned to one core, parent and child share it, as they do in a one-worker run.
"""

from __future__ import annotations

import argparse
import resource
import time

from harness import load_pages  # bench/

from pipeline.config import ExtractConfig
from pipeline.extraction.extractors import make_extractor
from pipeline.extraction.sandbox import ExtractionSandbox
from pipeline.warc.decoding import decode_html


def cpu_seconds() -> float:
    """This process and its reaped children, user + system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(pages: list[tuple[str, str]], config: ExtractConfig) -> tuple[float, float, float, float, float]:
    """(in-process wall, CPU; sandbox start wall; sandbox wall, CPU) over all pages."""
    extract = make_extractor(config)
    extract(*pages[0])  # first-call set-up outside the timing, on both sides
    start, cpu = time.perf_counter(), cpu_seconds()
    for html, url in pages:
        extract(html, url)
    inline = (time.perf_counter() - start, cpu_seconds() - cpu)
    sandbox = ExtractionSandbox(config)
    started = time.perf_counter()
    sandbox.start()
    start_s = time.perf_counter() - started
    sandbox.extract(*pages[0])
    start, cpu = time.perf_counter(), cpu_seconds()
    for html, url in pages:
        sandbox.extract(html, url)
    wall = time.perf_counter() - start
    sandbox.close()  # the child's CPU is counted once it is reaped
    return *inline, start_s, wall, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--backend", action="append", choices=("resiliparse", "trafilatura"))
    args = parser.parse_args()
    pages = []
    for page in load_pages(args.pages):
        decoded = decode_html(page.payload)
        if decoded is not None:
            pages.append((decoded[0], page.url))
    megabytes = sum(len(html) for html, _ in pages) / 1e6
    print(f"{len(pages)} trafilatura-eval pages, {megabytes:.0f} M characters of HTML\n")
    print("| backend | in-process wall s | CPU s | sandbox wall s | CPU s | sandbox start s | cost per page (wall) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend in args.backend or ["resiliparse", "trafilatura"]:
        wall, cpu, start_s, sandbox_wall, sandbox_cpu = measure(pages, ExtractConfig(backend=backend))
        per_page = (sandbox_wall - wall) / len(pages) * 1000
        print(
            f"| {backend} | {wall:.2f} | {cpu:.2f} | {sandbox_wall:.2f} | {sandbox_cpu:.2f} | {start_s:.2f} "
            f"| {per_page:+.2f} ms ({(sandbox_wall - wall) / wall:+.1%}) |"
        )


if __name__ == "__main__":
    main()
