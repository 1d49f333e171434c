"""The file inbox behind ``supplyseg intake watch DIR``: order files dropped in a folder.

``.edi``/``.x12`` files are interchanges (X12 when they start with ISA, EDIFACT with UNA/UNB) and
go through `supplyseg.service.edi_intake.receive_interchange`; ``.csv`` and ``.xlsx`` (first
sheet) are order lines in the columns of ``POST /orders/csv`` and go through
`supplyseg.service.intake.submit_orders`. Either way the orders take the path of every other
channel.

A file is first claimed by renaming it into ``.processing/`` (atomic, so two watchers never take
the same file), then moved to ``processed/`` (everything stored; ``<name>.result.json`` beside
it) or ``failed/`` (unreadable, or something rejected; ``<name>.reason.txt`` says what and
where). Dropping a fixed file again is safe: interchanges replay by control numbers, CSV and
Excel files by their content hash. When the service cannot work at all (no published policy,
database down) the file goes back to the inbox and `InboxUnavailableError` is raised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supplyseg.edi.model import EdiSyntaxError
from supplyseg.errors import ServiceError
from supplyseg.service.csv_orders import orders_from_csv
from supplyseg.service.edi_intake import receive_interchange
from supplyseg.service.intake import submit_orders
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ApiError, UnavailableError
from supplyseg.service.routes.edi import decode_interchange
from supplyseg.service.security import Principal

__all__ = [
    "INBOX_PRINCIPAL",
    "INBOX_SUFFIXES",
    "InboxResult",
    "InboxUnavailableError",
    "inbox_files",
    "process_file",
    "xlsx_as_csv",
]

INBOX_SUFFIXES = (".edi", ".x12", ".csv", ".xlsx")
# Orders from the inbox are submitted as this key id (audit ``actor``, ``submitted_by``).
INBOX_PRINCIPAL = Principal(key_id="inbox", role="submitter", customers=None)


class InboxUnavailableError(ServiceError):
    """The service cannot take orders now (no policy, database error); the file stays put."""


@dataclass
class InboxResult:
    """Where a file went and why."""

    source: Path
    outcome: Literal["processed", "failed"]
    moved_to: Path
    reasons: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def inbox_files(folder: Path) -> list[Path]:
    """Files waiting in ``folder`` (known suffixes, oldest first)."""
    found = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in INBOX_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _free(target_dir: Path, name: str) -> Path:
    target_dir.mkdir(exist_ok=True)
    target = target_dir / name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{Path(name).stem}.{stamp}{Path(name).suffix}"
    return target


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def xlsx_as_csv(path: Path) -> bytes:
    """The first sheet of an Excel workbook as CSV (dates ISO, whole numbers without .0)."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        if any(v not in (None, "") for v in row):
            writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode()


class UnreadableFileError(ServiceError):
    """A CSV or Excel file that cannot be read at all."""


def _table_bytes(path: Path) -> bytes:
    if path.suffix.lower() == ".csv":
        return path.read_bytes()
    try:
        return xlsx_as_csv(path)
    except Exception as exc:  # calamine raises its own errors for damaged workbooks
        raise UnreadableFileError(f"{path.name}: not a readable Excel workbook ({exc})") from None


def _orders_file(session: Session, cache: PolicyCache, data: bytes) -> tuple[bool, list[str], Any]:
    orders = orders_from_csv(data)
    key = "file:" + hashlib.sha256(data).hexdigest()[:40]
    results = submit_orders(session, cache, orders, principal=INBOX_PRINCIPAL, idempotency_key=key)
    detail = [
        {
            "po_number": r.order.po_number,
            "customer_id": r.order.customer_id,
            "order_id": r.order.order_id,
            "status": r.order.status,
            "replayed": r.replayed,
        }
        for r in results
    ]
    return True, [], detail


def _interchange_file(
    session: Session, cache: PolicyCache, data: bytes
) -> tuple[bool, list[str], Any]:
    text = decode_interchange(data)
    head = text.lstrip("\ufeff \t\r\n")[:3]
    if head not in ("ISA", "UNA", "UNB"):
        return False, ["not an X12 (ISA) or EDIFACT (UNA/UNB) interchange"], {}
    standard: Literal["x12", "edifact"] = "x12" if head == "ISA" else "edifact"
    r = receive_interchange(session, cache, text, standard, principal=INBOX_PRINCIPAL)
    reasons = [str(e) for e in r.errors]
    for s in r.sets:
        if s.status == "rejected":
            what = f"transaction set {s.control_number}" + (
                f" (PO {s.po_number})" if s.po_number else ""
            )
            reasons += [f"{what}: {e}" for e in s.errors] or [
                f"{what}: rejected with the interchange"
            ]
    detail = {
        "status": r.status,
        "partner_id": r.partner_id,
        "documents": r.documents,
        "sets": [
            {
                "control_number": s.control_number,
                "po_number": s.po_number,
                "status": s.status,
                "order_id": s.order_id,
                "order_status": s.order_status,
            }
            for s in r.sets
        ],
    }
    return r.status == "accepted", reasons, detail


def process_file(
    path: Path, sessions: sessionmaker[Session], cache: PolicyCache
) -> InboxResult | None:
    """Claim, process and file away ``path``; None when another watcher took it first."""
    folder = path.parent
    claimed = folder / ".processing" / path.name
    claimed.parent.mkdir(exist_ok=True)
    try:
        os.replace(path, claimed)
    except FileNotFoundError:
        return None
    try:
        with sessions() as session:
            if path.suffix.lower() in (".csv", ".xlsx"):
                ok, reasons, detail = _orders_file(session, cache, _table_bytes(claimed))
            else:
                ok, reasons, detail = _interchange_file(session, cache, claimed.read_bytes())
    except (UnavailableError, OperationalError) as exc:
        os.replace(claimed, path)
        raise InboxUnavailableError(f"{path.name} left in the inbox: {exc}") from None
    except ApiError as exc:
        ok, reasons, detail = False, [str(exc)], {"code": exc.code, "errors": exc.errors}
    except (EdiSyntaxError, UnreadableFileError) as exc:
        ok, reasons, detail = False, [str(exc)], {}
    except BaseException:
        os.replace(claimed, path)
        raise
    target = _free(folder / ("processed" if ok else "failed"), path.name)
    os.replace(claimed, target)
    if ok:
        note = target.with_name(target.name + ".result.json")
        note.write_text(json.dumps(detail, indent=2, default=str) + "\n", encoding="utf-8")
    else:
        note = target.with_name(target.name + ".reason.txt")
        note.write_text("\n".join(reasons) + "\n", encoding="utf-8")
    return InboxResult(path, "processed" if ok else "failed", target, reasons, {"detail": detail})
