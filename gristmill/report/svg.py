"""Inline SVG charts for `gristmill report`: no JavaScript, no external files.

Three shapes cover the dashboard: horizontal bars (grouped or stacked) for
categories, vertical bars for fixed-bin histograms, and 100% stacked bars for
mixtures. Every chart is an `<svg class="chart" data-chart=ID>` whose marks are
`<rect class="bar">` with a `<title>` (the browser's tooltip), so a test can
count what was drawn.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable, Sequence

WIDTH = 600
_FONT = 12
_AXIS = "#6b7280"
_GRID = "#e5e7eb"
_TEXT = "#111827"


@dataclasses.dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: str


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def compact(value: float) -> str:
    """Axis numbers: 950, 1.2k, 34k, 5.6M."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            scaled = value / limit
            return f"{scaled:.1f}".rstrip("0").rstrip(".") + suffix
    if magnitude and magnitude < 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:,.0f}"


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """0 and evenly spaced round numbers up to at least `maximum`."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(maximum / step - 1e-9) + 1)]


def _svg(chart_id: str, title: str, height: float, body: list[str]) -> str:
    return (
        f'<svg class="chart" data-chart="{esc(chart_id)}" role="img" aria-label="{esc(title)}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = _FONT,
    color: str = _TEXT,
    weight: str = "normal",
    extra: str = "",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{color}" '
        f'font-weight="{weight}"{extra}>'
        f"{esc(text)}</text>"
    )


def _bar(x: float, y: float, w: float, h: float, color: str, tooltip: str, value: float) -> str:
    return (
        f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{color}" '
        f'data-value="{value:g}"><title>{esc(tooltip)}</title></rect>'
    )


def _legend(series: Sequence[Series], y: float, x: float = 0) -> tuple[list[str], int]:
    """Swatches and names from (x, y), wrapping at the chart's right edge; returns (marks, lines used)."""
    parts, start, lines = [], x, 1
    for s in series:
        width = 24 + 6.6 * len(s.name)
        if x + width > WIDTH and x > start:
            x, y, lines = start, y + 16, lines + 1
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{s.color}" rx="2"/>')
        parts.append(_text(x + 14, y, s.name, size=11))
        x += width
    return parts, lines


def percent(value: float) -> str:
    return f"{value:.0%}"


