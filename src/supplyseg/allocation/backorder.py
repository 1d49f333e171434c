"""Backorder processing: re-confirm open order lines when supply changes, by segment strategy.

Strategies (SAP aATP backorder processing): ``win`` (confirm as requested, before anything
else), ``gain`` (keep the current confirmation, may improve), ``redistribute`` (may gain or
lose), ``fill`` (keep the current confirmation if possible, never gain: neither more quantity
nor an earlier date) and ``lose`` (give the confirmation up).

The re-confirmation is one linear programme (HiGHS), solved for all products at once:

- a variable per line and candidate period: the requested period (on time; a ``fill`` line: its
  current period) and each later period with supply (a late confirmation waits for a receipt);
  a ``gain`` line has a second set for its *kept* quantity, limited to its current
  confirmation and period;
- stock flows forward per product (``stock_t = stock_{t-1} + available_t - confirmed_t >= 0``),
  so nothing is confirmed beyond cumulative supply;
- the objective maximises priority-weighted confirmed quantity, on-time units at full weight and
  late ones at ``0.5 / (1 + periods late)``, in three tiers that strictly dominate each other:
  ``win``, then kept confirmations (``gain``, ``fill``), then the rest (``gain`` beyond its
  confirmation, ``redistribute``). Within a tier a higher priority (lower number) weighs more and
  an earlier request a little more, so the order is segment priority, then requested period.

Products whose cumulative supply covers every line on time take the trivial answer without the
LP (most products, when few are short).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.errors import PolicyError

__all__ = ["BOP_COLUMNS", "LINE_COLUMNS", "STRATEGIES", "Strategy", "backorder_processing"]

Strategy = Literal["win", "gain", "redistribute", "fill", "lose"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
LINE_COLUMNS = (
    "line_id",
    "product_id",
    "priority",
    "strategy",
    "requested_period",
    "quantity",
    "confirmed_quantity",
    "confirmed_period",
)
BOP_COLUMNS = (
    "line_id",
    "product_id",
    "priority",
    "strategy",
    "requested_period",
    "quantity",
    "previous_quantity",
    "previous_period",
    "confirmed_quantity",
    "on_time_quantity",
    "promised_period",
    "change",
)
_EPS = 1e-7
_TIER = {"win": 0, "keep": 1, "rest": 2}
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _validated(lines: pd.DataFrame, available: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    require_columns("lines", lines, LINE_COLUMNS)
    require_columns("available", available, ("product_id", "period", "quantity"))
    df = lines[list(LINE_COLUMNS)].copy().reset_index(drop=True)
    bad = sorted(set(df["strategy"].astype(str)) - set(STRATEGIES))
    if bad:
        raise PolicyError(f"lines.strategy: {bad[:5]}; allowed: {', '.join(STRATEGIES)}")
    df["strategy"] = df["strategy"].astype(str)
    df["product_id"] = df["product_id"].astype(str)
    for col in ("quantity", "confirmed_quantity", "priority", "requested_period"):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all() or (values < 0).any():
            raise PolicyError(f"lines.{col}: missing, not a number or negative; allowed: >= 0")
        df[col] = values.astype("float64" if "quantity" in col else "int64")
    period = pd.to_numeric(df["confirmed_period"], errors="coerce")
    df["confirmed_period"] = np.maximum(
        period.fillna(df["requested_period"]), df["requested_period"]
    )
    df["confirmed_period"] = df["confirmed_period"].astype("int64")
    df["confirmed_quantity"] = np.minimum(df["confirmed_quantity"], df["quantity"])
    av = available[["product_id", "period", "quantity"]].copy()
    av["product_id"] = av["product_id"].astype(str)
    av["quantity"] = pd.to_numeric(av["quantity"], errors="coerce")
    av["period"] = pd.to_numeric(av["period"], errors="coerce")
    if av[["quantity", "period"]].isna().any().any():
        raise PolicyError("available: period or quantity missing or not a number")
    av["period"] = av["period"].astype("int64")
    av = av.groupby(["product_id", "period"], as_index=False).agg(quantity=("quantity", "sum"))
    return df, av


def _covered(df: pd.DataFrame, av: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Per line: its product's cumulative supply covers every line's target on time (win, gain,
    redistribute: full quantity at the requested period; fill: its confirmation at its period)."""
    fill = df["strategy"] == "fill"
    need = pd.DataFrame(
        {
            "product_id": df["product_id"],
            "period": np.where(fill, df["confirmed_period"], df["requested_period"]),
            "quantity": -np.where(
                df["strategy"] == "lose",
                0.0,
                np.where(fill, df["confirmed_quantity"], df["quantity"]),
            ),
        }
    )
    flow = pd.concat([av, need], ignore_index=True)
    flow = flow.groupby(["product_id", "period"], as_index=False).agg(quantity=("quantity", "sum"))
    flow = flow.sort_values(["product_id", "period"])
    flow["cum"] = flow.groupby("product_id")["quantity"].cumsum()
    short = flow.loc[flow["cum"] < -_EPS, "product_id"].unique()
    return ~df["product_id"].isin(short).to_numpy()


