"""Kraljic supplier segments and their replenishment programs, explained per supplier.

Two axes, from `supplyseg.analytics.supplier.supplier_metrics`:

- **profit impact**: ``spend_share`` and ``spend_class``, the ABC class of spend (a supplier is
  A while the larger suppliers' share of spend is below the first cut-off, B below the second,
  else C; unknown or zero spend is C), as products are classed by revenue.
- **supply risk**: ``risk_score``, how many of four factors (`RiskSettings`) a supplier shows:
  ``risk_variable`` (lead-time CV at least ``lead_time_cv``), ``risk_unreliable`` (OTIF below
  ``otif_below``), ``risk_single_source`` (single-source share at least
  ``single_source_share``) and ``risk_distant`` (mean lead time at least
  ``long_lead_time_days``, or a main mode among ``long_modes``). A factor the data cannot
  tell (e.g. no promised dates, so no OTIF) is unknown: it does not count, and
  ``risk_unknown`` says how many were.

The segment is the first rule of ``supplier.rules`` the supplier meets (the default table:
strategic, leverage, bottleneck, else non_critical; `supplyseg.config.supplier`), explained as
customer segments are (the metric values against the thresholds that decided) with the risk
factors found appended; ``program`` and ``program_description`` come from
``supplier.programs`` (``standard`` for a segment without one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supplyseg.config.supplier import SupplierSettings
from supplyseg.data.contract import require_columns
from supplyseg.segment.rules import apply_rules

__all__ = ["SUPPLIER_SEGMENT_COLUMNS", "spend_classes", "supplier_segments"]

SUPPLIER_SEGMENT_COLUMNS = (
    "spend_share",
    "spend_class",
    "risk_variable",
    "risk_unreliable",
    "risk_single_source",
    "risk_distant",
    "risk_score",
    "risk_unknown",
    "segment",
    "rule",
    "explanation",
    "program",
    "program_description",
)
_FLAGS = ("risk_variable", "risk_unreliable", "risk_single_source", "risk_distant")
_NEEDED = (
    "supplier_id",
    "spend",
    "otif",
    "lead_time_mean_days",
    "lead_time_cv",
    "single_source_share",
)


def spend_classes(spend: np.ndarray, cutoffs: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(share of total spend, class A/B/C) per supplier; unknown or zero spend is C."""
    value = np.where(np.isfinite(spend) & (spend > 0), spend, 0.0)
    total = float(value.sum())
    order = np.argsort(-value, kind="stable")
    before = np.empty(len(value))
    before[order] = np.cumsum(value[order]) - value[order]
    idx = np.searchsorted(np.asarray(cutoffs) * total, before, side="right")
    idx[value <= 0] = 2
    share = value / total if total > 0 else np.full(len(value), np.nan)
    return share, np.array(["A", "B", "C"], dtype=object)[idx]


def _flag(known: np.ndarray, hit: np.ndarray) -> pd.Series:
    """True / False where known, else missing (pandas' nullable boolean)."""
    return pd.Series(pd.array(np.where(known, hit, False), dtype="boolean")).mask(~known)


def _risk_text(m: pd.DataFrame, s: SupplierSettings) -> list[str]:
    r = s.risk
    cv, otif = m["lead_time_cv"].to_numpy(float), m["otif"].to_numpy(float)
    single, mean = (
        m["single_source_share"].to_numpy(float),
        m["lead_time_mean_days"].to_numpy(float),
    )
    mode = m["main_mode"].astype(str).tolist() if "main_mode" in m.columns else [""] * len(m)
    flags = {c: m[c].fillna(False).to_numpy(dtype=bool) for c in _FLAGS}
    unknown = m["risk_unknown"].to_numpy(dtype=np.int64)
    out = []
    for i in range(len(m)):
        found = []
        if flags["risk_variable"][i]:
            found.append(f"lead-time CV {cv[i]:.2f} ≥ {r.lead_time_cv:g}")
        if flags["risk_unreliable"][i]:
            found.append(f"OTIF {otif[i]:.0%} < {r.otif_below:.0%}")
        if flags["risk_single_source"][i]:
            found.append(f"single-source share {single[i]:.0%} ≥ {r.single_source_share:.0%}")
        if flags["risk_distant"][i]:
            far = mean[i] >= r.long_lead_time_days
            why = f"mean lead time {mean[i]:.0f} d ≥ {r.long_lead_time_days:g}"
            found.append(f"distant ({why if far else 'mode ' + mode[i]})")
        text = "risk factors: " + (", ".join(found) if found else "none")
        if unknown[i]:
            text += f" ({unknown[i]} unknown)"
        out.append(text)
    return out


def supplier_segments(metrics: pd.DataFrame, settings: SupplierSettings) -> pd.DataFrame:
    """``metrics`` with `SUPPLIER_SEGMENT_COLUMNS`: spend class, risk factors and score,
    Kraljic segment, rule, explanation and replenishment program (module doc)."""
    m = require_columns("supplier_metrics", metrics, _NEEDED).reset_index(drop=True).copy()
    r = settings.risk
    m["spend_share"], m["spend_class"] = spend_classes(
        m["spend"].to_numpy(dtype=float), settings.spend_class_cutoffs
    )
    cv = m["lead_time_cv"].to_numpy(dtype=float)
    otif = m["otif"].to_numpy(dtype=float)
    single = m["single_source_share"].to_numpy(dtype=float)
    mean = m["lead_time_mean_days"].to_numpy(dtype=float)
    modes = {mode.lower() for mode in r.long_modes}
    mode = m["main_mode"] if "main_mode" in m.columns else pd.Series(None, index=m.index)
    long_mode = mode.fillna("").astype(str).str.lower().isin(modes).to_numpy()
    m["risk_variable"] = _flag(np.isfinite(cv), cv >= r.lead_time_cv)
    m["risk_unreliable"] = _flag(np.isfinite(otif), otif < r.otif_below)
    m["risk_single_source"] = _flag(np.isfinite(single), single >= r.single_source_share)
    distant = long_mode | (np.isfinite(mean) & (mean >= r.long_lead_time_days))
    m["risk_distant"] = _flag(np.isfinite(mean) | long_mode, distant)
    flags = m[list(_FLAGS)]
    m["risk_score"] = flags.fillna(False).astype(int).sum(axis=1).astype(np.int64)
    m["risk_unknown"] = flags.isna().sum(axis=1).astype(np.int64)
    ruled = apply_rules(
        m, settings.scheme, ids=["supplier_id"], name="kraljic", path="supplier.rules"
    )
    m["segment"], m["rule"] = ruled["segment"].to_numpy(), ruled["rule"].to_numpy()
    risk = _risk_text(m, settings)
    spend = [
        f"spend class {c} ({share:.1%} of spend)" if np.isfinite(share) else "spend unknown"
        for c, share in zip(m["spend_class"], m["spend_share"], strict=True)
    ]
    m["explanation"] = [
        f"{e}; {p}; {t}" for e, p, t in zip(ruled["explanation"], spend, risk, strict=True)
    ]
    programs = settings.programs
    m["program"] = [programs[s].program if s in programs else "standard" for s in m["segment"]]
    m["program_description"] = [
        programs[s].description if s in programs else "no program set for this segment"
        for s in m["segment"]
    ]
    return m
