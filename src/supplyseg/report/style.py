"""The report's look: Plotly template, colours per class and segment, and big-data helpers.

`Palette` gives every class or segment one colour for the whole report (meaningful labels such as
demand patterns or the cost-to-serve quadrants always get the same one). Scatters above
`MAX_POINTS` are sampled with a fixed seed and curves are thinned to `MAX_CURVE_POINTS`; the
chart then says so in a note under its axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from supplyseg.report.columns import fraction_scale

__all__ = [
    "ADI_CUT",
    "CV2_CUT",
    "FONT",
    "GRID",
    "INK",
    "MAX_CURVE_POINTS",
    "MAX_POINTS",
    "MUTED",
    "NEUTRAL",
    "PATTERN_COLOURS",
    "SEGMENT_COLOURS",
    "SEMANTIC_COLOURS",
    "TEMPLATE",
    "Palette",
    "add_note",
    "as_percent",
    "central_range",
    "curve_index",
    "faded",
    "money_title",
    "new_figure",
    "sample_note",
    "sampled",
]

MAX_POINTS = 20_000
MAX_CURVE_POINTS = 2_000
ADI_CUT, CV2_CUT = 1.32, 0.49  # Syntetos, Boylan & Croston (2005)

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, GRID, MUTED = "#1f2933", "#e5e7eb", "#6b7280"
_AXIS = {"gridcolor": GRID, "zeroline": False, "linecolor": "#9ca3af", "ticks": "outside"}
TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 70, "r": 24, "t": 36, "b": 56},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
        "height": 420,
    }
)
# Tableau 10 then Dark2: distinguishable, print in grey tones apart, colour-blind tolerable.
SEGMENT_COLOURS = (
    "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2", "#EDC948", "#B07AA1", "#FF9DA7",
    "#9C755F", "#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E", "#E6AB02", "#A6761D",
)  # fmt: skip
PATTERN_COLOURS = {
    "smooth": "#59A14F",
    "erratic": "#F28E2B",
    "intermittent": "#4E79A7",
    "lumpy": "#E15759",
    "insufficient_history": "#BAB0AC",
}
NEUTRAL = "#9CA3AF"
# Labels with a meaning get a meaningful colour wherever they appear.
SEMANTIC_COLOURS = {
    **PATTERN_COLOURS,
    "protect": "#59A14F",
    "grow": "#4E79A7",
    "fix cost-to-serve": "#F28E2B",
    "re-price or exit": "#E15759",
    "(new)": "#BAB0AC",
    "(gone)": "#7F7F7F",
    "other": NEUTRAL,
    "unknown": NEUTRAL,
    "not segmented": NEUTRAL,
}


def _ramp(labels: Sequence[str], scale: str) -> dict[str, str]:
    """Colours along ``scale`` for ordered classes; the palest end is left out (white paper)."""
    if not labels:
        return {}
    points = [0.2] if len(labels) == 1 else list(np.linspace(0.05, 0.7, len(labels)))
    return dict(zip(labels, sample_colorscale(scale, points), strict=True))


@dataclass(frozen=True)
class Palette:
    """Colours per class and segment, fixed for one report so every chart agrees."""

    segments: dict[str, str] = field(default_factory=dict)
    abc: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, groups: Iterable[Iterable[str]], abc: Sequence[str] = ()) -> Palette:
        """One colour per label, distinct within each group (labels shown together, e.g. one
        scheme's segments); a label keeps its colour in every group. ``abc`` best first."""
        colours = dict(SEMANTIC_COLOURS)
        for group in groups:
            labels = sorted({str(s) for s in group})
            used = {colours[label] for label in labels if label in colours}
            free = [c for c in SEGMENT_COLOURS if c not in used]
            for label in labels:
                if label not in colours:
                    # More labels than colours: they repeat rather than run out.
                    free = free or list(SEGMENT_COLOURS)
                    colours[label] = free.pop(0)
        return cls(colours, _ramp(list(abc), "Blues_r"))

    def segment(self, label: object) -> str:
        return self.segments.get(str(label), NEUTRAL)

    def pattern(self, label: object) -> str:
        return PATTERN_COLOURS.get(str(label), self.segment(label))


def money_title(what: str, currency: str) -> str:
    """An amount's axis title: ``Revenue (EUR)``, or ``Revenue`` when the currency is unknown."""
    return f"{what} ({currency})" if currency else what


def new_figure(height: int = 420, **layout: object) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, height=height, **layout)
    return fig


def add_note(fig: go.Figure, text: str) -> None:
    """A small grey line below the x-axis title (sampling, clipping) — part of the chart itself."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-62,
        xanchor="left",
        yanchor="top",
        showarrow=False,
        font={"size": 11, "color": MUTED},
    )
    fig.update_layout(margin={"b": 92})


def sampled(frame: pd.DataFrame, limit: int = MAX_POINTS, seed: int = 0) -> pd.DataFrame:
    """At most ``limit`` rows: a seeded random sample (same rows every time for the same table)."""
    if len(frame) <= limit:
        return frame
    return frame.sample(n=limit, random_state=seed).sort_index()


def sample_note(shown: int, total: int, what: str) -> str | None:
    if shown >= total:
        return None
    return f"Showing a random sample of {shown:,} of {total:,} {what}."


def curve_index(n: int, keep: Iterable[int] = ()) -> npt.NDArray[np.int64]:
    """Indices thinning an n-point curve to ≈ MAX_CURVE_POINTS, keeping both ends and ``keep``."""
    if n <= MAX_CURVE_POINTS:
        return np.arange(n, dtype=np.int64)
    idx = np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(np.int64)
    extra = np.asarray([k for k in keep if 0 <= k < n], dtype=np.int64)
    return np.unique(np.concatenate([idx, extra]))


def as_percent(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("float64") * fraction_scale(values)


def central_range(values: pd.Series) -> tuple[list[float], pd.Series]:
    """An axis range over the 1st–99th percentile (5 % padding) and which values fall inside."""
    v = values.astype("float64")
    lo, hi = np.nanpercentile(v.to_numpy(), [1, 99]) if v.notna().any() else (0.0, 1.0)
    pad = (hi - lo) * 0.05 or 1.0
    lo, hi = float(lo - pad), float(hi + pad)
    return [lo, hi], (v >= lo) & (v <= hi)


def faded(hex_colour: str, alpha: float) -> str:
    """``#rrggbb`` as ``rgba(r,g,b,alpha)``: a see-through version of a palette colour."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
