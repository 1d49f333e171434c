"""Order acknowledgements from validation results: line status and reason codes, standard-neutral.

`order_ack` turns the service's verdict on an order (status, findings, and, when order promising
gave one, the promised quantity/date per line) into a `PurchaseOrderAck`; `rejected_ack` does the
same for a transaction set that produced no order (unknown part number or unit, an order the
service refuses). The X12 and EDIFACT writers then only translate codes.

Line status: an order ``accepted``/``accepted_with_warnings``/``approved`` has its lines
``accepted``, or ``changed`` where a promise differs from what was ordered; an ``exception`` has
the lines with an error finding ``rejected`` and the others ``held`` (pending review); a
``rejected`` order has every line ``rejected``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from supplyseg.edi.model import EdiError, LineAck, LineStatus, PurchaseOrder, PurchaseOrderAck
from supplyseg.edi.partners import MappedOrder, TradingPartner, product_for_line

__all__ = ["REASON_CODES_EDI", "Promise", "ReasonFinding", "order_ack", "rejected_ack"]

# Validation and mapping reason codes -> the 2-letter codes sent in 855 REF*ZZ and ORDRSP FTX
# (mutually defined: partners get this table, README "EDI reason codes").
REASON_CODES_EDI = {
    "unknown_customer": "UC",
    "customer_inactive": "CI",
    "channel_not_allowed": "CH",
    "unknown_ship_to": "ST",
    "requested_date_too_early": "LT",
    "unknown_product": "NP",
    "product_inactive": "PI",
    "product_not_allowed_for_segment": "PS",
    "product_not_allowed_for_channel": "PC",
    "below_moq": "MQ",
    "not_order_multiple": "OM",
    "price_out_of_tolerance": "PR",
    "below_min_order_value": "MV",
    "credit_limit_exceeded": "CR",
    "duplicate_po": "DP",
    "late_promise": "LP",
    "unknown_part_number": "PN",
    "unknown_unit": "UM",
    "invalid_order": "IO",
    "duplicate_interchange": "DI",
}


@dataclass(frozen=True)
class ReasonFinding:
    """What the acknowledgement needs of a validation finding."""

    code: str
    severity: str
    line_no: int | None


@dataclass(frozen=True)
class Promise:
    """What order promising promised for a line (base units); None = as requested."""

    quantity: float | None
    date: date | None


def order_ack(
    po: PurchaseOrder,
    mapped: MappedOrder,
    status: str,
    findings: Sequence[ReasonFinding],
    *,
    order_id: int | None = None,
    promises: Mapping[int, Promise] | None = None,
) -> PurchaseOrderAck:
    """The acknowledgement of an order the service stored with ``status`` and ``findings``."""
    promises = promises or {}
    by_line: dict[int, list[ReasonFinding]] = {}
    for f in findings:
        if f.line_no is not None:
            by_line.setdefault(f.line_no, []).append(f)
    requested = mapped.order["requested_date"]
    lines: list[LineAck] = []
    for ln in mapped.order["lines"]:
        no = ln["line_no"]
        unit, factor = mapped.units[no]
        own = by_line.get(no, [])
        quantity = ln["quantity"] / factor
        when: date | None = requested
        changes: list[Literal["quantity", "date"]] = []
        line_status: LineStatus
        if status == "rejected":
            line_status = "rejected"
        elif status == "exception":
            line_status = "rejected" if any(f.severity == "error" for f in own) else "held"
        else:
            line_status = "accepted"
            promise = promises.get(no)
            if promise is not None:
                if promise.quantity is not None and abs(promise.quantity - ln["quantity"]) > 1e-9:
                    quantity = promise.quantity / factor
                    changes.append("quantity")
                if promise.date is not None and promise.date != requested:
                    when = promise.date
                    changes.append("date")
                if changes:
                    line_status = "changed"
        price = ln["unit_price"]
        lines.append(
            LineAck(
                line_id=mapped.line_ids[no],
                status=line_status,
                quantity=quantity,
                unit=unit,
                unit_price=None if price is None else price * factor,
                date=when,
                buyer_part=mapped.buyer_parts[no],
                product_id=ln["product_id"],
                reasons=tuple(f.code for f in own),
                ordered_quantity=ln["quantity"] / factor,
                changes=tuple(changes),
            )
        )
    order_reasons = tuple(f.code for f in findings if f.line_no is None)
    overall = {"rejected": "rejected", "exception": "held"}.get(status)
    if overall is None:
        overall = "changed" if any(ln.status == "changed" for ln in lines) else "accepted"
    return PurchaseOrderAck(
        po_number=po.po_number,
        order_date=po.order_date,
        status=overall,  # type: ignore[arg-type]
        lines=tuple(lines),
        reasons=order_reasons,
        order_id=order_id,
    )


def rejected_ack(
    po: PurchaseOrder, errors: Sequence[EdiError], partner: TradingPartner | None
) -> PurchaseOrderAck:
    """The acknowledgement of a purchase order refused before it became an order."""
    lines = []
    for line in po.lines:
        own = tuple(e.code for e in errors if e.position == line.position)
        lines.append(
            LineAck(
                line_id=line.line_id,
                status="rejected",
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                date=line.requested_date or po.requested_date,
                buyer_part=next((v for q, v in line.part_numbers if q not in ("VP", "SA")), None),
                product_id=product_for_line(line, partner) if partner else None,
                reasons=own,
            )
        )
    positions = {ln.position for ln in po.lines}
    return PurchaseOrderAck(
        po_number=po.po_number,
        order_date=po.order_date,
        status="rejected",
        lines=tuple(lines),
        reasons=tuple(dict.fromkeys(e.code for e in errors if e.position not in positions)),
        messages=tuple(str(e) for e in errors),
    )
