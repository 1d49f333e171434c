"""Declarative mapping of a purchase-order message (X12 850, EDIFACT ORDERS) to `PurchaseOrder`.

A `MessageMap` says which segment, element and component each field comes from, which qualifier
selects the segment (``DTM01 = 002`` in X12, ``DTM01.1 = 2`` in EDIFACT), what type it has and
whether it is mandatory; `purchase_order` applies it. Header fields are read before the first
line segment (PO1, LIN), line fields within each line's group of segments. Part numbers come as
qualifier/value pairs (X12 PO106/PO107 ...) or composites (EDIFACT LIN03, PIA02..PIA06).

Errors name the segment position, element and value. Business meaning (which part number is
which product, unit conversion) is the trading partner's, in `supplyseg.edi.partners`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from supplyseg.edi.model import EdiError, PoLine, PurchaseOrder, Segment

__all__ = [
    "EDIFACT_ORDERS",
    "X12_850",
    "MessageMap",
    "PartIds",
    "Rule",
    "purchase_order",
]

Kind = Literal["text", "number", "date"]


@dataclass(frozen=True)
class Rule:
    """``field`` is element ``element`` (component ``component``) of the first ``segment`` whose
    qualifiers ``where`` = ((element, component, value), ...) match.

    Dates are CCYYMMDD unless ``date_format`` names the (element, component) holding an EDIFACT
    format code (102 CCYYMMDD, 203 CCYYMMDDHHMM).
    """

    field: str
    segment: str
    element: int
    component: int = 1
    kind: Kind = "text"
    where: tuple[tuple[int, int, str], ...] = ()
    required: bool = False
    date_format: tuple[int, int] | None = None

    def name(self) -> str:
        """The element's name in the standards' tables: ``BEG03``, ``QTY01.2``."""
        base = f"{self.segment}{self.element:02d}"
        return (
            base
            if self.component == 1 and self.date_format is None
            else (f"{base}.{self.component}")
        )

    def matches(self, seg: Segment) -> bool:
        """Whether ``seg`` is this rule's segment with the right qualifiers."""
        return seg.tag == self.segment and all(seg.value(e, c) == v for e, c, v in self.where)


@dataclass(frozen=True)
class PartIds:
    """Where part numbers are: ``pair`` = qualifier in element e, value in e+1 (X12);
    ``composite`` = value in component 1, qualifier in component 2 (EDIFACT C212)."""

    segment: str
    elements: tuple[int, ...]
    layout: Literal["pair", "composite"]


@dataclass(frozen=True)
class MessageMap:
    """How one message type maps to a `PurchaseOrder`."""

    message_type: str
    line_start: str
    line_end: tuple[str, ...]
    header: tuple[Rule, ...]
    line: tuple[Rule, ...]
    part_ids: tuple[PartIds, ...]
    line_count: Rule | None = None


X12_850 = MessageMap(
    message_type="850",
    line_start="PO1",
    line_end=("CTT", "SE"),
    header=(
        Rule("po_number", "BEG", 3, required=True),
        Rule("order_date", "BEG", 5, kind="date", required=True),
        Rule("requested_date", "DTM", 2, kind="date", where=((1, 1, "002"),)),
        Rule("ship_to_id", "N1", 4, where=((1, 1, "ST"),)),
    ),
    line=(
        Rule("line_id", "PO1", 1),
        Rule("quantity", "PO1", 2, kind="number", required=True),
        Rule("unit", "PO1", 3, required=True),
        Rule("unit_price", "PO1", 4, kind="number"),
        Rule("requested_date", "DTM", 2, kind="date", where=((1, 1, "002"),)),
    ),
    part_ids=(PartIds("PO1", tuple(range(6, 25, 2)), "pair"),),
    line_count=Rule("line_count", "CTT", 1, kind="number"),
)

