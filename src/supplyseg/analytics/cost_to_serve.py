"""Activity-based cost-to-serve per customer, customer × product and order, with a breakdown.

Every cost is a driver quantity × rate (pools in ``cost_to_serve:``, see
`supplyseg.config.cost_to_serve`). The heavy work (10M order lines) runs on the Ibis backend as
generic joins and group-bys; only aggregated tables come back as pandas. How costs reach the
three levels (each level adds up exactly to the customer table):

- per-order pools (``orders``, ``shipments``) are exact per order; inside an order they are split
  equally over its non-credit lines (all its lines if it has none) for customer × product;
- per-line pools (``order_lines``, ``units``, ``rush_lines``) are exact at every level;
- ``freight``: an order's actual ``shipments.freight_cost`` goes to its non-credit lines by weight
  (quantity × products.unit_weight) when every such line has a weight, else by value, else
  equally (the breakdown's driver says which); without shipments it is estimated per line as
  rate × weight or value (``basis``);
- ``returned_lines`` are exact per (order, product), as each return names both;
- customer-level pools (``receivable_days``, ``customer_years``, user-defined drivers) go to the
  customer's orders and products by share of gross sales (the sum of its positive line values;
  by number of lines when it has none), so that both levels use one consistent basis.

Credit-note lines net revenue and COGS but are not orders, lines, units or rush lines. An order's
channel is its lines' (the customer's if order_lines has none); a mixed order takes a priced one.
Customers are those with order lines; costs of others (e.g. invoices only) are left out, noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from supplyseg.analytics._cts_base import (
    BREAKDOWN_COLUMNS,
    Expr,
    Fn,
    _col,
    _concat,
    _Detail,
    _flag,
    _left,
    _pandas,
    _Run,
)
from supplyseg.analytics._cts_customer import _customer_rows
from supplyseg.analytics.cancellations import fully_cancelled_orders
from supplyseg.analytics.cts_checks import cts_sanity_warnings
from supplyseg.analytics.whale import customer_profitability, profit_columns
from supplyseg.config.cost_to_serve import CostPool, CostToServeSettings
from supplyseg.data.frames import canonical_tables
from supplyseg.engine import cached
from supplyseg.errors import DataContractError

__all__ = ["BREAKDOWN_COLUMNS", "CostToServeResult", "cost_to_serve"]

_CP = ["customer_id", "product_id"]
_ORDER_GRAIN = ("orders", "order_lines", "units", "shipments", "freight", "rush_lines")
_BASIS = {1: ("weight", "weight_elig"), 2: ("value", "value_elig"), 3: ("lines", "alloc_n")}
# driver -> (order-table column counting it, how an order's cost spreads over its lines)
_COUNTS = {"order_lines": ("n_elig", "lines"), "units": ("units", "units"),
           "rush_lines": ("rush_n", "rush"), "shipments": ("n_ship", "lines")}  # fmt: skip


@dataclass
class CostToServeResult:
    """The cost-to-serve tables, notes on what was skipped or estimated, and warnings.

    ``customer``: customer_id, revenue, cogs, gross_margin, one column per pool, cts_total,
    net_profit, cts_pct_revenue, net_margin_pct (% of revenue), profit_rank, cum_profit_share;
    most profitable first. ``customer_product`` (customer_id, product_id) and ``order``
    (customer_id, order_id, order_date) have the same columns up to net_margin_pct.
    ``breakdown``: customer_id, pool, driver, driver_quantity, rate, cost; its costs add up to
    the customer table's pool columns.

    ``customer_product`` and ``order`` (millions of rows at 10M order lines) stay on the engine
    until first read; `write_parquet` writes them from there in batches, never whole in memory.
    """

    customer: pd.DataFrame
    breakdown: pd.DataFrame
    details: dict[str, _Detail]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def customer_product(self) -> pd.DataFrame:
        return self.details["customer_product"].frame()

    @cached_property
    def order(self) -> pd.DataFrame:
        return self.details["order"].frame()

    def write_parquet(self, level: str, path: Path) -> None:
        """Write ``customer_product`` or ``order`` to ``path`` in batches from the engine."""
        self.details[level].write_parquet(path)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables under the names the pipeline writes to ``out/<run_id>/``."""
        return {"cost_to_serve_customer": self.customer, "cts_breakdown": self.breakdown,
                "cost_to_serve_customer_product": self.customer_product,
                "cost_to_serve_order": self.order}  # fmt: skip


