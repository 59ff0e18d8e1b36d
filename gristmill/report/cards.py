"""The report's cards: one function per plot, each taking one run or two (A vs B).

A single run shows counts; a comparison shows shares (of records read, of
documents) so runs of different sizes line up, with A in blue and B in orange.
"""

from __future__ import annotations

import dataclasses
import math

from gristmill.report.run_data import RunData
from gristmill.report.svg import (
    Series,
    compact,
    esc,
    hbar_chart,
    percent,
    share_chart,
    vbar_chart,
)

A_B = (Series("A", "#4c78a8"), Series("B", "#f58518"))
KEPT = Series("kept", "#54a24b")
DROPPED = Series("dropped", "#e45756")
NATURAL = "#9ca3af"
PHASES = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")  # dark to light: phases in order
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
TOP_LANGUAGES = 12
TOP_REASONS = 14


@dataclasses.dataclass(frozen=True, slots=True)
class Card:
    """One dashboard card: a title, a line saying what is plotted and in which unit, and the plot."""

    id: str
    title: str
    subtitle: str
    body: str
    wide: bool = False


def _empty(card_id: str, message: str) -> str:
    return f'<p class="empty" data-empty="{esc(card_id)}">{esc(message)}</p>'


def _missing(runs: list[RunData], table: str) -> str | None:
    lacking = [r.path for r in runs if table not in r.tables]
    if lacking:
        return (
            f"No stats/{table}.parquet in {', '.join(lacking)} (a run made before stats files existed): "
            "rerun to see this plot."
        )
    return None


def funnel_card(runs: list[RunData]) -> Card:
    stages = [s["stage"] for s in runs[0].funnel["stages"]]
    if len(runs) == 1:
        by_stage = runs[0].funnel["stages"]
        rows = [(s["stage"], [s["out"], s["dropped"]]) for s in by_stage]
        svg = hbar_chart(
            "funnel",
            "Funnel",
            rows,
            [KEPT, DROPPED],
            axis_label="records entering the stage",
            stacked=True,
            value_text=lambda r, s, v: (
                f"{by_stage[r]['out']:,} of {by_stage[r]['in']:,} kept"
                + (f" ({by_stage[r]['out'] / by_stage[r]['in']:.0%})" if by_stage[r]["in"] else "")
            ),
        )
        subtitle = "Records entering each stage (bar length), split into kept (green) and dropped (red)."
    else:
        outs = [{s["stage"]: s["out"] for s in run.funnel["stages"]} for run in runs]
        read = [max(run.funnel["records_read"], 1) for run in runs]
        rows = [(stage, [out.get(stage, 0) for out in outs]) for stage in stages]
        svg = hbar_chart(
            "funnel",
            "Funnel",
            rows,
            A_B,
            axis_label="records left after the stage",
            value_text=lambda r, s, v: f"{v:,} ({v / read[s]:.0%} of read)",
        )
        subtitle = "Records left after each stage; the label gives the share of the records read."
    conserved = all(run.funnel.get("conserved") for run in runs)
    subtitle += " Records read = kept + dropped: " + ("conserved." if conserved else "NOT conserved (a bug).")
    return Card("funnel", "Funnel by stage", subtitle, svg)


