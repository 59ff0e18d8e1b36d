"""The report page: header with run info, the cards in a grid, a deltas table for A vs B.

Everything is inline (CSS, SVG, two short scripts), so the file opens from disk with
no network. The first script records uncaught errors in `<html data-js-errors>`;
the last one counts the bars the browser actually laid out (`data-drawn-bars` on
every chart) and marks `<html data-rendered="done">`, so a headless browser's DOM
dump proves the page rendered.
"""

from __future__ import annotations

import datetime

from gristmill import __version__
from gristmill.report.cards import A_B, Card, cards, mixture_of
from gristmill.report.contamination_card import contamination_cards
from gristmill.report.content_cards import content_cards
from gristmill.report.run_data import RunData
from gristmill.report.svg import compact, esc

_CSS = """
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);\
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans","Liberation Sans",sans-serif}
header{background:#1f2937;color:#f9fafb;padding:18px 28px 16px}
header h1{margin:0 0 10px;font-size:21px;font-weight:600}
.runs{display:flex;gap:28px;flex-wrap:wrap}
.run{flex:1 1 520px;min-width:0}
.run h3{margin:0 0 2px;font-size:14px;font-weight:600;word-break:break-all}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.meta{color:#d1d5db;font-size:12.5px}
.meta code{color:#e5e7eb;font-size:12px}
.tiles{display:flex;gap:10px;flex-wrap:wrap;margin-top:10px}
.tile{background:rgba(255,255,255,.08);border-radius:8px;padding:6px 12px;min-width:118px}
.tile b{display:block;font-size:19px;font-weight:600;font-variant-numeric:tabular-nums}
.tile span{font-size:11.5px;color:#d1d5db}
.ok{color:#6ee7b7}.bad{color:#fca5a5}
nav{padding:8px 28px;background:#fff;border-bottom:1px solid var(--line);font-size:12.5px}
nav a{color:#374151;margin-right:14px;text-decoration:none}
nav a:hover{text-decoration:underline}
main{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px;padding:16px 28px;max-width:1440px}
@media (max-width:1000px){main{grid-template-columns:minmax(0,1fr)}}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0}
.card.wide{grid-column:1/-1}
.card h2{font-size:15.5px;margin:0 0 2px;font-weight:600}
.card p.sub{margin:0 0 10px;color:var(--muted);font-size:12.5px}
svg.chart{max-width:100%;height:auto;display:block;font-family:inherit}
svg.chart rect.bar:hover{opacity:.72}
table.numbers{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
table.numbers th,table.numbers td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:right;\
white-space:nowrap}
table.numbers th:first-child,table.numbers td:first-child{text-align:left;white-space:normal}
table.numbers thead th{color:var(--muted);font-weight:600}
table.numbers tr.group td{background:#f9fafb;color:var(--muted);font-weight:600;text-align:left}
td.warn{color:#b91c1c;font-weight:600}
table.grid{border-collapse:collapse;font-size:11.5px;font-variant-numeric:tabular-nums}
table.grid th,table.grid td{border:1px solid var(--line);padding:3px 5px;text-align:right;white-space:nowrap}
table.grid th:first-child{text-align:left}
table.grid th.rot{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:600;color:var(--muted)}
.empty{color:var(--muted);font-style:italic;padding:28px 12px;text-align:center;background:#f9fafb;\
border-radius:6px;margin:0}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
"""

# Before anything else runs: keep every uncaught error where a DOM dump shows it.
_ERRORS_SCRIPT = (
    "(function(){var h=document.documentElement,e=[];h.setAttribute('data-js-errors','[]');"
    "window.addEventListener('error',function(ev){e.push(String(ev.message||ev.type));h.setAttribute('data-js-errors',JSON.stringify(e));});})();"
)
# After the last card: what the browser laid out, per chart, and when.
_RENDERED_SCRIPT = (
    "(function(){var h=document.documentElement,charts=document.querySelectorAll('svg.chart'),total=0;"
    "charts.forEach(function(svg){var n=0;svg.querySelectorAll('rect.bar').forEach(function(r){var b=r.getBBox();"
    "if(b.width>0&&b.height>0)n++;});svg.setAttribute('data-drawn-bars',n);total+=n;});"
    "h.setAttribute('data-charts',charts.length);h.setAttribute('data-drawn-bars',total);"
    "h.setAttribute('data-render-ms',Math.round(performance.now()));h.setAttribute('data-rendered','done');})();"
)


def _tile(value: str, label: str, extra: str = "", value_class: str = "") -> str:
    css = f' class="{value_class}"' if value_class else ""
    return f'<div class="tile"{extra}><b{css}>{esc(value)}</b><span>{esc(label)}</span></div>'