@dataclass(frozen=True)
class _Part:
    """One breakdown row type of an order-grain pool: per-order quantity (and cost) exprs."""

    driver: str
    rate: float | None  # None: an actual cost passed through; shown rate = cost / quantity
    quantity: Fn
    actual: Fn | None = None  # the cost when it is not quantity × rate


@dataclass(frozen=True)
class _OrderPool:
    """An order-grain pool: its parts and how its order cost spreads over the order's lines."""

    name: str
    parts: list[_Part]
    spread: str  # lines | units | rush | freight
    basis: Fn | None = None  # freight: per-order basis code, 1 weight, 2 value, 3 lines


def _channel_code(run: _Run, channel: Expr) -> Expr:
    """1 + index of the channel among the priced ones (case-insensitive), 0 for any other."""
    low = channel.lower()
    return ibis.cases(*[(low == k, i + 1) for i, k in enumerate(run.channels)], else_=0)


def _lines(run: _Run) -> Expr:
    """Order lines with value, cost, weight and flags; products joined when present."""
    ol, cols = run.tables["order_lines"], run.tables["order_lines"].columns
    credit = ol.is_credit_note.fill_null(False) if "is_credit_note" in cols else ol.quantity < 0
    priced = run.channels and "channel" in cols
    t = ol.select(
        "order_id", "customer_id", "product_id", "order_date", qty=ol.quantity, sale=~credit,
        value=ol.quantity * ol.unit_price, line_cost=_col(ol, "unit_cost"),
        rush=ol.rush.fill_null(False) if "rush" in cols else ibis.literal(False),
        ch=_channel_code(run, ol.channel) if priced else ibis.literal(0),
    )  # fmt: skip
    # Lines of fully cancelled orders are sales (revenue, COGS) but drive no activity.
    t = _left(t, run.cancelled.mutate(_gone=ibis.literal(True)), ["order_id"])
    t = t.mutate(elig=t.sale & ~t._gone.fill_null(False)).drop("_gone")
    p_cost = p_weight = ibis.null("float64")
    if run.has("products", "unit_cost") or run.has("products", "unit_weight"):
        p = run.tables["products"]
        p = p.select("product_id", p_cost=_col(p, "unit_cost"), p_weight=_col(p, "unit_weight"))
        t = _left(t, p, ["product_id"])
        p_cost, p_weight = t.p_cost, t.p_weight
    unit_cost = t.line_cost.coalesce(p_cost)
    return t.mutate(
        cogs=t.qty * unit_cost, cost_missing=_flag(unit_cost.isnull()), weight=t.qty * p_weight
    )


def _orders(run: _Run, lines: Expr) -> Expr:
    """One row per (order, customer): revenue, COGS and what the order-grain pools count."""
    e = lines.elig
    o = lines.group_by(["order_id", "customer_id"]).aggregate(
        order_date=lines.order_date.min(), last_date=lines.order_date.max(),
        revenue=lines.value.sum(), pos=ibis.greatest(lines.value, 0.0).sum(),
        cogs=lines.cogs.sum(), n_cost_missing=lines.cost_missing.sum(),
        n_lines=lines.count(), n_elig=_flag(e).sum(),
        units=ibis.cases((e, lines.qty), else_=0.0).sum(), rush_n=_flag(e & lines.rush).sum(),
        ch=ibis.cases((e, lines.ch), else_=0).max(), n_nullw=_flag(e & lines.weight.isnull()).sum(),
        weight_elig=ibis.cases((e, lines.weight.fill_null(0.0)), else_=0.0).sum(),
        value_elig=ibis.cases((e, lines.value), else_=0.0).sum(),
    )  # fmt: skip
    if run.channels and not run.has("order_lines", "channel") and run.has("customers", "channel"):
        c = run.tables["customers"]
        c = c.select("customer_id", c_ch=_channel_code(run, c.channel))
        o = _left(o, c, ["customer_id"]).mutate(ch=lambda t: t.c_ch).drop("c_ch")
    if run.has("shipments"):
        s = run.tables["shipments"]
        s = s.group_by("order_id").aggregate(n_ship=s.count(), freight=s.freight_cost.sum())
        o = _left(o, s, ["order_id"])
    else:
        o = o.mutate(n_ship=ibis.literal(0), freight=ibis.literal(0.0))
    return o.mutate(n_ship=o.n_ship.fill_null(0), freight=o.freight.fill_null(0.0),
                    alloc_all=o.n_elig == 0,
                    alloc_n=ibis.cases((o.n_elig > 0, o.n_elig), else_=o.n_lines))  # fmt: skip


