"""`gristmill classifiers label-pages` and `train topic|format`: the content models, from real pages.

    gristmill classifiers label-pages INPUT... --out PAGES.jsonl [--zero-shot] [--min-words N]
    gristmill classifiers train topic|format --data PAGES.jsonl [--output MODEL] [--folds K] [--seed N]

INPUT is a WARC/ARC file or a folder of them (every HTML response is a page), a folder
laid out like trafilatura's evaluation set (`evaldata.json` mapping URLs to `html/<file>.gz`),
or a .jsonl file of texts (a "text" key per line: no URL and no HTML, so only the text labels it).
Each page is extracted as the pipeline extracts it, its language identified, its metadata
read, then labelled (classifiers/labelling.py); a JSON line per page holds the text, URL,
host, language, labels and their sources. `train` fits a model to one axis's labels from the
text alone and prints cross-validated metrics (folds by host) first: per class precision
and recall, and the confusion matrix.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_MIN_WORDS = 20


def add_label_pages_parser(sub) -> None:
    label = sub.add_parser("label-pages", help="label real pages' topic and format, to train the content models")
    label.add_argument("inputs", nargs="+", metavar="INPUT", help="WARC/ARC files, folders of them, or eval folders")
    label.add_argument("--out", required=True, help="the labelled pages, JSON lines")
    label.add_argument(
        "--zero-shot",
        action="store_true",
        help="also label English topics zero-shot with the embedding model (off: 46%% precise)",
    )
    label.add_argument(
        "--min-words",
        type=int,
        default=DEFAULT_MIN_WORDS,
        help=f"skip pages with fewer words (default {DEFAULT_MIN_WORDS})",
    )
    label.set_defaults(handler=_label_pages)


def _eval_folder_pages(folder: Path) -> Iterator[tuple[str, bytes]]:
    """(url, HTML bytes) of a trafilatura-style evaluation folder; files without a URL get a local one."""
    entries = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    url_of = {entry["file"].removesuffix(".html"): url for url, entry in entries.items() if "://" in url}
    for path in sorted((folder / "html").glob("*.gz")):
        name = path.name.removesuffix(".gz").removesuffix(".html")
        yield url_of.get(name, f"https://eval.invalid/{name}").strip(), gzip.decompress(path.read_bytes())


def _warc_pages(path: Path) -> Iterator[tuple[str, bytes]]:
    from pipeline.config import IngestConfig
    from pipeline.core.records import Capture
    from pipeline.warc.reader import read_archive

    with path.open("rb") as stream:
        for result in read_archive(stream, str(path), IngestConfig()):
            if isinstance(result, Capture) and not result.is_text:
                yield result.url, result.content.encode("utf-8")


def _jsonl_texts(path: Path) -> Iterator[tuple[str, str]]:
    from classifiers.training import load_texts

    for number, text in enumerate(load_texts(path), 1):
        yield f"text:{path.name}:{number}", text


def iter_pages(inputs: list[str]) -> Iterator[tuple[str, str, bytes | str]]:
    """(input, url, HTML bytes) per page, or (input, a "text:" pseudo-URL, the text) for .jsonl texts."""
    for spec in inputs:
        path = Path(spec)
        if path.is_file() and path.name.endswith(".jsonl"):
            pages = _jsonl_texts(path)
        elif (path / "evaldata.json").is_file():
            pages = _eval_folder_pages(path)
        elif path.is_dir():
            names = sorted(p for p in path.rglob("*") if p.name.endswith((".warc.gz", ".warc", ".arc.gz", ".arc")))
            pages = (page for name in names for page in _warc_pages(name))
        elif path.is_file():
            pages = _warc_pages(path)
        else:
            raise FileNotFoundError(f"no such input: {spec}")
        for url, payload in pages:
            yield spec, url, payload


def _label_pages(args: argparse.Namespace) -> int:
    from classifiers.labelling import Page, ZeroShotTopics, label_pages
    from classifiers.langid import LanguageIdentifier
    from classifiers.training import LabelledDataError
    from filters.domain_rules import DomainRules
    from filters.page_metadata import PageMetadata, read_page_metadata, to_metadata
    from filters.taxonomy import Taxonomy
    from pipeline.config import ExtractConfig
    from pipeline.extraction.extractors import make_extractor
    from pipeline.warc.decoding import decode_html

    started = time.perf_counter()
    extract, identify = make_extractor(ExtractConfig()), LanguageIdentifier()
    pages, sources, seen = [], [], set()
    try:
        for source, url, payload in iter_pages(args.inputs):
            if url in seen:
                continue
            if isinstance(payload, str):  # a text without its page
                text, meta, host, url_of_page = payload, PageMetadata(), url, ""
            else:
                decoded = decode_html(payload)
                if decoded is None:
                    continue
                text, meta, url_of_page = extract(decoded[0], url), read_page_metadata(decoded[0]), url
                host = (urlsplit(url).hostname or "").removeprefix("www.")
            if len(text.split()) < args.min_words:
                continue
            seen.add(url)
            pages.append(Page(url_of_page, host, text, identify.predict(text).lang, meta))
            sources.append(source)
    except (FileNotFoundError, LabelledDataError) as err:
        print(f"gristmill classifiers label-pages: {err}", file=sys.stderr)
        return 2
    taxonomy = Taxonomy.load()
    zero_shot = ZeroShotTopics(taxonomy) if args.zero_shot else None
    labels = label_pages(pages, DomainRules.load(), taxonomy, zero_shot)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as sink:
        for page, lab, source in zip(pages, labels, sources):
            row = {
                "source": source,
                "url": page.url,
                "host": page.host,
                "lang": page.lang,
                "meta": to_metadata(page.meta),
                "topic": lab.topic,
                "topic_source": lab.topic_source,
                "format": lab.format,
                "format_source": lab.format_source,
                "text": page.text,
            }
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
    topics = sum(1 for lab in labels if lab.topic)
    formats = sum(1 for lab in labels if lab.format)
    print(
        f"labelled {len(pages):,} pages in {time.perf_counter() - started:.0f} s: topic {topics:,}, format {formats:,} "
        f"-> {args.out}"
    )
    return 0


def read_labelled_pages(path: str, axis: str) -> tuple[list, list[str]]:
    """(Examples of `axis`, their hosts) from a label-pages file; pages without that label are skipped."""
    from classifiers.training import Example, LabelledDataError

    examples, hosts = [], []
    with open(path, encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            try:
                row = json.loads(line)
                label, text, host = row[axis], row["text"], row["host"]
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise LabelledDataError(f"{path}:{number}: not a label-pages line ({err})") from err
            if label:
                examples.append(Example(text, label))
                hosts.append(host)
    return examples, hosts


def train_content(args: argparse.Namespace, axis: str):
    """Cross-validate by host, print the metrics, then train on everything; returns the model."""
    from classifiers.content import (
        confusion,
        cross_validated_predictions,
        format_confusion,
        label_counts,
        train_content_model,
    )
    from classifiers.domain import multiclass_metrics
    from filters.taxonomy import Taxonomy

    classes = list(getattr(Taxonomy.load(), f"{axis}s"))
    examples, hosts = read_labelled_pages(args.data, axis)
    unknown = sorted({e.label for e in examples} - set(classes))
    if unknown:
        raise ValueError(f"{args.data}: labels {', '.join(unknown)} are not {axis}s of the taxonomy")
    print(
        f"{axis}: {len(examples):,} labelled pages from {len(set(hosts)):,} hosts: "
        f"{dict(label_counts([e.label for e in examples]))}"
    )
    folds = args.folds if args.folds is not None else 5
    if folds:
        predicted = [
            label for label, _ in cross_validated_predictions(examples, hosts, axis, folds=folds, seed=args.seed)
        ]
        truth = [e.label for e in examples]
        metrics = multiclass_metrics([p or "" for p in predicted], truth)
        print(
            f"\n{folds}-fold cross-validation, folds by host: accuracy {metrics.accuracy:.3f}, "
            f"macro F1 {metrics.macro_f1:.3f}"
        )
        print("\n| class | support | precision | recall | F1 |\n|---|---:|---:|---:|---:|")
        for name in classes:
            m = metrics.per_class.get(name)
            if m is not None and (m.support or m.precision):
                print(f"| {name} | {m.support} | {m.precision:.2f} | {m.recall:.2f} | {m.f1:.2f} |")
        print("\n" + format_confusion(confusion(predicted, truth, classes), classes) + "\n")
    return train_content_model(examples, axis, seed=args.seed)
