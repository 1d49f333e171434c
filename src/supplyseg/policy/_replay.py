"""The replay kernel of `supplyseg.policy.simulate`: items x buckets, vectorised over items.

`replay` steps through the buckets once and updates every item's state with numpy; `replay_loop`
is the same bookkeeping written item by item in plain Python, the reference the tests hold the
vectorised kernel to (bit for bit) and the benchmark's baseline. The conventions are those
`supplyseg.policy.simulate` documents; in short, in every bucket ``t``:

1. receipts due at the start of ``t`` arrive (the warm-start pipeline, then real orders);
2. the bucket's net demand ``y`` leaves (backordered when short; ``y < 0`` returns to stock);
3. at the end of a review bucket the inventory position is checked and an order placed; it
   arrives at the start of bucket ``t + 1 + L``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from supplyseg.policy._codes import BoolArray, FloatArray, IntArray

__all__ = ["MIN_MAX", "ORDER_UP_TO", "REORDER_Q", "Outcome", "Plan", "replay", "replay_loop"]

REORDER_Q, ORDER_UP_TO, MIN_MAX = 0, 1, 2
"""Replenishment logic per item: (s, nQ) (``rop_eoq``), (R, S) (``order_up_to``), (s, S)
(``base_stock``)."""


@dataclass
class Plan:
    """Per-item replay inputs (arrays of one length): logic code, reorder point ``s``, lot
    ``q``, order-up-to level ``big_s``, review period and lead time in whole buckets, the
    pipeline rate ``d`` per bucket and the starting inventory position ``ip0``."""

    logic: IntArray
    s: FloatArray
    q: FloatArray
    big_s: FloatArray
    review: IntArray
    lead: IntArray
    d: FloatArray
    ip0: FloatArray


@dataclass
class Outcome:
    """Per-item totals over the window."""

    demand: FloatArray  # sum of positive net demand
    short: FloatArray  # demand not met from stock in the bucket it occurred
    on_hand: FloatArray  # sum over buckets of the time-average on hand
    stockout_buckets: IntArray
    orders: IntArray
    cycles: IntArray  # replenishment cycles closed by an order's arrival
    failed: IntArray  # of which had a stockout


def _on_hand_area(a: FloatArray, b: FloatArray) -> FloatArray:
    """Time-average of max(x, 0) while x moves linearly from ``a`` to ``b`` in one bucket."""
    pa, pb = np.maximum(a, 0.0), np.maximum(b, 0.0)
    diff = a - b
    same = diff == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        sloped = (pa * pa - pb * pb) / (2.0 * np.where(same, 1.0, diff))
    area: FloatArray = np.where(same, pa, sloped)
    return area


_BLOCK = 4096  # items replayed together: their state stays in the CPU cache across buckets


def _zeros(n: int) -> Outcome:
    return Outcome(
        np.zeros(n), np.zeros(n), np.zeros(n), *(np.zeros(n, dtype=np.int64) for _ in range(4))
    )


def replay(demand: FloatArray, plan: Plan) -> Outcome:
    """Replay ``demand`` (buckets x items, net demand per bucket) against ``plan``."""
    n = demand.shape[1]
    out = _zeros(n)
    for lo in range(0, n, _BLOCK):
        part = slice(lo, min(lo + _BLOCK, n))
        sub = Plan(**{k: getattr(plan, k)[part] for k in Plan.__dataclass_fields__})
        got = _replay_block(demand[:, part], sub)
        for name in Outcome.__dataclass_fields__:
            getattr(out, name)[part] = getattr(got, name)
    return out


def _replay_block(demand: FloatArray, plan: Plan) -> Outcome:
    t_len, n = demand.shape
    lead, d = plan.lead, plan.d
    ring = np.minimum(lead, t_len)  # arrivals after the window never matter
    width = int(ring.max(initial=0)) + 2  # pending receipts: slot (t + 1 + L) % width
    last_pipe = int(lead.max(initial=0))
    due = np.zeros((width, n))
    ni = plan.ip0 - d * lead
    ip = plan.ip0.copy()
    out = _zeros(n)
    flag = np.zeros(n, dtype=bool)  # a stockout since the last arrival
    is_q = plan.logic == REORDER_Q
    q_ok = np.where(is_q, plan.q, 1.0)
    # One test for every logic: (R, S) orders when ip < S, i.e. ip <= the float just below S.
    threshold = np.where(plan.logic == ORDER_UP_TO, np.nextafter(plan.big_s, -np.inf), plan.s)
    every = plan.review == 1
    for t in range(t_len):
        slot = t % width
        real = due[slot]
        arrived: BoolArray = real > 0.0
        start = ni + np.where(t <= lead, d, 0.0) if 1 <= t <= last_pipe else ni
        start = start + real
        due[slot] = 0.0
        y = demand[t]
        pos = np.maximum(y, 0.0)
        short = np.maximum(pos - np.maximum(start, 0.0), 0.0)
        ni = start - y
        ip -= y
        out.demand += pos
        out.short += short
        out.on_hand += _on_hand_area(start, ni)
        out_of_stock = short > 0.0
        out.stockout_buckets += out_of_stock
        out.cycles += arrived
        out.failed += arrived & flag
        flag &= ~arrived
        flag |= out_of_stock
        review = every | ((t + 1) % plan.review == 0)
        at = np.flatnonzero(review & (ip <= threshold))
        if at.size:
            ip_at, q_at = ip[at], q_ok[at]
            qty = np.where(
                is_q[at],
                (np.floor((plan.s[at] - ip_at) / q_at) + 1.0) * q_at,
                plan.big_s[at] - ip_at,
            )
            due[(t + 1 + ring[at]) % width, at] += qty
            ip[at] = ip_at + qty
            out.orders[at] += 1
    return out


def replay_loop(demand: FloatArray, plan: Plan) -> Outcome:
    """`replay` item by item in plain Python: the reference implementation."""
    t_len, n = demand.shape
    out = _zeros(n)
    for i in range(n):
        logic, s, q = int(plan.logic[i]), float(plan.s[i]), float(plan.q[i])
        big_s, review = float(plan.big_s[i]), int(plan.review[i])
        lead, d = int(plan.lead[i]), float(plan.d[i])
        ip = float(plan.ip0[i])
        ni = ip - d * lead
        receipts: dict[int, float] = {}
        flag = False
        dem = short_sum = area_sum = 0.0
        stockouts = orders = cycles = failed = 0
        for t in range(t_len):
            real = receipts.pop(t, 0.0)
            start = ni + (d if 1 <= t <= lead else 0.0) + real
            y = float(demand[t, i])
            pos = max(y, 0.0)
            short = max(pos - max(start, 0.0), 0.0)
            ni = start - y
            ip = ip - y
            dem += pos
            short_sum += short
            a, b = max(start, 0.0), max(ni, 0.0)
            area_sum += a if start == ni else (a * a - b * b) / (2.0 * (start - ni))
            if real > 0.0:
                cycles += 1
                failed += flag
                flag = False
            if short > 0.0:
                stockouts += 1
                flag = True
            if (t + 1) % review:
                continue
            if logic == ORDER_UP_TO:
                trigger, qty = ip < big_s, big_s - ip
            elif logic == REORDER_Q:
                trigger, qty = ip <= s, (math.floor((s - ip) / q) + 1.0) * q
            else:
                trigger, qty = ip <= s, big_s - ip
            if trigger:
                receipts[t + 1 + lead] = receipts.get(t + 1 + lead, 0.0) + qty
                ip = ip + qty
                orders += 1
        out.demand[i], out.short[i], out.on_hand[i] = dem, short_sum, area_sum
        out.stockout_buckets[i], out.orders[i] = stockouts, orders
        out.cycles[i], out.failed[i] = cycles, failed
    return out