def drops_card(runs: list[RunData]) -> Card:
    stage_of = {reason: s["stage"] for run in runs for s in run.funnel["stages"] for reason in s["dropped_by_reason"]}
    per_run = [run.funnel["dropped_by_reason"] for run in runs]
    reasons = sorted(stage_of, key=lambda reason: (-sum(d.get(reason, 0) for d in per_run), reason))
    if not reasons:
        return Card(
            "drops", "Drops by reason", "Records dropped, per reason.", _empty("drops", "No record was dropped.")
        )
    shown, rest = reasons[:TOP_REASONS], reasons[TOP_REASONS:]
    read = [max(run.funnel["records_read"], 1) for run in runs]
    rows = [(reason, [d.get(reason, 0) for d in per_run]) for reason in shown]
    if rest:
        rows.append((f"{len(rest)} other reasons", [sum(d.get(reason, 0) for reason in rest) for d in per_run]))
    if len(runs) == 1:
        # one colour per stage: each row is a single segment in the colour of the stage that dropped it
        stages = [s["stage"] for s in runs[0].funnel["stages"] if s["dropped"]]
        series = [Series(stage, PALETTE[i % len(PALETTE)]) for i, stage in enumerate(stages)]
        rows = [
            (reason, [count if stage_of.get(reason) == stage else 0 for stage in stages])
            for (reason, [count]) in ((r, [per_run[0].get(r, 0)]) for r in shown)
        ]
        if rest:
            rows.append(
                (
                    f"{len(rest)} other reasons",
                    [sum(per_run[0].get(r, 0) for r in rest if stage_of[r] == stage) for stage in stages],
                )
            )
        svg = hbar_chart(
            "drops",
            "Drops by reason",
            rows,
            series,
            axis_label="records dropped",
            label_width=230,
            stacked=True,
            value_text=lambda r, s, v: f"{v:,.0f} ({v / read[0]:.1%} of read)",
        )
        subtitle = "Records dropped per reason, coloured by the stage that dropped them, most frequent first."
    else:
        rows = [(label, [v / read[i] for i, v in enumerate(values)]) for label, values in rows]
        svg = hbar_chart(
            "drops",
            "Drops by reason",
            rows,
            A_B,
            axis_label="share of records read",
            label_width=230,
            axis_format=percent,
            value_text=lambda r, s, v: f"{v:.1%}",
        )
        subtitle = "Records dropped per reason as a share of the records read."
    return Card("drops", "Drops by reason", subtitle, svg)


def languages_card(runs: list[RunData]) -> Card:
    note = _missing(runs, "languages")
    title = "Languages"
    if note:
        return Card("languages", title, "Kept documents per language.", _empty("languages", note))
    per_run = [{r["lang"]: r for r in run.tables["languages"]} for run in runs]
    totals = [max(sum(r["documents"] for r in langs.values()), 1) for langs in per_run]
    langs = sorted(
        {lang for lang_rows in per_run for lang in lang_rows},
        key=lambda lang: (
            -sum(rows.get(lang, {}).get("documents", 0) / totals[i] for i, rows in enumerate(per_run)),
            lang,
        ),
    )
    if not langs:
        return Card("languages", title, "Kept documents per language.", _empty("languages", "No document was kept."))
    shown = langs[:TOP_LANGUAGES]
    rows = [
        (lang, [rows.get(lang, {}).get("documents", 0) / totals[i] for i, rows in enumerate(per_run)]) for lang in shown
    ]
    if len(runs) == 1:
        by_lang = per_run[0]
        svg = hbar_chart(
            "languages",
            title,
            rows,
            [A_B[0]],
            axis_label="share of kept documents",
            label_width=70,
            axis_format=percent,
            value_text=lambda r, s, v: (
                f"{v:.1%} · {by_lang[shown[r]]['documents']:,} docs · "
                f"{compact(by_lang[shown[r]]['tokens_estimate'])} tok"
            ),
        )
    else:
        svg = hbar_chart(
            "languages",
            title,
            rows,
            A_B,
            axis_label="share of kept documents",
            label_width=70,
            axis_format=percent,
            value_text=lambda r, s, v: f"{v:.1%}",
        )
    more = f" Top {TOP_LANGUAGES} of {len(langs)}." if len(langs) > TOP_LANGUAGES else f" All {len(langs)} languages."
    return Card("languages", title, "Share of kept documents per language (fastText lid.176 code)." + more, svg)


def mixture_of(run: RunData) -> dict:
    """Natural shares, per-phase weights and epochs; natural token shares alone for a manifest without `mixture`."""
    mixture = run.manifest.get("mixture")
    if mixture:
        return {
            "natural": {name: d.get("natural_weight", 0.0) for name, d in mixture.get("domains", {}).items()},
            "documents": {name: d.get("documents", 0) for name, d in mixture.get("domains", {}).items()},
            "tokens": {name: d.get("tokens_estimate", 0) for name, d in mixture.get("domains", {}).items()},
            "phases": [
                (
                    p.get("name", f"phase {i + 1}"),
                    {name: d.get("weight", 0.0) for name, d in p.get("domains", {}).items()},
                )
                for i, p in enumerate(mixture.get("phases", []))
            ],
            "epochs": mixture.get("total_epochs", {}),
            "settings": {key: mixture.get(key) for key in ("strategy", "temperature", "token_budget", "max_epochs")},
        }
    domains = run.manifest.get("domains", {})
    total = sum(d.get("tokens_estimate", 0) for d in domains.values())
    return {
        "natural": {name: d.get("tokens_estimate", 0) / total if total else 0.0 for name, d in domains.items()},
        "documents": {name: d.get("documents", 0) for name, d in domains.items()},
        "tokens": {name: d.get("tokens_estimate", 0) for name, d in domains.items()},
        "phases": [],
        "epochs": {},
        "settings": {},
    }