def _freight_pool(run: _Run, pool: CostPool) -> _OrderPool | None:
    """Actual freight allocated by weight/value/lines, or the estimate without shipments."""
    actual, weights = run.has("shipments"), run.has("products", "unit_weight")
    est = 1 if pool.basis == "weight" else 2

    def basis(o: Expr) -> Expr:
        by_weight = (o.n_nullw == 0) & (o.weight_elig > 0) if weights else False
        return ibis.cases((by_weight, 1), (o.value_elig > 0, 2), else_=3) if actual else est

    if not actual and (pool.rate is None or (est == 1 and not weights)):
        why = "no estimate rate" if pool.rate is None else "no products.unit_weight (basis: value?)"
        run.note(f"pool {pool.name!r} skipped: no shipments table and {why}")
        return None
    if not actual:
        run.note(f"pool {pool.name!r}: no shipments table; freight estimated, rate × {pool.basis}")

    def q(o: Expr, code: int) -> Expr:  # the basis quantity of the orders allocated by `code`
        on = (basis(o) == code) & (o.n_ship > 0) if actual else basis(o) == code
        return ibis.cases((on, o[_BASIS[code][1]]), else_=0.0)

    def c(o: Expr, code: int) -> Expr:
        return ibis.cases((basis(o) == code, o.freight), else_=0.0)

    if not actual:
        part = _Part(f"freight_estimate_by_{pool.basis}", pool.rate, partial(q, code=est))
        return _OrderPool(pool.name, [part], "freight", basis)
    labels = {k: f"freight_actual_by_{_BASIS[k][0]}" for k in (1, 2, 3)}
    parts = [_Part(labels[k], None, partial(q, code=k), partial(c, code=k)) for k in labels]
    return _OrderPool(pool.name, parts, "freight", basis)


def _order_pool(run: _Run, pool: CostPool) -> _OrderPool | None:
    """The breakdown parts of one order-grain pool; None (with a note) when it must be skipped."""
    name, rate, d = pool.name, pool.rate or 0.0, pool.driver_name
    if d == "orders":
        if pool.rate_by_channel and not run.channels:
            run.note(f"pool {name!r}: no channel column; every order at the default rate")
        keys = {k.lower(): r for k, r in pool.rate_by_channel.items()} if run.channels else {}
        codes = {k: run.channels.index(k) + 1 for k in keys}

        def is_key(o: Expr, code: int) -> Expr:
            return _flag((o.n_elig > 0) & (o.ch == code))

        def is_other(o: Expr) -> Expr:
            return _flag((o.n_elig > 0) & ~o.ch.isin(list(codes.values())))

        parts = [_Part(f"orders[channel={k}]", r, partial(is_key, code=codes[k]))
                 for k, r in keys.items()]  # fmt: skip
        return _OrderPool(name, [*parts, _Part("orders", rate, is_other)], "lines")
    if d == "freight":
        return _freight_pool(run, pool)
    ok, why = {
        "rush_lines": (run.has("order_lines", "rush"), "order_lines has no rush column"),
        "shipments": (run.has("shipments"), "no shipments table"),
    }.get(d, (True, ""))
    if not ok:
        run.note(f"pool {name!r} skipped: {why}")
        return None
    col, spread = _COUNTS[d]
    return _OrderPool(name, [_Part(d, rate, lambda o: o[col])], spread)


