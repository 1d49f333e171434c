"""Trading partners: who sends an interchange, which customer that is, and their code lists.

A partner is found by the interchange sender (ISA05/ISA06 or UNB02 id and qualifier) and names
the customer whose segment rules apply. Its part-number cross-reference turns the buyer's part
numbers into product ids; its units of measure turn the buyer's quantities and prices into the
product's base unit. `mapped_order` does both and returns the order in the service's JSON shape
(`supplyseg.service.schemas.OrderIn` validates it: the same path as every other channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from supplyseg.config.policy import Channel
from supplyseg.edi.model import EdiError, PoLine, PurchaseOrder

__all__ = [
    "DEFAULT_UNITS",
    "OWN_PART_QUALIFIERS",
    "MappedOrder",
    "TradingPartner",
    "mapped_order",
    "product_for_line",
]

# Unit codes meaning "one piece": X12 EA, EDIFACT PCE and UN/ECE Rec 20 C62. An assumption:
# a partner whose base unit differs declares its own units.
DEFAULT_UNITS: dict[str, float] = {"EA": 1.0, "PCE": 1.0, "C62": 1.0}
# Qualifiers whose part number is already ours (X12 VP vendor's part number, EDIFACT SA
# supplier's article number); every other qualifier (BP, IN, UP, EN, ...) goes through the
# partner's cross-reference.
OWN_PART_QUALIFIERS = ("VP", "SA")

Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=35, pattern=r"^[^\x00]+$"),
]


class TradingPartner(BaseModel):
    """A trading partner (admin API ``/edi/partners``; table ``trading_partners``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    standard: Literal["x12", "edifact"]
    sender_qualifier: Annotated[str, StringConstraints(max_length=4)] = Field(
        description="ISA05 (e.g. ZZ, 01) or UNB02.2 (e.g. 14, ZZZ); empty matches an absent one."
    )
    sender_id: Code = Field(description="ISA06 (without padding) or UNB02.1.")
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    channel: Channel = "edi"
    part_numbers: dict[Code, Code] = Field(
        default_factory=dict,
        description="The partner's part number (BP, IN, UP, EN ...) -> product_id.",
    )
    units: dict[Code, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=lambda: dict(DEFAULT_UNITS),
        description="Unit of measure code -> base units of the product per unit (CA: 12).",
    )
    order_ack: Literal["notify", "always", "never"] = Field(
        "notify",
        description="When an 855/ORDRSP is written: per the customer's segment notify rule,"
        " always, or never. 997/CONTRL are always written.",
    )


@dataclass(frozen=True)
class MappedOrder:
    """A purchase order in the service's order shape, and the way back to the buyer's lines."""

    order: dict[str, Any]
    line_ids: dict[int, str]
    units: dict[int, tuple[str, float]]
    buyer_parts: dict[int, str | None]


def product_for_line(line: PoLine, partner: TradingPartner) -> str | None:
    """Our product id for ``line``: a VP/SA part number, else the cross-referenced one."""
    for qual, value in line.part_numbers:
        if qual in OWN_PART_QUALIFIERS:
            return value
    for _qual, value in line.part_numbers:
        if value in partner.part_numbers:
            return partner.part_numbers[value]
    return None


def _buyer_part(line: PoLine) -> str | None:
    return next((v for q, v in line.part_numbers if q not in OWN_PART_QUALIFIERS), None)


def _line_numbers(lines: tuple[PoLine, ...]) -> list[int]:
    ids = [ln.line_id for ln in lines]
    if all(i.isdigit() and 1 <= int(i) <= 100_000 for i in ids):
        numbers = [int(i) for i in ids]
        if len(set(numbers)) == len(numbers):
            return numbers
    return list(range(1, len(lines) + 1))


def mapped_order(
    po: PurchaseOrder, partner: TradingPartner
) -> tuple[MappedOrder | None, list[EdiError]]:
    """``po`` as the partner's customer's order; unknown part numbers and units are errors."""
    errors: list[EdiError] = []
    element = "PO1" if po.message_type == "850" else "LIN"
    lines = []
    numbers = _line_numbers(po.lines)
    line_ids, units, parts = {}, {}, {}
    for no, line in zip(numbers, po.lines, strict=True):
        product = product_for_line(line, partner)
        if product is None:
            shown = ", ".join(f"{q}:{v}" for q, v in line.part_numbers) or "none"
            errors.append(
                EdiError(
                    "unknown_part_number",
                    f"line {line.line_id}: no part number maps to a product (given: {shown});"
                    f" fix: send our part number as {'/'.join(OWN_PART_QUALIFIERS)} or add the"
                    f" buyer's to partner {partner.partner_id}'s part_numbers",
                    line.position,
                    element,
                    None,
                    _buyer_part(line) or "",
                )
            )
            continue
        unit = line.unit or ""
        factor = partner.units.get(unit) if unit else 1.0
        if factor is None:
            errors.append(
                EdiError(
                    "unknown_unit",
                    f"line {line.line_id}: unit {unit!r} is not one of partner"
                    f" {partner.partner_id}'s units {sorted(partner.units)}; fix: add it with its"
                    " number of base units",
                    line.position,
                    element,
                    "PO103" if element == "PO1" else "QTY01.3",
                    unit,
                )
            )
            continue
        line_ids[no] = line.line_id
        units[no] = (unit, factor)
        parts[no] = _buyer_part(line)
        lines.append(
            {
                "line_no": no,
                "product_id": product,
                "quantity": line.quantity * factor,
                "unit_price": None if line.unit_price is None else line.unit_price / factor,
            }
        )
    requested = po.requested_date
    if requested is None:
        dated = [ln.requested_date for ln in po.lines if ln.requested_date is not None]
        requested = min(dated) if dated else None
    if requested is None:
        errors.append(
            EdiError(
                "missing_segment",
                "no requested delivery date: send DTM*002 (X12) or DTM+2 (EDIFACT) in the"
                " header or on the lines",
                po.position,
                "ST" if po.message_type == "850" else "UNH",
            )
        )
    if errors:
        return None, errors
    order = {
        "customer_id": partner.customer_id,
        "po_number": po.po_number,
        "channel": partner.channel,
        "order_date": po.order_date,
        "requested_date": requested,
        "ship_to_id": po.ship_to_id,
        "lines": lines,
    }
    return MappedOrder(order, line_ids, units, parts), []
