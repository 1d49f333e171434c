"""The loader: a corpus of bad inputs with the exact reason or error each must give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplyseg.config import workspace_from_dict
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.engine import connect
from supplyseg.errors import ConfigError, DataContractError

BAD = Path(__file__).parent / "bad"


def _load(data: dict[str, Any], root: Path = BAD, **analysis: Any) -> Dataset:
    ws = workspace_from_dict({"data": data, "analysis": analysis}, root=root, origin="test.yaml")
    return load_dataset(ws, connect())


def _lines(file: str, **extra: Any) -> dict[str, Any]:
    return {"order_lines": {"path": file, **extra}}


def _assert_accounted(ds: Dataset, table: str) -> None:
    """Nothing lost: loaded and rejected row numbers partition 1..read."""
    acc = ds.accounts[table]
    loaded = ds.tables[table].row_number.to_pandas().tolist()
    rejected = ds.rejects.loc[ds.rejects["table"] == table, "row_number"].tolist()
    assert acc.read == acc.loaded + acc.rejected
    assert sorted(loaded + rejected) == list(range(1, acc.read + 1))


CREDIT = {
    "name": "credit notes",
    "column": "order_id",
    "starts_with": "CN",
    "action": "credit_note",
}
POSTAGE = {"name": "postage", "column": "product_id", "in": ["POST"], "action": "exclude"}

# (case, data sources, analysis settings, expected {table: {reason: count}}, expected row numbers)
REASON_CASES = [
    ("missing_required", _lines("missing_required.csv"), {}, {"missing_required": 1}, [2]),
    ("bad_type", _lines("bad_type_quantity.csv"), {}, {"bad_type": 1}, [1]),
    ("bad_date", _lines("bad_date.csv"), {}, {"bad_date": 2}, [1, 2]),
    ("zero_quantity", _lines("zero_quantity.csv"), {}, {"zero_quantity": 1}, [1]),
    ("negative_quantity", _lines("negative_quantity.csv"), {}, {"negative_quantity": 1}, [1]),
    ("bad_price", _lines("bad_price.csv"), {}, {"bad_price": 2}, [1, 2]),
    ("duplicate_key", _lines("duplicate_key.csv"), {}, {"duplicate_key": 1}, [2]),
    (
        "date_out_of_range",
        _lines("date_out_of_range.csv"),
        {"start": "2025-01-01"},
        {"date_out_of_range": 2},
        [1, 3],
    ),
    (
        "credit_note_rejected",
        _lines("credit_note.csv", rules=[CREDIT]),
        {"credit_notes": "reject"},
        {"credit_note": 1},
        [2],
    ),
    (
        "credit_note_without_rule",
        _lines("credit_note.csv"),
        {},
        {"negative_quantity": 1},
        [2],
    ),
    ("excluded", _lines("excluded.csv", rules=[POSTAGE]), {}, {"excluded": 1}, [2]),
    (
        "unknown_customer",
        {**_lines("unknown_customer_lines.csv"), "customers": {"path": "customers.csv"}},
        {},
        {"unknown_customer": 1},
        [2],
    ),
    (
        "unknown_product",
        {**_lines("unknown_product_lines.csv"), "products": {"path": "products_bad_cost.csv"}},
        {},
        {"unknown_product": 1},
        [2],
    ),
    ("bad_line_no", _lines("bad_line_no.csv"), {}, {"bad_type": 1}, [1]),
    ("bad_bool", _lines("bad_bool.csv"), {}, {"bad_type": 1}, [1]),
    ("semicolon", _lines("semicolon.csv", delimiter=";"), {}, {}, []),
]


@pytest.mark.parametrize(
    ("data", "analysis", "reasons", "rows"),
    [c[1:] for c in REASON_CASES],
    ids=[c[0] for c in REASON_CASES],
)
def test_bad_rows_get_their_reason(
    data: dict[str, Any], analysis: dict[str, Any], reasons: dict[str, int], rows: list[int]
) -> None:
    ds = _load(data, **analysis)
    assert ds.accounts["order_lines"].reasons == reasons
    lines = ds.rejects[ds.rejects["table"] == "order_lines"]
    assert lines["row_number"].tolist() == rows
    assert lines["message"].str.len().min() > 20 if rows else True
    _assert_accounted(ds, "order_lines")


def test_reference_tables_are_checked_too() -> None:
    ds = _load(
        {
            **_lines("good_lines.csv"),
            "products": {"path": "products_bad_cost.csv"},
            "shipments": {"path": "shipments.csv"},
        }
    )
    assert ds.accounts["products"].reasons == {"bad_value": 1}
    # P1 survives, so both lines load; O9 is no order, S3 has a negative freight.
    assert ds.accounts["order_lines"].rejected == 0
    assert ds.accounts["shipments"].reasons == {"bad_value": 1, "unknown_order": 1}
    for table in ("products", "shipments"):
        _assert_accounted(ds, table)


def test_reject_message_names_field_value_and_fix() -> None:
    ds = _load(_lines("negative_quantity.csv"))
    row = ds.rejects.iloc[0]
    assert (row["field"], row["value"]) == ("quantity", "-3")
    assert "quantity = -3 is negative" in row["message"]
    assert "credit_note rule" in row["message"]


def test_credit_notes_are_netted_with_a_negative_quantity() -> None:
    ds = _load(_lines("credit_note.csv", rules=[CREDIT]))
    lines = ds.tables["order_lines"].to_pandas().set_index("order_id")
    assert bool(lines.loc["CN1", "is_credit_note"])
    assert lines.loc["CN1", "quantity"] == -1
    assert not bool(lines.loc["O1", "is_credit_note"])


def test_typed_values_survive() -> None:
    ds = _load(_lines("bad_bool.csv"))
    lines = ds.tables["order_lines"].to_pandas().sort_values("row_number")
    assert lines["rush"].tolist() == [True, False]
    assert lines["order_date"].tolist() == [pd.Timestamp(dt.date(2025, 1, 7))] * 2
    assert lines["line_no"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("data", "error", "needle"),
    [
        (_lines("header_only.csv"), DataContractError, "no data rows"),
        (_lines("empty.csv"), DataContractError, "the file is empty"),
        (_lines("missing_column.csv"), DataContractError, "required column(s) ['quantity']"),
        (_lines("garbage.parquet"), DataContractError, "cannot read it as parquet"),
        (_lines("nowhere.csv"), DataContractError, "file not found"),
        (_lines("good_lines.csv", columns={"quantity": "Qty"}), DataContractError, "'Qty'"),
        (_lines("good_lines.csv", format="xml"), ConfigError, "format"),
        (
            _lines("good_lines.csv", rules=[{**POSTAGE, "column": "channel"}]),
            ConfigError,
            "does not provide",
        ),
    ],
    ids=[
        "header_only",
        "empty",
        "missing_column",
        "garbage",
        "missing_file",
        "bad_map",
        "xml",
        "rule",
    ],
)
def test_whole_file_problems_stop_with_one_clear_error(
    data: dict[str, Any], error: type[Exception], needle: str
) -> None:
    with pytest.raises(error) as info:
        _load(data)
    message = str(info.value)
    assert needle in message
    assert "fix" in message
    assert "\n" not in message


def test_missing_column_error_lists_the_columns_present() -> None:
    with pytest.raises(DataContractError, match=r"columns present: \['order_id', .*'qty'"):
        _load(_lines("missing_column.csv"))


def test_excel_and_parquet_read_like_csv(tmp_path: Path) -> None:
    frame = pd.read_csv(BAD / "bad_price.csv", dtype=str)
    frame.to_excel(tmp_path / "lines.xlsx", index=False)
    frame.to_parquet(tmp_path / "lines.parquet")
    for name in ("lines.xlsx", "lines.parquet"):
        ds = _load(_lines(name), root=tmp_path)
        assert ds.accounts["order_lines"].reasons == {"bad_price": 2}, name


# ---- hypothesis: random corruptions of a valid table --------------------------------------------

CORRUPTIONS = {
    "missing_required": ("customer_id", ""),
    "bad_type": ("quantity", "lots"),
    "bad_date": ("order_date", "2025-02-30"),
    "zero_quantity": ("quantity", "0"),
    "negative_quantity": ("quantity", "-5"),
    "bad_price": ("unit_price", "-1.5"),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(min_value=1, max_value=40),
    hits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=39), st.sampled_from(sorted(CORRUPTIONS))),
        max_size=15,
    ),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_random_corruptions_are_accounted(
    tmp_path: Path, n: int, hits: list[tuple[int, str]], seed: int
) -> None:
    rng = pd.Series(range(n)).sample(frac=1.0, random_state=seed).to_numpy()
    valid = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "line_no": ["1"] * n,
            "customer_id": [f"C{i % 7}" for i in range(n)],
            "product_id": [f"P{v % 5}" for v in rng],
            "order_date": [f"2025-03-{1 + v % 28:02d}" for v in rng],
            "quantity": [str(1 + v % 9) for v in rng],
            "unit_price": [f"{1 + v / 4:.2f}" for v in rng],
        }
    )
    corrupt = valid.copy()
    expected: dict[int, str] = {}
    for row, reason in hits:
        if row < n and row + 1 not in expected:
            col, value = CORRUPTIONS[reason]
            corrupt.loc[row, col] = value
            expected[row + 1] = reason
    path = tmp_path / f"lines_{n}_{seed}.csv"
    corrupt.to_csv(path, index=False)
    if len(expected) == n:
        with pytest.raises(DataContractError, match="no order lines left after validation"):
            _load(_lines(path.name), root=tmp_path)
        return
    ds = _load(_lines(path.name), root=tmp_path)
    acc = ds.accounts["order_lines"]
    assert acc.read == n == acc.loaded + acc.rejected
    got = dict(zip(ds.rejects["row_number"], ds.rejects["reason_code"], strict=True))
    assert got == expected
    loaded = ds.tables["order_lines"].to_pandas().sort_values("row_number")
    survivors = valid.drop(index=[r - 1 for r in expected]).reset_index(drop=True)
    assert loaded["order_id"].tolist() == survivors["order_id"].tolist()
    assert loaded["quantity"].tolist() == survivors["quantity"].astype(float).tolist()
    assert loaded["unit_price"].tolist() == survivors["unit_price"].astype(float).tolist()
    assert [f"{d:%Y-%m-%d}" for d in loaded["order_date"]] == survivors["order_date"].tolist()


# ---- rules test the source text; per-order consistency; nothing left ----------------------------


def _rule(**condition: Any) -> dict[str, Any]:
    return {"name": "r", "action": "exclude", **condition}


@pytest.mark.parametrize(
    ("rule", "excluded"),
    [
        # customer_id (text): 123, 456.0, 789, 0123, C5; unit_price: 10, 10, Freight Included,
        # 12.50, 10; quantity: 3, 4, 4, 4, 1; row 6 matches none.
        (_rule(column="customer_id", equals=123), [1]),  # not 0123: another code
        (_rule(column="customer_id", **{"in": [456, "456.0"]}), [2]),  # text compares as text
        (_rule(column="customer_id", equals="0123"), [4]),
        (_rule(column="unit_price", equals="Freight Included"), [3]),
        (_rule(column="unit_price", **{"in": [10, 12.5]}), [1, 2, 4, 5]),  # 12.50 is 12.5
        (_rule(column="quantity", **{"in": [4.0, "x"]}), [2, 3, 4]),
        (_rule(column="customer_id", starts_with="C"), [5]),
    ],
    ids=["equals_int", "in_text", "leading_zero", "text_on_number", "numbers", "mixed", "prefix"],
)
def test_rules_compare_with_the_source_text(rule: dict[str, Any], excluded: list[int]) -> None:
    ds = _load(_lines("rule_text.csv", rules=[rule]))
    got = ds.rejects.loc[ds.rejects["reason_code"] == "excluded", "row_number"].tolist()
    assert got == excluded
    _assert_accounted(ds, "order_lines")


def test_rules_match_numbers_in_parquet_columns(tmp_path: Path) -> None:
    frame = pd.read_csv(BAD / "good_lines.csv")
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    frame["order_id"] = ["O1", "O2", "O3"]
    frame["customer_id"] = [123, 456, 789]  # int64, mapped to a text column
    frame["quantity"] = [3.0, 4.0, 5.0]  # float64: shown as 4, matched as 4.0
    frame.to_parquet(tmp_path / "lines.parquet")
    rules = [_rule(column="customer_id", equals=123), _rule(column="quantity", equals="4")]
    ds = _load(_lines("lines.parquet", rules=rules), root=tmp_path)
    assert ds.rejects["row_number"].tolist() == [1, 2]
    _assert_accounted(ds, "order_lines")


def test_null_values_count_for_is_null_rules() -> None:
    rule = _rule(column="channel", is_null=True)
    ds = _load(_lines("null_words.csv", rules=[rule], null_values=["N/A"]))
    assert ds.accounts["order_lines"].reasons == {"excluded": 2}
    ds = _load(_lines("null_words.csv", rules=[rule]))
    assert ds.rejects["row_number"].tolist() == [2]


def test_an_order_with_two_customers_is_rejected_whole() -> None:
    ds = _load(_lines("inconsistent_order.csv"))
    reasons = dict(zip(ds.rejects["row_number"], ds.rejects["reason_code"], strict=True))
    # O1 names C1 and C2: all three lines go. O3's second line repeats the key of its first
    # with another customer: the copy is a duplicate, and the order names two customers.
    inconsistent = dict.fromkeys((1, 2, 3, 5), "inconsistent_order")
    assert reasons == {**inconsistent, 6: "duplicate_key"}
    message = ds.rejects.iloc[0]["message"]
    assert message.startswith("order O1 has customer_id C1 and C2")
    assert "all the order's lines are rejected" in message
    assert ds.rejects.iloc[3]["message"].startswith("order O3 has customer_id C3 and C4")
    assert ds.tables["order_lines"].order_id.to_pandas().tolist() == ["O2"]
    _assert_accounted(ds, "order_lines")


def test_a_rejected_line_does_not_make_its_order_inconsistent() -> None:
    rule = _rule(column="customer_id", **{"in": ["C2", "C4"]})
    ds = _load(_lines("inconsistent_order.csv", rules=[rule]))
    assert ds.accounts["order_lines"].reasons == {"excluded": 3}
    _assert_accounted(ds, "order_lines")


def test_no_order_line_left_is_one_user_error_naming_the_rejects(tmp_path: Path) -> None:
    ws = workspace_from_dict(
        {"data": _lines("zero_quantity.csv", rules=[_rule(column="customer_id", equals="C2")])},
        root=BAD,
        origin="test.yaml",
    )
    target = tmp_path / "run" / "rejects.parquet"
    with pytest.raises(DataContractError) as err:
        load_dataset(ws, connect(), rejects_path=target)
    message = str(err.value)
    assert "no order lines left after validation" in message
    assert f"see rejects at {target}" in message
    assert "(2 read, all rejected: excluded 1, zero_quantity 1)" in message
    assert "\n" not in message
    assert pd.read_parquet(target)["reason_code"].tolist() == ["zero_quantity", "excluded"]


def test_an_unknown_customer_is_rejected_before_the_order_is_judged(tmp_path: Path) -> None:
    header = (BAD / "good_lines.csv").read_text().splitlines()[0]
    body = "O1,1,C1,P1,2025-01-06,3,10\nO1,2,C9,P2,2025-01-06,1,5\nO2,1,C2,P1,2025-01-07,4,10\n"
    (tmp_path / "lines.csv").write_text(f"{header}\n{body}")
    (tmp_path / "customers.csv").write_text((BAD / "customers.csv").read_text())
    with_customers = {**_lines("lines.csv"), "customers": {"path": "customers.csv"}}
    ds = _load(with_customers, root=tmp_path)
    assert ds.accounts["order_lines"].reasons == {"unknown_customer": 1}
    ds = _load(_lines("lines.csv"), root=tmp_path)
    assert ds.accounts["order_lines"].reasons == {"inconsistent_order": 2}
    _assert_accounted(ds, "order_lines")


def test_check_and_run_agree_on_an_order_with_two_customers(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from supplyseg.cli import app

    (tmp_path / "lines.csv").write_text((BAD / "inconsistent_order.csv").read_text())
    (tmp_path / "supplyseg.yaml").write_text("data:\n  order_lines: {path: lines.csv}\n")
    for command in ("check", "run"):
        result = CliRunner().invoke(app, [command, str(tmp_path)])
        assert result.exit_code == 0, result.output
    rejects = pd.read_parquet(next((tmp_path / "out").glob("*/rejects.parquet")))
    assert rejects["reason_code"].value_counts().to_dict() == {
        "inconsistent_order": 4,
        "duplicate_key": 1,
    }
    (tmp_path / "supplyseg.yaml").write_text(
        "data:\n  order_lines: {path: lines.csv, null_values: [O1, O2, O3]}\n"
    )
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "no order lines left after validation" in result.output
    assert "see rejects at" in result.output


def test_supply_rows_are_checked_and_accounted(tmp_path: Path) -> None:
    (tmp_path / "lines.csv").write_text(
        "order_id,customer_id,product_id,order_date,quantity,unit_price\n"
        "O1,C1,P1,2025-01-02,1,2.0\n",
        encoding="utf-8",
    )
    (tmp_path / "products.csv").write_text("product_id\nP1\nP2\n", encoding="utf-8")
    (tmp_path / "supply.csv").write_text(
        "product_id,location_id,date,quantity,kind\n"
        "P1,DC1,2025-01-01,10,on_hand\n"
        "P1,DC1,2025-02-01,5,receipt\n"
        "P1,DC1,2025-02-01,6,receipt\n"  # duplicate key (product, location, date, kind)
        "P2,DC1,2025-02-01,-1,receipt\n"
        "P2,DC1,2025-02-01,1,po\n"
        "P9,DC1,2025-02-01,1,receipt\n"
        "P2,DC1,,1,receipt\n",
        encoding="utf-8",
    )
    ds = _load(
        {
            "order_lines": {"path": "lines.csv"},
            "products": {"path": "products.csv"},
            "supply": {"path": "supply.csv"},
        },
        root=tmp_path,
    )
    _assert_accounted(ds, "supply")
    acc = ds.accounts["supply"]
    assert (acc.read, acc.loaded) == (7, 2)
    assert acc.reasons == {
        "bad_value": 2,
        "duplicate_key": 1,
        "missing_required": 1,
        "unknown_product": 1,
    }
    msg = ds.rejects.loc[ds.rejects["field"] == "kind", "message"].iloc[0]
    assert msg == "kind = po is not a supply kind; allowed: on_hand, receipt"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["O1", "O2", "O3"]),
            st.one_of(st.none(), st.integers(1, 3)),
            st.sampled_from(["C1", "C2", "CX"]),
        ),
        min_size=1,
        max_size=14,
    )
)
def test_duplicates_unknowns_and_mixed_orders_match_a_line_by_line_reading(
    tmp_path: Path, rows: list[tuple[str, int | None, str]]
) -> None:
    # Independent reading of the rules, row by row in file order: a row repeating an earlier
    # row's (order_id, line_no) is a duplicate (no line number equals no line number); else a
    # customer the customers table lacks is unknown; else every line of an order whose other
    # counted lines (duplicates count, unknowns do not) name two customers is inconsistent.
    rows = [*rows, ("O9", 1, "C1")]  # a line that loads: a load without one is an error
    lines = pd.DataFrame(rows, columns=["order_id", "line_no", "customer_id"])
    lines = lines.assign(
        line_no=lines["line_no"].astype("Int64"),
        product_id="P1",
        order_date=pd.Timestamp("2025-01-06"),
        quantity=1.0,
        unit_price=2.0,
    )
    lines.to_parquet(tmp_path / "lines.parquet")
    (tmp_path / "customers.csv").write_text("customer_id\nC1\nC2\n")
    data = {"order_lines": {"path": "lines.parquet"}, "customers": {"path": "customers.csv"}}
    ds = _load(data, root=tmp_path)
    seen: set[tuple[str, Any]] = set()
    dup, unknown = [], []
    for order, line, customer in rows:
        dup.append((order, line) in seen)
        seen.add((order, line))
        unknown.append(customer == "CX")
    names: dict[str, set[str]] = {}
    for (order, _, customer), u in zip(rows, unknown, strict=True):
        if not u:
            names.setdefault(order, set()).add(customer)
    want = {}
    for i, ((order, _, _), d, u) in enumerate(zip(rows, dup, unknown, strict=True), start=1):
        if d:
            want[i] = "duplicate_key"
        elif u:
            want[i] = "unknown_customer"
        elif len(names.get(order, ())) > 1:
            want[i] = "inconsistent_order"
    rejects = ds.rejects[ds.rejects["table"] == "order_lines"]
    assert dict(zip(rejects["row_number"], rejects["reason_code"], strict=True)) == want
    _assert_accounted(ds, "order_lines")