def _order_table(run: _Run, lines: Expr, pools: list[_OrderPool]) -> Expr:
    """Orders with per-part quantities/costs (q__, c__), pool costs (p__), line-share factors."""
    o = _orders(run, lines)
    cols: dict[str, Expr] = {}
    for op in pools:
        # Quantities as float64: on Spark, a count times a rate literal (4.0 is a DECIMAL there)
        # would be decimal arithmetic, and dividing it over lines rounds to 6 decimals.
        qty = [p.quantity(o).cast("float64") for p in op.parts]
        pairs = zip(op.parts, qty, strict=True)
        costs = [p.actual(o) if p.actual else q * (p.rate or 0.0) for p, q in pairs]
        for i, (part, cost) in enumerate(zip(op.parts, costs, strict=True)):
            cols[f"q__{op.name}__{i}"] = qty[i]
            if part.rate is None:  # only actual costs need their own column
                cols[f"c__{op.name}__{i}"] = cost
        cols[f"p__{op.name}"] = sum(costs[1:], costs[0])
    o = o.mutate(**cols)
    fac: dict[str, Expr] = {}
    for op in pools:
        if op.basis is not None:
            fac[f"b__{op.name}"] = b = op.basis(o)
            den = ibis.cases((b == 1, o.weight_elig), (b == 2, o.value_elig), else_=o.alloc_n)
        else:
            den = {"lines": o.alloc_n, "units": o.units, "rush": o.rush_n}[op.spread]
        # Cost per unit of the spread basis; 0 where the basis is 0 (then the cost is 0 too).
        fac[f"f__{op.name}"] = (o[f"p__{op.name}"] / den.nullif(0)).fill_null(0.0)
    return o.mutate(**fac)


def _returns_table(run: _Run, lines: Expr, orders: Expr, pools: list[CostPool]) -> Expr:
    """Returns per (order, product) with customer, unit value and each returns pool's cost."""
    keys, r = ["order_id", "product_id"], run.tables["returns"]
    r = r.group_by(keys).aggregate(n_ret=r.count(), ret_qty=r.quantity.sum())
    v = lines.filter(lines.sale).semi_join(r, keys)
    v = v.group_by(keys).aggregate(q=v.qty.sum(), val=v.value.sum(), cg=v.cogs.sum(),
                                   miss=v.cost_missing.sum())  # fmt: skip
    r = _left(r, v, keys)
    p_cost = ibis.null("float64")
    if run.has("products", "unit_cost"):
        p = run.tables["products"].select("product_id", p_cost="unit_cost")
        r = _left(r, p, ["product_id"])
        p_cost = r.p_cost
    r = _left(r, orders.select("order_id", "customer_id"), ["order_id"])
    found = (r.q > 0).fill_null(False)
    r = r.mutate(unit_cost=ibis.cases((found & (r.miss == 0), r.cg / r.q), else_=p_cost),
                 unit_price=ibis.cases((found, r.val / r.q)))  # fmt: skip
    cols: dict[str, Expr] = {}
    for pool in pools:
        n, unit = pool.name, r.unit_cost if pool.lost_value_basis == "cost" else r.unit_price
        cols |= {f"q__{n}__0": r.n_ret, f"q__{n}__1": (r.ret_qty * unit).fill_null(0.0)}
        handling = r.n_ret.cast("float64") * (pool.rate or 0.0)  # float64: see _order_table
        cols[f"p__{n}"] = handling + cols[f"q__{n}__1"] * pool.lost_value_share
        cols[f"nv__{n}"] = _flag(unit.isnull()) * r.n_ret
    return r.mutate(**cols)


def _part_rows(per: pd.DataFrame, name: str, parts: list[tuple[str, float | None]]) -> pd.DataFrame:
    """Breakdown rows of one pool from the per-customer sums of its parts' q__/c__ columns."""
    frames = []
    for i, (driver, rate) in enumerate(parts):
        q = per[f"q__{name}__{i}"].fillna(0.0).astype("float64")
        if rate is None:  # an actual cost: the rate shown is cost per driver unit
            cost = per[f"c__{name}__{i}"].fillna(0.0).astype("float64")
            shown: Any = cost / q.where(q != 0)
        else:
            shown, cost = rate, q * rate
        row = {"customer_id": per["customer_id"], "pool": name, "driver": driver}
        frames.append(pd.DataFrame(row | {"driver_quantity": q, "rate": shown, "cost": cost}))
    return pd.concat(frames, ignore_index=True)