_EDIFACT_DATE = (1, 3)
EDIFACT_ORDERS = MessageMap(
    message_type="ORDERS",
    line_start="LIN",
    line_end=("UNS", "CNT", "UNT"),
    header=(
        Rule("po_number", "BGM", 2, required=True),
        Rule(
            "order_date",
            "DTM",
            1,
            2,
            kind="date",
            where=((1, 1, "137"),),
            required=True,
            date_format=_EDIFACT_DATE,
        ),
        Rule("requested_date", "DTM", 1, 2, "date", ((1, 1, "2"),), date_format=_EDIFACT_DATE),
        Rule("ship_to_id", "NAD", 2, where=((1, 1, "ST"),)),
    ),
    line=(
        Rule("line_id", "LIN", 1),
        Rule("quantity", "QTY", 1, 2, kind="number", where=((1, 1, "21"),), required=True),
        Rule("unit", "QTY", 1, 3, where=((1, 1, "21"),)),
        Rule("unit_price", "PRI", 1, 2, kind="number", where=((1, 1, "AAA"),)),
        Rule("unit_price", "PRI", 1, 2, kind="number", where=((1, 1, "AAB"),)),
        Rule("requested_date", "DTM", 1, 2, "date", ((1, 1, "2"),), date_format=_EDIFACT_DATE),
    ),
    part_ids=(PartIds("LIN", (3,), "composite"), PartIds("PIA", (2, 3, 4, 5, 6), "composite")),
    line_count=Rule("line_count", "CNT", 1, 2, kind="number", where=((1, 1, "2"),)),
)

_NUMBER = re.compile(r"^-?(\d+([.,]\d*)?|[.,]\d+)$")
_DATE_FORMATS = {"102": 8, "203": 12}


def _date(text: str, fmt: str) -> date | None:
    if len(text) != _DATE_FORMATS.get(fmt, -1) or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _convert(rule: Rule, seg: Segment, errors: list[EdiError]) -> str | float | date | None:
    raw = seg.value(rule.element, rule.component)
    if raw == "":
        if rule.required:
            errors.append(
                EdiError(
                    "missing_element",
                    f"{rule.name()} ({rule.field}) is mandatory",
                    seg.position,
                    seg.tag,
                    rule.name(),
                    raw,
                )
            )
        return None
    if rule.kind == "text":
        return raw
    if rule.kind == "number":
        if not _NUMBER.match(raw):
            errors.append(
                EdiError(
                    "bad_number",
                    f"{rule.name()} ({rule.field}) must be a decimal number",
                    seg.position,
                    seg.tag,
                    rule.name(),
                    raw,
                )
            )
            return None
        return float(raw.replace(",", "."))
    fmt = "102"
    if rule.date_format is not None:
        fmt = seg.value(*rule.date_format) or "102"
    if fmt not in _DATE_FORMATS:
        errors.append(
            EdiError(
                "bad_code",
                f"date format code must be one of {sorted(_DATE_FORMATS)} (CCYYMMDD, CCYYMMDDHHMM)",
                seg.position,
                seg.tag,
                f"{rule.segment}{rule.date_format[0]:02d}.{rule.date_format[1]}"
                if rule.date_format
                else rule.name(),
                fmt,
            )
        )
        return None
    value = _date(raw, fmt)
    if value is None:
        errors.append(
            EdiError(
                "bad_date",
                f"{rule.name()} ({rule.field}) must be a valid date"
                f" {'CCYYMMDD' if fmt == '102' else 'CCYYMMDDHHMM'}",
                seg.position,
                seg.tag,
                rule.name(),
                raw,
            )
        )
    return value


def _apply(
    rules: tuple[Rule, ...], segs: list[Segment], errors: list[EdiError], at: Segment
) -> dict[str, object]:
    out: dict[str, object] = {}
    for rule in rules:
        if rule.field in out:
            continue
        seg = next((s for s in segs if rule.matches(s)), None)
        if seg is None:
            if rule.required and not any(r.field == rule.field for r in rules if r is not rule):
                quals = "".join(f" with {rule.segment}{e:02d}={v}" for e, _c, v in rule.where)
                errors.append(
                    EdiError(
                        "missing_segment",
                        f"mandatory segment {rule.segment}{quals} ({rule.field}) is missing",
                        at.position,
                        at.tag,
                        rule.name(),
                    )
                )
            continue
        value = _convert(rule, seg, errors)
        if value is not None:
            out[rule.field] = value
    return out


