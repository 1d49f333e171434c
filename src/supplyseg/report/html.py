"""Render the report as one self-contained HTML file (Jinja2; Plotly's JS inlined once).

The page needs no network: CSS and plotly.js are inline, fonts are the system's. Each chart's
spec is a ``<script type="application/json">`` next to its container (Plotly's JSON escapes
``<``, ``>`` and ``/``, so data cannot close the tag) and one script at the end draws them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.offline
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from supplyseg import __version__
from supplyseg.report.blocks import Block, Chart, Note, Section, Table
from supplyseg.report.run_folder import RunFolder
from supplyseg.report.sections import report_sections

__all__ = ["TITLE", "render_html", "write_html"]

TITLE = "Supply chain segmentation report"


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("supplyseg.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _view(block: Block, n: int) -> dict[str, Any]:
    """What the template needs for one block (charts get their JSON spec and a div id)."""
    if isinstance(block, Chart):
        height = int(block.figure.layout.height or 420)
        return {
            "kind": "chart",
            "key": block.key,
            "title": block.title,
            "caption": block.caption,
            "wide": block.wide,
            "div_id": f"chart-{n}",
            "spec_id": f"chart-{n}-spec",
            "height": height,
            # Safe inside <script>: Plotly's JSON encoder escapes < > / as \u003c etc.
            "spec": Markup(block.figure.to_json()),
        }
    if isinstance(block, Table):
        return {"kind": "table", **vars(block)}
    if isinstance(block, Note):
        return {"kind": "note", "key": block.key, "text": block.text, "tone": block.tone}
    return {"kind": "missing", "key": block.key, "title": block.title,
            "reason": block.reason.rstrip(". ")}  # fmt: skip


def _timings(manifest: dict[str, Any]) -> str:
    """The run's time over all its steps (``load.<table>`` are parts of ``load``).

    The pipeline writes this report before it knows the report's own time: then the total says
    it covers the steps before the report.
    """
    timings = manifest.get("timings_seconds") or {}
    steps = {str(k): float(v) for k, v in timings.items() if "." not in str(k)}
    total = sum(steps.values())
    if not total:
        return ""
    if "report" in steps:
        return f"run time {total:,.1f} s (all steps, report included)"
    return f"run time {total:,.1f} s before the report (the report's own time is in manifest.json)"


_BANNER_SHOWN = 8  # defaults named in the banner; the workbook's Assumptions sheet has all


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value)
    return str(value)


def _assumptions(run: RunFolder) -> dict[str, Any]:
    """The banner's content: the built-in defaults in force (first few) and how many more."""
    defaults = run.defaults_in_force
    return {
        "count": len(defaults),
        "shown": [
            {"setting": a["setting"], "value": _value_text(a["value"])}
            for a in defaults[:_BANNER_SHOWN]
        ],
        "more": max(0, len(defaults) - _BANNER_SHOWN),
        "recorded": bool(run.assumptions),
    }


def render_html(run: RunFolder, sections: list[Section] | None = None) -> str:
    """The report page for ``run`` as a string (sections built from the run unless given)."""
    sections = report_sections(run) if sections is None else sections
    counter = iter(range(1, 10_000))
    views = [
        {
            "key": s.key,
            "title": s.title,
            "intro": s.intro,
            "kpis": s.kpis,
            "blocks": [_view(b, next(counter)) for b in s.blocks],
        }
        for s in sections
    ]
    m = run.manifest
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=TITLE,
            plotly_js=Markup(plotly.offline.get_plotlyjs()),
            workspace=m.get("workspace", ""),
            run_id=run.run_id,
            created=str(m.get("created", "")).replace("T", " "),
            version=m.get("supplyseg_version", __version__),
            config_hash=m.get("config_hash", ""),
            currency=run.currency,
            timings=_timings(m),
            assumptions=_assumptions(run),
            warnings=run.warnings,
            notes=run.notes,
            sections=views,
        )
    )


def write_html(run: RunFolder, path: Path, sections: list[Section] | None = None) -> Path:
    """Write the report page to ``path``; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(run, sections), encoding="utf-8")
    return path