def _customer_aggregate(run: _Run, o: Expr) -> pd.DataFrame:
    """Per customer: revenue, COGS, dates and the sums of every order-grain part."""
    aggs: dict[str, Expr] = {
        "revenue": o.revenue.sum(), "cogs": o.cogs.sum(), "n_cost_missing": o.n_cost_missing.sum(),
        "n_orders": o.count(), "order_date": o.order_date.min(), "last_date": o.last_date.max(),
        "pos": o.pos.sum(), "n_lines": o.n_lines.sum(),
    }  # fmt: skip
    aggs |= {c: o[c].sum() for c in o.columns if c.startswith(("q__", "c__"))}
    ca = _pandas(o.group_by("customer_id").aggregate(**aggs).order_by("customer_id"))
    if multi := int(ca["n_orders"].sum()) - int(o.order_id.nunique().to_pyarrow().as_py()):
        msg = f"order_lines: {multi} order_id(s) carry more than one customer_id; fix the mapping"
        raise DataContractError(msg + " (cost-to-serve needs one customer per order)")
    if not (run.has("order_lines", "unit_cost") or run.has("products", "unit_cost")):
        run.note("no order_lines.unit_cost or products.unit_cost: COGS, margins and net profit"
                 " are unknown (NaN)")  # fmt: skip
    elif (ca["n_cost_missing"] > 0).any():
        n_lines, n_cust = int(ca["n_cost_missing"].sum()), int((ca["n_cost_missing"] > 0).sum())
        run.note(f"{n_lines} order lines have no unit cost: COGS unknown for {n_cust} customers")
    if run.has("shipments"):
        s = run.tables["shipments"].anti_join(o, "order_id")
        lost = _pandas(s.aggregate(n=s.count(), freight=s.freight_cost.sum())).iloc[0]
        if lost["n"]:
            run.note(f"{int(lost['n'])} shipments (freight {float(lost['freight'] or 0):.2f})"
                     " name orders without order lines; left out")  # fmt: skip
    return ca


def _returns_rows(run: _Run, returns: Expr, pools: list[CostPool]) -> list[pd.DataFrame]:
    """Breakdown rows of the returns pools, with notes on unknown orders and values."""
    aggs: dict[str, Expr] = {"n": returns.n_ret.sum()}
    aggs |= {c: returns[c].sum() for c in returns.columns if c.startswith(("q__", "nv__"))}
    per = _pandas(returns.group_by("customer_id").aggregate(**aggs))
    unknown = per["customer_id"].isna()
    if unknown.any():
        run.note(f"{int(per.loc[unknown, 'n'].sum())} returns name unknown orders; left out")
    per, rows = per[~unknown], []
    for pool in pools:
        if nv := int(per[f"nv__{pool.name}"].sum()):
            run.note(f"pool {pool.name!r}: {nv} returns have no unit {pool.lost_value_basis};"
                     " their lost value is counted as 0")  # fmt: skip
        value = f"returned_value_at_{pool.lost_value_basis}"
        parts = [("returned_lines", pool.rate), (value, pool.lost_value_share)]
        rows.append(_part_rows(per, pool.name, parts))
    return rows


def _customer_factors(cl: pd.DataFrame, ca: pd.DataFrame, names: list[str]) -> Expr | None:
    """Per customer and customer-level pool: cost per unit of gross sales (f__), per line (e__)."""
    if not len(cl):
        return None
    cost = cl.pivot_table("cost", "customer_id", "pool", aggfunc="sum").reindex(columns=names)
    base = ca.set_index("customer_id").reindex(cost.index)
    pos, cost = base["pos"].where(base["pos"] > 0), cost.fillna(0.0)
    f = cost.div(pos, axis=0).fillna(0.0).add_prefix("f__")
    e = cost.div(base["n_lines"].clip(lower=1), axis=0).where(pos.isna(), 0.0, axis=0)
    return ibis.memtable(pd.concat([f, e.add_prefix("e__")], axis=1).reset_index())


