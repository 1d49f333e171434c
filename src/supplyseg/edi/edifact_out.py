"""EDIFACT documents back to the sender: CONTRL (syntax and service report) and ORDRSP.

Both are whole interchanges (UNA, UNB addressed back, UNZ) with values escaped with the release
character, so ``PO+77:A`` comes back as ``PO?+77?:A``.

- **CONTRL** (D:3:UN): UCI with action ``7`` (acknowledged) or ``4`` (rejected) and, when
  rejected, the syntax error code (EDIFACT 0085: ``28`` references do not match, ``29`` control
  count does not match, ``23`` unknown sender, ``13`` missing, ``12`` invalid value ...); per
  message a UCM with the same, and UCS/UCD naming the segment (position from UNH = 1) and
  element of each error.
- **ORDRSP** (directory of the order): BGM ``231`` with message function ``29`` accepted
  without amendment, ``4`` changed, ``12`` not processed (held for review), ``27`` not
  accepted; per line LIN with action ``5`` accepted, ``3`` changed, ``4`` no action (held),
  ``7`` not accepted, QTY+21 the acknowledged quantity, DTM+2 the date, and an FTX+AAO per reason
  (code from `REASON_CODES_EDI`, then the reason code in words).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from supplyseg.edi.acks import REASON_CODES_EDI
from supplyseg.edi.edifact import EdifactInterchange
from supplyseg.edi.model import EdiError, PurchaseOrderAck

__all__ = ["CONTRL_CODES", "edifact_contrl", "edifact_ordrsp"]

CONTRL_CODES = {
    "count_mismatch": "29",
    "control_number_mismatch": "28",
    "unknown_partner": "23",
    "missing_trailer": "13",
    "missing_segment": "13",
    "missing_element": "13",
    "unexpected_segment": "15",
    "data_after_trailer": "33",
}
_BGM_1225 = {"accepted": "29", "changed": "4", "held": "12", "rejected": "27"}
_LIN_1229 = {"accepted": "5", "changed": "3", "held": "4", "rejected": "7"}
_SERVICE = ":+.? '"
_ESCAPE = re.compile(r"([:+?'])")
_ELEMENT = re.compile(r"^[A-Z]{3}(\d{2})(?:\.(\d+))?$")


def _esc(value: str) -> str:
    return _ESCAPE.sub(r"?\1", value)


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _seg(tag: str, *elements: str | Sequence[str]) -> str:
    parts = [tag]
    for e in elements:
        if isinstance(e, str):
            parts.append(_esc(e))
        else:
            comps = [_esc(c) for c in e]
            while len(comps) > 1 and comps[-1] == "":
                comps.pop()
            parts.append(":".join(comps))
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return "+".join(parts) + "'"


def _interchange(
    ic: EdifactInterchange, control: int, now: datetime, messages: Sequence[list[str]]
) -> str:
    ref = str(control)
    syntax = ic.syntax if ic.syntax != ":" else "UNOC:3"
    unb: list[str | Sequence[str]] = [
        syntax.split(":"),
        (ic.recipient_id, ic.recipient_qualifier),
        (ic.sender_id, ic.sender_qualifier),
        (now.strftime("%y%m%d"), now.strftime("%H%M")),
        ref,
    ]
    if ic.test:
        unb += ["", "", "", "", "", "1"]  # UNB06..UNB10 empty, UNB11 test indicator
    out = ["UNA" + _SERVICE, _seg("UNB", *unb)]
    for k, body in enumerate(messages, start=1):
        out.append(body[0].replace("UNH+#", f"UNH+{k}", 1))
        out += body[1:]
        out.append(_seg("UNT", str(len(body) + 1), str(k)))
    out.append(_seg("UNZ", str(len(messages)), ref))
    return "\n".join(out) + "\n"


def _ucd(e: EdiError) -> list[str]:
    m = _ELEMENT.match(e.element or "")
    if m is None:
        return []
    pos = [str(int(m.group(1)))] + ([m.group(2)] if m.group(2) else [])
    return [_seg("UCD", CONTRL_CODES.get(e.code, "12"), pos)]


def edifact_contrl(
    ic: EdifactInterchange,
    message_errors: Mapping[int, Sequence[EdiError]],
    control: int,
    now: datetime,
) -> str:
    """A CONTRL for ``ic``; ``message_errors`` adds syntax errors by UNH position."""
    rejected = bool(ic.errors)
    uci = [
        ic.control_reference,
        (ic.sender_id, ic.sender_qualifier),
        (ic.recipient_id, ic.recipient_qualifier),
        "4" if rejected else "7",
    ]
    if rejected:
        uci.append(CONTRL_CODES.get(ic.errors[0].code, "12"))
    body = ["UNH+#+CONTRL:D:3:UN'", _seg("UCI", *uci)]
    for msg in ic.messages:
        errors = list(msg.errors) + list(message_errors.get(msg.position, ()))
        ucm = [
            msg.reference,
            (msg.message_type, *msg.directory.split(":"), "UN"),
            "4" if errors or rejected else "7",
        ]
        if errors:
            ucm.append(CONTRL_CODES.get(errors[0].code, "12"))
        body.append(_seg("UCM", *ucm))
        for e in errors:
            if e.position is None:
                continue
            rel = str(e.position - msg.position + 1)
            body.append(_seg("UCS", rel, CONTRL_CODES.get(e.code, "12")))
            body += _ucd(e)
    return _interchange(ic, control, now, [body])


def edifact_ordrsp(
    ic: EdifactInterchange,
    directory: str,
    acks: Sequence[PurchaseOrderAck],
    control: int,
    now: datetime,
) -> str:
    """One interchange with an ORDRSP per acknowledged order."""
    version, release = directory.split(":")
    messages = []
    for ack in acks:
        body = [
            f"UNH+#+ORDRSP:{version}:{release}:UN'",
            _seg("BGM", "231", ack.po_number, _BGM_1225[ack.status]),
            _seg("DTM", ("137", now.strftime("%Y%m%d"), "102")),
            _seg("RFF", ("ON", ack.po_number)),
            _seg("DTM", ("171", ack.order_date.strftime("%Y%m%d"), "102")),
        ]
        for code in ack.reasons:
            body.append(_seg("FTX", "AAO", "", "", (REASON_CODES_EDI.get(code, "ZZ"), code)))
        for line in ack.lines:
            body.append(
                _seg("LIN", line.line_id, _LIN_1229[line.status], (line.product_id or "", "SA"))
            )
            if line.buyer_part:
                body.append(_seg("PIA", "1", (line.buyer_part, "IN")))
            body.append(_seg("QTY", ("21", _num(line.quantity), line.unit)))
            if line.date is not None:
                body.append(_seg("DTM", ("2", line.date.strftime("%Y%m%d"), "102")))
            if line.unit_price is not None:
                body.append(_seg("PRI", ("AAA", _num(line.unit_price))))
            for code in line.reasons:
                body.append(_seg("FTX", "AAO", "", "", (REASON_CODES_EDI.get(code, "ZZ"), code)))
        body += [_seg("UNS", "S"), _seg("CNT", ("2", str(len(ack.lines))))]
        messages.append(body)
    return _interchange(ic, control, now, messages)