def _variables(df: pd.DataFrame, av: pd.DataFrame) -> pd.DataFrame:
    """One row per LP column: ``line`` (row of df), ``period``, ``tier``, ``keep`` (gain's kept
    part), ``weight``."""
    supply_periods = av.loc[av["quantity"] > 0, ["product_id", "period"]]
    starts = pd.DataFrame(
        {
            "line": np.arange(len(df)),
            "product_id": df["product_id"],
            "start": np.where(
                df["strategy"] == "fill", df["confirmed_period"], df["requested_period"]
            ),
        }
    )
    later = starts.merge(supply_periods, on="product_id")
    later = later[later["period"] > later["start"]]
    cols = pd.concat([starts.assign(period=starts["start"]), later], ignore_index=True)[
        ["line", "period"]
    ]
    strategy = df["strategy"].to_numpy()[cols["line"]]
    cols["keep"] = False
    gain_keep = cols[(strategy == "gain")].copy()
    gain_keep = gain_keep[
        gain_keep["period"].to_numpy() <= df["confirmed_period"].to_numpy()[gain_keep["line"]]
    ].assign(keep=True)
    cols = pd.concat([cols, gain_keep], ignore_index=True)
    strategy = df["strategy"].to_numpy()[cols["line"]]
    cols = cols[strategy != "lose"].reset_index(drop=True)
    strategy = df["strategy"].to_numpy()[cols["line"]]
    tier = np.where(
        strategy == "win",
        _TIER["win"],
        np.where((strategy == "fill") | cols["keep"].to_numpy(), _TIER["keep"], _TIER["rest"]),
    )
    requested = df["requested_period"].to_numpy()[cols["line"]]
    late = (cols["period"].to_numpy() - requested).clip(min=0)
    timely = np.where(late == 0, 1.0, 0.5 / (1.0 + late))
    # priority levels 1..P (dense), highest first; an earlier request weighs slightly more
    levels = np.unique(df["priority"].to_numpy())
    level = np.searchsorted(levels, df["priority"].to_numpy()[cols["line"]])
    prio_w = (len(levels) - level).astype(np.float64)
    span = max(int(df["requested_period"].max() - df["requested_period"].min()), 0) + 1
    prio_w = prio_w + 0.5 * (1.0 - (requested - df["requested_period"].min()) / span)
    # a tier must beat any mix of the next: one supply unit serves at most one unit anywhere
    worst = float(timely.min()) if len(timely) else 1.0
    base = 2.0 * (len(levels) + 1) / worst
    cols["tier"] = tier
    cols["weight"] = prio_w * timely * base ** (2 - tier)
    out: pd.DataFrame = cols
    return out


def _solve(df: pd.DataFrame, av: pd.DataFrame, cols: pd.DataFrame) -> FloatArray:
    """Optimal value of every LP column (HiGHS)."""
    import highspy
    from scipy import sparse

    n_x = len(cols)
    # nodes: (product, period) of every column and every supply period
    nodes = pd.concat(
        [
            pd.DataFrame(
                {"product_id": df["product_id"].to_numpy()[cols["line"]], "period": cols["period"]}
            ),
            av[["product_id", "period"]],
        ]
    ).drop_duplicates()
    nodes = nodes.sort_values(["product_id", "period"], ignore_index=True)
    nodes["node"] = np.arange(len(nodes))
    supply = nodes.merge(av, on=["product_id", "period"], how="left")["quantity"].fillna(0.0)
    n_nodes = len(nodes)
    x_node = (
        pd.DataFrame(
            {"product_id": df["product_id"].to_numpy()[cols["line"]], "period": cols["period"]}
        )
        .merge(nodes, on=["product_id", "period"], how="left")["node"]
        .to_numpy()
    )
    # stock columns s_node >= 0: row node: s_node - s_prev + sum x at node = supply at node
    first = np.r_[True, nodes["product_id"].to_numpy()[1:] != nodes["product_id"].to_numpy()[:-1]]
    prev = np.flatnonzero(~first)
    line = cols["line"].to_numpy()
    keep_cols = np.flatnonzero(cols["keep"].to_numpy())
    # keep rows: one per gain line with kept columns, numbered after the line rows
    keep_lines, keep_row = np.unique(line[keep_cols], return_inverse=True)
    n_lines = len(df)
    # rows: node balances, then line quantities, then gain lines' kept quantities
    rows = [x_node, np.arange(n_nodes), prev, n_nodes + line, n_nodes + n_lines + keep_row]
    cols_idx = [np.arange(n_x), n_x + np.arange(n_nodes), n_x + prev - 1, np.arange(n_x), keep_cols]
    vals = [
        np.ones(n_x),
        np.ones(n_nodes),
        -np.ones(prev.size),
        np.ones(n_x),
        np.ones(keep_cols.size),
    ]
    n_rows = n_nodes + n_lines + keep_lines.size
    n_cols = n_x + n_nodes
    a = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols_idx))),
        shape=(n_rows, n_cols),
    )
    cap = np.where(df["strategy"] == "fill", df["confirmed_quantity"], df["quantity"])
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.r_[cols["weight"].to_numpy(), np.zeros(n_nodes)]
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.full(n_cols, inf)
    supply_arr = supply.to_numpy(dtype=np.float64)
    keep_cap = df["confirmed_quantity"].to_numpy()[keep_lines]
    lp.row_lower_ = np.r_[supply_arr, np.full(n_lines + keep_lines.size, -inf)]
    lp.row_upper_ = np.r_[supply_arr, cap.astype(np.float64), keep_cap]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise PolicyError(
            f"backorder processing: the LP ended {h.modelStatusToString(status)!r}, not optimal;"
            " check the available supply for negative quantities"
        )
    solution: FloatArray = np.asarray(h.getSolution().col_value, dtype=np.float64)[:n_x]
    return solution