def _allocated(t: Expr, factors: Expr | None, names: list[str], pos: str, n: str) -> Expr:
    """Customer-level pool costs of the rows of ``t`` (gross sales in ``pos``, lines in ``n``)."""
    if factors is None or not names:
        return t
    t = _left(t, factors, ["customer_id"])
    cols = {f"p__{m}": (t[f"f__{m}"] * t[pos] + t[f"e__{m}"] * t[n]).fill_null(0.0) for m in names}
    return t.mutate(**cols)


def _with_returns(t: Expr, returns: Expr | None, names: list[str]) -> Expr:
    """Left-join the returns pools' costs per order (0 where none)."""
    if returns is None or not names:
        return t
    r = returns.filter(returns.customer_id.notnull())
    r = r.group_by("order_id").aggregate(**{f"p__{n}": r[f"p__{n}"].sum() for n in names})
    t = _left(t, r, ["order_id"])
    return t.mutate(**{f"p__{n}": t[f"p__{n}"].fill_null(0.0) for n in names})


def _cp_table(
    lines: Expr, orders: Expr, returns: Expr | None, factors: Expr | None, names: dict[str, Any]
) -> Expr:
    """Customer × product: order costs spread over lines, returns and customer costs, summed."""
    pools: list[_OrderPool] = names["order"]
    fac = [f"f__{op.name}" for op in pools] + [f"b__{op.name}" for op in pools if op.basis]
    j = lines.inner_join(orders.select("order_id", "alloc_all", *fac), "order_id")
    j = j.mutate(pos=ibis.greatest(j.value, 0.0), one=1)
    j = _allocated(j, factors, names["customer"], "pos", "one")
    in_alloc = _flag(j.elig | j.alloc_all)
    share = {
        "lines": in_alloc, "units": ibis.cases((j.elig, j.qty), else_=0.0),
        "rush": _flag(j.elig & j.rush), "value": ibis.cases((j.elig, j.value), else_=0.0),
        "weight": ibis.cases((j.elig, j.weight.fill_null(0.0)), else_=0.0),
    }  # fmt: skip
    cols = {"revenue": j.value, "cogs": j.cogs, "n_cost_missing": j.cost_missing.cast("int64")}
    for op in pools:
        b = j[f"b__{op.name}"] if op.basis else None  # freight: the order's allocation basis
        s = share[op.spread] if b is None else ibis.cases(
            (b == 1, share["weight"]), (b == 2, share["value"]), else_=in_alloc)  # fmt: skip
        cols[f"p__{op.name}"] = j[f"f__{op.name}"] * s
    cols |= {f"p__{n}": j[f"p__{n}"] for n in names["customer"] if factors is not None}
    if returns is not None:
        cols |= {f"p__{n}": ibis.literal(0.0) for n in names["returns"]}
    rows = j.select(*_CP, **cols)
    if returns is not None and names["returns"]:
        # Returns join the stream as rows of their own: returned products need no sales line.
        r = returns.filter(returns.customer_id.notnull())
        zero = {c: ibis.literal(0, rows[c].type()) for c in rows.columns[2:]}
        costs = {f"p__{n}": r[f"p__{n}"] for n in names["returns"]}
        rows = rows.union(r.select(*_CP, **(zero | costs)))
    return rows.group_by(_CP).aggregate(**{c: rows[c].sum() for c in rows.columns[2:]})


