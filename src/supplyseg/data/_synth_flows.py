"""Synthetic company, part 2: the flows: designed demand, orders, lines, credit notes, bad rows,
shipments, invoices, returns and inventory (see `supplyseg.data.synth` for the design).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from supplyseg.data._synth_master import (
    _AFFINITY,
    _BAD_REASONS,
    _DATE_COLS,
    _DAYS,
    _DISCOUNT,
    _LATE,
    _LIFECYCLE_SHARE,
    _LINE_UNITS,
    _NULL,
    _ORDER_LINES,
    _OUTLIER_SHARE,
    _PATTERN_LINES,
    _PATTERN_UNITS,
    _PAY_AFTER_DUE,
    _PEAK_DAY,
    _REQUESTED_LEAD,
    _RETURN_REASONS,
    _RETURNED,
    _RUSH,
    _SEASONAL_SHARE,
    _TERMS,
    _WEEKS,
    Arr,
    Rng,
    _classes,
    _dates,
    _frame,
    _ids,
    _pick,
    _ranks,
    _split,
    _strings,
    _width,
)
from supplyseg.data.contract import Reason

# ---------------------------------------------------------------- demand design


def _design(rng: Rng, pattern: Arr) -> dict[str, Arr]:
    """Designed item properties: lifecycle code (LIFECYCLES order), first and last active week,
    seasonal and outlier flags (seasonal and outlier items are active smooth items)."""
    n, h = len(pattern), _WEEKS - 1
    life = _classes(rng, n, _LIFECYCLE_SHARE, 0)
    start, stop = np.zeros(n, np.int64), np.full(n, h, np.int64)
    new, dormant, obsolete = life == 1, life == 2, life == 3
    start[new] = h - rng.integers(3, 11, int(new.sum()))  # launched 3..10 weeks before the end
    stop[dormant] = h - rng.integers(15, 22, int(dormant.sum()))  # stopped ~4 months before
    stop[obsolete] = h - rng.integers(39, 66, int(obsolete.sum()))  # 9..15 months before
    steady = rng.permutation(np.flatnonzero((life == 0) & (pattern == 0)))
    n_seasonal = min(len(steady), round(_SEASONAL_SHARE * n))
    n_outlier = min(len(steady) - n_seasonal, round(_OUTLIER_SHARE * n))
    seasonal, outlier = np.zeros(n, bool), np.zeros(n, bool)
    seasonal[steady[:n_seasonal]] = True
    outlier[steady[n_seasonal : n_seasonal + n_outlier]] = True
    return {"life": life, "start": start, "stop": stop, "seasonal": seasonal, "outlier": outlier}


def _christmas_profile(peak: Arr) -> Arr:
    """Products x weeks multipliers: 1 + peak at mid-December, a bell of sd 4 weeks."""
    mid_week = (np.arange(_WEEKS) * 7 + 3.5) / 365.25  # years since 2024-01-01
    weeks_off = ((mid_week - _PEAK_DAY / 365.25 + 0.5) % 1.0 - 0.5) * 52.18
    bell: Arr = np.exp(-0.5 * (weeks_off / 4.0) ** 2)
    return 1.0 + peak[:, None] * bell[None, :]


def _demand_cells(
    rng: Rng, pattern: Arr, design: dict[str, Arr], n_lines: int
) -> tuple[Arr, Arr, Arr, Arr, Arr]:
    """Active product-weeks: (product, week, total quantity, line count, outlier quantity),
    sorted by week; a product is active from its designed start to its stop week only."""
    n = len(pattern)
    start, stop = design["start"], design["stop"]
    spiky = (pattern == 1) | (pattern == 3)
    p_active = np.where(pattern >= 2, rng.uniform(0.28, 0.45, n), 1.0)
    active = rng.random((n, _WEEKS)) < p_active[:, None]
    weeks = np.arange(_WEEKS)
    active &= (weeks >= start[:, None]) & (weeks <= stop[:, None])
    # The first and last designed week are active: the designed lifecycle holds exactly.
    active[np.arange(n), start] = active[np.arange(n), stop] = True
    cv2 = np.where(pattern == 0, rng.uniform(0.03, 0.08, n), rng.uniform(0.05, 0.15, n))
    cv2 = np.where(design["seasonal"], cv2 * 0.6, cv2)[:, None]  # a clear annual profile
    size = rng.gamma(1.0 / cv2, cv2, (n, _WEEKS))
    # Peaks 2.5..3.5x the base keep a seasonal item smooth (size CV² about 0.15..0.35 < 0.49).
    profile = _christmas_profile(rng.uniform(1.5, 2.5, n))
    size = np.where(design["seasonal"][:, None], size * profile, size)
    # Spiky sizes: a steady base with 15..30 % of weeks 6..10x higher; a mixture keeps the sample
    # CV² well above 0.49 even over ~30 active weeks (a lognormal's sample CV² often falls below).
    share = rng.uniform(0.15, 0.30, n)[:, None]
    mult = rng.uniform(5.0, 9.0, n)[:, None]
    spikes = rng.gamma(4.0, 0.25, (n, _WEEKS)) * (1 + mult * (rng.random((n, _WEEKS)) < share))
    size = np.where(spiky[:, None], spikes / (1 + mult * share), size)

    week, prod = np.nonzero(active.T)
    if len(prod) > n_lines:  # too few lines for every active product-week: drop some at random
        forced = np.flatnonzero((week == start[prod]) | (week == stop[prod]))
        if len(forced) <= n_lines:  # but keep each product's first and last week
            free = np.setdiff1d(np.arange(len(prod)), forced)
            extra = rng.choice(free, n_lines - len(forced), replace=False)
            keep = np.sort(np.concatenate([forced, extra]))
        else:
            keep = np.sort(rng.choice(len(prod), n_lines, replace=False))
        week, prod = week[keep], prod[keep]
    size_c = size[prod, week]
    popularity = rng.lognormal(0.0, 1.0, n)
    weight = popularity[prod] * _PATTERN_LINES[pattern[prod]] * np.sqrt(size_c)
    lines = 1 + rng.multinomial(n_lines - len(prod), weight / weight.sum())
    per_week = np.bincount(prod, lines, n) / np.maximum(np.bincount(prod, minlength=n), 1)
    units = _PATTERN_UNITS[pattern] * rng.lognormal(0.0, 0.4, n) * per_week
    total = np.maximum(1.0, np.rint(size_c * units[prod]))
    lines = np.minimum(lines, total).astype(np.int64)
    deficit = n_lines - int(lines.sum())
    while deficit > 0:  # give the lines lost to the cap to the cells with the most room
        room = total - lines
        if not room.any():
            total += 1.0
            continue
        cand = np.flatnonzero(room > 0)
        take = (
            cand if len(cand) <= deficit else cand[np.argsort(-room[cand], kind="stable")[:deficit]]
        )
        lines[take] += 1
        deficit -= len(take)
    return prod, week, total, lines, _outliers(rng, prod, week, total, design["outlier"])


def _outliers(rng: Rng, prod: Arr, week: Arr, total: Arr, outlier: Arr) -> Arr:
    """Per cell, the extra quantity of one huge order: 4..6x the product's mean weekly total,
    once, in a week away from the ends, for each outlier product (0 elsewhere)."""
    n = len(outlier)
    bump = np.zeros(len(prod))
    items = np.flatnonzero(outlier)
    if not len(items) or not len(prod):
        return bump
    mean = np.bincount(prod, total, n) / np.maximum(np.bincount(prod, minlength=n), 1)
    key = week * n + prod  # cells are sorted by week, then product
    want = rng.integers(8, _WEEKS - 8, len(items)) * n + items
    idx = np.minimum(np.searchsorted(key, want), len(key) - 1)
    hit = key[idx] == want  # a cell dropped for lack of lines has no outlier
    bump[idx[hit]] = np.rint(rng.uniform(4.0, 6.0, int(hit.sum())) * mean[items[hit]])
    return bump


def _order_headers(rng: Rng, kind: Arr, n_lines: int) -> tuple[Arr, Arr]:
    """Candidate orders (customer, day) from each type's rhythm, sorted by day and customer."""
    parts: list[tuple[Arr, Arr]] = []
    key = np.flatnonzero(kind == 0)
    day = (7 * np.arange(_WEEKS)[None, :] + rng.integers(0, 3, len(key))[:, None]).ravel()
    day += (rng.random(len(day)) < 0.02) & (day + 1 < _DAYS)  # a rare holiday shift
    parts.append((np.repeat(key, _WEEKS), day))

    dist = np.flatnonzero(kind == 1)
    period = rng.choice(np.array([14, 21, 28]), len(dist))
    phase = rng.integers(0, period)
    count = (_DAYS - 1 - phase) // period + 1
    day = np.repeat(phase, count) + _ranks(count) * np.repeat(period, count)
    day += np.rint(rng.normal(0.0, 2.0, len(day))).astype(np.int64)
    keep = rng.random(len(day)) >= 0.05
    parts.append((np.repeat(dist, count)[keep], np.clip(day[keep], 0, _DAYS - 1)))

    web = np.flatnonzero(kind == 2)
    rate = np.clip(rng.lognormal(np.log(0.4), 0.8, len(web)), 0.03, 5.0)
    # Fewer than ~50 lines per customer: web shops order less often, so that candidate orders
    # (about 47 per customer at full rate) stay below the lines that could fill them.
    rate *= min(1.0, n_lines / (50.0 * len(kind)))
    count = rng.poisson(rate * _WEEKS)
    parts.append((np.repeat(web, count), rng.integers(0, _DAYS, int(count.sum()))))

    proj = np.flatnonzero(kind == 3)
    count = np.minimum(1 + rng.poisson(3.0, len(proj)), 8)
    span = rng.integers(60, 366, len(proj))
    start = rng.integers(0, _DAYS - span)
    offset = (rng.random(int(count.sum())) * np.repeat(span, count)).astype(np.int64)
    parts.append((np.repeat(proj, count), np.repeat(start, count) + offset))

    cust = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    order = np.lexsort((cust, day))
    return cust[order], day[order]


