"""Inline SVG charts for the explorer page: line and bar charts over rounds, and heat maps. No
JavaScript library and no network: the page must open offline, and an SVG is text in the page."""
from __future__ import annotations

import math
from html import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
WIDTH, HEIGHT = 420, 250
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 42


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1.0
    step = 10 ** math.floor(math.log10((high - low) / count))
    for factor in (1, 2, 2.5, 5, 10):
        if (high - low) / (step * factor) <= count:
            step *= factor
            break
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 2) if first + i * step <= high + step * 1e-9]


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:.4g}"


def _short(value: float) -> str:
    """At most four characters, for a heat map's cell."""
    for divisor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= divisor:
            return f"{value / divisor:.3g}{suffix}"
    return f"{value:.3g}"


def chart(title: str, x_label: str, y_label: str, series: dict[str, list[tuple[float, float]]], kind: str = "line",
          element_id: str = "") -> str:
    """A line or bar chart of `series` (name -> [(x, y)]), with axes, ticks, a legend and a
    tooltip (SVG <title>) on every point."""
    points = [p for values in series.values() for p in values if p[1] == p[1]]  # NaN: no point
    ident = f' id="{escape(element_id)}"' if element_id else ""
    head = (f'<svg{ident} class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'role="img" aria-label="{escape(title)}"><text x="{WIDTH / 2}" y="16" class="title">{escape(title)}</text>')
    if not points:
        return head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" class="empty">no data yet</text></svg>'
    xs = sorted({p[0] for p in points})
    y_low = min(0.0, min(p[1] for p in points)) if kind == "bar" else min(p[1] for p in points)
    y_high = max(p[1] for p in points)
    if y_high == y_low:
        y_low, y_high = y_low - 0.5, y_high + 0.5
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x_low, x_high = xs[0], xs[-1]
    if kind == "bar" or x_high == x_low:
        slot = width / len(xs)
        x_of = {x: LEFT + slot * (i + 0.5) for i, x in enumerate(xs)}
    else:
        x_of = {x: LEFT + (x - x_low) / (x_high - x_low) * width for x in xs}

    def y_of(y: float) -> float:
        return TOP + height - (y - y_low) / (y_high - y_low) * height

    parts = [head, f'<line x1="{LEFT}" y1="{TOP + height}" x2="{LEFT + width}" y2="{TOP + height}" class="axis"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + height}" class="axis"/>']
    for tick in _ticks(y_low, y_high):
        if y_low - 1e-12 <= tick <= y_high + 1e-12:
            y = y_of(tick)
            parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + width}" y2="{y:.1f}" class="grid"/>'
                         f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{_label(tick)}</text>')
    every = max(1, len(xs) // 10)
    for i, x in enumerate(xs):
        if i % every == 0 or i == len(xs) - 1:
            parts.append(f'<text x="{x_of[x]:.1f}" y="{TOP + height + 16}" class="tick" text-anchor="middle">{_label(x)}</text>')
    parts.append(f'<text x="{LEFT + width / 2}" y="{HEIGHT - 6}" class="axis-label" text-anchor="middle">{escape(x_label)}</text>'
                 f'<text x="14" y="{TOP + height / 2}" class="axis-label" text-anchor="middle" '
                 f'transform="rotate(-90 14 {TOP + height / 2})">{escape(y_label)}</text>')
    names = list(series)
    bar_width = (width / len(xs)) * 0.8 / max(1, len(names))
    for index, name in enumerate(names):
        colour = COLOURS[index % len(COLOURS)]
        values = [(x, y) for x, y in series[name] if y == y]
        if kind == "bar":
            for x, y in values:
                left = x_of[x] - (width / len(xs)) * 0.4 + index * bar_width
                top, bottom = sorted((y_of(y), y_of(max(y_low, 0.0))))
                parts.append(f'<rect x="{left:.1f}" y="{top:.1f}" width="{bar_width:.1f}" height="{max(bottom - top, 0.5):.1f}" '
                             f'fill="{colour}"><title>{escape(name)} {_label(x)}: {y:.6g}</title></rect>')
        else:
            path = " ".join(f"{x_of[x]:.1f},{y_of(y):.1f}" for x, y in values)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for x, y in values:
                parts.append(f'<circle cx="{x_of[x]:.1f}" cy="{y_of(y):.1f}" r="3" fill="{colour}">'
                             f'<title>{escape(name)}, {escape(x_label)} {_label(x)}: {y:.6g}</title></circle>')
    if len(names) > 1 or kind == "line":
        for index, name in enumerate(names):
            y = TOP + 6 + index * 14
            parts.append(f'<rect x="{LEFT + width - 130}" y="{y}" width="10" height="10" fill="{COLOURS[index % len(COLOURS)]}"/>'
                         f'<text x="{LEFT + width - 116}" y="{y + 9}" class="legend">{escape(name[:22])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap(title: str, rows: list[str], columns: list[str], values: list[list[float | None]], element_id: str = "") -> str:
    """`values[i][j]` of row `rows[i]` and column `columns[j]` as colours (light: low, dark: high),
    each cell with its value as a tooltip; None cells are left blank."""
    cell, left, top = 56, 92, 40
    width, height = left + cell * len(columns) + 10, top + cell * len(rows) + 10
    known = [v for row in values for v in row if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    ident = f' id="{escape(element_id)}"' if element_id else ""
    parts = [f'<svg{ident} class="heatmap" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><text x="4" y="14" class="heading">{escape(title)}</text>']
    for j, name in enumerate(columns):
        parts.append(f'<text x="{left + cell * j + cell / 2}" y="{top - 6}" class="tick" text-anchor="middle">{escape(name)}</text>')
    for i, name in enumerate(rows):
        y = top + cell * i
        parts.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" class="tick" text-anchor="end">{escape(name)}</text>')
        for j, value in enumerate(values[i]):
            x = left + cell * j
            if value is None:
                parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" class="blank"/>')
                continue
            share = 0.0 if high == low else (value - low) / (high - low)
            red, green, blue = (int(247 - share * (247 - 8)), int(251 - share * (251 - 48)), int(255 - share * (255 - 107)))
            ink = "#fff" if share > 0.55 else "#222"
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="rgb({red},{green},{blue})">'
                         f'<title>{escape(name)}, {escape(columns[j])}: {value:.6g}</title></rect>'
                         f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 3}" class="cell" fill="{ink}" '
                         f'text-anchor="middle">{_short(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)
