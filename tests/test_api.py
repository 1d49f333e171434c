"""The notebook API gives the pipeline's numbers, from frames as from files."""

from __future__ import annotations

import doctest
import inspect
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

import supplyseg
from supplyseg.config import Workspace, load_workspace
from supplyseg.data.samples import demo_workspace
from supplyseg.errors import ConfigError, DataContractError

FUNCTIONS = [n for n in supplyseg.__all__ if n[0].islower() and not n.startswith("__")]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path, supplyseg.Dataset]:
    """The demo company run by the pipeline, and its files loaded again as data frames."""
    ws_dir = tmp_path_factory.mktemp("synthco")
    demo_workspace(ws_dir)
    ws = load_workspace(ws_dir)
    result = supplyseg.run(ws, report=False)
    frames = {name: pd.read_parquet(ws.source_path(name)) for name in ws.data}
    return ws, result.path, supplyseg.load_frames(frames, workspace=ws)


def _same(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    got = got.sort_values(keys, ignore_index=True)
    want = want.sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)


def test_frames_are_validated_exactly_as_the_files(synth: Any) -> None:
    _, run_dir, data = synth
    manifest = pd.read_json(run_dir / "manifest.json", typ="series")
    for name, account in data.accounts.items():
        want = manifest["tables"][name]
        assert (account.read, account.loaded, account.rejected) == (
            want["read"],
            want["loaded"],
            want["rejected"],
        )
        assert account.reasons == want["reasons"]
    rejects = pd.read_parquet(run_dir / "rejects.parquet")
    pd.testing.assert_frame_equal(data.rejects, rejects, check_dtype=False)
    lines = data.tables["order_lines"]
    assert {"is_credit_note", "line_no"} <= set(lines.columns)
    assert int(lines.is_credit_note.sum().to_pyarrow().as_py()) > 0


def test_demand_functions_give_the_run_numbers(synth: Any) -> None:
    ws, run_dir, data = synth
    a = ws.analysis
    got = supplyseg.demand_profile(data, "product", a.bucket, ws.demand, start=a.start, end=a.end)
    _same(got, pd.read_parquet(run_dir / "demand_product.parquet"), ["product_id"])


def test_cost_to_serve_and_customer_metrics_give_the_run_numbers(synth: Any) -> None:
    ws, run_dir, data = synth
    as_of = ws.analysis.end
    cts = supplyseg.cost_to_serve(data, ws.cost_to_serve, as_of=as_of)
    want = pd.read_parquet(run_dir / "cost_to_serve_customer.parquet")
    _same(cts.customer, want, ["customer_id"])
    kpis = supplyseg.customer_metrics(data, ws.customer, as_of=as_of)
    _same(kpis.table, pd.read_parquet(run_dir / "customer_metrics.parquet"), ["customer_id"])
    # The loaded tables as plain pandas (dates as datetime64) give the same numbers again.
    frames = {name: t.to_pandas() for name, t in data.tables.items()}
    assert pd.api.types.is_datetime64_any_dtype(frames["order_lines"]["order_date"])
    again = supplyseg.cost_to_serve(frames, ws.cost_to_serve, as_of=as_of)
    _same(again.customer, want, ["customer_id"])
    kpis_again = supplyseg.customer_metrics(frames, ws.customer, as_of=as_of)
    _same(kpis_again.table, kpis.table, ["customer_id"])


def test_segments_give_the_run_segments(synth: Any) -> None:
    ws, run_dir, data = synth
    keys = ["customer_id", "scheme"]
    got = supplyseg.segment_customers(data, workspace=ws)
    _same(got, pd.read_parquet(run_dir / "segments_customer.parquet"), keys)
    got = supplyseg.segment_products(data, workspace=ws)
    _same(got, pd.read_parquet(run_dir / "segments_product.parquet"), ["product_id", "scheme"])


# --------------------------------------------------------------------------- the cases

LINES = pd.DataFrame(
    {
        "order_id": ["o1", "o1", "o2", "o3", "CN1"],
        "customer_id": ["c1", "c1", "c2", "c1", "c1"],
        "product_id": ["p1", "p2", "p1", "p1", "p1"],
        "order_date": pd.to_datetime(
            ["2025-01-06", "2025-01-06", "2025-01-08", "2025-01-20", "2025-01-21"]
        ),
        "quantity": [4.0, 1.0, 2.0, 3.0, -1.0],
        "unit_price": [10.0, 5.0, 10.0, 10.0, 10.0],
    }
)


