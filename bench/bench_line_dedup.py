"""Line-level dedup (DedupLines) on real pages: what it removes, and what it must not.

    .venv/bin/python bench/bench_line_dedup.py               # shared WARCs + all trafilatura-eval pages (~2 min)
    .venv/bin/python bench/bench_line_dedup.py --pages 200   # the first 200 eval pages only

Pages are extracted as the pipeline extracts them (`make_extractor` with the default
ExtractConfig), and line dedup is decided as `DedupLines` decides it, in memory, with the same
pure functions (`filters/line_dedup.py`: keys, per-line decision, removal, judgement); the stage
only shuffles their inputs and outputs. Two corpora:

- the shared WARCs (`warc/**/*.warc.gz`: the archive.org crawl, dolma's, Common Crawl's), many
  pages per host: how much template it finds, and what happens to the pages that were exact
  duplicates of each other (the ClueWeb09 case of issue 17: pages that extract to one sidebar);
- trafilatura-eval (990 annotated pages, one host each but for a few): the share of `with`
  snippets (main text, found by the extractor) that survive line dedup (goal >= 99%) and of
  `without` snippets (boilerplate the extractor let through) that it removes.

Per scope (host, run) and `min_docs` (2, 3, 5): pages changed, pages dropped (fewer than
`min_words` words left), lines and words removed, and how many removed lines are longer than
`LONG_LINE` characters (what a cap on the length of the lines counted would spare). Then, for the
pages line dedup drops at the default settings, whether resiliparse recovers them: its text of the
same HTML, less what line dedup removes from resiliparse's texts of every page of their scopes,
with at least `min_words` words left.

Cost: the pure keying (`line_keys`, `text_key`, `url_key`) per document, and the whole stage on
the DirectRunner (in_memory, one core): the eval texts five times over (five hosts each), through
`DedupLines` enabled and disabled (a pass-through), the best of two rounds each. Asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gzip
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from extraction_quality import Snippets, load_annotations  # bench/, next to this file
from harness import EVAL_DIR, REPO

from filters.line_dedup import (
    LineRemoval,
    Occurrence,
    count_words,
    judge,
    line_keys,
    line_removals,
    remove_lines,
    text_key,
    url_key,
)
from pipeline.config import ExtractConfig, IngestConfig, LineDedupConfig
from pipeline.core.records import Capture, Document, Provenance
from pipeline.extraction.extractors import make_extractor
from pipeline.warc.decoding import decode_html
from pipeline.warc.reader import read_archive

WARC_DIR = REPO.parent / "shared" / "data" / "warc"
MIN_DOCS = (2, 3, 5)
LONG_LINE = 200  # characters: a line this long repeated on a host is more likely copied content than template


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    id: str
    url: str
    host: str  # the scope of `scope: host`
    text: str
    html: str
    snippets: Snippets | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    removals: dict[str, LineRemoval]  # page id -> what line dedup did (pages it changed only)
    frequent: dict[str, set[bytes]]  # scope -> line keys held by at least min_docs texts
    long_lines_removed: int  # removed lines longer than LONG_LINE characters


def warc_pages() -> list[Page]:
    extract = make_extractor(ExtractConfig())
    pages = []
    for path in sorted(WARC_DIR.rglob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in read_archive(stream, str(path), IngestConfig()):
                if isinstance(record, Capture) and not record.is_text:
                    text = extract(record.content, record.url).strip()
                    if text:
                        host = (urlsplit(record.url).hostname or "").lower()
                        pages.append(Page(record.id, record.url, host, text, record.content))
    return pages


def eval_pages(limit: int | None) -> list[Page]:
    """The annotated pages; host from the URL, or the page's own label where the key is not a URL."""
    extract = make_extractor(ExtractConfig())
    pages = []
    for name, (url, snippets) in sorted(load_annotations(EVAL_DIR / "evaldata.json").items())[:limit]:
        decoded = decode_html(gzip.decompress((EVAL_DIR / "html" / f"{name}.gz").read_bytes()))
        html = decoded[0] if decoded else ""
        text = extract(html, url).strip() if html else ""
        host = (urlsplit(url).hostname or "").lower() if url.startswith(("http://", "https://")) else url
        pages.append(Page(name, url, host, text, html, snippets))
    return pages


