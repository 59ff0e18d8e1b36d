"""Heuristic quality rules against trafilatura extraction, on the 1,033 real pages of trafilatura-eval.

    .venv/bin/python bench/bench_quality.py [--pages N] [--repeats R] [--quick]

Extracts every page with trafilatura as the pipeline does (configs/default.yaml:
favor_precision), timing it; identifies each text's language (lid.176, untimed: the
pipeline does it in IdentifyLanguage); then times all the heuristics of
ApplyQuality (`pipeline.stages.apply_quality.assess`: C4 cleaning, FineWeb, Gopher quality,
Gopher repetition) on the same texts, and each family alone. Repeats run
round-robin and report the median. Prints, in Markdown: docs/s and the overhead
of the heuristics as a share of extraction time; the drop rate per rule, as the
stage attributes drops and for each rule alone; and whether C4's sentence rule
decides the same with our rule-based sentence count as with spaCy's sentencizer
(what datatrove's C4 filter runs on each line). Asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import statistics
import time
from collections import Counter

from bench_ingest_extract import QUICK_PAGES  # bench/, next to this file
from harness import cpu_snapshot, load_pages, other_cpu_share

from filters import c4, fineweb, gopher
from filters.c4 import C4Config
from filters.quality import assess
from pipeline.config import QualityConfig, load_config
from pipeline.core.records import DropReason
from pipeline.extraction.extractors import make_extractor
from pipeline.warc.decoding import charset_from_content_type, decode_html

GOAL_OVERHEAD = 0.15  # all heuristics / bare trafilatura time

# Each rule's threshold field, to judge it alone (every other rule of its family off).
_FINEWEB_RULES = {
    DropReason.TOO_FEW_PUNCTUATED_LINES: "min_line_punctuation_frac",
    DropReason.TOO_MANY_SHORT_LINES: "max_short_line_frac",
    DropReason.TOO_MANY_DUPLICATE_LINE_CHARS_FINEWEB: "max_duplicate_line_char_frac",
    DropReason.TOO_MANY_NEWLINES: "max_newlines_per_word",
}
_C4_PAGE_RULES = {reason: rule for reason, _, rule, _ in c4.RULES}


def time_extraction(extract, htmls: list[str], urls: list[str]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    texts = [extract(html, url) for html, url in zip(htmls, urls)]
    return time.perf_counter() - start, texts


def time_heuristics(texts: list[str], langs: list[str], config: QualityConfig) -> tuple[float, list]:
    start = time.perf_counter()
    results = [assess(text, lang, config) for text, lang in zip(texts, langs)]
    return time.perf_counter() - start, results


def time_families(texts: list[str], cleaned: list[str], langs: list[str], config: QualityConfig) -> dict[str, float]:
    """Each family's measure + judge on every text (C4 on the extracted text, the others on the C4-cleaned one)."""
    families = {
        c4.NAME: lambda text, raw, lang: c4.judge(c4.clean(raw, config.c4, lang), config.c4, lang),
        fineweb.NAME: lambda text, raw, lang: fineweb.judge(fineweb.measure(text), config.fineweb, lang),
        gopher.QUALITY: lambda text, raw, lang: gopher.judge_quality(
            gopher.measure_quality(text, lang), config.gopher, lang
        ),
        gopher.REPETITION: lambda text, raw, lang: gopher.judge_repetition(
            gopher.measure_repetition(text), config.repetition, lang
        ),
    }
    seconds = {}
    for name, run in families.items():
        start = time.perf_counter()
        for text, raw, lang in zip(cleaned, texts, langs):
            run(text, raw, lang)
        seconds[name] = time.perf_counter() - start
    return seconds


def time_classifier(scorer, results: list, langs: list[str], config: QualityConfig) -> tuple[float, int]:
    """The fastText quality classifier as ApplyQuality runs it: on the texts the heuristics keep, in its languages."""
    scored = [
        r.text
        for r, lang in zip(results, langs)
        if r.reason is None and (not config.classifier.languages or lang in config.classifier.languages)
    ]
    start = time.perf_counter()
    for text in scored:
        scorer.score(text)
    return time.perf_counter() - start, len(scored)


def _only(family, keep: str, off_value):
    """The family config with every threshold in `off_value`'s table off but `keep`, at the top level and per
    language."""

    def strip(rules):
        return dataclasses.replace(rules, **{name: value for name, value in off_value.items() if name != keep})

    return dataclasses.replace(
        strip(family), languages={lang: strip(rules) for lang, rules in family.languages.items()}
    )