def _mixture_subtitle(mixtures: list[dict]) -> str:
    parts = []
    for label, mixture in zip(("A", "B") if len(mixtures) > 1 else ("",), mixtures):
        settings = mixture["settings"]
        prefix = f"{label}: " if label else ""
        if not mixture["phases"]:
            parts.append(f"{prefix}no mixture in the manifest yet, natural token shares only")
            continue
        shown = [
            f"{key.replace('_', ' ')} "
            f"{compact(value) if key == 'token_budget' else f'{value:g}' if isinstance(value, float) else value}"
            for key, value in settings.items()
            if value is not None
        ]
        phases = len(mixture["phases"])
        parts.append(f"{prefix}{', '.join(shown + [f'{phases} phase' + ('s' if phases > 1 else '')])}")
    return "; ".join(parts) + "."


def mixture_cards(runs: list[RunData]) -> list[Card]:
    mixtures = [mixture_of(run) for run in runs]
    domains = sorted(
        {d for m in mixtures for d in m["natural"]}, key=lambda d: (-max(m["natural"].get(d, 0) for m in mixtures), d)
    )
    subtitle = _mixture_subtitle(mixtures)
    if not domains:
        return [Card("mixture", "Domain mixture", subtitle, _empty("mixture", "No domain has documents."))]
    series, columns = [], []
    for label, mixture, color in zip(("A ", "B ") if len(runs) > 1 else ("",), mixtures, ("#4c78a8", "#f58518")):
        series.append(Series(f"{label}natural", NATURAL if len(runs) == 1 else _lighter(color)))
        columns.append(mixture["natural"])
        phases = mixture["phases"] if len(runs) == 1 else mixture["phases"][-1:]
        for i, (name, weights) in enumerate(phases):
            series.append(Series(f"{label}{name}", PHASES[i % len(PHASES)] if len(runs) == 1 else color))
            columns.append(weights)
    rows = [(d, [column.get(d, 0.0) for column in columns]) for d in domains]
    weights = hbar_chart(
        "mixture-weights",
        "Domain weights",
        rows,
        series,
        axis_label="share of training tokens",
        axis_format=percent,
        label_width=140,
        value_text=lambda r, s, v: f"{v:.1%}",
    )
    cards = [
        Card(
            "mixture-weights",
            "Domain mixture: natural vs after reweighting",
            subtitle
            + " Natural = the domain's share of kept tokens; a phase's weight = its share of that phase's tokens.",
            weights,
        )
    ]
    share_rows = []
    for label, mixture in zip(("A · ", "B · ") if len(runs) > 1 else ("",), mixtures):
        share_rows.append((f"{label}natural", [mixture["natural"].get(d, 0.0) for d in domains]))
        share_rows += [(f"{label}{name}", [w.get(d, 0.0) for d in domains]) for name, w in mixture["phases"]]
    segments = [Series(d, PALETTE[i % len(PALETTE)]) for i, d in enumerate(domains)]
    cards.append(
        Card(
            "mixture-phases",
            "Mixture per phase",
            "Each bar is one mixture (100% of its tokens), split by domain.",
            share_chart("mixture-phases", "Mixture per phase", share_rows, segments),
        )
    )
    if len(runs) == 1:
        cards.append(
            Card(
                "mixture-table",
                "Mixture table",
                "Documents, estimated tokens, weights and epochs per domain.",
                _mixture_table(mixtures[0], domains),
            )
        )
    return cards


def _lighter(color: str) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{int(c + (255 - c) * 0.55):02x}" for c in (r, g, b))


