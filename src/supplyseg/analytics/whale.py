"""Customer profitability: margin and cost-to-serve figures, profit ranking and the whale curve.

The whale curve plots cumulative net profit against the share of customers, most profitable
first: it rises above 100 % of total profit (the "hump") and falls back as the customers that
destroy profit are added.
"""

from __future__ import annotations

from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from supplyseg.errors import DataContractError

__all__ = [
    "customer_profitability",
    "profit_columns",
    "profit_ranked",
    "whale_curve",
    "whale_summary",
    "with_profit",
]


_HALF_CENT = 0.005


def with_profit(df: pd.DataFrame, pools: list[str], keys: list[str]) -> pd.DataFrame:
    """``keys``, revenue, cogs, gross_margin, the pools, cts_total, net_profit and percentages.

    ``df`` has the keys, revenue, cogs, the pool columns and ``n_cost_missing`` (lines without a
    unit cost: where it is not 0 the COGS, and so every margin, is unknown, NaN). Percentages
    (cts_pct_revenue, net_margin_pct) are of revenue, NaN where revenue is not positive: below
    half a cent, since prices and credit notes that cancel leave float residue (1.4e-14).
    """

    def num(col: str, fill: float = np.nan) -> NDArray[np.float64]:
        x = df[col].to_numpy(dtype="float64", na_value=np.nan)  # a view when it can be
        return np.where(np.isnan(x), fill, x) if fill == 0 and np.isnan(x).any() else x

    # Built from numpy arrays, without copies: there may be millions of customer x product rows.
    rev, cost = num("revenue"), {p: num(p, 0.0) for p in pools}
    cogs = np.where(df["n_cost_missing"].to_numpy() == 0, num("cogs"), np.nan)
    cts = np.zeros(len(df))
    for p in pools:
        cts += cost[p]
    net, per = rev - cogs - cts, np.where(rev >= _HALF_CENT, rev, np.nan) / 100.0
    out = {k: df[k] for k in keys} | {"revenue": rev, "cogs": cogs, "gross_margin": rev - cogs}
    out |= cost | {"cts_total": cts, "net_profit": net}
    out |= {"cts_pct_revenue": cts / per, "net_margin_pct": net / per}
    return pd.DataFrame(out, index=df.index, copy=False)


def profit_columns(t: Any, pools: list[str], keys: list[str]) -> Any:
    """`with_profit` of an Ibis table, on the engine: the same columns and figures (unknown
    is null there, NaN in pandas), for tables of millions of rows written straight to Parquet.
    """
    rev = t.revenue.cast("float64")
    cost = {p: t[p].cast("float64").fill_null(0.0) for p in pools}
    cogs = ibis.cases((t.n_cost_missing == 0, t.cogs.cast("float64")), else_=ibis.null("float64"))
    cts: Any = ibis.literal(0.0)
    for p in pools:  # summed in `with_profit`'s order: the same floats
        cts = cts + cost[p]
    net = rev - cogs - cts
    per = ibis.cases((rev >= _HALF_CENT, rev), else_=ibis.null("float64")) / 100.0
    return t.select(
        *keys,
        revenue=rev,
        cogs=cogs,
        gross_margin=rev - cogs,
        **cost,
        cts_total=cts,
        net_profit=net,
        cts_pct_revenue=cts / per,
        net_margin_pct=net / per,
    )


def customer_profitability(
    totals: pd.DataFrame, breakdown: pd.DataFrame, pools: list[str]
) -> pd.DataFrame:
    """The customer table: per-customer revenue/COGS ``totals`` plus the breakdown per pool.

    ``totals`` has customer_id, revenue, cogs and n_cost_missing; ``breakdown`` has customer_id,
    pool and cost rows. Every pool becomes a column (0 where it has no rows), then the margins
    (`with_profit`) and the profit ranking (`profit_ranked`) are added.
    """
    by_pool = breakdown.pivot_table("cost", "customer_id", "pool", aggfunc="sum")
    df = totals[["customer_id", "revenue", "cogs", "n_cost_missing"]].join(
        by_pool.reindex(columns=pools).fillna(0.0), on="customer_id"
    )
    return profit_ranked(with_profit(df, pools, ["customer_id"]))


