"""The rule engine: first-match rule tables over a metrics table, with per-entity explanations.

Every entity gets exactly one segment: the segment of the first rule it meets, else the
scheme's default. A missing metric value (NaN) never meets a condition. The explanation states
the metric values against the thresholds that decided, e.g.
``cts_pct_revenue 18.2 ≥ 15; net_margin_pct 3.1 < 10``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from supplyseg.config.segmentation import Condition, RuleScheme, SegmentRule
from supplyseg.errors import ConfigError

__all__ = [
    "apply_rules",
    "condition_mask",
    "unreachable_rules",
    "validate_scheme",
]

DEFAULT_RULE = "default"


def _fmt(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating | int | np.integer):
        v = float(value)
        return "nan" if math.isnan(v) else f"{v:.6g}"
    return str(value)


def condition_mask(values: pd.Series, cond: Condition) -> np.ndarray:
    """Boolean array: which values meet ``cond`` (NaN / missing never does)."""
    present = values.notna().to_numpy()
    if cond.eq is not None or cond.in_ is not None:
        allowed = [cond.eq] if cond.eq is not None else list(cond.in_ or [])
        return np.asarray(values.isin(allowed).to_numpy() & present, dtype=bool)
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    mask = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        if cond.gte is not None:
            mask &= x >= cond.gte
        if cond.gt is not None:
            mask &= x > cond.gt
        if cond.lte is not None:
            mask &= x <= cond.lte
        if cond.lt is not None:
            mask &= x < cond.lt
    return np.asarray(mask, dtype=bool)


def _condition_text(metric: str, cond: Condition, value: object) -> str:
    if pd.isna(value):  # type: ignore[call-overload]
        return f"{metric} is missing"
    v = _fmt(value)
    if cond.eq is not None:
        return f"{metric} = {v}"
    if cond.in_ is not None:
        return f"{metric} = {v} ∈ {{{', '.join(_fmt(x) for x in cond.in_)}}}"
    parts = []
    if cond.gte is not None:
        parts.append(f"≥ {_fmt(cond.gte)}")
    if cond.gt is not None:
        parts.append(f"> {_fmt(cond.gt)}")
    if cond.lte is not None:
        parts.append(f"≤ {_fmt(cond.lte)}")
    if cond.lt is not None:
        parts.append(f"< {_fmt(cond.lt)}")
    return f"{metric} {v} {' and '.join(parts)}"


def _texts(
    metrics: pd.DataFrame, rows: np.ndarray, when: dict[str, Condition], keep: str
) -> list[list[str]]:
    """Condition texts per row: ``all`` of them, only those ``met``, or those ``failed``."""
    texts: list[list[str]] = [[] for _ in rows]
    for metric, cond in when.items():
        values = metrics[metric].to_numpy()[rows]
        met = condition_mask(metrics[metric].iloc[rows], cond)
        for t, v, ok in zip(texts, values, met, strict=True):
            if keep == "all" or (keep == "met") == bool(ok):
                text = _condition_text(metric, cond, v)
                failed = keep == "failed" and "is missing" not in text
                t.append(f"not {text}" if failed else text)
    return texts


def validate_scheme(scheme: RuleScheme, metrics: Sequence[str], path: str) -> None:
    """Raise `ConfigError` for rules naming unknown metrics or that no entity can reach."""
    known = set(metrics)
    for i, rule in enumerate(scheme.rules):
        unknown = sorted(set(rule.when) - known)
        if unknown:
            raise ConfigError(
                f"{path}.rules.{i} (segment {rule.segment!r}): unknown metric(s) {unknown};"
                f" available: {sorted(known)}; fix: use one of those names"
            )
    dead = unreachable_rules(scheme)
    if dead:
        i, j = dead[0]
        raise ConfigError(
            f"{path}.rules.{j} (segment {scheme.rules[j].segment!r}) is unreachable: every entity"
            f" it matches is taken first by rules.{i} (segment {scheme.rules[i].segment!r});"
            " fix: reorder the rules or narrow the earlier one"
        )


@dataclass(frozen=True)
class _Box:
    """A conjunction of per-metric constraints: (lo, lo_closed, hi, hi_closed) or a value set."""

    ranges: dict[str, tuple[float, bool, float, bool]]
    sets: dict[str, frozenset[object]]


def _box(conds: dict[str, Condition]) -> _Box:
    ranges: dict[str, tuple[float, bool, float, bool]] = {}
    sets: dict[str, frozenset[object]] = {}
    for metric, c in conds.items():
        if c.eq is not None or c.in_ is not None:
            sets[metric] = frozenset([c.eq] if c.eq is not None else c.in_ or [])
            continue
        lo, lo_closed = (c.gte, True) if c.gte is not None else (c.gt, False)
        hi, hi_closed = (c.lte, True) if c.lte is not None else (c.lt, False)
        ranges[metric] = (
            -math.inf if lo is None else lo,
            lo_closed,
            math.inf if hi is None else hi,
            hi_closed,
        )
    return _Box(ranges, sets)


def _boxes(rule: SegmentRule) -> list[_Box]:
    if rule.combine == "all" or len(rule.when) <= 1:
        return [_box(rule.when)]
    return [_box({m: c}) for m, c in rule.when.items()]


def _range_within(
    inner: tuple[float, bool, float, bool], outer: tuple[float, bool, float, bool]
) -> bool:
    ilo, ilc, ihi, ihc = inner
    olo, olc, ohi, ohc = outer
    lo_ok = ilo > olo or (ilo == olo and (olc or not ilc))
    hi_ok = ihi < ohi or (ihi == ohi and (ohc or not ihc))
    return lo_ok and hi_ok


def _box_within(inner: _Box, outer: _Box) -> bool:
    for metric, rng in outer.ranges.items():
        if metric in inner.ranges:
            if not _range_within(inner.ranges[metric], rng):
                return False
        elif metric in inner.sets:
            values = inner.sets[metric]
            if not all(
                isinstance(v, int | float) and _range_within((v, True, v, True), rng)
                for v in values
            ):
                return False
        else:
            return False
    for metric, allowed in outer.sets.items():
        if metric not in inner.sets or not inner.sets[metric] <= allowed:
            return False
    return True


def unreachable_rules(scheme: RuleScheme) -> list[tuple[int, int]]:
    """Pairs (i, j): rule j can never match because earlier rule i matches all it would.

    Checked rule against rule (a union of several earlier rules covering a later one is not
    detected); conservative: a reported pair is certainly unreachable.
    """
    dead = []
    for j, later in enumerate(scheme.rules):
        for i in range(j):
            outer = _boxes(scheme.rules[i])
            if all(any(_box_within(b, o) for o in outer) for b in _boxes(later)):
                dead.append((i, j))
                break
    return dead


def apply_rules(
    metrics: pd.DataFrame,
    scheme: RuleScheme,
    *,
    ids: Sequence[str],
    name: str,
    path: str | None = None,
) -> pd.DataFrame:
    """Segment every row of ``metrics``: ``<ids>, scheme, segment, rule, explanation``.

    ``path`` names the scheme in error messages (e.g. ``segmentation.custom.big``).
    """
    missing_ids = [c for c in ids if c not in metrics.columns]
    if missing_ids:
        raise ConfigError(f"metrics table lacks id column(s) {missing_ids}")
    validate_scheme(scheme, list(metrics.columns), path or f"segmentation scheme {name!r}")
    n = len(metrics)
    masks = []
    for rule in scheme.rules:
        parts = [condition_mask(metrics[m], c) for m, c in rule.when.items()]
        if not parts:
            masks.append(np.ones(n, dtype=bool))
        elif rule.combine == "all":
            masks.append(np.logical_and.reduce(parts))
        else:
            masks.append(np.logical_or.reduce(parts))
    # Index of the first matching rule; len(rules) stands for the default.
    stacked = np.vstack([*masks, np.ones(n, dtype=bool)]) if n else np.zeros((0, 0), dtype=bool)
    first = stacked.argmax(axis=0) if n else np.zeros(0, dtype=int)
    segments = np.array([r.segment for r in scheme.rules] + [scheme.default], dtype=object)
    labels = np.array([r.label for r in scheme.rules] + [DEFAULT_RULE], dtype=object)

    explanation = np.empty(n, dtype=object)
    for k, rule in enumerate(scheme.rules):
        rows = np.flatnonzero(first == k)
        if rows.size:
            keep = "all" if rule.combine == "all" else "met"
            texts = _texts(metrics, rows, rule.when, keep)
            explanation[rows] = ["; ".join(t) if t else "always" for t in texts]
    rows = np.flatnonzero(first == len(scheme.rules))
    if rows.size:
        head = scheme.rules[0]
        texts = _texts(metrics, rows, head.when, "failed")
        explanation[rows] = [
            f"no rule matched (first rule {head.label!r}: {'; '.join(t[:2])})" for t in texts
        ]

    out = metrics[list(ids)].reset_index(drop=True).copy()
    out["scheme"] = name
    out["segment"] = segments[first]
    out["rule"] = labels[first]
    out["explanation"] = explanation
    return out
