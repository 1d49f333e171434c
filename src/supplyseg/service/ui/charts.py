"""Grouped bar charts drawn on the server as inline SVG (the workbench runs no script).

Plotly needs plotly.js in the browser to draw a figure (or kaleido, not installed, to export
one), and the pages' Content-Security-Policy forbids every script; so the scenario charts are
plain SVG: a bar per scenario and segment, the zero line, a few value ticks, a legend, and
each bar's value as its tooltip (an SVG ``<title>``). An unknown value draws no bar and is
listed under the chart instead of reading as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["PALETTE", "Bar", "BarChart", "grouped_bars"]

# Colour-blind-safe (Okabe-Ito), dark enough against white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_W, _H = 640, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 80, 10, 10, 90


@dataclass(frozen=True)
class Bar:
    """One bar: its box in SVG units, colour and tooltip."""

    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class BarChart:
    """Everything the SVG template draws for one metric."""

    title: str
    width: int
    height: int
    zero_y: float
    plot_left: int
    plot_right: int
    plot_bottom: int
    bars: list[Bar] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    span = high - low
    if span <= 0:
        return [low]
    raw = span / (count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    n = math.ceil((high - first) / step)
    while first + n * step < high:  # rounding: the last tick must reach the largest value
        n += 1
    return [first + i * step for i in range(n + 1)]


def grouped_bars(
    frame: pd.DataFrame,
    title: str,
    scenarios: Sequence[str],
    fmt: Callable[[float], str],
) -> BarChart:
    """The chart of ``frame`` (``scenario, segment, value`` of one metric): segments along the
    x axis in order of appearance, one bar per scenario in ``scenarios`` order."""
    segments = list(dict.fromkeys(frame["segment"].astype(str)))
    numbers = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    keys = zip(frame["scenario"].astype(str), frame["segment"].astype(str), strict=True)
    values = {k: float(v) for k, v in zip(keys, numbers, strict=True) if v == v}  # not NaN
    known = list(values.values())
    ticks = _ticks(min([0.0, *known]), max([0.0, *known]))
    low, high = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1.0
    plot_h = _H - _TOP - _BOTTOM

    def y_of(v: float) -> float:
        return _TOP + plot_h * (high - v) / (high - low)

    group = (_W - _LEFT - _RIGHT) / max(len(segments), 1)
    width = group * 0.8 / max(len(scenarios), 1)
    chart = BarChart(title, _W, _H, y_of(0.0), _LEFT, _W - _RIGHT, _H - _BOTTOM)
    for i, segment in enumerate(segments):
        start = _LEFT + i * group + group * 0.1
        chart.x_labels.append((_LEFT + (i + 0.5) * group, segment))
        for j, name in enumerate(scenarios):
            value = values.get((name, segment))
            if value is None:
                chart.unknown.append(f"{name} · {segment}")
                continue
            top, bottom = sorted((y_of(value), y_of(0.0)))
            chart.bars.append(
                Bar(
                    x=round(start + j * width, 1),
                    y=round(top, 1),
                    width=round(width * 0.92, 1),
                    height=round(max(bottom - top, 0.5), 1),
                    color=PALETTE[j % len(PALETTE)],
                    title=f"{name} · {segment}: {fmt(value)}",
                )
            )
    chart.y_ticks.extend((round(y_of(t), 1), fmt(t)) for t in ticks)
    chart.legend.extend((name, PALETTE[j % len(PALETTE)]) for j, name in enumerate(scenarios))
    return chart
