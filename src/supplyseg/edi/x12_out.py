"""X12 documents back to the sender: 997 functional acknowledgement, TA1, 855 PO acknowledgement.

Each is a whole interchange addressed back (our ISA08/GS03 become ISA06/GS02), with the
sender's delimiters, version and test indicator, and our own control number (the caller's; the
service uses the id of the stored document, so numbers never repeat within a database).

- **997** (one per functional group): AK1, then per transaction set AK2, AK3/AK4 for each error
  (segment position counted from ST = 1, element position), AK5 ``A``/``R`` with syntax error
  codes (X12 718), and AK9 ``A``/``P``/``R`` with counts and group error codes (X12 716).
- **TA1** when the interchange itself is refused (IEA wrong, unknown sender): the interchange
  note code (X12 I18) names why.
- **855**: BAK02 ``AD`` accepted, ``AC`` changed, ``AH`` held, ``RD`` rejected; one PO1 loop per
  line echoing the buyer's line, a ``REF*ZZ`` per reason (code from `REASON_CODES_EDI`) and ACK01
  ``IA`` accepted, ``IQ``/``DR``/``IC`` quantity/date/both changed, ``IH`` held, ``IR`` rejected,
  with the acknowledged quantity, unit and date (ACK04 ``079`` promised for shipment).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from supplyseg.edi.acks import REASON_CODES_EDI
from supplyseg.edi.model import EdiError, LineAck, PurchaseOrderAck
from supplyseg.edi.x12 import FunctionalGroup, X12Interchange

__all__ = [
    "AK3_CODES",
    "AK4_CODES",
    "AK5_CODES",
    "AK9_CODES",
    "TA1_CODES",
    "x12_855",
    "x12_997",
    "x12_ta1",
]

AK5_CODES = {
    "unsupported_message": "1",
    "missing_trailer": "2",
    "control_number_mismatch": "3",
    "count_mismatch": "4",
    "bad_control_number": "7",
}
AK3_CODES = {"missing_segment": "3", "unexpected_segment": "2"}
AK4_CODES = {
    "missing_element": "1",
    "bad_number": "6",
    "bad_date": "8",
    "bad_code": "7",
    "count_mismatch": "7",
    "duplicate_line": "7",
}
AK9_CODES = {
    "unsupported_version": "2",
    "missing_trailer": "3",
    "control_number_mismatch": "4",
    "count_mismatch": "5",
    "unexpected_segment": "5",
}
TA1_CODES = {
    "control_number_mismatch": "001",
    "unknown_partner": "006",
    "count_mismatch": "021",
    "unexpected_segment": "024",
    "missing_trailer": "023",
    "data_after_trailer": "022",
}
_BAK02 = {"accepted": "AD", "changed": "AC", "held": "AH", "rejected": "RD"}
_CHANGED: dict[tuple[str, ...], str] = {("quantity",): "IQ", ("date",): "DR"}
_ELEMENT = re.compile(r"^[A-Z][A-Z0-9]{1,2}?(\d{2})(?:\.(\d+))?$")

Body = list[list[str]]


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


class _Writer:
    def __init__(self, ic: X12Interchange) -> None:
        self.d = ic.delimiters
        reserved = {self.d.element, self.d.component, self.d.segment}
        if self.d.repetition:
            reserved.add(self.d.repetition)
        # X12 has no release character: a delimiter inside a value would split it.
        self._table = str.maketrans(dict.fromkeys(reserved, " "))

    def segment(self, elements: Sequence[str], *, raw: bool = False) -> str:
        # The ISA header carries the delimiters themselves (ISA11, ISA16): written as they are.
        values = list(elements) if raw else [v.translate(self._table) for v in elements]
        while len(values) > 1 and values[-1] == "":
            values.pop()
        return self.d.element.join(values) + self.d.segment + "\n"


def _isa(ic: X12Interchange, control: int, now: datetime) -> list[str]:
    rep = ic.delimiters.repetition or "U"
    return [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        ic.receiver_qualifier,
        ic.receiver_id.ljust(15)[:15],
        ic.sender_qualifier,
        ic.sender_id.ljust(15)[:15],
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        rep,
        ic.version,
        f"{control:09d}",
        "0",
        "T" if ic.test else "P",
        ic.delimiters.component,
    ]


def _interchange(
    ic: X12Interchange,
    control: int,
    now: datetime,
    groups: Sequence[tuple[str, FunctionalGroup | None, Sequence[tuple[str, Body]]]],
    preamble: Sequence[list[str]] = (),
) -> str:
    w = _Writer(ic)
    out = [w.segment(_isa(ic, control, now), raw=True)]
    out += [w.segment(s) for s in preamble]
    for k, (functional_id, group, sets) in enumerate(groups, start=1):
        gcn = str(control * 10 + k)[-9:]
        version = group.version if group is not None else ic_group_version(ic)
        out.append(
            w.segment(
                [
                    "GS",
                    functional_id,
                    group.receiver if group else ic.receiver_id,
                    group.sender if group else ic.sender_id,
                    now.strftime("%Y%m%d"),
                    now.strftime("%H%M"),
                    gcn,
                    "X",
                    version,
                ]
            )
        )
        for n, (code, body) in enumerate(sets, start=1):
            stcn = f"{n:04d}"
            out.append(w.segment(["ST", code, stcn]))
            out += [w.segment(s) for s in body]
            out.append(w.segment(["SE", str(len(body) + 2), stcn]))
        out.append(w.segment(["GE", str(len(sets)), gcn]))
    out.append(w.segment(["IEA", str(len(groups)), f"{control:09d}"]))
    return "".join(out)


def ic_group_version(ic: X12Interchange) -> str:
    """The group version (GS08) matching the interchange version (ISA12)."""
    return "005010" if ic.version >= "00501" else "004010"


def _element_position(e: EdiError) -> list[str]:
    m = _ELEMENT.match(e.element or "")
    if m is None:
        return [""]
    pos = str(int(m.group(1)))
    return [pos if m.group(2) is None else f"{pos}:{m.group(2)}"]


def _ak3_ak4(e: EdiError, st_position: int) -> Body:
    rel = str(e.position - st_position + 1) if e.position is not None else ""
    tag = e.segment or ""
    if e.code in AK4_CODES and e.element:
        ak4 = ["AK4", *_element_position(e), "", AK4_CODES[e.code], (e.value or "")[:99]]
        return [["AK3", tag, rel, "", "8"], ak4]
    return [["AK3", tag, rel, "", AK3_CODES.get(e.code, "8")]]


def x12_997(
    ic: X12Interchange,
    set_errors: Mapping[int, Sequence[EdiError]],
    control: int,
    now: datetime,
) -> str:
    """997s for every group of ``ic``; ``set_errors`` adds syntax errors by ST position."""
    sets: list[tuple[str, Body]] = []
    for group in ic.groups:
        body: Body = [["AK1", group.functional_id, group.control_number]]
        accepted = 0
        for ts in group.transaction_sets:
            errors = list(ts.errors) + list(set_errors.get(ts.position, ()))
            body.append(["AK2", ts.code, ts.control_number])
            for e in errors:
                if e.code not in AK5_CODES:
                    body += _ak3_ak4(e, ts.position)
            ok = not errors and not group.errors
            accepted += ok
            codes = list(dict.fromkeys(AK5_CODES.get(e.code, "5") for e in errors))[:5]
            body.append(["AK5", "A" if ok else "R", *codes])
        n = len(group.transaction_sets)
        verdict = "A" if accepted == n and not group.errors else ("P" if accepted else "R")
        gcodes = list(dict.fromkeys(AK9_CODES.get(e.code, "5") for e in group.errors))[:5]
        body.append(["AK9", verdict, str(n), str(n), str(accepted), *gcodes])
        sets.append(("997", body))
    return _interchange(ic, control, now, [("FA", None, sets)] if sets else [])


def x12_ta1(ic: X12Interchange, errors: Sequence[EdiError], control: int, now: datetime) -> str:
    """A TA1 refusing interchange ``ic`` for its first error (or accepting it, without errors)."""
    code = TA1_CODES.get(errors[0].code, "024") if errors else "000"
    ta1 = ["TA1", ic.control_number, ic.date, ic.time, "R" if errors else "A", code]
    return _interchange(ic, control, now, [], preamble=[ta1])


def _line(line: LineAck) -> Body:
    status = {"accepted": "IA", "held": "IH", "rejected": "IR"}.get(line.status)
    if status is None:
        status = _CHANGED.get(line.changes, "IC")
    ordered = line.quantity if line.ordered_quantity is None else line.ordered_quantity
    po1 = [
        "PO1",
        line.line_id,
        _num(ordered),
        line.unit,
        "" if line.unit_price is None else _num(line.unit_price),
        "",
    ]
    if line.buyer_part:
        po1 += ["BP", line.buyer_part]
    if line.product_id:
        po1 += ["VP", line.product_id]
    body: Body = [po1]
    for code in line.reasons:
        body.append(["REF", "ZZ", REASON_CODES_EDI.get(code, "ZZ"), code])
    ack = ["ACK", status, _num(line.quantity), line.unit]
    if line.date is not None:
        ack += ["079", line.date.strftime("%Y%m%d")]
    body.append(ack)
    return body


def x12_855(
    ic: X12Interchange,
    group: FunctionalGroup,
    acks: Sequence[PurchaseOrderAck],
    control: int,
    now: datetime,
) -> str:
    """One interchange with an 855 per acknowledged order (one PR group)."""
    sets: list[tuple[str, Body]] = []
    for ack in acks:
        body: Body = [
            ["BAK", "00", _BAK02[ack.status], ack.po_number, ack.order_date.strftime("%Y%m%d")]
        ]
        for code in ack.reasons:
            body.append(["REF", "ZZ", REASON_CODES_EDI.get(code, "ZZ"), code])
        for line in ack.lines:
            body += _line(line)
        body.append(["CTT", str(len(ack.lines))])
        sets.append(("855", body))
    return _interchange(ic, control, now, [("PR", group, sets)])