def backorder_processing(lines: pd.DataFrame, available: pd.DataFrame) -> pd.DataFrame:
    """Re-confirmed open order lines (`BOP_COLUMNS`), one row per line in input order.

    ``lines``: `LINE_COLUMNS` — ``line_id``, ``product_id``, ``priority`` (1 = first),
    ``strategy`` (`STRATEGIES`), ``requested_period``, ``quantity``, the current
    ``confirmed_quantity`` and ``confirmed_period`` (NaN: the requested period). Periods are
    integers (e.g. days from a reference date). ``available``: ``product_id, period,
    quantity``, the supply these lines may use (receipts and on-hand, minus commitments not
    being re-processed). ``promised_period`` is when the whole confirmed quantity is there
    (NA when nothing is confirmed); ``change`` is ``gained``, ``lost``, ``earlier``, ``later``
    or ``unchanged``.
    """
    df, av = _validated(lines, available)
    confirmed = np.zeros(len(df))
    on_time = np.zeros(len(df))
    promised = np.full(len(df), -1, dtype=np.int64)
    ok = _covered(df, av)
    strategy = df["strategy"].to_numpy()
    easy = ok & (strategy != "lose")
    fill = strategy == "fill"
    confirmed[easy] = np.where(fill, df["confirmed_quantity"], df["quantity"])[easy]
    promised[easy] = np.where(fill, df["confirmed_period"], df["requested_period"])[easy]
    on_time[easy & ~fill] = confirmed[easy & ~fill]
    fill_on_time = easy & fill & (df["confirmed_period"] == df["requested_period"]).to_numpy()
    on_time[fill_on_time] = confirmed[fill_on_time]
    hard = np.flatnonzero(~ok)
    if hard.size:
        sub = df.iloc[hard].reset_index(drop=True)
        sub_av = av[av["product_id"].isin(sub["product_id"])]
        cols = _variables(sub, sub_av)
        x = _solve(sub, sub_av, cols) if len(cols) else np.zeros(0)
        x[x < _EPS] = 0.0
        ln = cols["line"].to_numpy()
        confirmed[hard] = np.bincount(ln, weights=x, minlength=len(sub))
        timely = cols["period"].to_numpy() == sub["requested_period"].to_numpy()[ln]
        on_time[hard] = np.bincount(ln, weights=x * timely, minlength=len(sub))
        last = pd.Series(np.where(x > 0, cols["period"].to_numpy(), -1)).groupby(ln).max()
        promised_sub = np.full(len(sub), -1, dtype=np.int64)
        promised_sub[last.index.to_numpy()] = last.to_numpy()
        promised[hard] = promised_sub
    confirmed[confirmed < _EPS] = 0.0
    promised[confirmed <= 0] = -1
    return _result(df, confirmed, on_time, promised)


def _result(
    df: pd.DataFrame, confirmed: FloatArray, on_time: FloatArray, promised: IntArray
) -> pd.DataFrame:
    prev_q = df["confirmed_quantity"].to_numpy()
    prev_p = df["confirmed_period"].to_numpy()
    had = prev_q > _EPS
    change = np.select(
        [
            confirmed > prev_q + _EPS,
            confirmed < prev_q - _EPS,
            had & (promised >= 0) & (promised < prev_p),
            had & (promised > prev_p),
        ],
        ["gained", "lost", "earlier", "later"],
        "unchanged",
    )
    out: dict[str, Any] = {
        "line_id": df["line_id"],
        "product_id": df["product_id"],
        "priority": df["priority"],
        "strategy": df["strategy"],
        "requested_period": df["requested_period"],
        "quantity": df["quantity"],
        "previous_quantity": df["confirmed_quantity"],
        "previous_period": pd.array(np.where(had, prev_p, -1), dtype="Int64"),
        "confirmed_quantity": confirmed,
        "on_time_quantity": on_time,
        "promised_period": pd.array(promised, dtype="Int64"),
        "change": change,
    }
    frame = pd.DataFrame(out)
    frame.loc[~had, "previous_period"] = pd.NA
    frame.loc[frame["promised_period"] < 0, "promised_period"] = pd.NA
    return frame[list(BOP_COLUMNS)]
