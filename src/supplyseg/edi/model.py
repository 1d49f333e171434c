"""What the EDI readers produce and the writers consume: segments, errors, purchase orders, acks.

Everything here is standard-neutral: an X12 850 and an EDIFACT ORDERS both become a
`PurchaseOrder`; a `PurchaseOrderAck` becomes an 855 or an ORDRSP. Positions are 1-based segment
numbers counted from the start of the interchange (ISA or UNB = 1; a UNA service string advice is
not a segment and is not counted), which is how trading partners' translators report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from supplyseg.errors import DataContractError

__all__ = [
    "EdiError",
    "EdiSyntaxError",
    "LineAck",
    "LineStatus",
    "PoLine",
    "PurchaseOrder",
    "PurchaseOrderAck",
    "Segment",
]


@dataclass(frozen=True)
class Segment:
    """One segment: its tag, its data elements (each a list of components) and its position."""

    tag: str
    elements: tuple[tuple[str, ...], ...]
    position: int

    def value(self, element: int, component: int = 1) -> str:
        """The text of data element ``element`` (1-based, as in BEG03), component ``component``;
        ``""`` when absent (X12 and EDIFACT both drop trailing empty elements)."""
        if element < 1 or element > len(self.elements):
            return ""
        comps = self.elements[element - 1]
        return comps[component - 1] if 1 <= component <= len(comps) else ""


@dataclass(frozen=True)
class EdiError:
    """A precise error: which rule failed, where (segment position, tag, element) and the value.

    ``code`` is stable (README: EDI error codes); ``element`` is named as in the standards'
    tables (``SE01``, ``PO102``, ``UNT01``, ``QTY01.2`` for component 2).
    """

    code: str
    message: str
    position: int | None = None
    segment: str | None = None
    element: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = []
        if self.position is not None:
            where.append(f"segment {self.position}")
        if self.segment is not None:
            where.append(self.segment)
        if self.element is not None:
            where.append(self.element)
        head = " ".join(where)
        val = f" = {self.value!r}" if self.value is not None else ""
        return f"{head}{val}: {self.message} [{self.code}]" if head else self.message


class EdiSyntaxError(DataContractError):
    """The input cannot be read as an interchange at all (no envelope to acknowledge)."""

    def __init__(self, error: EdiError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class PoLine:
    """One ordered line as the buyer sent it (quantities in the buyer's unit)."""

    line_id: str
    position: int
    quantity: float
    unit: str
    unit_price: float | None
    part_numbers: tuple[tuple[str, str], ...]
    requested_date: date | None = None


@dataclass(frozen=True)
class PurchaseOrder:
    """One order from one transaction set (ST..SE) or message (UNH..UNT)."""

    message_type: str
    control_number: str
    po_number: str
    order_date: date
    requested_date: date | None
    ship_to_id: str | None
    lines: tuple[PoLine, ...]
    position: int


LineStatus = Literal["accepted", "changed", "held", "rejected"]


@dataclass(frozen=True)
class LineAck:
    """Status of one line in an order acknowledgement (quantities in the buyer's unit).

    ``accepted`` as ordered; ``changed`` quantity or date (``quantity``/``date`` are the
    acknowledged values); ``held`` pending review (the order is in the exception queue);
    ``rejected``; ``reasons`` are validation reason codes; ``ordered_quantity`` is what the buyer
    ordered when ``changes`` names a changed quantity.
    """

    line_id: str
    status: LineStatus
    quantity: float
    unit: str
    unit_price: float | None
    date: date | None
    buyer_part: str | None
    product_id: str | None
    reasons: tuple[str, ...] = ()
    ordered_quantity: float | None = None
    changes: tuple[Literal["quantity", "date"], ...] = ()


@dataclass(frozen=True)
class PurchaseOrderAck:
    """An order acknowledgement: the order's overall status and one `LineAck` per line."""

    po_number: str
    order_date: date
    status: Literal["accepted", "changed", "held", "rejected"]
    lines: tuple[LineAck, ...]
    reasons: tuple[str, ...] = ()
    order_id: int | None = None
    messages: tuple[str, ...] = field(default=())
