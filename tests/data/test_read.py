"""Reading source files as exported: broken rows, encodings, compressed and tab-separated files,
duplicate and blank headers. Every load checks read = loaded + rejected (the `intake` fixture).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplyseg.config import Source
from supplyseg.data.read import read_source
from supplyseg.errors import DataContractError

BAD = Path(__file__).parent / "bad"
GOOD_ROW = "O{i},1,C1,P1,2025-01-06,3,10"


def test_broken_rows_are_rejected_alone_with_their_line(intake: Any) -> None:
    # Row 2 has an extra field, row 3 opens a quote it never closes, row 5 lacks a field.
    ds = intake.load("ragged.csv")
    assert intake.reasons(ds) == {2: "bad_row", 3: "bad_row", 5: "bad_row"}
    assert intake.lines(ds).index.tolist() == ["O1", "O4", "O6"]
    messages = intake.messages(ds)
    assert "line 3: 8 fields where the header has 7" in messages[2]
    assert "line 4: a quote opened on this line is not closed" in messages[3]
    assert "line 6: 6 field(s) where the header has 7" in messages[5]
    rejects = ds.rejects.set_index("row_number")
    assert rejects.loc[2, "value"] == "O2,1,C2,P1,2025-01-07,4,10,extra"
    assert pd.isna(rejects.loc[2, "field"])


def test_two_unclosed_quotes_and_a_bad_row_after_them(intake: Any) -> None:
    body = "\n".join(
        [
            GOOD_ROW.format(i=1),
            'O2,1,"C1,P1,2025-01-06,3,10',
            GOOD_ROW.format(i=3),
            'O4,1,C1,"P1,2025-01-06,3,10',
            GOOD_ROW.format(i=5),
            "O6,1,C1,P1,2025-01-06,3,10,9",
            GOOD_ROW.format(i=7),
        ]
    )
    ds = intake.load(intake.write("quotes.csv", body + "\n"), root=intake.tmp)
    assert intake.reasons(ds) == {2: "bad_row", 4: "bad_row", 6: "bad_row"}
    assert intake.lines(ds).index.tolist() == ["O1", "O3", "O5", "O7"]


def test_a_valid_multiline_value_is_one_row(intake: Any) -> None:
    body = (
        'O1,1,C1,"P1\nsecond line",2025-01-06,3,10\n'
        "O2,1,C1,P1,2025-01-06,3,10,x\n"
        "O3,1,C1,P1,2025-01-06,3,10\n"
    )
    ds = intake.load(intake.write("multiline.csv", body), root=intake.tmp)
    assert intake.reasons(ds) == {2: "bad_row"}
    assert intake.lines(ds).loc["O1", "product_id"] == "P1\nsecond line"


def test_a_file_of_only_broken_rows_stops_with_the_rejects_named(intake: Any) -> None:
    name = intake.write("all_bad.csv", "O1,1,C1,P1,2025-01-06,3\nO2,1,C1,P1,2025-01-06,3\n")
    with pytest.raises(DataContractError) as err:
        intake.load(name, root=intake.tmp)
    assert "no order lines left after validation" in str(err.value)
    assert "bad_row 2" in str(err.value)


def test_windows_text_needs_its_encoding(intake: Any) -> None:
    with pytest.raises(DataContractError) as err:
        intake.load("cp1252.csv")
    message = str(err.value)
    assert "not readable as utf-8 text" in message
    assert "set `encoding:`" in message
    assert "check the file is valid csv" not in message
    ds = intake.load("cp1252.csv", encoding="cp1252")
    lines = intake.lines(ds)
    assert lines.loc["O1", "customer_id"] == "Café Müller"
    assert lines.loc["O2", "product_id"] == "P€"
    # latin-1 reads every byte (so it never fails), but the euro sign is cp1252's.
    assert intake.lines(intake.load("cp1252.csv", encoding="latin-1")).loc["O1", "customer_id"] == (
        "Café Müller"
    )


def test_utf16_and_utf8_with_bom(intake: Any) -> None:
    text = f"{intake.header}\nO1,1,Zoë,P1,2025-01-06,3,10\n"
    (intake.tmp / "u16.csv").write_bytes(text.encode("utf-16"))
    (intake.tmp / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    for name, encoding in (("u16.csv", "utf-16"), ("bom.csv", "utf-8")):
        ds = intake.load(name, root=intake.tmp, encoding=encoding)
        assert intake.lines(ds).loc["O1", "customer_id"] == "Zoë", name


def test_gzipped_csv_and_tsv_are_read_directly(intake: Any) -> None:
    text = f"{intake.header}\nO1,1,C1,P1,2025-01-06,3,10\nO2,1,C2,P1,2025-01-07,x,10\n"
    with gzip.open(intake.tmp / "lines.csv.gz", "wt", encoding="cp1252") as fh:
        fh.write(text.replace("C2", "Café"))
    ds = intake.load("lines.csv.gz", root=intake.tmp, encoding="cp1252")
    assert intake.reasons(ds) == {2: "bad_type"}
    ds = intake.load("tabs.tsv", decimal=",")
    assert intake.lines(ds).loc["O1", "unit_price"] == 10.5


def test_duplicate_header_names_are_refused(intake: Any, tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"duplicate column name\(s\) \['quantity'\]"):
        intake.load("duplicate_header.csv")
    frame = pd.read_csv(BAD / "good_lines.csv", dtype=str)
    frame.columns = [*frame.columns[:-1], "quantity"]
    frame.to_excel(tmp_path / "dup.xlsx", index=False)
    with pytest.raises(DataContractError) as err:
        intake.load("dup.xlsx", root=tmp_path)
    assert "duplicate column name(s) ['quantity']" in str(err.value)
    assert "fix: rename them" in str(err.value)


def test_trailing_blank_columns_are_ignored_with_a_note(intake: Any) -> None:
    ds = intake.load("save_as_csv.csv")
    assert ds.accounts["order_lines"].loaded == 2
    assert any(
        n.startswith("order_lines: save_as_csv.csv: ignored 3 empty column(s) without a header")
        for n in ds.notes
    )


def test_a_headerless_column_with_values_is_named_in_the_note(intake: Any) -> None:
    name = intake.write(
        "stray.csv", "O1,1,C1,P1,2025-01-06,3,10,note\n", header=f"{intake.header},"
    )
    ds = intake.load(name, root=intake.tmp)
    assert any("position(s) 8: they hold values but have no header" in n for n in ds.notes)


def test_excel_blank_header_cells_are_ignored(intake: Any, tmp_path: Path) -> None:
    frame = pd.read_csv(BAD / "good_lines.csv", dtype=str)
    frame[""] = None
    frame.to_excel(tmp_path / "blank.xlsx", index=False)
    ds = intake.load("blank.xlsx", root=tmp_path)
    assert ds.accounts["order_lines"].loaded == 2


def test_clean_files_take_the_fast_path() -> None:
    rows = read_source(BAD / "good_lines.csv", Source(path=BAD / "good_lines.csv"))
    assert (rows.read, rows.bad_rows, rows.notes) == (2, [], [])
    assert rows.table["row_number"].to_pylist() == [1, 2]


def test_parquet_read_by_the_engine_loads_and_rejects_as_the_arrow_route(tmp_path: Path) -> None:
    """A synthetic company's Parquet files (with its designed bad rows) give the same loaded
    tables and rejects whether DuckDB reads the files itself or they come through Arrow."""
    from supplyseg.config import load_workspace
    from supplyseg.data.load import load_dataset
    from supplyseg.data.read import engine_rows
    from supplyseg.data.synth import synth_company, write_workspace
    from supplyseg.engine import connect

    company = synth_company(customers=40, products=20, lines=3000, seed=3)
    write_workspace(company, tmp_path)
    ws = load_workspace(tmp_path)
    con = connect()
    path = ws.source_path("order_lines")
    assert engine_rows(con, path, ws.data["order_lines"], "_probe") is not None
    on_engine = load_dataset(ws, con)
    via_arrow = load_dataset(
        ws,
        connect(),
        frames={name: read_source(ws.source_path(name), ws.data[name]) for name in ws.data},
    )
    assert len(company.truth_bad_rows) > 0
    pd.testing.assert_frame_equal(on_engine.rejects, via_arrow.rejects)
    for name, table in on_engine.tables.items():
        a = table.to_pandas().sort_values("row_number", ignore_index=True)
        b = via_arrow.tables[name].to_pandas().sort_values("row_number", ignore_index=True)
        pd.testing.assert_frame_equal(a, b)
        assert on_engine.accounts[name].read == via_arrow.accounts[name].read


def test_parquet_the_engine_cannot_read_as_arrow_would_goes_through_arrow(tmp_path: Path) -> None:
    from supplyseg.data.read import engine_rows
    from supplyseg.engine import connect

    path = tmp_path / "lines.parquet"
    pd.DataFrame({"order_id": pd.Categorical(["a", "b"]), "quantity": [1.0, 2.0]}).to_parquet(path)
    assert engine_rows(connect(), path, Source(path=path), "_x") is None  # dictionary column
    pd.DataFrame({"order_id": ["a", "b"], "quantity": [1.0, 2.0]}).to_parquet(path)
    found = engine_rows(connect(), path, Source(path=path), "_x")
    assert found is not None
    table, rows = found
    assert rows.read == 2
    assert table.to_pandas()["row_number"].tolist() == [1, 2]