def _bytes(n: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    power = 0
    while n >= 1024 and power < len(units) - 1:
        n, power = n / 1024, power + 1
    return f"{n:,.0f} {units[power]}" if power == 0 else f"{n:,.1f} {units[power]}"


def _run_block(run: RunData, label: str | None) -> str:
    m, funnel = run.manifest, run.funnel
    totals = m.get("totals", {})
    read, kept = funnel.get("records_read", 0), funnel.get("kept", 0)
    inputs = m.get("inputs", [])
    shown_inputs = ", ".join(inputs[:4]) + (f" (+{len(inputs) - 4} more)" if len(inputs) > 4 else "")
    swatch = ""
    if label:
        color = A_B[0].color if label == "A" else A_B[1].color
        swatch = f'<span class="swatch" style="background:{color}"></span>{label}: '
    conserved = funnel.get("conserved")
    languages = len(run.tables.get("languages", []))
    domains = len(mixture_of(run)["natural"])
    tiles = "".join(
        [
            _tile(f"{read:,}", "records read"),
            _tile(f"{kept:,}", f"documents kept ({kept / read:.1%} of read)" if read else "documents kept"),
            _tile(compact(totals.get("tokens_estimate", 0)), "tokens (estimate)"),
            _tile(f"{totals.get('shards', 0):,}", f"shards, {_bytes(totals.get('bytes', 0))}"),
            _tile(str(languages), "languages"),
            _tile(str(domains), "domains"),
            _tile(
                "conserved" if conserved else "NOT conserved",
                "read = kept + dropped",
                f' data-conserved="{str(bool(conserved)).lower()}"',
                "ok" if conserved else "bad",
            ),
        ]
    )
    return (
        f'<div class="run" data-run="{esc(label or "A")}"><h3>{swatch}{esc(run.path)}</h3>'
        f'<div class="meta">created {esc(m.get("created_at", "?"))} · '
        f"gristmill {esc(m.get('gristmill_version', '?'))} · "
        f"config <code>{esc(m.get('config_hash', '?'))}</code> · schema v{esc(m.get('schema_version', '?'))} · "
        f"manifest v{esc(m.get('format_version', '?'))}</div>"
        f'<div class="meta">inputs: <code>{esc(shown_inputs or "?")}</code></div>'
        f'<div class="tiles">{tiles}</div></div>'
    )


def _delta_rows(runs: list[RunData]) -> list[tuple[str, list[tuple[str, float, float, bool]]]]:
    """Groups of (metric, A, B, is_share) rows for the deltas table."""
    a, b = runs

    def totals(run, key):
        return run.manifest.get("totals", {}).get(key, 0)

    def share(run, value):
        return value / run.funnel["records_read"] if run.funnel.get("records_read") else 0.0

    run_rows = [
        ("records read", a.funnel["records_read"], b.funnel["records_read"], False),
        ("documents kept", a.funnel["kept"], b.funnel["kept"], False),
        ("kept share of records read", share(a, a.funnel["kept"]), share(b, b.funnel["kept"]), True),
        ("tokens (estimate)", totals(a, "tokens_estimate"), totals(b, "tokens_estimate"), False),
        ("shards", totals(a, "shards"), totals(b, "shards"), False),
        ("bytes", totals(a, "bytes"), totals(b, "bytes"), False),
    ]
    means = []
    for metric, name in (
        ("quality_score", "mean quality score"),
        ("toxicity_score", "mean toxicity score"),
        ("length_chars", "mean length (characters)"),
        ("token_estimate", "mean length (tokens)"),
        ("dup_cluster_size", "mean dedup cluster size"),
    ):
        sa, sb = a.summary(metric).get("mean"), b.summary(metric).get("mean")
        if sa is not None or sb is not None:
            means.append((name, sa, sb, False))
    reasons = sorted(
        {r for run in runs for r in run.funnel["dropped_by_reason"]},
        key=lambda r: (
            -(share(a, a.funnel["dropped_by_reason"].get(r, 0)) + share(b, b.funnel["dropped_by_reason"].get(r, 0)))
        ),
    )
    drop_rows = [
        (r, share(a, a.funnel["dropped_by_reason"].get(r, 0)), share(b, b.funnel["dropped_by_reason"].get(r, 0)), True)
        for r in reasons[:10]
    ]
    langs = []
    per_run = [{r["lang"]: r["documents"] for r in run.tables.get("languages", [])} for run in runs]
    totals_docs = [max(sum(d.values()), 1) for d in per_run]
    for lang in sorted(
        {language for d in per_run for language in d},
        key=lambda language: -sum(d.get(language, 0) / t for d, t in zip(per_run, totals_docs)),
    )[:8]:
        langs.append((lang, per_run[0].get(lang, 0) / totals_docs[0], per_run[1].get(lang, 0) / totals_docs[1], True))
    mixtures = [mixture_of(run) for run in runs]
    domain_rows = []
    for d in sorted({d for m in mixtures for d in m["natural"]})[:12]:
        domain_rows.append(
            (f"{d}: natural", mixtures[0]["natural"].get(d, 0.0), mixtures[1]["natural"].get(d, 0.0), True)
        )
        if mixtures[0]["phases"] or mixtures[1]["phases"]:
            final = [m["phases"][-1][1].get(d, 0.0) if m["phases"] else 0.0 for m in mixtures]
            domain_rows.append((f"{d}: final phase weight", final[0], final[1], True))
    return [
        ("run", run_rows),
        ("document means", means),
        ("languages, share of kept documents", langs),
        ("drops, share of records read", drop_rows),
        ("domains, share of tokens", domain_rows),
    ]


def _fmt(value: float | None, is_share: bool) -> str:
    if value is None:
        return "n/a"
    if is_share:
        return f"{value:.1%}"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.3f}"


