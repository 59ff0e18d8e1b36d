"""PII redaction throughput on real extracted web text, per mode, beside plain presidio.

    .venv/bin/python bench/bench_pii.py [--pages N] [--repeats R] [--quick]

Extracts the main text of the first N pages (by file name) of
`extraction/trafilatura-eval/html/*.gz` with trafilatura (the pipeline's settings)
and identifies each text's language with lid.176, as the pipeline does before
ApplySafety. Then times, on those texts, one after the other in this one process
(round-robin over repeats, median reported):

- presidio as shipped: `AnalyzerEngine` on a blank spaCy pipeline with every
  predefined English recognizer, run with language "en" on every text;
- the same restricted to gristmill's pattern entity types (`entities=`);
- gristmill `patterns` mode (`PiiRedactor.redact`, placeholders included);
- gristmill `ner` mode: patterns on every text, spaCy NER on the English ones.

docs/s/core = texts / CPU seconds of this process (`time.process_time`, all its
threads), so other load on the machine does not count. Also printed: entities
found per type by each engine (counts only: no text is printed). Asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from classifiers.langid import LanguageIdentifier
from filters.evaluation.pii import PlainPresidio
from filters.pii import PATTERN_ENTITIES, PiiRedactor
from pipeline.config import PiiConfig, load_config
from pipeline.extraction.extractors import make_extractor
from pipeline.warc.decoding import decode_html

REPO = Path(__file__).resolve().parent.parent
HTML_DIR = REPO.parent / "shared" / "data" / "extraction" / "trafilatura-eval" / "html"
DEFAULT_PAGES = 300
QUICK_PAGES = 100


def extract_texts(limit: int) -> list[tuple[str, str]]:
    """(text, lang) for the first `limit` pages that give non-empty text."""
    extract = make_extractor(load_config().extract)
    identify = LanguageIdentifier()
    texts = []
    for path in sorted(HTML_DIR.glob("*.gz")):
        decoded = decode_html(gzip.decompress(path.read_bytes()))
        text = extract(decoded[0], "") if decoded else ""
        if text.strip():
            texts.append((text, identify.predict(text).lang))
        if len(texts) == limit:
            break
    return texts


def time_engine(analyze: Callable[[str, str], object], texts: list[tuple[str, str]]) -> float:
    """CPU seconds of this process for one pass over the texts."""
    started = time.process_time()
    for text, lang in texts:
        analyze(text, lang)
    return time.process_time() - started


def entity_counts(analyze: Callable[[str, str], list], texts: list[tuple[str, str]]) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for text, lang in texts:
        counts.update(result.entity_type for result in analyze(text, lang))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PAGES} pages, 1 repeat")
    args = parser.parse_args()
    pages, repeats = (QUICK_PAGES, 1) if args.quick else (args.pages, args.repeats)

    started = time.perf_counter()
    texts = extract_texts(pages)
    english = sum(1 for _, lang in texts if lang == "en")
    chars = sum(len(text) for text, _ in texts)
    print(
        f"{len(texts)} texts from {HTML_DIR} ({english} English, mean {chars / len(texts):,.0f} chars), "
        f"extracted in {time.perf_counter() - started:.0f} s; {repeats} repeat(s), median shown\n"
    )

    plain = PlainPresidio()
    plain_same = PlainPresidio(entities=PATTERN_ENTITIES)
    patterns = PiiRedactor(PiiConfig(mode="patterns"))
    ner = PiiRedactor(PiiConfig(mode="ner"))
    engines: dict[str, tuple[Callable, Callable]] = {  # name -> (timed call, analyze for counts)
        "presidio as shipped (blank spaCy, all recognizers)": (plain.analyze, plain.analyze),
        "presidio, gristmill's pattern types only": (plain_same.analyze, plain_same.analyze),
        "gristmill patterns": (patterns.redact, patterns.analyze),
        "gristmill ner (NER on English texts)": (ner.redact, ner.analyze),
    }
    english_texts = [(text, lang) for text, lang in texts if lang == "en"]
    seconds: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(repeats):
        for name, (timed, _) in engines.items():
            seconds[name].append(time_engine(timed, texts))
        seconds["gristmill ner, English texts only"].append(time_engine(ner.redact, english_texts))

    print("| engine | texts | CPU s | docs/s/core | MB/s/core |")
    print("|---|---:|---:|---:|---:|")
    for name, samples in seconds.items():
        subset = english_texts if "English texts only" in name else texts
        cpu = statistics.median(samples)
        megabytes = sum(len(text) for text, _ in subset) / 1e6
        print(f"| {name} | {len(subset)} | {cpu:.2f} | {len(subset) / cpu:,.1f} | {megabytes / cpu:.2f} |")

    print("\nEntities found (counts only):\n")
    counts = {name: entity_counts(analyze, texts) for name, (_, analyze) in engines.items()}
    types = sorted(set().union(*counts.values()))
    print("| type | " + " | ".join(counts) + " |")
    print("|---|" + "---:|" * len(counts))
    for entity in types:
        print(f"| {entity} | " + " | ".join(str(c[entity]) for c in counts.values()) + " |")


if __name__ == "__main__":
    main()