def _part_numbers(spec: tuple[PartIds, ...], segs: list[Segment]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for p in spec:
        for seg in segs:
            if seg.tag != p.segment:
                continue
            for e in p.elements:
                if p.layout == "pair":
                    qual, value = seg.value(e), seg.value(e + 1)
                else:
                    value, qual = seg.value(e, 1), seg.value(e, 2)
                if value:
                    found.append((qual, value))
    return tuple(found)


def purchase_order(
    mapping: MessageMap, segments: list[Segment], control_number: str = ""
) -> tuple[PurchaseOrder | None, list[EdiError]]:
    """Apply ``mapping`` to one message (its header through its trailer segment; ST02 or UNH01
    as ``control_number``).

    Returns the order, or None with the errors that prevent reading it.
    """
    errors: list[EdiError] = []
    head = segments[0]
    starts = [i for i, s in enumerate(segments) if s.tag == mapping.line_start]
    last = starts[-1] if starts else 0
    end = next(
        (i for i, s in enumerate(segments) if s.tag in mapping.line_end and i > last),
        len(segments) - 1,
    )
    first = starts[0] if starts else end
    header = _apply(mapping.header, segments[:first], errors, head)
    if not starts:
        errors.append(
            EdiError(
                "missing_segment",
                f"the order has no line ({mapping.line_start} segment)",
                segments[end].position,
                segments[end].tag,
            )
        )
    lines: list[PoLine] = []
    for k, s in enumerate(starts):
        group = segments[s : starts[k + 1] if k + 1 < len(starts) else end]
        values = _apply(mapping.line, group, errors, segments[s])
        if "quantity" not in values:
            continue
        quantity = values["quantity"]
        price = values.get("unit_price")
        requested = values.get("requested_date")
        assert isinstance(quantity, float)
        lines.append(
            PoLine(
                line_id=str(values.get("line_id", k + 1)),
                position=segments[s].position,
                quantity=quantity,
                unit=str(values.get("unit", "")),
                unit_price=price if isinstance(price, float) else None,
                part_numbers=_part_numbers(mapping.part_ids, group),
                requested_date=requested if isinstance(requested, date) else None,
            )
        )
    if mapping.line_count is not None:
        _check_line_count(mapping.line_count, segments[end:], len(starts), errors)
    ids = [ln.line_id for ln in lines]
    for ln in lines:
        if ids.count(ln.line_id) > 1:
            errors.append(
                EdiError(
                    "duplicate_line",
                    "line identifiers must be unique within the order",
                    ln.position,
                    mapping.line_start,
                    f"{mapping.line_start}01",
                    ln.line_id,
                )
            )
            break
    if errors:
        return None, errors
    order_date = header["order_date"]
    requested = header.get("requested_date")
    assert isinstance(order_date, date)
    return (
        PurchaseOrder(
            message_type=mapping.message_type,
            control_number=control_number,
            po_number=str(header["po_number"]),
            order_date=order_date,
            requested_date=requested if isinstance(requested, date) else None,
            ship_to_id=str(header["ship_to_id"]) if "ship_to_id" in header else None,
            lines=tuple(lines),
            position=head.position,
        ),
        [],
    )


def _check_line_count(
    rule: Rule, summary: list[Segment], count: int, errors: list[EdiError]
) -> None:
    seg = next((s for s in summary if rule.matches(s)), None)
    if seg is None:
        return
    raw = seg.value(rule.element, rule.component)
    if raw != str(count):
        errors.append(
            EdiError(
                "count_mismatch",
                f"{rule.name()} must be the number of line items, {count}",
                seg.position,
                seg.tag,
                rule.name(),
                raw,
            )
        )