def _assign_lines(
    rng: Rng, line_week: Arr, line_pattern: Arr, order_week: Arr, weights: Arr
) -> Arr:
    """For each line, an order of the same week, with probability proportional to its weight.

    ``weights[o, pattern]`` is order o's draw weight for lines of that pattern; every week has
    orders (key accounts order every week), so each line finds one.
    """
    bounds = np.searchsorted(order_week, np.arange(_WEEKS + 1))
    out = np.empty(len(line_week), np.int64)
    for pattern in range(4):  # one vector pass per pattern
        sel = np.flatnonzero(line_pattern == pattern)
        cum = np.concatenate([[0.0], np.cumsum(weights[:, pattern])])
        lo_i, hi_i = bounds[line_week[sel]], bounds[line_week[sel] + 1]
        lo, hi = cum[lo_i], cum[hi_i]
        pick = np.searchsorted(cum, lo + rng.random(len(sel)) * (hi - lo), side="right") - 1
        out[sel] = np.clip(pick, lo_i, hi_i - 1)
    return out


def _order_dates(rng: Rng, kind: Arr, day: Arr) -> dict[str, Arr]:
    """Per order: channel, rush and the dates (``_NULL`` when after the horizon) as int32."""
    n = len(kind)
    rush = rng.random(n) < _RUSH[kind]
    lead = rng.integers(_REQUESTED_LEAD[kind, 0], _REQUESTED_LEAD[kind, 1])
    requested = day + np.where(rush, rng.integers(1, 3, n), lead)
    haggle = np.where((kind == 3) & (rng.random(n) < 0.6), rng.integers(0, 8, n), 0)
    promised = requested + haggle + (rush & (rng.random(n) < 0.3))
    transit = rng.integers(1, 4, n)
    late = np.where(rng.random(n) < _LATE[kind], rng.integers(1, 8, n) * (1 + (kind == 3)), 0)
    ship = np.maximum(day, promised - transit) + late
    delivered = ship + transit + (rng.random(n) < 0.05)
    dates = {
        "order_date": day,
        "requested_date": requested,
        "promised_date": promised,
        "ship_date": np.where(ship < _DAYS, ship, _NULL),
        "delivered_date": np.where(delivered < _DAYS, delivered, _NULL),
    }
    return {
        **{k: v.astype(np.int32) for k, v in dates.items()},
        "channel": np.where((kind != 3) & (rng.random(n) < 0.03), 3, kind).astype(np.int8),
        "rush": rush,
    }