def profit_ranked(df: pd.DataFrame) -> pd.DataFrame:
    """Sort by net profit descending and add profit_rank (1 = best) and cum_profit_share.

    Ties keep customer_id order. Rows with unknown profit (NaN) come last, unranked.
    ``cum_profit_share`` is cumulative net profit / total net profit, NaN when the total is not
    positive (there is no share of a loss to speak of).
    """
    out = df.sort_values(
        ["net_profit", "customer_id"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)
    known = out["net_profit"].notna()
    rank = pd.Series(pd.NA, index=out.index, dtype="Int64")
    rank[known] = np.arange(1, int(known.sum()) + 1)
    out["profit_rank"] = rank
    total = float(out.loc[known, "net_profit"].sum())
    cum = out["net_profit"].where(known).cumsum()
    out["cum_profit_share"] = (cum / total).where(known) if total > 0 else np.nan
    return out


def _known_profit(cts_customer: pd.DataFrame, missing: Literal["raise", "drop"]) -> pd.Series:
    if "net_profit" not in cts_customer.columns:
        raise DataContractError(
            "whale curve: the table has no net_profit column; pass the customer table of"
            " cost_to_serve(...).customer"
        )
    profit = cts_customer.set_index("customer_id")["net_profit"].astype("float64")
    if missing not in ("raise", "drop"):
        raise DataContractError(f"whale curve: missing={missing!r}; allowed: 'raise', 'drop'")
    unknown = int(profit.isna().sum())
    if unknown and missing == "raise":
        raise DataContractError(
            f"whale curve: net profit is unknown for {unknown} of {len(profit)} customers (no"
            " unit cost); fix: map order_lines.unit_cost or products.unit_cost, or pass"
            " missing='drop'"
        )
    profit = profit.dropna()
    return profit.sort_index(kind="stable").sort_values(ascending=False, kind="stable")


def whale_curve(
    cts_customer: pd.DataFrame, *, missing: Literal["raise", "drop"] = "raise"
) -> pd.DataFrame:
    """Cumulative net profit against the share of customers, most profitable first.

    Returns one row per customer plus the origin (rank 0): ``rank, customer_id, net_profit,
    customer_share`` (0..1), ``cum_net_profit`` and ``cum_profit_pct`` (% of total net profit,
    NaN when the total is not positive). ``missing`` says what to do with unknown profits.
    """
    profit = _known_profit(cts_customer, missing)
    n = len(profit)
    cum = np.concatenate([[0.0], np.cumsum(profit.to_numpy())])
    total = cum[-1]
    return pd.DataFrame(
        {
            "rank": np.arange(n + 1),
            "customer_id": pd.array([pd.NA, *profit.index], dtype="object"),
            "net_profit": np.concatenate([[0.0], profit.to_numpy()]),
            "customer_share": np.arange(n + 1) / n if n else np.zeros(1),
            "cum_net_profit": cum,
            "cum_profit_pct": 100.0 * cum / total if total > 0 else np.full(n + 1, np.nan),
        }
    )


def whale_summary(
    cts_customer: pd.DataFrame, *, missing: Literal["raise", "drop"] = "raise"
) -> dict[str, float]:
    """The headline figures of the whale curve.

    Keys: ``customers``; ``total_net_profit``; ``peak_net_profit`` (top of the curve);
    ``peak_profit_pct`` (the peak in % of total net profit, NaN if the total is not positive);
    ``peak_customer_share_pct`` (% of customers, most profitable first, that make the peak);
    ``profit_destroying_customers`` and ``profit_destroying_share_pct`` (net profit < 0);
    ``profit_destroyed`` (their losses, a positive amount).
    """
    curve = whale_curve(cts_customer, missing=missing)
    n = len(curve) - 1
    profit = curve["net_profit"].to_numpy()[1:]
    peak_at = int(np.argmax(curve["cum_net_profit"].to_numpy()))
    total = float(curve["cum_net_profit"].iloc[-1])
    peak = float(curve["cum_net_profit"].iloc[peak_at])
    losers = profit < 0
    return {
        "customers": float(n),
        "total_net_profit": total,
        "peak_net_profit": peak,
        "peak_profit_pct": 100.0 * peak / total if total > 0 else float("nan"),
        "peak_customer_share_pct": 100.0 * peak_at / n if n else float("nan"),
        "profit_destroying_customers": float(losers.sum()),
        "profit_destroying_share_pct": float(100.0 * losers.sum() / n) if n else float("nan"),
        "profit_destroyed": float(-profit[losers].sum()),
    }