def _mixture_table(mixture: dict, domains: list[str]) -> str:
    phases = mixture["phases"]
    max_epochs = mixture["settings"].get("max_epochs")
    head = "".join(f"<th>{esc(name)}</th>" for name, _ in phases)
    lines = [
        (
            f'<table class="numbers" data-table="mixture"><thead><tr><th>domain</th><th>documents</th>'
            "<th>tokens (est.)</th>"
            f"<th>natural</th>{head}<th>epochs</th></tr></thead><tbody>"
        )
    ]
    for d in domains:
        epochs = mixture["epochs"].get(d)
        over = isinstance(epochs, (int, float)) and isinstance(max_epochs, (int, float)) and epochs > max_epochs
        cells = "".join(f"<td>{w.get(d, 0.0):.1%}</td>" for _, w in phases)
        warn = ' class="warn" title="more epochs than max_epochs"' if over else ""
        shown = "" if epochs is None else f"{epochs:.2f}"
        lines.append(
            f"<tr><td>{esc(d)}</td><td>{mixture['documents'].get(d, 0):,}</td><td>{mixture['tokens'].get(d, 0):,}</td>"
            f"<td>{mixture['natural'].get(d, 0.0):.1%}</td>{cells}<td{warn}>{shown}</td></tr>"
        )
    lines.append("</tbody></table>")
    return "".join(lines)


def _histogram_series(runs: list[RunData], metric: str) -> tuple[list[tuple[Series, list[float]]], list[float]]:
    series, edges = [], []
    for run, color in zip(runs, A_B):
        counts, run_edges = run.histogram(metric)
        edges = edges or run_edges
        total = sum(counts)
        values = [c / total for c in counts] if len(runs) > 1 and total else counts
        series.append((Series(color.name, color.color), values))
    return series, edges


def _trim(series: list[tuple[Series, list[float]]], minimum: int) -> tuple[int, int]:
    """The bin range [lo, hi) that holds every non-zero bin, padded by one and at least `minimum` wide."""
    used = [i for _, values in series for i, v in enumerate(values) if v > 0]
    n = len(series[0][1])
    lo, hi = max(min(used) - 1, 0), min(max(used) + 2, n)
    while hi - lo < minimum and (lo > 0 or hi < n):
        lo, hi = max(lo - 1, 0), min(hi + 1, n)
    return lo, hi


def _edge(value: float) -> str:
    return "∞" if math.isinf(value) else compact(value)


def _summary_line(runs: list[RunData], metric: str, unit: str, digits: int) -> str:
    parts = []
    for label, run in zip(("A: ", "B: ") if len(runs) > 1 else ("",), runs):
        s = run.summary(metric)
        if not s:
            continue
        mean = "n/a" if s.get("mean") is None else f"{s['mean']:,.{digits}f}"
        nulls = f", {s['nulls']:,} not scored" if s.get("nulls") else ""
        parts.append(f"{label}{s['count']:,} documents{nulls}, mean {mean} {unit}".rstrip())
    return "; ".join(parts)


def histogram_card(
    runs: list[RunData],
    metric: str,
    title: str,
    *,
    x_label: str,
    unit: str,
    log: bool = False,
    what: str = "",
    empty: str = "",
) -> Card:
    card_id = metric.replace("_", "-")
    note = _missing(runs, "histograms")
    if note:
        return Card(card_id, title, what, _empty(card_id, note))
    series, edges = _histogram_series(runs, metric)
    if not any(v > 0 for _, values in series for v in values):
        return Card(card_id, title, what, _empty(card_id, empty or "No kept document has this value."))
    shares = len(runs) > 1
    y_label = "share of documents" if shares else "documents"
    if log or metric == "dup_cluster_size":
        lo, hi = _trim(series, 6)
    else:
        lo, hi = 0, len(edges) - 1
    window = [(s, values[lo:hi]) for s, values in series]
    shown = edges[lo : hi + 1]
    if metric == "dup_cluster_size":
        # integer bins [lo, hi): label each bin under its bar
        ticks = {i + 0.5: _cluster_label(shown[i], shown[i + 1]) for i in range(hi - lo)}
    elif log:
        step = 1 if hi - lo <= 10 else 4
        ticks = {float(i): _edge(shown[i]) for i in range(0, len(shown), step)}
    else:
        ticks = {float(i): _edge(shown[i]) for i in range(0, len(shown), 2)}
    svg = vbar_chart(
        card_id,
        title,
        hi - lo,
        window,
        x_label=x_label,
        y_label=y_label,
        tick_labels=ticks,
        value_text=(lambda v: f"{v:.0%}") if shares else (lambda v: f"{v:,.0f}"),
        tooltip=lambda i, s, v: (
            f"{s.name + ': ' if shares else ''}{_edge(shown[i])}–{_edge(shown[i + 1])} {unit}: "
            + (f"{v:.1%} of documents" if shares else f"{v:,.0f} documents")
        ),
    )
    if metric == "dup_cluster_size":
        summary = "; ".join(
            f"{label}{s['count']:,} kept documents stand for {round(s['count'] * s['mean']):,} before near-dedup"
            for label, s in zip(("A: ", "B: ") if shares else ("",), (run.summary(metric) for run in runs))
            if s.get("mean") is not None
        )
    else:
        summary = _summary_line(
            runs, metric, unit if metric in ("length_chars", "token_estimate") else "", 0 if log else 3
        )
    return Card(card_id, title, f"{what} {summary}.".strip(), svg)