def _truncate(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def hbar_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[Series],
    *,
    axis_label: str,
    value_text: Callable[[int, int, float], str],
    stacked: bool = False,
    label_width: int = 190,
    axis_format: Callable[[float], str] = compact,
) -> str:
    """One row per category, one bar per series (grouped), or one bar of stacked segments.

    `value_text(row, series, value)` is printed after each bar (stacked: after the
    whole bar, with series index -1 and the row's total).
    """
    value_room = 150
    plot_w = WIDTH - label_width - value_room
    bar_h = 16 if stacked or len(series) == 1 else 12
    row_h = (bar_h if stacked else bar_h * len(series)) + 10
    legend, lines = _legend(series, 12, label_width) if len(series) > 1 else ([], 0)
    top = 6 + 16 * lines
    totals = [sum(values) if stacked else max(values, default=0) for _, values in rows]
    ticks = nice_ticks(max(totals, default=0))
    scale = plot_w / ticks[-1]
    height = top + row_h * len(rows) + 38
    body = legend
    for tick in ticks:
        x = label_width + tick * scale
        body.append(f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{height - 34:.1f}" stroke="{_GRID}"/>')
        body.append(_text(x, height - 22, axis_format(tick), anchor="middle", size=10, color=_AXIS))
    body.append(_text(label_width + plot_w / 2, height - 6, axis_label, anchor="middle", size=11, color=_AXIS))
    for r, (label, values) in enumerate(rows):
        y = top + r * row_h + 4
        block = bar_h if stacked else bar_h * len(series)
        body.append(
            _text(
                label_width - 8,
                y + block / 2 + 4,
                _truncate(label, int(label_width / 6.8)),
                anchor="end",
                extra=f' data-label="{esc(label)}"',
            )
        )
        if stacked:
            x = label_width
            for _s, (serie, value) in enumerate(zip(series, values)):
                w = value * scale
                if value > 0:
                    body.append(_bar(x, y, w, bar_h, serie.color, f"{label} · {serie.name}: {value:,g}", value))
                x += w
            body.append(_text(x + 6, y + bar_h - 4, value_text(r, -1, totals[r]), size=11))
            continue
        for s, (serie, value) in enumerate(zip(series, values)):
            by = y + s * bar_h
            w = value * scale
            if value > 0:
                body.append(
                    _bar(label_width, by + 1, w, bar_h - 2, serie.color, f"{label} · {serie.name}: {value:,g}", value)
                )
            if value > 0 or len(series) == 1:
                body.append(
                    _text(
                        label_width + w + 5, by + bar_h - 3, value_text(r, s, value), size=10 if len(series) > 1 else 11
                    )
                )
    body.append(f'<line x1="{label_width}" y1="{top - 2}" x2="{label_width}" y2="{height - 34:.1f}" stroke="{_AXIS}"/>')
    return _svg(chart_id, title, height, body)


def vbar_chart(
    chart_id: str,
    title: str,
    bins: int,
    series: Sequence[tuple[Series, Sequence[float]]],
    *,
    x_label: str,
    y_label: str,
    tick_labels: dict[float, str],
    value_text: Callable[[float], str] = lambda v: f"{v:,.0f}",
    tooltip: Callable[[int, Series, float], str],
) -> str:
    """A histogram: `bins` columns, one bar per series in each; `tick_labels` maps a
    position in bin units (0 = left edge of the first bin, 0.5 = its middle) to a label."""
    left, right, top, bottom = 56, 12, 24 if len(series) > 1 else 14, 46
    plot_w, plot_h = WIDTH - left - right, 190
    height = top + plot_h + bottom
    ticks = nice_ticks(max((max(values, default=0) for _, values in series), default=0), 4)
    y_scale = plot_h / ticks[-1]
    column = plot_w / max(bins, 1)
    bar_w = max((column - 2) / len(series), 1)
    body = _legend([s for s, _ in series], 12, left)[0] if len(series) > 1 else []
    for tick in ticks:
        y = top + plot_h - tick * y_scale
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" stroke="{_GRID}"/>')
        body.append(_text(left - 6, y + 4, compact(tick), anchor="end", size=10, color=_AXIS))
    show_values = len(series) == 1 and column >= 18
    for s, (serie, values) in enumerate(series):
        for i, value in enumerate(values):
            if value <= 0:
                continue
            x = left + i * column + 1 + s * bar_w
            h = value * y_scale
            body.append(_bar(x, top + plot_h - h, bar_w, h, serie.color, tooltip(i, serie, value), value))
            if show_values:
                body.append(_text(x + bar_w / 2, top + plot_h - h - 3, value_text(value), anchor="middle", size=10))
    base = top + plot_h
    body.append(f'<line x1="{left}" y1="{base}" x2="{WIDTH - right}" y2="{base}" stroke="{_AXIS}"/>')
    for position, label in tick_labels.items():
        x = left + position * column
        body.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="{_AXIS}"/>')
        body.append(_text(x, base + 16, label, anchor="middle", size=10, color=_AXIS))
    body.append(_text(left + plot_w / 2, height - 8, x_label, anchor="middle", size=11, color=_AXIS))
    body.append(
        _text(
            14,
            top + plot_h / 2,
            y_label,
            anchor="middle",
            size=11,
            color=_AXIS,
            extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"',
        )
    )
    return _svg(chart_id, title, height, body)


def share_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    segments: Sequence[Series],
    *,
    label_width: int = 150,
) -> str:
    """100% stacked bars: each row's values are shares of 1 (a mixture per phase)."""
    plot_w = WIDTH - label_width - 22
    legend_rows = math.ceil(len(segments) / 5)
    top = 8 + 16 * legend_rows
    row_h = 28
    height = top + row_h * len(rows) + 28
    body = []
    for k, segment in enumerate(segments):
        body += _legend([segment], 12 + 16 * (k // 5), label_width + (k % 5) * (plot_w / 5))[0]
    for r, (label, shares) in enumerate(rows):
        y = top + r * row_h + 4
        body.append(
            _text(label_width - 8, y + 14, _truncate(label, 24), anchor="end", extra=f' data-label="{esc(label)}"')
        )
        x = label_width
        total = sum(shares) or 1.0
        for segment, share in zip(segments, shares):
            w = share / total * plot_w
            if share > 0:
                body.append(_bar(x, y, w, 20, segment.color, f"{label} · {segment.name}: {share / total:.1%}", share))
                if w >= 34:
                    body.append(
                        _text(x + w / 2, y + 14, f"{share / total:.0%}", anchor="middle", size=10, color="#ffffff")
                    )
            x += w
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        x = label_width + fraction * plot_w
        body.append(_text(x, height - 8, f"{fraction:.0%}", anchor="middle", size=10, color=_AXIS))
    return _svg(chart_id, title, height, body)
