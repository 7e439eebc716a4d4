"""Small server-rendered SVG charts: grouped bars and lines, accessible and phone-sized.

Why our own, and not a chart library: the four plots of the start page need two shapes (grouped
bars, lines), and the libraries that render SVG on the server either pull scripts from a CDN for
their tooltips (pygal's default) or bring a plotting stack far larger than the portal (matplotlib).
A chart here is a ``viewBox`` that scales to any width, a ``<title>`` and ``<desc>`` for screen
readers (``role="img"``), a ``<title>`` on every bar or point (the exact figure on hover and long
press), colours that stay apart for colour-blind readers (Okabe–Ito) and the figures themselves in
a table beside it (the template shows it one click away). Everything is escaped; no script.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

# Narrow on purpose: on a phone the chart is drawn at about 0.85 of these units, on a laptop's
# card at about 1.2, so the 13-unit labels stay between 11 and 16 pixels.
WIDTH, HEIGHT = 420, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 26


@dataclass
class Series:
    name: str
    values: Sequence[float | None]


def _nice_max(value: float) -> float:
    """A round upper bound for the axis (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    exp = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def legend(series: Sequence[Series]) -> Markup:
    """The key of a chart as an HTML list under it (wraps on a phone, read by screen readers)."""
    items = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>'
        f"{escape(s.name)}</li>"
        for i, s in enumerate(series)
    )
    return Markup(f'<ul class="chart-legend">{items}</ul>')


def _frame(
    title: str, desc: str, labels: Sequence[str], top: float, fmt: Callable[[float], str]
) -> tuple[list[str], float, float]:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    uid = abs(hash((title, tuple(labels)))) % 10**8
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="ct-{uid} cd-{uid}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<title id="ct-{uid}">{escape(title)}</title>',
        f'<desc id="cd-{uid}">{escape(desc)}</desc>',
    ]
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(fmt(value))}</text>"
        )
    step = plot_w / max(1, len(labels))
    every = 1 if len(labels) <= 5 else (2 if len(labels) <= 9 else 3)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            x = LEFT + step * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'class="axis">{escape(label)}</text>'
            )
    return parts, plot_w, plot_h


def bars(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
) -> Markup:
    """Grouped bars: one group per label, one bar per series."""
    top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    parts, plot_w, plot_h = _frame(title, desc, labels, top, fmt)
    step = plot_w / max(1, len(labels))
    bar_w = step * 0.8 / max(1, len(series))
    for i, label in enumerate(labels):
        for j, s in enumerate(series):
            value = s.values[i] or 0
            h = plot_h * value / top
            x = LEFT + step * i + step * 0.1 + bar_w * j
            y = TOP + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)}, {escape(s.name)}: '
                f"{escape(fmt(value))}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
    top: float | None = None,
) -> Markup:
    """One line per series; a missing value (None) breaks the line."""
    top = top or _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    parts, plot_w, plot_h = _frame(title, desc, labels, top, fmt)
    step = plot_w / max(1, len(labels))
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        path, pen = [], "M"
        for i, value in enumerate(s.values):
            if value is None:
                pen = "M"
                continue
            x = LEFT + step * (i + 0.5)
            y = TOP + plot_h - plot_h * min(value, top) / top
            path.append(f"{pen}{x:.1f},{y:.1f}")
            pen = "L"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>'
                f"{escape(labels[i])}, {escape(s.name)}: {escape(fmt(value))}</title></circle>"
            )
        if path:
            parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
