"""The report's alerts section: what `supplyseg monitor` found (``alerts.parquet``).

Shown first, and only when the run folder holds alerts: a call-out with the count per severity
and the table, most severe first.
"""

from __future__ import annotations

from supplyseg.report.blocks import Context, Note, Section, table_block

__all__ = ["alerts_section"]


def alerts_section(ctx: Context) -> Section | None:
    """The alerts section, or None when the run has no alerts."""
    alerts = ctx.run.table("alerts")
    if alerts is None or alerts.empty:
        return None
    counts = alerts["severity"].value_counts()
    parts = [f"{counts[s]} {s}" for s in ("critical", "warning", "info") if s in counts]
    tone = "warn" if {"critical", "warning"} & set(counts.index) else "info"
    sec = Section(
        "alerts",
        "Alerts",
        "What `supplyseg monitor` found comparing this run with the last published (else"
        " approved) policy version; thresholds under monitoring: in supplyseg.yaml.",
    )
    sec.blocks.append(Note("alerts_count", "Alerts: " + ", ".join(parts) + ".", tone))
    sec.blocks.append(
        table_block(
            ctx,
            "alerts_table",
            "Alerts",
            "Most severe first; value and threshold in the check's unit.",
            alerts,
            ["severity", "kind", "entity", "id", "message", "value", "threshold"],
            source="alerts",
        )
    )
    return sec
