"""The usage chart, drawn on the server as SVG: cost per day as bars, tokens per day as a line.

Every text in the SVG goes through FastHTML's escaping (the components below), so no value can inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fasthtml.common import ft_hx

__all__ = ["Day", "usage_chart"]


def _el(tag: str) -> Any:
    return lambda *children, **attrs: ft_hx(tag, *children, **attrs)


Svg, G, Rect, Circle, Line, Polyline, Text, Title = map(
    _el, ("svg", "g", "rect", "circle", "line", "polyline", "text", "title")
)

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 56, 16, 40


@dataclass(frozen=True)
class Day:
    date: str  # YYYY-MM-DD
    cost: float
    tokens: int
    requests: int


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** len(str(int(value))) / 10 if value >= 1 else 0.01
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= value:
            return step * factor
    return value


def usage_chart(days: Sequence[Day]) -> object:
    """An accessible SVG (``role="img"`` with a title) of ``days``; an empty series draws empty axes."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    max_cost = _nice_max(max((d.cost for d in days), default=0.0))
    max_tokens = _nice_max(float(max((d.tokens for d in days), default=0)))
    slot = plot_w / max(len(days), 1)
    bars, points, labels = [], [], []
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        x = LEFT + i * slot
        bar_h = plot_h * day.cost / max_cost
        bars.append(
            Rect(
                Title(f"{day.date}: ${day.cost:.4f}, {day.tokens} tokens, {day.requests} requests"),
                x=f"{x + slot * 0.15:.1f}",
                y=f"{TOP + plot_h - bar_h:.1f}",
                width=f"{slot * 0.7:.1f}",
                height=f"{bar_h:.1f}",
                cls="bar",
            )
        )
        cx, cy = x + slot / 2, TOP + plot_h - plot_h * day.tokens / max_tokens
        points.append(f"{cx:.1f},{cy:.1f}")
        bars.append(Circle(cx=f"{cx:.1f}", cy=f"{cy:.1f}", r="3", cls="dot"))
        if i % label_every == 0:
            labels.append(Text(day.date[5:], x=f"{cx:.1f}", y=str(HEIGHT - BOTTOM + 18), cls="tick mid"))
    axes = G(
        Line(x1=str(LEFT), y1=str(TOP + plot_h), x2=str(LEFT + plot_w), y2=str(TOP + plot_h), cls="axis"),
        Text(f"${max_cost:g}", x=str(LEFT - 6), y=str(TOP + 10), cls="tick end"),
        Text("$0", x=str(LEFT - 6), y=str(TOP + plot_h), cls="tick end"),
        Text(f"{max_tokens:g} tok", x=str(LEFT + plot_w + 6), y=str(TOP + 10), cls="tick"),
        Text("0", x=str(LEFT + plot_w + 6), y=str(TOP + plot_h), cls="tick"),
    )
    line = Polyline(points=" ".join(points), cls="line") if len(points) > 1 else ""
    return Svg(
        Title("Cost (bars) and tokens (line) per day"),
        axes,
        *bars,
        line,
        *labels,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        role="img",
        aria_label="Cost and tokens per day",
        cls="chart",
    )
