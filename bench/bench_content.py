"""Topic and format tagging: agreement with the URL rules (URL hidden), shares, and speed.

    .venv/bin/gristmill classifiers label-pages ../shared/data/extraction/trafilatura-eval ../shared/data/warc \
        ../shared/data/quality/dclm-annotations/majority_data.jsonl --out build/content/pages.jsonl
    taskset -c 0 .venv/bin/python bench/bench_content.py [--pages build/content/pages.jsonl] [--embedding 100]

1. Agreement: on pages whose URL rules are confident (a host, domain or subdomain rule, or a
   section word in the path), the label the URL gives against what the content alone says:
   the page's declarations (never the URL), the topic vocabularies, and a model trained
   without that page's host (5 folds by host, so no page of a site is scored by a model that
   saw the site). Per class precision and recall, and the confusion matrix.
2. Shares: the tags the pipeline's tagger (shipped models) gives every page; the share of
   taxonomy 1's "other" and of unknown topic/format.
3. Speed: documents/s on one core of `ContentTagger.tag` (evidence + both fastText models), of
   the models alone, and of the embedding path's topic (zero-shot MiniLM) on `--embedding` pages.
Prints Markdown; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

from classifiers.content import (
    DEFAULT_MODEL_PATHS,
    ContentClassifier,
    confusion,
    content_model_input,
    format_confusion,
    group_folds,
    train_content_model,
)
from classifiers.content_tagging import ContentTagger, ZeroShotTopicModel
from classifiers.domain import multiclass_metrics
from classifiers.training import Example
from filters.content_evidence import format_of, topic_of
from filters.domain_rules import DomainRules
from filters.page_metadata import from_metadata
from filters.taxonomy import Taxonomy
from filters.topic_words import topic_from_words

CONFIDENT_RULES = ("host:", "domain:", "subdomain:", "path:")
FOLDS = 5


def _out_of_fold_probabilities(rows: list[dict], axis: str) -> list[dict[str, float]]:
    """Per labelled row, every class's probability from a model trained on the other hosts' rows."""
    labelled = [i for i, r in enumerate(rows) if r[axis]]
    examples = [Example(rows[i]["text"], rows[i][axis]) for i in labelled]
    probabilities: list[dict[str, float]] = [{} for _ in rows]
    for part in group_folds([rows[i]["host"] for i in labelled], FOLDS):
        held = set(part)
        model = train_content_model([e for j, e in enumerate(examples) if j not in held], axis)
        for j in part:
            labels, probs = model.predict(content_model_input(examples[j].text, axis), k=-1, threshold=0.0)
            probabilities[labelled[j]] = {label.removeprefix("__label__"): float(p) for label, p in zip(labels, probs)}
    return probabilities


def _report(title: str, predicted: list[str], truth: list[str], classes: list[str]) -> None:
    metrics = multiclass_metrics(predicted, truth)
    print(f"\n### {title}: {len(truth)} pages, accuracy {metrics.accuracy:.3f}, macro F1 {metrics.macro_f1:.3f}\n")
    print("| class | support | precision | recall |\n|---|---:|---:|---:|")
    for name in classes:
        m = metrics.per_class.get(name)
        if m is not None and (m.support or m.precision):
            print(f"| {name} | {m.support} | {m.precision:.2f} | {m.recall:.2f} |")
    print("\n" + format_confusion(confusion(predicted, truth, classes), classes))


def agreement(rows: list[dict], rules: DomainRules, taxonomy: Taxonomy) -> None:
    print("## Agreement with confident URL rules, URL hidden from the classifier")
    fmt_probs = _out_of_fold_probabilities(rows, "format")
    predicted, truth = [], []
    for row, probs in zip(rows, fmt_probs):
        if not row["format"] or not row["format_source"].startswith(CONFIDENT_RULES):
            continue
        meta = from_metadata(row["meta"])
        hidden = format_of(row["url"], row["host"], meta, row["text"], rules, taxonomy, use_url=False)
        if hidden.decided is not None:
            guess = hidden.decided.label
        else:
            allowed = {k: v for k, v in probs.items() if hidden.allowed is None or k in hidden.allowed}
            guess = max(allowed, key=allowed.__getitem__) if allowed else "unknown"
        predicted.append(guess)
        truth.append(row["format"])
    _report("format", predicted, truth, list(taxonomy.formats))
    topic_probs = _out_of_fold_probabilities(rows, "topic")
    predicted, truth = [], []
    for row, probs in zip(rows, topic_probs):
        if not row["topic"] or not row["topic_source"].startswith(CONFIDENT_RULES):
            continue
        meta = from_metadata(row["meta"])
        by_section = topic_of(row["url"], row["host"], meta, rules, taxonomy, use_url=False)
        by_words = topic_from_words(row["text"])
        if by_section is not None:
            guess = by_section.label
        elif by_words is not None:
            guess = by_words[0]
        else:
            guess = max(probs, key=probs.__getitem__) if probs else "unknown"
        predicted.append(guess)
        truth.append(row["topic"])
    _report("topic (truth: a section word in the path or a URL rule)", predicted, truth, list(taxonomy.topics))


def shares(rows: list[dict], tagger: ContentTagger) -> None:
    print("\n## Tags of the shipped tagger (evidence, vocabularies, shipped models)\n")
    for name, subset in (
        ("trafilatura-eval pages", [r for r in rows if "trafilatura-eval" in r["source"]]),
        ("shared WARC pages", [r for r in rows if "/warc" in r["source"]]),
    ):
        tags = [tagger.tag(r["url"], r["host"], r["text"], r["meta"]) for r in subset]
        n = len(tags)
        domains = collections.Counter(t.domain for t in tags)
        print(
            f"**{name}** ({n} pages): domain other {domains['other'] / n:.1%}, "
            f"topic unknown {sum(t.topic == 'unknown' for t in tags) / n:.1%}, "
            f"format unknown {sum(t.format == 'unknown' for t in tags) / n:.1%}"
        )
        for axis in ("domain", "topic", "format"):
            counts = collections.Counter(getattr(t, axis) for t in tags)
            print(f"- {axis}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
        sources = collections.Counter(t.format_source.split(":")[0] for t in tags)
        print("- format decided by: " + ", ".join(f"{k or 'nothing'} {v}" for k, v in sources.most_common()))
        sources = collections.Counter(t.topic_source.split(":")[0] for t in tags)
        print("- topic decided by: " + ", ".join(f"{k or 'nothing'} {v}" for k, v in sources.most_common()) + "\n")


def speed(rows: list[dict], tagger: ContentTagger, taxonomy: Taxonomy, embedding_pages: int) -> None:
    print("## Speed, one core (CPU time of this process)\n")
    print("| what | documents | docs/s |\n|---|---:|---:|")
    start = time.process_time()
    for r in rows:
        tagger.tag(r["url"], r["host"], r["text"], r["meta"])
    print(
        f"| ContentTagger.tag (evidence + vocabularies + fastText topic and format) | {len(rows)} | "
        f"{len(rows) / (time.process_time() - start):,.0f} |"
    )
    models = [ContentClassifier(DEFAULT_MODEL_PATHS[a], a) for a in ("topic", "format")]
    start = time.process_time()
    for r in rows:
        for model in models:
            model.predict(r["text"])
    print(f"| both fastText models alone | {len(rows)} | {len(rows) / (time.process_time() - start):,.0f} |")
    if embedding_pages:
        zero_shot = ZeroShotTopicModel(taxonomy)
        subset = rows[:embedding_pages]
        start = time.process_time()
        for r in subset:
            zero_shot.predict(r["text"])
        print(
            f"| embedding path topic (MiniLM zero-shot, 256 word pieces) | {len(subset)} | "
            f"{len(subset) / (time.process_time() - start):,.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=Path, default=Path("build/content/pages.jsonl"))
    parser.add_argument("--embedding", type=int, default=100, help="pages for the embedding path's speed (0: skip)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pages.open(encoding="utf-8")]
    rules, taxonomy = DomainRules.load(), Taxonomy.load()
    tagger = ContentTagger(
        rules,
        taxonomy,
        topic_model=ContentClassifier(DEFAULT_MODEL_PATHS["topic"], "topic"),
        format_model=ContentClassifier(DEFAULT_MODEL_PATHS["format"], "format"),
    )
    agreement(rows, rules, taxonomy)
    shares(rows, tagger)
    speed([r for r in rows if r["url"]], tagger, taxonomy, args.embedding)


if __name__ == "__main__":
    main()