def _deltas_table(groups: list[tuple[str, list[tuple[str, float, float, bool]]]], table_id: str) -> str:
    lines = [
        (
            f'<table class="numbers" data-table="{table_id}"><thead><tr><th>metric</th><th>A</th><th>B</th>'
            "<th>Δ (B − A)</th><th>relative</th></tr></thead><tbody>"
        )
    ]
    for group, rows in groups:
        if not rows:
            continue
        lines.append(f'<tr class="group"><td colspan="5">{esc(group)}</td></tr>')
        for name, a, b, is_share in rows:
            if a is None or b is None:
                delta, relative = "n/a", ""
            elif is_share:
                delta, relative = f"{(b - a) * 100:+.1f} pp", ""
            else:
                delta = _fmt(b - a, False)
                delta = delta if delta.startswith("-") else "+" + delta
                relative = f"{(b - a) / a:+.1%}" if a else ""
            lines.append(
                f"<tr><td>{esc(name)}</td><td>{_fmt(a, is_share)}</td><td>{_fmt(b, is_share)}</td>"
                f"<td>{delta}</td><td>{relative}</td></tr>"
            )
    lines.append("</tbody></table>")
    return "".join(lines)


def deltas_cards(runs: list[RunData]) -> list[Card]:
    groups = _delta_rows(runs)
    subtitle = "B minus A; shares in percentage points (pp)."
    return [
        Card("deltas", "A vs B: run, documents, languages", subtitle, _deltas_table(groups[:3], "deltas")),
        Card("deltas-mix", "A vs B: drops and domains", subtitle, _deltas_table(groups[3:], "deltas-mix")),
    ]


def _card_html(card: Card) -> str:
    return (
        f'<section class="card{" wide" if card.wide else ""}" id="{esc(card.id)}" data-card="{esc(card.id)}">'
        f'<h2>{esc(card.title)}</h2><p class="sub">{esc(card.subtitle)}</p>{card.body}</section>'
    )


def render_page(runs: list[RunData]) -> str:
    """The whole HTML document for one run, or for A vs B."""
    compare = len(runs) > 1
    standard = cards(runs)
    after_mixture = next((i + 1 for i, c in reversed(list(enumerate(standard))) if c.id.startswith("mixture")), 4)
    all_cards = [
        *(deltas_cards(runs) if compare else []),
        *standard[:after_mixture],
        *content_cards(runs),
        *standard[after_mixture:],
        *contamination_cards(runs),
    ]
    title = f"gristmill: {runs[0].path} vs {runs[1].path}" if compare else f"gristmill run report: {runs[0].path}"
    blocks = "".join(_run_block(run, label if compare else None) for run, label in zip(runs, ("A", "B")))
    nav = "".join(f'<a href="#{esc(c.id)}">{esc(c.title)}</a>' for c in all_cards)
    generated = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style><script>{_ERRORS_SCRIPT}</script></head><body>"
        f'<header><h1>{"Run comparison" if compare else "Run report"}</h1><div class="runs">{blocks}</div></header>'
        f"<nav>{nav}</nav><main>{''.join(_card_html(c) for c in all_cards)}</main>"
        f"<footer>Generated {generated} by gristmill {esc(__version__)} from manifest.json, stats/funnel.json and "
        f"stats/*.parquet only. Self-contained: opens offline; hover a bar for its exact value.</footer>"
        f"<script>{_RENDERED_SCRIPT}</script></body></html>"
    )
