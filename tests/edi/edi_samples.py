"""Sample interchanges for the EDI tests, written from the published segment structures
(X12 004010/005010 850: ISA, GS, ST, BEG, REF, DTM, N1, PO1, PID, CTT, SE, GE, IEA; UN/EDIFACT
D.96A ORDERS: UNA, UNB, UNH, BGM, DTM, FTX, NAD, LIN, QTY, PRI, UNS, CNT, UNT, UNZ)."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    """The text of sample file ``name``."""
    return (SAMPLES / name).read_text(encoding="utf-8")


X12_4010 = "po_4010_two_sets.x12"
X12_5010 = "po_5010.x12"
EDIFACT_96A = "orders_d96a_una.edi"


def edifact_01b(lines: int = 2, unt: int | None = None) -> str:
    """An ORDERS D.01B without UNA (default service characters) with ``lines`` LIN groups."""
    body = ["BGM+220+PO-01B+9'", "DTM+137:20260302:102'", "DTM+2:20260310:102'"]
    for i in range(1, lines + 1):
        body += [f"LIN+{i}++P100:SA'", "QTY+21:10:PCE'", "PRI+AAA:10'"]
    body += ["UNS+S'", f"CNT+2:{lines}'"]
    count = len(body) + 2 if unt is None else unt
    return (
        "UNB+UNOC:3+BUYER01B:ZZZ+SUPPLYSEG:ZZZ+260302:1200+IC01B'"
        "UNH+1+ORDERS:D:01B:UN'" + "".join(body) + f"UNT+{count}+1'UNZ+1+IC01B'"
    )