def rules_alone(texts: list[str], langs: list[str], config: QualityConfig) -> Counter:
    """Documents failing each rule on its own, after C4 cleaning (C4's page rules on the cleaning itself)."""
    failing: Counter = Counter()
    gopher_off = {threshold: None for _, _, threshold, _ in gopher.QUALITY_RULES}
    repetition_off = {threshold: None for _, _, threshold, _ in gopher.REPETITION_RULES}
    fineweb_off = {field: None for field in _FINEWEB_RULES.values()}
    c4_off = {"drop_lorem_ipsum": False, "drop_curly_brace": False, "min_sentences": None}
    single = {
        **{reason: ("c4", _only(config.c4, rule, c4_off)) for reason, rule in _C4_PAGE_RULES.items()},
        **{reason: ("fineweb", _only(config.fineweb, field, fineweb_off)) for reason, field in _FINEWEB_RULES.items()},
        **{reason: ("gopher", _only(config.gopher, t, gopher_off)) for reason, _, t, _ in gopher.QUALITY_RULES},
        **{
            reason: ("repetition", _only(config.repetition, t, repetition_off))
            for reason, _, t, _ in gopher.REPETITION_RULES
        },
    }
    for text, lang in zip(texts, langs):
        cleaning = c4.clean(text, config.c4, lang)
        stats = {
            "c4": (cleaning, c4.judge),
            "fineweb": (fineweb.measure(cleaning.text), fineweb.judge),
            "gopher": (gopher.measure_quality(cleaning.text, lang), gopher.judge_quality),
            "repetition": (gopher.measure_repetition(cleaning.text), gopher.judge_repetition),
        }
        for reason, (family, family_config) in single.items():
            measured, judge = stats[family]
            if judge(measured, family_config, lang).reason == reason:
                failing[reason] += 1
    return failing


def compare_sentence_counts(texts: list[str], langs: list[str], config: QualityConfig) -> dict:
    """C4's sentence rule with our count and with spaCy's sentencizer on each kept line (datatrove's C4 filter).

    Pages in a language spaCy cannot load bare (ja needs SudachiPy) get its multi-language
    pipeline, which cannot split text without spaces: they are counted apart."""
    import spacy

    pipelines: dict[str, tuple[object, bool]] = {}

    def sentencizer(lang: str):
        if lang not in pipelines:
            try:
                nlp, native = spacy.blank(lang), True
            except (ImportError, KeyError, ValueError):  # no such language, or it needs extra packages
                nlp, native = spacy.blank("xx"), False
            nlp.add_pipe("sentencizer")
            pipelines[lang] = (nlp, native)
        return pipelines[lang]

    minimum = config.c4.min_sentences
    light_seconds = heavy_seconds = 0.0
    found = dict.fromkeys(
        (f"{kind}{what}" for kind in ("native", "fallback") for what in ("", "_counts_differ", "_decisions_differ")), 0
    )
    for text, lang in zip(texts, langs):
        start = time.perf_counter()
        cleaning = c4.clean(text, config.c4, lang)
        light_seconds += time.perf_counter() - start
        nlp, native = sentencizer(lang or "xx")
        start = time.perf_counter()
        heavy = sum(len(list(nlp(line).sents)) for line in cleaning.text.splitlines())
        heavy_seconds += time.perf_counter() - start
        kind = "native" if native else "fallback"
        found[kind] += 1
        found[f"{kind}_counts_differ"] += heavy != cleaning.sentences
        found[f"{kind}_decisions_differ"] += (heavy < minimum) != (cleaning.sentences < minimum)
    return {**found, "light_s": light_seconds, "heavy_s": heavy_seconds}