def dedup(pages: list[Page], scope: str, min_docs: int) -> Outcome:
    """What DedupLines does to `pages`: group occurrences by (scope, line), decide, remove."""
    groups: dict[tuple[str, bytes], list[Occurrence]] = collections.defaultdict(list)
    for page in pages:
        scope_key = page.host if scope == "host" else ""
        document = text_key(page.text), url_key(page.url)
        for key, indices in line_keys(page.text).items():
            groups[scope_key, key].append(Occurrence(page.id, *document, indices))
    removed: dict[str, set[int]] = collections.defaultdict(set)
    frequent: dict[str, set[bytes]] = collections.defaultdict(set)
    for (scope_key, key), occurrences in groups.items():
        if len({o.text_key for o in occurrences}) >= min_docs:
            frequent[scope_key].add(key)
        for doc_id, indices in line_removals(occurrences, min_docs):
            removed[doc_id].update(indices)
    by_id = {page.id: page for page in pages}
    long_lines = sum(
        len(by_id[doc_id].text.split("\n")[i]) > LONG_LINE for doc_id, indices in removed.items() for i in indices
    )
    removals = {doc_id: remove_lines(by_id[doc_id].text, indices) for doc_id, indices in removed.items()}
    return Outcome(removals, frequent, long_lines)


def _count_lines(text: str) -> int:
    """Lines that count: those that normalize to something."""
    return sum(len(indices) for indices in line_keys(text).values())


def summary_row(pages: list[Page], outcome: Outcome, min_words: int) -> dict[str, str]:
    lines = sum(_count_lines(page.text) for page in pages)
    words = sum(count_words(page.text) for page in pages)
    by_id = {page.id: page for page in pages}
    removed_words = sum(count_words(by_id[i].text) - r.words for i, r in outcome.removals.items())
    removed_lines = sum(r.lines_removed for r in outcome.removals.values())
    dropped = sum(not judge(r, min_words).keep for r in outcome.removals.values())
    return {
        "changed": str(len(outcome.removals)),
        "dropped": str(dropped),
        "lines removed": f"{removed_lines:,} ({removed_lines / max(lines, 1):.1%})",
        "words removed": f"{removed_words:,} ({removed_words / max(words, 1):.1%})",
        f"lines > {LONG_LINE} chars removed": str(outcome.long_lines_removed),
    }


def snippet_row(pages: list[Page], outcome: Outcome) -> dict[str, str]:
    """`with` snippets the extractor found that survive; `without` snippets it let through that are removed."""
    found = survived = leaked = removed = 0
    for page in pages:
        if page.snippets is None:
            continue
        after = outcome.removals[page.id].text if page.id in outcome.removals else page.text
        for snippet in page.snippets.with_:
            if snippet in page.text:
                found += 1
                survived += snippet in after
        for snippet in page.snippets.without:
            if snippet in page.text:
                leaked += 1
                removed += snippet not in after
    return {
        "with survive": f"{survived}/{found} ({survived / max(found, 1):.2%})",
        "without removed": f"{removed}/{leaked} ({removed / max(leaked, 1):.1%})",
    }


def exact_duplicates(pages: list[Page], outcome: Outcome, min_words: int) -> str:
    """Pages that document dedup would drop as exact copies of another page's text, before and after."""
    before = _copies(pages)
    after_pages = [
        dataclasses.replace(page, text=outcome.removals[page.id].text) if page.id in outcome.removals else page
        for page in pages
        if page.id not in outcome.removals or judge(outcome.removals[page.id], min_words).keep
    ]
    return f"{before} -> {_copies(after_pages)} (of {len(pages)} -> {len(after_pages)} pages)"


def _copies(pages: Iterable[Page]) -> int:
    counts = collections.Counter(text_key(page.text) for page in pages)
    return sum(n - 1 for n in counts.values())