def cost_to_serve(
    tables: Any,
    settings: CostToServeSettings | None = None,
    as_of: date | None = None,
) -> CostToServeResult:
    """Cost-to-serve per customer, customer × product and order, and its breakdown.

    Parameters
    ----------
    tables
        A `Dataset` (`supplyseg.load_frames`), or canonical tables by name (Ibis, pandas or
        Arrow); ``order_lines`` is required, the others are used when present (a pool whose
        table or column is absent is skipped with a note).
    settings
        The ``cost_to_serve:`` section; default pools when ``None``.
    as_of
        The analysis date, by default the last order date (never a due, invoice or payment
        date): invoices dated later are left out, and unpaid invoices run to it.

    Orders fully cancelled by credit notes (`supplyseg.analytics.cancellations`) keep their
    revenue but carry no order, line, unit or rush-line costs. ``warnings`` flag results the
    user must check (see `supplyseg.analytics.cts_checks`).
    """
    tables = canonical_tables(tables)
    if "order_lines" not in tables:
        raise DataContractError(
            "cost_to_serve: tables has no order_lines; allowed: a mapping of canonical table"
            f" names to Ibis tables, found {sorted(tables)}"
        )
    settings = settings if settings is not None else CostToServeSettings()
    ol = tables["order_lines"]
    if as_of is None:
        last = ol.order_date.max().to_pyarrow().as_py()
        as_of = last.date() if isinstance(last, datetime) else last or date.today()
    run = _Run(tables, as_of, cancelled=cached(fully_cancelled_orders(ol).select("order_id")))
    if n_gone := int(run.cancelled.count().to_pyarrow().as_py()):
        run.note(f"{n_gone} order(s) fully cancelled by credit notes (latest purchases of the"
                 " customer and product first) carry no order, line or unit costs")  # fmt: skip
    if run.has("order_lines", "channel") or run.has("customers", "channel"):
        run.channels = sorted({k.lower() for p in settings.pools for k in p.rate_by_channel})
    lines = _lines(run)
    maybe = [_order_pool(run, p) for p in settings.pools if p.driver_name in _ORDER_GRAIN]
    opools = [op for op in maybe if op is not None]
    orders = cached(_order_table(run, lines, opools))
    ca = _customer_aggregate(run, orders)
    rows = [_part_rows(ca, op.name, [(p.driver, p.rate) for p in op.parts]) for op in opools]

    rpools = [p for p in settings.pools if p.driver_name == "returned_lines"]
    returns = None
    if rpools and run.has("returns"):
        returns = cached(_returns_table(run, lines, orders, rpools))
        rows += _returns_rows(run, returns, rpools)
    for p in rpools if returns is None else []:
        run.note(f"pool {p.name!r} skipped: no returns table")
    cpools = [p for p in settings.pools if p.driver_name not in (*_ORDER_GRAIN, "returned_lines")]
    cl = _customer_rows(run, cpools, ca, orders)

    names = [p.name for p in settings.pools]

    def in_order(s: pd.Series) -> pd.Series:  # pools in settings order
        return s.map({n: i for i, n in enumerate(names)}) if s.name == "pool" else s

    breakdown = _concat([*rows, cl])
    breakdown = breakdown.sort_values(
        ["customer_id", "pool", "driver"], key=in_order, ignore_index=True
    )

    # Customer-level costs go down to orders and products on the engine, from a small table.
    lv: dict[str, Any] = {"order": opools, "returns": [p.name for p in rpools],
                          "customer": [p.name for p in cpools]}  # fmt: skip
    factors = _customer_factors(cl, ca, lv["customer"])
    o = orders.select("customer_id", "order_id", "order_date", "revenue", "cogs", "n_cost_missing",
                      "pos", "n_lines", *[f"p__{op.name}" for op in opools])  # fmt: skip
    o = _with_returns(o, returns, lv["returns"])
    o = _allocated(o, factors, lv["customer"], "pos", "n_lines")
    cp = _cp_table(lines, orders, returns, factors, lv)

    def detail(t: Expr, keys: list[str], sort: bool) -> _Detail:
        pools = {n: t[f"p__{n}"] if f"p__{n}" in t.columns else ibis.literal(0.0) for n in names}
        # order_date as a timestamp: the run's other tables store dates so (date32 reads back
        # as Python objects in pandas)
        dates = {"order_date": t.order_date.cast("timestamp")} if "order_date" in keys else {}
        t = t.select(*keys, "revenue", "cogs", "n_cost_missing", **pools).mutate(**dates)
        t = profit_columns(t, names, keys)
        return _Detail(t.order_by(keys[:2]) if sort else t)

    details = {
        "order": detail(o, ["customer_id", "order_id", "order_date"], sort=True),
        # millions of rows: left in the engine's order
        "customer_product": detail(cp, _CP, sort=False),
    }
    customer = customer_profitability(ca, breakdown, names)
    warnings = cts_sanity_warnings(customer, settings)
    return CostToServeResult(customer, breakdown[BREAKDOWN_COLUMNS], details, run.notes, warnings)