def _sales_lines(
    rng: Rng,
    cells: tuple[Arr, ...],
    pattern: Arr,
    kind: Arr,
    home: Arr,
    n_loc: int,
    prices: tuple[Arr, Arr],
) -> tuple[dict[str, Arr], dict[str, Arr]]:
    """Sales lines (columns of codes, sorted by order) and their orders (sorted by date).

    ``home`` is each customer's DC; ``prices`` each product's list price and unit cost.
    """
    headers = _order_headers(rng, kind, int(cells[3].sum()))
    return _lines_of_orders(rng, cells, headers, pattern, kind, home, n_loc, prices)


def _lines_of_orders(
    rng: Rng,
    cells: tuple[Arr, ...],
    headers: tuple[Arr, Arr],
    pattern: Arr,
    kind: Arr,
    home: Arr,
    n_loc: int,
    prices: tuple[Arr, Arr],
) -> tuple[dict[str, Arr], dict[str, Arr]]:
    """`_sales_lines` for given candidate orders (customer, day; sorted by day): every cell's
    week must have orders. The chunked writer calls it one week at a time."""
    cell_prod, cell_week, cell_total, cell_lines, cell_bump = cells
    list_price, unit_cost = prices
    o_cust, o_day = headers
    o_kind = kind[o_cust]
    size = _ORDER_LINES[o_kind] * rng.lognormal(0.0, 0.3, len(o_kind))
    line_cell = np.repeat(np.arange(len(cell_prod)), cell_lines)
    prod = cell_prod[line_cell]
    week = cell_week[line_cell]
    del line_cell
    order = _assign_lines(rng, week, pattern[prod], o_day // 7, size[:, None] * _AFFINITY[o_kind])
    del week
    units = _LINE_UNITS[o_kind[order]] * rng.lognormal(0.0, 0.4, len(order))
    qty = _split(cell_total, cell_lines, units)
    del units
    # An outlier is one huge line: the cell's first line carries the extra quantity.
    hit = np.flatnonzero(cell_bump > 0)
    first = (np.cumsum(cell_lines) - cell_lines)[hit]
    qty[first] += cell_bump[hit]
    outlier = np.zeros(len(qty), np.float32)
    outlier[first] = cell_bump[hit]
    used = np.bincount(order, minlength=len(o_cust)) > 0  # orders left without lines are dropped
    order = (np.cumsum(used) - 1)[order].astype(np.int32)
    by_order = np.argsort(order, kind="stable")
    order, prod, qty = order[by_order], prod[by_order].astype(np.int32), qty[by_order]
    outlier = outlier[by_order]
    del by_order
    orders = {"customer": o_cust[used], "kind": o_kind[used]}
    orders |= _order_dates(rng, orders["kind"], o_day[used])
    n = len(order)
    cust = orders["customer"][order]
    loc = home[cust]
    if n_loc > 1:  # a few lines ship from another DC
        other = rng.random(n) < 0.04
        loc = np.where(other, (loc + rng.integers(1, n_loc, n)) % n_loc, loc)
    line_kind = orders["kind"][order]
    price = list_price[prod] * (1.0 - _DISCOUNT[line_kind]) * rng.normal(1.0, 0.02, n)
    lines = {
        "order": order,
        "line_no": (_ranks(np.bincount(order, minlength=len(orders["kind"]))) + 1).astype(np.int32),
        "customer": cust.astype(np.int32),
        "product": prod,
        "location": loc.astype(np.int8),
        **{c: orders[c][order] for c in ("channel", *_DATE_COLS)},
        "quantity": qty,
        "unit_price": np.maximum(0.01, np.round(price, 2)),
        "unit_cost": unit_cost[prod],
        "rush": orders["rush"][order],
        "outlier": outlier,  # the injected extra quantity (truth only, not written)
    }
    return lines, orders


def _credit_notes(rng: Rng, lines: dict[str, Arr], n_cn: int) -> dict[str, Arr]:
    """Credit notes (date order) for part of the quantity of ``n_cn`` random sales lines.

    The sales lines grow by the credited amount, so net weekly demand stays as designed.
    """
    n_orders = int(lines["order"][-1]) + 1
    src = rng.choice(len(lines["quantity"]), n_cn, replace=False)
    credit = 1.0 + np.floor(rng.random(n_cn) * lines["quantity"][src] * 0.5)
    lines["quantity"][src] += credit
    day = lines["order_date"][src]
    day = np.minimum(day + rng.integers(0, 7 - day % 7), _DAYS - 1).astype(np.int32)  # same week
    by_day = np.argsort(day, kind="stable")
    cn = {k: v[src][by_day] for k, v in lines.items()}
    cn |= {
        "order": (n_orders + np.arange(n_cn)).astype(np.int32),
        "line_no": np.ones(n_cn, np.int32),
        "order_date": day[by_day],
        "quantity": -credit[by_day],
        "rush": np.zeros(n_cn, bool),
        "outlier": np.zeros(n_cn, np.float32),
    }
    for col in _DATE_COLS[1:]:
        cn[col] = np.full(n_cn, _NULL, np.int32)
    return cn


def _bad_rows(
    rng: Rng,
    good: dict[str, Arr],
    n_bad: int,
    n_orders: int,
    masters: tuple[int, int],
    reasons: Arr | None = None,
) -> tuple[dict[str, Arr], Arr, Arr]:
    """Copies of sales lines with one defect each: (columns, good row to go before, reason).

    ``masters`` are the numbers of customers and products: codes from there on are unknown.
    ``reasons`` (codes, ``n_bad`` of them) default to equal shares in random order.
    """
    customers, products = masters
    n_good = len(good["quantity"])
    src = rng.choice(np.flatnonzero(good["order"] < n_orders), n_bad, replace=False)
    if reasons is None:
        reasons = rng.permutation(np.arange(n_bad) % len(_BAD_REASONS))
    reason = reasons
    bad = {k: v[src] for k, v in good.items()}
    dup = reason == _BAD_REASONS.index(Reason.DUPLICATE_KEY)
    # Every other defect gets a fresh key: the next line numbers after the order's last line.
    last_line = np.bincount(good["order"], minlength=n_orders)  # sales lines are numbered 1..n
    fresh = np.flatnonzero(~dup)
    fresh = fresh[np.argsort(bad["order"][fresh], kind="stable")]
    o = bad["order"][fresh]
    starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
    rank = np.arange(len(o)) - np.repeat(starts, np.diff(np.r_[starts, len(o)]))
    bad["line_no"][fresh] = last_line[o] + 1 + rank

    def rows(r: str) -> Arr:
        return np.flatnonzero(reason == _BAD_REASONS.index(Reason(r)))

    missing = rows("missing_required")
    for i, col in enumerate(("customer", "product", "quantity", "unit_price")):
        bad[col][missing[i::4]] = -1 if i < 2 else np.nan
    zero = rows("zero_quantity")
    bad["quantity"][zero] = 0.0
    bad["delivered_quantity"][zero] = np.minimum(bad["delivered_quantity"][zero], 0.0)
    neg = rows("negative_quantity")
    bad["quantity"][neg] *= -1.0
    bad["delivered_quantity"][neg] = np.nan
    bad["unit_price"][rows("bad_price")] *= -1.0
    early = rows("date_out_of_range")
    shift = bad["order_date"][early] + rng.integers(1, 61, len(early))  # to 1..60 days before
    for col in _DATE_COLS:
        days = bad[col][early]
        bad[col][early] = np.where(days == _NULL, _NULL, days - shift)
    unknown = rows("unknown_customer")
    bad["customer"][unknown] = customers + np.arange(len(unknown))
    unknown = rows("unknown_product")
    bad["product"][unknown] = products + np.arange(len(unknown))
    slot = rng.integers(0, n_good + 1, n_bad)
    slot[dup] = rng.integers(src[dup] + 1, n_good + 1)  # a duplicate comes after its original
    return bad, slot, reason


def _interleave(good: dict[str, Arr], bad: dict[str, Arr], slot: Arr) -> tuple[dict[str, Arr], Arr]:
    """Bad row j goes before good row ``slot[j]``; returns the columns and the bad rows' places.

    Consumes ``good`` column by column to keep the peak memory down.
    """
    n_good, n_bad = len(good["quantity"]), len(slot)
    order = np.argsort(slot, kind="stable")
    bad_pos = slot[order] + np.arange(n_bad)
    good_pos = np.arange(n_good) + np.searchsorted(slot[order], np.arange(n_good), side="right")
    out: dict[str, Arr] = {}
    for k in list(good):
        v = good.pop(k)
        out[k] = np.empty(n_good + n_bad, v.dtype)
        out[k][good_pos] = v
        out[k][bad_pos] = bad[k][order]
    position = np.empty(n_bad, np.int64)
    position[order] = bad_pos
    return out, position


# ---------------------------------------------------------------- derived tables


def _shipments(
    rng: Rng,
    lines: dict[str, Arr],
    orders: dict[str, Arr],
    unit_weight: Arr,
    n_loc: int,
    ids: dict[str, pa.Array],
    numbers: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """One shipment per shipped (order, ship-from DC); freight by mode and weight, rush x1.6.

    ``numbers``: the first shipment number and the id width (default 1 and the count's)."""
    shipped = lines["ship_date"] != _NULL
    order = lines["order"][shipped].astype(np.int64)
    kilos = lines["delivered_quantity"][shipped] * unit_weight[lines["product"][shipped]]
    keys, inverse = np.unique(order * n_loc + lines["location"][shipped], return_inverse=True)
    weight = np.round(np.bincount(inverse, kilos), 3)
    s_order = keys // n_loc
    mode = (weight > 30).astype(np.int64) + (weight > 2000)
    freight: Arr = np.array([5.5, 45.0, 650.0])[mode] + np.array([0.9, 0.12, 0.03])[mode] * weight
    freight *= np.where(orders["rush"][s_order], 1.6, 1.0) * rng.lognormal(0.0, 0.1, len(keys))
    n = len(keys)
    first, width = numbers or (1, _width(n, 7))
    return _frame(
        shipment_id=_ids("SH", np.arange(first, first + n), width),
        order_id=_strings(ids["order"], s_order),
        ship_date=_dates(orders["ship_date"][s_order]),
        freight_cost=np.round(freight, 2),
        mode=_strings(("parcel", "ltl", "ftl"), mode),
        weight=weight,
        location_id=_strings(ids["location"], keys % n_loc),
    )


def _invoices(
    rng: Rng, lines: dict[str, Arr], orders: dict[str, Arr], ids: dict[str, Any], first: int = 1
) -> pd.DataFrame:
    """One invoice per shipped order (``INV`` + the order number), paid by the type's habit;
    ``first`` is the number of the first order in ``orders``."""
    value = np.nan_to_num(lines["delivered_quantity"] * lines["unit_price"])
    amount = np.bincount(lines["order"], value, minlength=len(orders["kind"]))
    inv = np.flatnonzero(orders["ship_date"] != _NULL)
    kind, day = orders["kind"][inv], orders["ship_date"][inv].astype(np.int64)
    due = day + _TERMS[kind].astype(np.int64)
    late = np.rint(rng.normal(_PAY_AFTER_DUE[kind, 0], _PAY_AFTER_DUE[kind, 1]))
    paid = np.maximum(day, due + late.astype(np.int64))
    unpaid = (paid >= _DAYS) | ((kind == 3) & (rng.random(len(inv)) < 0.02))
    return _frame(
        invoice_id=_ids("INV", inv + first, ids["width"]),
        customer_id=_strings(ids["customer"], orders["customer"][inv]),
        invoice_date=_dates(day),
        due_date=_dates(due),
        amount=np.round(amount[inv], 2),
        paid_date=_dates(np.where(unpaid, _NULL, paid)),
    )


def _returns(
    rng: Rng,
    lines: dict[str, Arr],
    orders: dict[str, Arr],
    ids: dict[str, Any],
    numbers: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Returns of delivered lines within 4 weeks of delivery, most of them from web shops.

    ``numbers``: the first return number and the id width (default 1 and the count's)."""
    kind = orders["kind"][lines["order"]]
    delivered = np.nan_to_num(lines["delivered_quantity"])
    hit = (lines["delivered_date"] != _NULL) & (delivered >= 1)
    idx = np.flatnonzero(hit & (rng.random(len(kind)) < _RETURNED[kind]))
    when = lines["delivered_date"][idx] + rng.integers(1, 29, len(idx))
    idx, when = idx[when < _DAYS], when[when < _DAYS]
    qty = np.minimum(delivered[idx], 1 + np.floor(rng.random(len(idx)) * delivered[idx] * 0.5))
    web = np.array([0.15, 0.20, 0.50, 0.10, 0.05])  # probabilities of _RETURN_REASONS
    other = np.array([0.35, 0.20, 0.05, 0.30, 0.10])
    reason = _pick(rng, np.where((kind[idx] == 2)[:, None], web, other))
    n = len(idx)
    first, width = numbers or (1, _width(n, 7))
    return _frame(
        return_id=_ids("RT", np.arange(first, first + n), width),
        order_id=_strings(ids["order"], lines["order"][idx]),
        product_id=_strings(ids["product"], lines["product"][idx]),
        quantity=qty,
        return_date=_dates(when),
        reason=_strings(_RETURN_REASONS, reason),
    )


def _inventory(rng: Rng, weekly: Arr, loc_share: Arr, ids: dict[str, Any]) -> pd.DataFrame:
    """Every product at every DC: 0..6 weeks of cover on hand (5 % out of stock), some on order."""
    mean = (weekly[:, None] * loc_share[None, :]).ravel()
    n, n_loc = len(mean), len(loc_share)
    return _frame(
        product_id=_strings(ids["product"], np.repeat(np.arange(len(weekly)), n_loc)),
        location_id=_strings(ids["location"], np.tile(np.arange(n_loc), len(weekly))),
        on_hand=np.rint(mean * rng.uniform(0.0, 6.0, n)) * (rng.random(n) >= 0.05),
        on_order=np.rint(mean * rng.uniform(0.0, 4.0, n)) * (rng.random(n) < 0.5),
        as_of=_dates(np.full(n, _DAYS - 1)),
    )