def resiliparse_recovery(pages: list[Page], outcome: Outcome, scope: str, min_docs: int, min_words: int) -> str:
    """Of the pages line dedup drops, how many keep `min_words` words when extracted by resiliparse instead,
    less what line dedup removes from resiliparse's texts of every page of their scopes."""
    extract = make_extractor(ExtractConfig(backend="resiliparse"))
    dropped = {p.id for p in pages if p.id in outcome.removals and not judge(outcome.removals[p.id], min_words).keep}
    scopes = {p.host for p in pages if p.id in dropped} if scope == "host" else None
    again = [
        dataclasses.replace(page, text=extract(page.html, page.url).strip())
        for page in pages
        if scopes is None or page.host in scopes
    ]
    redone = dedup(again, scope, min_docs)
    texts = {page.id: redone.removals[page.id].text if page.id in redone.removals else page.text for page in again}
    recovered = [
        (page.url, texts[page.id]) for page in again if page.id in dropped and count_words(texts[page.id]) >= min_words
    ]
    lines = "".join(f"\n  - {url}: {' '.join(text.split())[:150]}" for url, text in recovered)
    return f"{len(recovered)} of {len(dropped)} dropped pages{lines}"


def print_table(title: str, rows: list[dict[str, str]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")


def report(name: str, pages: list[Page], min_words: int, snippets: bool) -> None:
    hosts = collections.Counter(page.host for page in pages)
    sizes = collections.Counter(hosts.values())
    print(f"\n## {name}: {len(pages)} pages, {len(hosts)} hosts")
    print("pages per host: " + ", ".join(f"{n} host(s) with {size}" for size, n in sorted(sizes.items())))
    rows = []
    for scope in ("host", "run"):
        for min_docs in MIN_DOCS:
            outcome = dedup(pages, scope, min_docs)
            row = {"scope": scope, "min_docs": str(min_docs)}
            row |= summary_row(pages, outcome, min_words)
            row |= (
                snippet_row(pages, outcome)
                if snippets
                else {"exact copies": exact_duplicates(pages, outcome, min_words)}
            )
            rows.append(row)
    print_table(f"{name}, min_words={min_words}", rows)


def keying_ms(pages: list[Page]) -> float:
    start = time.perf_counter()
    for page in pages:
        line_keys(page.text), text_key(page.text), url_key(page.url)
    return (time.perf_counter() - start) * 1000 / len(pages)


def stage_ms(pages: list[Page], copies: int = 5) -> tuple[int, float]:
    """(documents, extra ms per document) of DedupLines over a pass-through, on the DirectRunner."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.stages.dedup_lines import DedupLines

    docs = [
        Document(f"{k}{p.id}", f"{p.url}#{k}", f"{k}.{p.host}", p.text, Provenance("bench", 0, 0))
        for k in range(copies)
        for p in pages
        if p.text
    ]
    best = {True: float("inf"), False: float("inf")}
    for enabled in (False, True) * 2:
        start = time.perf_counter()
        with beam.Pipeline(options=PipelineOptions(["--direct_running_mode=in_memory"])) as p:
            out = p | beam.Create(docs) | DedupLines(LineDedupConfig(enabled=enabled))
            out.kept | beam.combiners.Count.Globally()
        best[enabled] = min(best[enabled], time.perf_counter() - start)
    return len(docs), (best[True] - best[False]) * 1000 / len(docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=None, help="the first N trafilatura-eval pages (default: all)")
    args = parser.parse_args()
    default = LineDedupConfig()
    warcs = warc_pages()
    report("shared WARCs", warcs, default.min_words, snippets=False)
    outcome = dedup(warcs, default.scope, default.min_docs)
    recovery = resiliparse_recovery(warcs, outcome, default.scope, default.min_docs, default.min_words)
    print(f"\nresiliparse instead of trafilatura, shared WARCs, default settings: {recovery}")
    pages = eval_pages(args.pages)
    report("trafilatura-eval", pages, default.min_words, snippets=True)
    print(f"\nkeying, trafilatura-eval texts: {keying_ms(pages):.2f} ms/doc")
    docs, extra = stage_ms(pages)
    print(f"DedupLines on the DirectRunner (in_memory), {docs:,} docs: +{extra:.2f} ms/doc over a pass-through")


if __name__ == "__main__":
    main()
