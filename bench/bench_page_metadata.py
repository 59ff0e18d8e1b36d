"""Page metadata reading: speed on one core, and what real pages declare.

    .venv/bin/python bench/bench_page_metadata.py [--repeats R]

Reads two page sets from ../shared/data, in place: the 1,033 HTML pages of
`extraction/trafilatura-eval/html/*.gz` and the HTML responses of every
`warc/**/*.warc.gz` (warcio). Bytes are decoded as UTF-8 with errors="replace";
decoding is not timed. Times `read_page_metadata` over each set in this one
process, R repeats, and reports pages/s from the median CPU time of the process
(`time.process_time`, so other load on the machine does not count) and M characters/s of
HTML. Then prints, per set: how many pages carry og:type (by value), the 30
commonest top-level schema.org types (pages with at least one), article_section,
citation meta and a published time; and the distribution of `format_evidence`
(label and evidence). Asserts nothing. Goal: >= 3,000 pages/s on one core.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections import Counter
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from filters.page_metadata import WEAK_EVIDENCE, PageMetadata, format_evidence, read_page_metadata

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
HTML_DIR = SHARED_DATA / "extraction" / "trafilatura-eval" / "html"
WARC_DIR = SHARED_DATA / "warc"
TOP_SCHEMA_TYPES = 30
TOP_SECTIONS = 10
GOAL_PAGES_PER_S = 3_000


def load_eval_pages() -> list[str]:
    return [gzip.decompress(p.read_bytes()).decode("utf-8", errors="replace") for p in sorted(HTML_DIR.glob("*.gz"))]


def load_warc_pages() -> list[str]:
    """The payloads of HTML `response` records of every WARC under warc/."""
    pages = []
    for path in sorted(WARC_DIR.rglob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                if "html" not in (record.http_headers.get_header("Content-Type") or "").lower():
                    continue
                pages.append(record.content_stream().read().decode("utf-8", errors="replace"))
    return pages


def time_reading(pages: list[str], repeats: int) -> tuple[float, list[PageMetadata]]:
    """Median CPU seconds of one pass over `pages`, and the metadata of the last pass."""
    seconds = []
    for _ in range(repeats):
        start = time.process_time()
        metas = [read_page_metadata(page) for page in pages]
        seconds.append(time.process_time() - start)
    return statistics.median(seconds), metas


def print_table(title: str, counts: Counter, total: int, limit: int | None = None) -> None:
    print(f"\n| {title} | pages | share |\n|---|---:|---:|")
    for key, count in counts.most_common(limit):
        print(f"| {key} | {count} | {count / total:.1%} |")


def report(name: str, pages: list[str], repeats: int) -> None:
    seconds, metas = time_reading(pages, repeats)
    total = len(pages)
    megabytes = sum(len(page) for page in pages) / 1e6
    print(f"\n## {name}: {total} pages, {megabytes:.1f} M characters\n")
    print(
        f"speed, one core: {total / seconds:,.0f} pages/s, {megabytes / seconds:,.0f} M chars/s "
        f"({seconds / total * 1e6:.0f} us/page; median of {repeats}; goal {GOAL_PAGES_PER_S:,} pages/s)"
    )
    print(
        f"\nog:type present: {sum(m.og_type is not None for m in metas)}; "
        f"any schema.org type: {sum(bool(m.schema_types) for m in metas)}; "
        f"article_section: {sum(m.article_section is not None for m in metas)}; "
        f"citation meta: {sum(m.has_citation_meta for m in metas)}; "
        f"published time: {sum(m.has_published_time for m in metas)}"
    )
    print_table("og:type", Counter(m.og_type or "(none)" for m in metas), total)
    schema_types = Counter(name for m in metas for name in m.schema_types)
    print_table(f"schema.org type (top {TOP_SCHEMA_TYPES})", schema_types, total, TOP_SCHEMA_TYPES)
    sections = Counter(m.article_section for m in metas if m.article_section)
    print_table(f"article_section (top {TOP_SECTIONS})", sections, total, TOP_SECTIONS)
    evidence = [format_evidence(m) for m in metas]
    print_table("format label", Counter(e[0] if e else "(none)" for e in evidence), total)
    by_evidence = Counter(f"{e[0]} <- {e[1]}{' (weak)' if e[1] in WEAK_EVIDENCE else ''}" for e in evidence if e)
    print_table("label <- evidence", by_evidence, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    report("trafilatura-eval", load_eval_pages(), args.repeats)
    report("WARC HTML responses", load_warc_pages(), args.repeats)


if __name__ == "__main__":
    main()