def test_cost_to_serve_takes_a_data_frame() -> None:
    cts = supplyseg.cost_to_serve(
        {"order_lines": LINES}, pools=[{"name": "handling", "driver": "orders", "rate": 2.0}]
    )
    by_customer = cts.customer.set_index("customer_id")
    # c1: revenue 40 + 5 + 30 - 10 (credit note nets); orders o1, o3 (the credit note is none).
    assert by_customer.loc["c1", "revenue"] == pytest.approx(65.0)
    assert by_customer.loc["c1", "handling"] == pytest.approx(4.0)
    assert by_customer.loc["c2", "handling"] == pytest.approx(2.0)


def test_customer_metrics_takes_datetime64_dates() -> None:
    kpis = supplyseg.customer_metrics(LINES, as_of=date(2025, 1, 31)).table
    c1 = kpis.set_index("customer_id").loc["c1"]
    assert (c1["frequency"], c1["recency_days"]) == (2, 11)  # purchases 6 and 20 January


def test_customer_behaviour_needs_no_is_credit_note() -> None:
    from supplyseg.segment.features import customer_behaviour

    got = customer_behaviour(LINES, date(2025, 1, 31)).set_index("customer_id")
    assert got.loc["c1", "orders"] == 2  # the credit note (negative quantity) is not an order


CN = {"name": "cn", "column": "order_id", "starts_with": "CN", "action": "credit_note"}


def test_demand_series_returns_pandas_from_a_dataset_a_mapping_or_ibis() -> None:
    expected = pd.DataFrame(
        {
            "product_id": ["p1", "p1", "p1", "p2", "p2", "p2"],
            "ds": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20"] * 2),
            "y": [6.0, 0.0, 2.0, 1.0, 0.0, 0.0],  # weeks from the item's first to the last
        }
    )
    for data in (
        LINES,
        {"order_lines": LINES},
        ibis.memtable(LINES),
        supplyseg.load_frames({"order_lines": LINES}, sources={"order_lines": {"rules": [CN]}}),
    ):
        got = supplyseg.demand_series(data, "product", "week", dense=True)
        assert isinstance(got, pd.DataFrame)
        got["ds"] = pd.to_datetime(got["ds"])
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_load_frames_rejects_as_files_do_and_takes_arrow_and_ibis() -> None:
    bad = LINES.assign(unit_price=[10.0, 0.0, 10.0, 10.0, 10.0])
    for frame in (bad, ibis.memtable(bad), ibis.memtable(bad).to_pyarrow()):
        data = supplyseg.load_frames({"order_lines": frame})
        got = data.rejects[["row_number", "reason_code", "field"]].to_dict("records")
        assert got == [
            {"row_number": 2, "reason_code": "bad_price", "field": "unit_price"},
            {"row_number": 5, "reason_code": "negative_quantity", "field": "quantity"},
        ]
        assert data.accounts["order_lines"].loaded == 3
    lines = data.tables["order_lines"].order_by("row_number").to_pandas()
    assert list(lines["line_no"]) == [1, 1, 1]  # position within the order, as for a file


def test_load_frames_errors_say_what_to_fix() -> None:
    with pytest.raises(ConfigError, match=r"unknown table 'order_line' \(did you mean"):
        supplyseg.load_frames({"order_line": LINES})
    with pytest.raises(ConfigError, match=r"bucket \(value 'wek'\).*did you mean 'week'"):
        supplyseg.load_frames({"order_lines": LINES}, bucket="wek")
    with pytest.raises(DataContractError, match=r"required column\(s\) \['unit_price'\]"):
        supplyseg.load_frames({"order_lines": LINES.drop(columns="unit_price")})
    with pytest.raises(DataContractError, match="has no rows"):
        supplyseg.load_frames({"order_lines": LINES.iloc[:0]})
    with pytest.raises(ConfigError, match=r"cost_to_serve\.pols"):
        supplyseg.cost_to_serve(LINES, pols=[])


# --------------------------------------------------------------------------- the public surface


def test_import_is_light_and_every_export_resolves() -> None:
    import subprocess
    import sys

    code = "import sys, supplyseg; print(sorted(m for m in ('ibis', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for name in supplyseg.__all__:
        assert getattr(supplyseg, name) is not None, name


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_has_a_docstring_with_a_working_example(name: str) -> None:
    func = getattr(supplyseg, name)
    doc = inspect.getdoc(func) or ""
    assert ">>>" in doc, f"supplyseg.{name} has no example"
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(func, name, globs={}):
        runner.run(test)
    assert runner.failures == 0