def _cluster_label(lo: float, hi: float) -> str:
    if math.isinf(hi):
        return f"≥{lo:.0f}"
    return f"{lo:.0f}" if hi - lo <= 1 else f"{lo:.0f}–{hi - 1:.0f}"


def pii_card(runs: list[RunData]) -> Card:
    title = "PII redactions"
    note = _missing(runs, "pii")
    if note:
        return Card("pii", title, "Redactions per entity type.", _empty("pii", note))
    per_run = [{r["entity"]: r for r in run.tables["pii"]} for run in runs]
    entities = sorted(
        {e for rows in per_run for e in rows},
        key=lambda e: (-sum(rows.get(e, {}).get("redactions", 0) for rows in per_run), e),
    )
    if not entities:
        return Card(
            "pii",
            title,
            "Redactions per entity type in the kept documents.",
            _empty("pii", "No PII was redacted in the kept documents (or PII redaction was off)."),
        )
    if len(runs) == 1:
        rows = [(e, [per_run[0][e]["redactions"]]) for e in entities]
        svg = hbar_chart(
            "pii",
            title,
            rows,
            [A_B[0]],
            axis_label="redactions",
            label_width=160,
            value_text=lambda r, s, v: f"{v:,.0f} in {per_run[0][entities[r]]['documents']:,} docs",
        )
        subtitle = "Redactions per entity type in the kept documents (a document can hold several)."
    else:
        docs = [
            max(sum(r["documents"] for r in run.tables["languages"]), 1) if "languages" in run.tables else 1
            for run in runs
        ]
        rows = [
            (e, [rows.get(e, {}).get("redactions", 0) * 1000 / docs[i] for i, rows in enumerate(per_run)])
            for e in entities
        ]
        svg = hbar_chart(
            "pii",
            title,
            rows,
            A_B,
            axis_label="redactions per 1,000 kept documents",
            label_width=160,
            value_text=lambda r, s, v: f"{v:,.1f}",
        )
        subtitle = "Redactions per entity type, per 1,000 kept documents."
    return Card("pii", title, subtitle, svg)


def cards(runs: list[RunData]) -> list[Card]:
    """Every card, in the order a reader scans a run: where records went, what is left, how it mixes."""
    return [
        funnel_card(runs),
        drops_card(runs),
        languages_card(runs),
        *mixture_cards(runs),
        histogram_card(
            runs,
            "quality_score",
            "Quality score",
            x_label="quality score, P(high quality)",
            unit="",
            what="Kept documents per quality-classifier score bin (0.05 wide).",
            empty="No kept document was scored for quality (classifier off, or no document in its languages).",
        ),
        histogram_card(
            runs,
            "toxicity_score",
            "Toxicity score",
            x_label="toxicity score, P(toxic)",
            unit="",
            what="Kept documents per toxicity-classifier score bin (0.05 wide).",
            empty="No kept document was scored for toxicity (the toxicity classifier was off).",
        ),
        histogram_card(
            runs,
            "length_chars",
            "Document length (characters)",
            x_label="characters (log scale, 4 bins per decade)",
            unit="chars",
            log=True,
            what="Kept documents per length bin.",
        ),
        histogram_card(
            runs,
            "token_estimate",
            "Document length (tokens)",
            x_label="estimated tokens, ceil(UTF-8 bytes / 4) (log scale)",
            unit="tokens",
            log=True,
            what="Kept documents per token-estimate bin.",
        ),
        histogram_card(
            runs,
            "dup_cluster_size",
            "Dedup cluster sizes",
            x_label="documents per duplicate cluster (1 = unique)",
            unit="docs",
            what="Kept documents (each the survivor of its cluster) per cluster size.",
        ),
        pii_card(runs),
    ]
