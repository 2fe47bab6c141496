"""Server-side SVG charts: no JavaScript, nothing from a CDN, readable without colour.

Each function returns plain numbers for ``templates/reports/_chart.html`` to draw, with
a text table beside every chart so the data never depends on seeing the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36


@dataclass
class Chart:
    kind: str  # "line", "step" or "bar"
    title: str
    y_label: str
    width: int = WIDTH
    height: int = HEIGHT
    points: str = ""  # polyline points for line/step
    bars: list[dict[str, Any]] = field(default_factory=list)  # dicts with x, y, w, h, label, value
    x_ticks: list[dict[str, Any]] = field(default_factory=list)  # dicts with x, label
    y_ticks: list[dict[str, Any]] = field(default_factory=list)  # dicts with y, label
    # dicts with x, y, label (line points)
    markers: list[dict[str, Any]] = field(default_factory=list)
    reference: dict[str, Any] | None = None  # a horizontal line, e.g. the weekly minimum
    empty: bool = False
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4 if value > step * 2 else step * 2 if value > step else step)
    return float(value)


def _y_scale(chart: Chart, top: float) -> Callable[[float], float]:
    span = chart.plot_bottom - chart.plot_top

    def y(v: float) -> float:
        return round(chart.plot_bottom - (v / top) * span, 1)

    chart.y_ticks = [{"y": y(top * i / 4), "label": _fmt(top * i / 4)} for i in range(5)]
    return y


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() or abs(v) >= 10 else f"{v:.1f}"


def _x_ticks(chart: Chart, labels: list[str], xs: list[float], most: int = 8) -> None:
    step = max(1, len(labels) // most + (1 if len(labels) % most else 0))
    chart.x_ticks = [{"x": xs[i], "label": labels[i]} for i in range(0, len(labels), step)]


def line_chart(
    title: str,
    y_label: str,
    data: list[tuple[str, float]],
    *,
    top: float | None = None,
    reference: tuple[str, float] | None = None,
    step: bool = False,
    x_values: list[float] | None = None,
) -> Chart:
    """``x_values`` places points in proportion (e.g. days); otherwise evenly."""
    chart = Chart(kind="step" if step else "line", title=title, y_label=y_label)
    if not data:
        chart.empty = True
        return chart
    values = [v for _, v in data]
    ceiling = top or _nice_max(max(values + ([reference[1]] if reference else [])))
    y = _y_scale(chart, ceiling)
    width = chart.plot_right - chart.plot_left
    n = len(data)
    if x_values is not None and n > 1 and x_values[-1] > x_values[0]:
        lo, span = x_values[0], x_values[-1] - x_values[0]
        xs = [chart.plot_left + width * (v - lo) / span for v in x_values]
    else:
        xs = [chart.plot_left + (width * i / (n - 1) if n > 1 else width / 2) for i in range(n)]
    xs = [round(x, 1) for x in xs]
    if step:
        coords = []
        for i, (x, v) in enumerate(zip(xs, values, strict=True)):
            if i:
                coords.append(f"{x},{y(values[i - 1])}")
            coords.append(f"{x},{y(v)}")
        chart.points = " ".join(coords)
    else:
        chart.points = " ".join(f"{x},{y(v)}" for x, v in zip(xs, values, strict=True))
    chart.markers = [
        {"x": x, "y": y(v), "label": f"{label}: {_fmt(v)}"}
        for x, (label, v) in zip(xs, data, strict=True)
    ]
    _x_ticks(chart, [label for label, _ in data], xs)
    if reference:
        chart.reference = {"label": reference[0], "y": y(reference[1])}
    return chart


def bar_chart(title: str, y_label: str, data: list[tuple[str, float]]) -> Chart:
    chart = Chart(kind="bar", title=title, y_label=y_label)
    if not data:
        chart.empty = True
        return chart
    ceiling = _nice_max(max(v for _, v in data))
    y = _y_scale(chart, ceiling)
    width = chart.plot_right - chart.plot_left
    slot = width / len(data)
    bar_w = round(slot * 0.7, 1)
    for i, (label, v) in enumerate(data):
        x = round(chart.plot_left + slot * i + (slot - bar_w) / 2, 1)
        top = y(v)
        chart.bars.append(
            {
                "x": x,
                "y": top,
                "w": bar_w,
                "h": round(chart.plot_bottom - top, 1),
                "label": label,
                "value": _fmt(v),
            }
        )
    chart.x_ticks = [{"x": b["x"] + bar_w / 2, "label": b["label"]} for b in chart.bars]
    return chart
