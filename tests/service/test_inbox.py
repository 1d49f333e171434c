"""The file inbox (`supplyseg intake watch DIR --once`): interchanges, CSV and Excel files go
through the service's intake and end in processed/ or failed/ with a reason."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter
from typer.testing import CliRunner

from supplyseg.cli import app

SAMPLES = Path(__file__).resolve().parents[1] / "edi" / "samples"
K1 = {
    "partner_id": "k1-x12",
    "standard": "x12",
    "sender_qualifier": "ZZ",
    "sender_id": "BUYERK1",
    "customer_id": "K1",
    "part_numbers": {"ABC-500": "P500", "012345678905": "P300", "ABC-200": "P200"},
    "units": {"EA": 1, "CA": 10},
}
CSV = (
    "customer_id,po_number,channel,order_date,requested_date,product_id,quantity,unit_price\n"
    "S1,CSV-1,email,2026-03-02,2026-03-09,P100,25,10\n"
)


def _watch(inbox: Path, db_url: str) -> Any:
    return CliRunner().invoke(app, ["intake", "watch", str(inbox), "--db", db_url, "--once"])


def _xlsx(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    head = ["customer_id", "po_number", "channel", "order_date", "requested_date", "product_id"]
    ws.write_row(0, 0, [*head, "quantity", "line_no"])
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, (product, qty) in enumerate([("P100", 30), ("P500", 40)], start=1):
        ws.write_row(r, 0, ["S1", "XLSX-1", "portal"])
        ws.write_datetime(r, 3, date(2026, 3, 2), fmt)  # type: ignore[arg-type]
        ws.write_datetime(r, 4, date(2026, 3, 10), fmt)  # type: ignore[arg-type]
        ws.write_row(r, 5, [product, qty, r])
    wb.close()


def test_inbox_processes_edi_csv_and_xlsx_and_files_failures(service: Any, tmp_path: Path) -> None:
    r = service.client.put("/edi/partners/k1-x12", json=K1, headers=service.h("admin"))
    assert r.status_code == 201
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "po_4010_two_sets.x12", inbox / "k1.x12")
    bad_count = (SAMPLES / "po_4010_two_sets.x12").read_text().replace("SE*8*0002", "SE*9*0002")
    (inbox / "k1-bad.edi").write_text(bad_count)
    (inbox / "s1.csv").write_text(CSV)
    (inbox / "junk.edi").write_text("hello")
    (inbox / "notes.txt").write_text("not an order file")
    _xlsx(inbox / "s1.xlsx")

    done = _watch(inbox, service.db_url)
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "k1.x12",
        "k1.x12.result.json",
        "s1.csv",
        "s1.csv.result.json",
        "s1.xlsx",
        "s1.xlsx.result.json",
    ]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == [
        "junk.edi",
        "junk.edi.reason.txt",
        "k1-bad.edi",
        "k1-bad.edi.reason.txt",
    ]
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["notes.txt"]
    assert (inbox / "failed" / "k1-bad.edi.reason.txt").read_text() == (
        "transaction set 0002: segment 21 SE SE01 = '9': SE01 must be the number of segments"
        " from ST to SE inclusive, 8 [count_mismatch]\n"
    )
    assert (
        "not an X12 (ISA) or EDIFACT (UNA/UNB) interchange"
        in (inbox / "failed" / "junk.edi.reason.txt").read_text()
    )
    orders = service.get("/orders", limit=100).json()["items"]
    assert sorted((o["po_number"], o["channel"], len(o["lines"])) for o in orders) == [
        ("CSV-1", "email", 1),
        ("PO-4711", "edi", 3),
        ("PO-4712", "edi", 2),
        ("XLSX-1", "portal", 2),
    ]
    xlsx_order = next(o for o in orders if o["po_number"] == "XLSX-1")
    assert (xlsx_order["order_date"], xlsx_order["requested_date"]) == ("2026-03-02", "2026-03-10")
    kinds = [m["kind"] for m in service.get("/edi/messages", direction="out").json()["items"]]
    # k1-bad's 997 rejects set 0002; its set 0001 has k1.x12's control numbers, so it replays
    # PO-4711 (no second order) and is confirmed again.
    assert kinds == ["997", "855", "997", "855"]

    # The same CSV dropped again replays its order instead of creating a second one.
    (inbox / "s1.csv").write_text(CSV)
    assert _watch(inbox, service.db_url).exit_code == 0
    assert len(service.get("/orders", limit=100).json()["items"]) == 4
    assert len(list((inbox / "processed").glob("s1.*.csv"))) == 1


def test_inbox_without_a_database_or_folder_is_a_user_error(tmp_path: Path) -> None:
    unset: dict[str, str | None] = {"SUPPLYSEG_DB_URL": None}
    done = CliRunner().invoke(app, ["intake", "watch", str(tmp_path), "--once"], env=unset)
    assert done.exit_code == 1
    assert "no service database" in " ".join(done.output.split())
    done = CliRunner().invoke(
        app, ["intake", "watch", str(tmp_path / "nope"), "--db", "sqlite:///x.db", "--once"]
    )
    assert done.exit_code == 1
    assert "no such folder" in " ".join(done.output.split())