def print_report(
    pages: int,
    texts: list[str],
    extraction_s: list[float],
    heuristics_s: list[float],
    families: dict[str, list[float]],
    results: list,
    alone: Counter,
    sentences: dict,
    others_cpu: float,
    classifier_s: list[float],
    scored: int,
) -> None:
    extraction, heuristics = statistics.median(extraction_s), statistics.median(heuristics_s)
    chars = sum(map(len, texts))
    print("## Quality heuristics vs trafilatura extraction (trafilatura-eval pages)\n")
    print(
        f"{os.cpu_count()} cores, other processes used {others_cpu:.0%} of the CPU meanwhile; {pages:,} pages, "
        f"{len(texts):,} non-empty texts ({chars / 1e6:.1f} M characters); "
        f"median of {len(extraction_s)} repeat(s), one process\n"
    )
    print("| run | seconds (min-max) | docs/s |")
    print("|---|---|---|")
    print(
        f"| trafilatura extraction (favor_precision) | {extraction:.2f} "
        f"({min(extraction_s):.2f}-{max(extraction_s):.2f}) "
        f"| {pages / extraction:,.0f} |"
    )
    print(
        f"| all heuristics (`assess`: C4 clean + FineWeb + Gopher quality + repetition) | {heuristics:.3f} "
        f"({min(heuristics_s):.3f}-{max(heuristics_s):.3f}) | {len(texts) / heuristics:,.0f} |"
    )
    for name, seconds in families.items():
        print(
            f"| {name} alone, every text | {statistics.median(seconds):.3f} "
            f"| {len(texts) / statistics.median(seconds):,.0f} |"
        )
    classifier = statistics.median(classifier_s)
    print(
        f"| fastText quality classifier, on the {scored:,} kept texts in its languages | {classifier:.3f} "
        f"| {scored / classifier if classifier else 0:,.0f} |"
    )
    overhead = heuristics / extraction
    print(
        f"\n**Overhead: heuristics = {overhead:.1%} of extraction time** (goal <= {GOAL_OVERHEAD:.0%}: "
        f"{'met' if overhead <= GOAL_OVERHEAD else 'NOT met'}); with the classifier, the whole stage = "
        f"{(heuristics + classifier) / extraction:.1%}.\n"
    )

    attributed = Counter(result.reason for result in results if result.reason is not None)
    dropped = sum(attributed.values())
    print(f"### Drop rate per rule ({len(texts):,} texts; {dropped:,} dropped = {dropped / len(texts):.1%})\n")
    print("| rule (DropReason) | dropped by the stage (first failing rule) | fails this rule alone |")
    print("|---|---|---|")
    order = [
        *c4.RULES,
        (DropReason.ALL_LINES_REMOVED,),
        *[(r,) for r in _FINEWEB_RULES],
        *gopher.QUALITY_RULES,
        *gopher.REPETITION_RULES,
    ]
    for reason, *_ in order:
        alone_text = f"{alone[reason] / len(texts):.1%}" if reason != DropReason.ALL_LINES_REMOVED else "n/a"
        print(f"| `{reason.value}` | {attributed[reason]:,} ({attributed[reason] / len(texts):.1%}) | {alone_text} |")
    removed = Counter()
    for result in results:
        removed.update(result.removed_lines)
    print(
        "\nC4 line cleaning removed, by cause (lines, all texts): "
        + ", ".join(f"{cause} {n:,}" for cause, n in removed.items())
        + "\n"
    )

    print("### C4 sentence rule: our count vs spaCy's sentencizer (datatrove's C4 filter)\n")
    print(
        f"On the lines C4 cleaning keeps, per page, for the {sentences['native']:,} pages in a language spaCy loads: "
        f"counts differ on {sentences['native_counts_differ']:,}; the decision (>= {C4Config().min_sentences} "
        f"sentences) differs on **{sentences['native_decisions_differ']:,}**. Pages in other languages (spaCy's "
        f"multi-language fallback, which cannot split CJK): {sentences['fallback']:,}, decisions differ on "
        f"{sentences['fallback_decisions_differ']:,}. Time: C4 cleaning with our count {sentences['light_s']:.2f} s; "
        f"spaCy's sentencizer alone {sentences['heavy_s']:.2f} s."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=None, help="use the first N pages by file name (default: all)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="round-robin repeats; the median is reported (default: 3)"
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_PAGES} pages, one repeat")
    args = parser.parse_args()
    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # "discarding data" notes on every run
    limit, repeats = (QUICK_PAGES, 1) if args.quick else (args.pages, args.repeats)

    config = load_config()
    pages = load_pages(limit)
    htmls = [decode_html(page.payload, charset_from_content_type(page.content_type))[0] for page in pages]
    urls = [page.url for page in pages]
    extract = make_extractor(config.extract)

    from classifiers.langid import LanguageIdentifier

    _, texts = time_extraction(extract, htmls, urls)  # warm-up, and the texts every run uses
    texts = [text for text in texts if text.strip()]
    identifier = LanguageIdentifier()
    langs = [identifier.predict(text).lang for text in texts]

    from classifiers.quality import QualityScorer

    scorer = QualityScorer(config.quality.classifier.model_path)
    start = cpu_snapshot()
    extraction_s, heuristics_s, classifier_s, families = [], [], [], {}
    for _ in range(repeats):
        extraction_s.append(time_extraction(extract, htmls, urls)[0])
        seconds, results = time_heuristics(texts, langs, config.quality)
        heuristics_s.append(seconds)
        classifier_seconds, scored = time_classifier(scorer, results, langs, config.quality)
        classifier_s.append(classifier_seconds)
        cleaned = [c4.clean(text, config.quality.c4, lang).text for text, lang in zip(texts, langs)]
        for name, family_seconds in time_families(texts, cleaned, langs, config.quality).items():
            families.setdefault(name, []).append(family_seconds)
    others_cpu = other_cpu_share(start)

    alone = rules_alone(texts, langs, config.quality)
    sentences = compare_sentence_counts(texts, langs, config.quality)
    print_report(
        len(pages),
        texts,
        extraction_s,
        heuristics_s,
        families,
        results,
        alone,
        sentences,
        others_cpu,
        classifier_s,
        scored,
    )


if __name__ == "__main__":
    main()
