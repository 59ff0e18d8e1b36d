"""The report's content cards: the topic x format grid, and the mixture on each axis, before and after.

Read from `stats/topics.parquet`, `formats.parquet` and `topic_format.parquet`, and the
manifest's planned weights. When the mixture's axis is topic, format or topic_format,
every (topic, format) cell's share after reweighting follows from its group's weight
(split within the group by tokens), so both axes show their shares before and after,
whatever the axis; with the domain axis only the natural shares are known per axis.
"""

from __future__ import annotations

from collections.abc import Mapping

from gristmill.report.cards import A_B, NATURAL, Card
from gristmill.report.run_data import RunData
from gristmill.report.svg import Series, esc, hbar_chart

CONTENT_AXES = ("topic", "format")


def _cells(run: RunData) -> dict[tuple[str, str], int]:
    """(topic, format) -> estimated tokens of kept documents."""
    return {(r["topic"], r["format"]): r["tokens_estimate"] for r in run.tables.get("topic_format", [])}


def _shares(values: Mapping, total: float) -> dict:
    return {key: value / total if total else 0.0 for key, value in values.items()}


def after_cells(run: RunData) -> dict[tuple[str, str], float] | None:
    """Each cell's share of the tokens the whole schedule draws, or None when the axis is not topic or format."""
    axis = run.manifest.get("mixture_axis", "domain")
    if axis == "domain":
        return None
    cells = _cells(run)
    group_of = {
        cell: (f"{cell[0]}.{cell[1]}" if axis == "topic_format" else cell[0 if axis == "topic" else 1])
        for cell in cells
    }
    group_tokens: dict[str, int] = {}
    for cell, tokens in cells.items():
        group_tokens[group_of[cell]] = group_tokens.get(group_of[cell], 0) + tokens
    weights = {name: d.get("target_weight", 0.0) for name, d in run.manifest.get("domains", {}).items()}
    return {
        cell: weights.get(group_of[cell], 0.0) * tokens / group_tokens[group_of[cell]]
        if group_tokens[group_of[cell]]
        else 0.0
        for cell, tokens in cells.items()
    }


def _by_axis(cells: Mapping[tuple[str, str], float], axis: str) -> dict[str, float]:
    index = CONTENT_AXES.index(axis)
    out: dict[str, float] = {}
    for cell, value in cells.items():
        out[cell[index]] = out.get(cell[index], 0.0) + value
    return out


def axis_card(runs: list[RunData], axis: str) -> Card:
    card_id = f"{axis}-mixture"
    title = f"{axis.capitalize()}s: natural vs after reweighting"
    if not any(run.tables.get("topic_format") for run in runs):
        note = "No stats/topic_format.parquet (a run made before topics and formats existed, or nothing kept)."
        return Card(card_id, title, "", f'<p class="empty" data-empty="{card_id}">{esc(note)}</p>')
    series, columns = [], []
    for label, run, color in zip(("A ", "B ") if len(runs) > 1 else ("",), runs, (A_B[0].color, A_B[1].color)):
        cells = _cells(run)
        series.append(Series(f"{label}natural", NATURAL if len(runs) == 1 else color))
        columns.append(_by_axis(_shares(cells, sum(cells.values())), axis))
        after = after_cells(run)
        if after is not None:
            series.append(Series(f"{label}after mixture", "#08519c" if len(runs) == 1 else color))
            columns.append(_by_axis(after, axis))
    names = sorted(
        {name for column in columns for name in column}, key=lambda n: (-max(c.get(n, 0) for c in columns), n)
    )
    rows = [(name, [column.get(name, 0.0) for column in columns]) for name in names]
    chart = hbar_chart(
        card_id,
        title,
        rows,
        series,
        axis_label="share of training tokens",
        label_width=150,
        value_text=lambda r, s, v: f"{v:.1%}",
    )
    axes = ", ".join(sorted({run.manifest.get("mixture_axis", "domain") for run in runs}))
    what = (
        f"Share of kept tokens per {axis} (natural), and of the tokens the whole schedule draws after the "
        f"mixture (its axis: {axes})."
    )
    if any(after_cells(run) is None for run in runs):
        what += " With the domain axis the per-" + axis + " shares after the mixture are not known: natural only."
    return Card(card_id, title, what, chart)


def grid_card(runs: list[RunData]) -> Card:
    """Topics down, formats across: each cell's share of run A's kept tokens (and B's, when compared)."""
    title = "Topic x format"
    cells = [_shares(c, sum(c.values())) for c in (_cells(run) for run in runs)]
    if not any(cells):
        note = "No stats/topic_format.parquet (a run made before topics and formats existed, or nothing kept)."
        return Card("topic-format", title, "", f'<p class="empty" data-empty="topic-format">{esc(note)}</p>')
    topics = sorted(
        {t for c in cells for t, _ in c}, key=lambda t: -sum(v for (tt, _), v in cells[0].items() if tt == t)
    )
    formats = sorted(
        {f for c in cells for _, f in c}, key=lambda f: -sum(v for (_, ff), v in cells[0].items() if ff == f)
    )
    top = max(max(c.values(), default=0.0) for c in cells) or 1.0
    head = "".join(f'<th class="rot">{esc(f)}</th>' for f in formats)
    lines = [f'<table class="grid" data-table="topic-format"><tr><th></th>{head}<th>all</th></tr>']
    for topic in topics:
        row = [f"<th>{esc(topic)}</th>"]
        for fmt in formats:
            values = [c.get((topic, fmt), 0.0) for c in cells]
            alpha = values[0] / top
            text = " / ".join(f"{v:.1%}" if v else "·" for v in values)
            row.append(
                f'<td style="background:rgba(76,120,168,{alpha:.2f})" title="{esc(topic)} x {esc(fmt)}">{text}</td>'
            )
        total = " / ".join(f"{sum(v for (t, _), v in c.items() if t == topic):.1%}" for c in cells)
        row.append(f"<td><b>{total}</b></td>")
        lines.append("<tr>" + "".join(row) + "</tr>")
    lines.append("</table>")
    what = "Share of kept tokens in each (topic, format) cell" + (" (A / B)." if len(runs) > 1 else ".")
    return Card("topic-format", title, what + " Darker: more tokens.", "".join(lines), wide=True)


def content_cards(runs: list[RunData]) -> list[Card]:
    return [grid_card(runs), *(axis_card(runs, axis) for axis in CONTENT_AXES)]
