"""Benchmark of EDI intake: a 10,000-line X12 850 interchange (and the same as EDIFACT ORDERS).

Builds one interchange of ``--lines`` PO1 lines in transaction sets of ``--per-set`` lines
(an order holds at most 1000 lines), against a synthetic policy of 500 products and one
customer, then times

1. ``parse + map + validate``: `read_x12`, envelope checks, `purchase_order`, the trading
   partner's cross-reference and units (`mapped_order`), `OrderIn` and `validate_order` with
   the segment rules, in process (no database);
2. the same for EDIFACT (pydifact's tokenizer, UNT/UNZ checks);
3. ``receive_interchange`` end to end on a fresh SQLite file: the above plus `submit_orders`
   (storage, audit, outbox) and the 997 and 855 written back.

    .venv/bin/python bench/edi.py              # issue size: 10k lines
    .venv/bin/python bench/edi.py --lines 2000 # while developing

Target (issue): a 10k-line interchange parsed and validated in <= 5 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from supplyseg.edi import (
    EDIFACT_ORDERS,
    X12_850,
    TradingPartner,
    mapped_order,
    purchase_order,
    read_edifact,
    read_x12,
)
from supplyseg.policy.document import PolicyVersion
from supplyseg.service.commands import publish_policy
from supplyseg.service.db import engine_for, session_factory
from supplyseg.service.edi_intake import receive_interchange
from supplyseg.service.models import TradingPartnerRow
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.schemas import OrderIn
from supplyseg.service.security import Principal
from supplyseg.service.settings import Settings
from supplyseg.service.validation import CompiledPolicy, validate_order

PRODUCTS = 500


class _NoHistory:
    """Order facts of an empty order book (the in-process part has no database)."""

    def open_order_value(self, customer_id: str) -> float:
        return 0.0

    def po_in_use(self, customer_id: str, po_number: str) -> bool:
        return False


def policy() -> PolicyVersion:
    """One segment, one customer, ``PRODUCTS`` products at 2.00."""
    return PolicyVersion.model_validate(
        {
            "version_id": "bench-edi",
            "created": "2026-01-01T00:00:00+00:00",
            "source_run_id": "bench",
            "config_hash": "bench",
            "segments": {
                "standard": {"moq": 1, "order_multiple": 1, "notify": ["accepted", "exception"]}
            },
            "customers": [{"customer_id": "C1", "segment": "standard", "credit_limit": None}],
            "products": [{"product_id": f"P{i:04d}", "list_price": 2.0} for i in range(PRODUCTS)],
        }
    )


PARTNER = TradingPartner(
    partner_id="bench",
    standard="x12",
    sender_qualifier="ZZ",
    sender_id="BENCHBUYER",
    customer_id="C1",
    part_numbers={f"B-{i:04d}": f"P{i:04d}" for i in range(PRODUCTS)},
    units={"EA": 1, "PCE": 1, "CA": 12},
)


def x12_interchange(lines: int, per_set: int) -> str:
    """An 004010 interchange of ``lines`` PO1 lines, ``per_set`` per transaction set."""
    isa = (
        "ISA*00*          *00*          *ZZ*BENCHBUYER     *ZZ*SUPPLYSEG      *260302*1200*U"
        "*00401*000000001*0*P*>~\n"
    )
    out = [isa, "GS*PO*BENCHBUYER*SUPPLYSEG*20260302*1200*1*X*004010~\n"]
    n_sets = 0
    for start in range(0, lines, per_set):
        n_sets += 1
        cn = f"{n_sets:04d}"
        body = [
            f"BEG*00*SA*BENCH-{n_sets}**20260302~",
            "DTM*002*20260316~",
            "N1*ST*Main*92*C1-MAIN~",
        ]
        count = min(per_set, lines - start)
        for k in range(count):
            i = start + k
            if i % 2:
                body.append(f"PO1*{k + 1}*2*CA*24**BP*B-{i % PRODUCTS:04d}~")
            else:
                body.append(f"PO1*{k + 1}*10*EA*2**VP*P{i % PRODUCTS:04d}*BP*B-{i % PRODUCTS:04d}~")
        body.append(f"CTT*{count}~")
        out.append(f"ST*850*{cn}~\n" + "\n".join(body) + f"\nSE*{len(body) + 2}*{cn}~\n")
    out += [f"GE*{n_sets}*1~\n", "IEA*1*000000001~\n"]
    return "".join(out)


def edifact_interchange(lines: int, per_set: int) -> str:
    """The same orders as ORDERS D.96A messages (with UNA)."""
    out = ["UNA:+.? '\n", "UNB+UNOC:3+BENCHBUYER:ZZZ+SUPPLYSEG:ZZZ+260302:1200+IC1'\n"]
    n = 0
    for start in range(0, lines, per_set):
        n += 1
        body = [f"BGM+220+BENCH?+{n}+9'", "DTM+137:20260302:102'", "DTM+2:20260316:102'"]
        count = min(per_set, lines - start)
        for k in range(count):
            i = start + k
            body += [f"LIN+{k + 1}++P{i % PRODUCTS:04d}:SA'", "QTY+21:10:PCE'", "PRI+AAA:2'"]
        body += ["UNS+S'", f"CNT+2:{count}'"]
        out.append(
            f"UNH+{n}+ORDERS:D:96A:UN'\n" + "\n".join(body) + f"\nUNT+{len(body) + 2}+{n}'\n"
        )
    out.append(f"UNZ+{n}+IC1'\n")
    return "".join(out)


def in_process(text: str, standard: str, compiled: CompiledPolicy) -> tuple[int, int]:
    """Parse, map and validate every order; returns (orders, lines)."""
    partner = PARTNER if standard == "x12" else PARTNER.model_copy(update={"standard": "edifact"})
    if standard == "x12":
        ic = read_x12(text)
        units = [ts for g in ic.groups for ts in g.transaction_sets]
        assert not ic.errors
        assert all(not ts.errors for ts in units)
        pos = [purchase_order(X12_850, ts.segments, ts.control_number) for ts in units]
    else:
        ie = read_edifact(text)
        assert not ie.errors
        assert all(not m.errors for m in ie.messages)
        pos = [purchase_order(EDIFACT_ORDERS, m.segments, m.reference) for m in ie.messages]
    n_lines = 0
    for po, errors in pos:
        assert po is not None, errors[:2]
        mapped, errors = mapped_order(po, partner)
        assert mapped is not None, errors[:2]
        order = OrderIn.model_validate(mapped.order)
        v = validate_order(order, compiled, _NoHistory())
        assert v.status == "accepted", v.findings[:3]
        n_lines += len(order.lines)
    return len(pos), n_lines


def end_to_end(text: str, folder: Path) -> tuple[float, str]:
    """``receive_interchange`` on a fresh SQLite database; returns (seconds, status)."""
    url = f"sqlite:///{folder / 'bench-edi.db'}"
    publish_policy(url, policy())
    engine = engine_for(Settings(db_url=url))
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with sessions() as s:
        s.add(TradingPartnerRow(**PARTNER.model_dump(mode="json"), created_at=now, updated_at=now))
        s.commit()
    principal = Principal("bench", "submitter", None)
    with sessions() as s:
        t = time.perf_counter()
        receipt = receive_interchange(s, PolicyCache(), text, "x12", principal=principal)
        elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, receipt.status


def main() -> None:
    """Print the timings and whether the target holds."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--per-set", type=int, default=500)
    args = ap.parse_args()
    compiled = CompiledPolicy.from_document(policy())
    x12 = x12_interchange(args.lines, args.per_set)
    edifact = edifact_interchange(args.lines, args.per_set)
    print(f"X12 interchange: {args.lines:,} lines, {len(x12) / 1e6:.2f} MB")
    for standard, text in (("x12", x12), ("edifact", edifact)):
        t = time.perf_counter()
        orders, lines = in_process(text, standard, compiled)
        elapsed = time.perf_counter() - t
        print(
            f"{standard:8s} parse + map + validate: {elapsed:.2f} s for {orders} orders,"
            f" {lines:,} lines ({lines / elapsed:,.0f} lines/s)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, status = end_to_end(x12, Path(tmp))
    print(f"x12      end to end (SQLite, 997 + 855 written): {elapsed:.2f} s, {status}")
    verdict = "OK" if elapsed <= 5.0 else "MISSED"
    print(f"target <= 5 s for a {args.lines:,}-line interchange: {verdict}")


if __name__ == "__main__":
    main()
