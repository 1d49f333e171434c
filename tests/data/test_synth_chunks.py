"""Chunked synthetic workspace: synth_company's master data and designed demand, the same files,
memory bounded by the chunk (the designed truth itself is checked in test_synth.py, which runs
every recovery test on a chunked company too)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplyseg.config import load_workspace
from supplyseg.data.load import load_dataset
from supplyseg.data.synth import (
    HORIZON_END,
    HORIZON_START,
    SynthCompany,
    synth_company,
    write_workspace,
)
from supplyseg.data.synth_chunks import read_workspace, write_workspace_chunked
from supplyseg.engine import connect
from supplyseg.errors import ConfigError

ARGS = {"customers": 300, "products": 80, "lines": 30_000, "seed": 2, "locations": 4}
START = pd.Timestamp(HORIZON_START)
SAME = ("customers", "products", "locations", "truth_customers", "truth_products")
SUPPLY = ("suppliers", "purchase_orders", "sourcing_options", "truth_suppliers")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chunked")
    write_workspace_chunked(root, **ARGS, suppliers=5, chunk_lines=5000)
    return root


@pytest.fixture(scope="module")
def pair(written: Path) -> tuple[SynthCompany, SynthCompany]:
    """(chunked, in memory) with the same arguments."""
    return read_workspace(written), synth_company(**ARGS, suppliers=5)


def _good(c: SynthCompany) -> pd.DataFrame:
    return c.order_lines.drop(index=c.truth_bad_rows["row_number"].to_numpy() - 1)


def _net_weekly(c: SynthCompany) -> pd.Series:
    good = _good(c)
    week = (good["order_date"] - START).dt.days // 7
    return good.groupby([good["product_id"], week])["quantity"].sum().sort_index()


def test_master_data_and_designed_truth_are_synth_company_s(
    pair: tuple[SynthCompany, SynthCompany],
) -> None:
    chunked, memory = pair
    for name in (*SAME, *SUPPLY):
        pd.testing.assert_frame_equal(getattr(chunked, name), getattr(memory, name), obj=name)
    keys = ["product_id", "location_id", "as_of"]
    pd.testing.assert_frame_equal(chunked.inventory[keys], memory.inventory[keys])
    assert chunked.parameters == memory.parameters


def test_net_weekly_demand_is_exactly_the_designed_one(
    pair: tuple[SynthCompany, SynthCompany],
) -> None:
    # The designed product-week totals are drawn before any line: whatever the lines, their net
    # quantity per product and week (credit notes included, bad rows excluded) is the same.
    chunked, memory = pair
    pd.testing.assert_series_equal(_net_weekly(chunked), _net_weekly(memory))
    got = chunked.truth_outliers
    want = memory.truth_outliers
    pd.testing.assert_series_equal(got["product_id"], want["product_id"])
    pd.testing.assert_series_equal(
        (got["order_date"] - START).dt.days // 7, (want["order_date"] - START).dt.days // 7
    )
    pd.testing.assert_series_equal(got["extra_quantity"], want["extra_quantity"])


def test_line_counts_and_shares_match_synth_company(
    pair: tuple[SynthCompany, SynthCompany],
) -> None:
    chunked, memory = pair
    for c in pair:
        assert len(c.order_lines) == ARGS["lines"]
        assert len(c.truth_bad_rows) == round(0.002 * ARGS["lines"])
        assert c.order_lines["order_id"].str.startswith("CN").sum() == round(0.004 * ARGS["lines"])
    assert np.ptp(chunked.truth_bad_rows["reason_code"].value_counts().to_numpy()) <= 1

    def stats(c: SynthCompany) -> dict[str, float]:
        """Line-level figures each customer type's design drives (independent of the ids)."""
        good = _good(c)
        sales = good[good["order_id"].str.startswith("SO")]
        kind = sales["customer_id"].map(c.truth_customers.set_index("customer_id")["customer_type"])
        orders = sales.groupby("order_id")
        out = {
            "lines per order": len(sales) / orders.ngroups,
            "rush": sales["rush"].mean(),
            "short": (sales["delivered_quantity"] < sales["quantity"]).mean(),
            "shipped": sales["ship_date"].notna().mean(),
            "other DC": (sales["location_id"] != "DC1").mean(),
            "shipments per order": len(c.shipments) / orders.ngroups,
            "invoices per order": len(c.invoices) / orders.ngroups,
            "returns per line": len(c.returns) / len(sales),
            "lead days": (sales["requested_date"] - sales["order_date"]).dt.days.mean(),
            "price": (sales["unit_price"] / sales["unit_cost"]).mean(),
        }
        for t, share in kind.value_counts(normalize=True).items():
            out[f"{t} lines"] = share
            out[f"{t} quantity"] = sales.loc[kind == t, "quantity"].median()  # heavy tails
        return out

    got, want = stats(chunked), stats(memory)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=0.15), key


def test_files_do_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    args = {"customers": 60, "products": 30, "lines": 4000, "seed": 5}
    fine = write_workspace_chunked(tmp_path / "fine", **args, chunk_lines=1).parent
    whole = write_workspace_chunked(tmp_path / "whole", **args, chunk_lines=10**9).parent
    files = sorted(p.relative_to(fine) for p in fine.rglob("*.parquet"))
    assert files == sorted(p.relative_to(whole) for p in whole.rglob("*.parquet"))
    for file in files:
        assert pq.read_table(fine / file).equals(pq.read_table(whole / file)), file
    groups = pq.ParquetFile(fine / "data" / "order_lines.parquet").num_row_groups
    assert groups > 50  # one a week
    assert pq.ParquetFile(whole / "data" / "order_lines.parquet").num_row_groups == 1
    yaml = (fine / "supplyseg.yaml").read_text(encoding="utf-8")
    assert yaml == (whole / "supplyseg.yaml").read_text(encoding="utf-8")
    other = write_workspace_chunked(tmp_path / "other", **(args | {"seed": 6})).parent
    assert not pq.read_table(other / "data" / "order_lines.parquet").equals(
        pq.read_table(fine / "data" / "order_lines.parquet")
    )


def test_same_files_schema_and_yaml_as_write_workspace(written: Path, tmp_path: Path) -> None:
    path = write_workspace(synth_company(**ARGS, suppliers=5), tmp_path)
    files = sorted(p.relative_to(written) for p in written.rglob("*.parquet"))
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    for file in files:
        assert pq.read_schema(written / file) == pq.read_schema(tmp_path / file), file
    ours = (written / "supplyseg.yaml").read_text(encoding="utf-8").splitlines()
    theirs = path.read_text(encoding="utf-8").splitlines()
    assert ours[1].startswith("# Made by write_workspace_chunked(customers=300,")
    assert ours[:1] + ours[2:] == theirs[:1] + theirs[2:]
    ws = load_workspace(written / "supplyseg.yaml")
    assert (ws.analysis.start, ws.analysis.end) == (HORIZON_START, HORIZON_END)


def test_loader_reads_every_row_group_and_rejects_exactly_the_bad_rows(tmp_path: Path) -> None:
    path = write_workspace_chunked(
        tmp_path, 200, 60, 8000, seed=3, bad_share=0.01, chunk_lines=1000
    )
    assert pq.ParquetFile(tmp_path / "data" / "order_lines.parquet").num_row_groups > 5
    ds = load_dataset(load_workspace(path), connect())
    got = ds.rejects[["row_number", "reason_code"]].astype(
        {"row_number": "int64", "reason_code": str}
    )
    truth = pd.read_parquet(tmp_path / "truth" / "bad_rows.parquet")
    want = truth[["row_number", "reason_code"]].astype({"reason_code": str})
    pd.testing.assert_frame_equal(got.sort_values("row_number", ignore_index=True), want)


def _peak_bytes(root: Path, lines: int, chunk_lines: int) -> int:
    """Peak bytes traced by tracemalloc (numpy's and Python's allocations) while writing."""
    tracemalloc.start()
    try:
        write_workspace_chunked(root, 200, 50, lines, seed=1, chunk_lines=chunk_lines)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_grows_with_the_chunk_not_the_lines(tmp_path: Path) -> None:
    # With customers and products fixed, four times the lines at the same chunk size costs
    # about the same memory; one chunk holding all lines costs several times more (measured:
    # 1.9 and 2.2 MB for 100k and 400k lines in 5k-line chunks, 67 MB in one chunk).
    small = _peak_bytes(tmp_path / "a", 100_000, 5_000)
    large = _peak_bytes(tmp_path / "b", 400_000, 5_000)
    whole = _peak_bytes(tmp_path / "c", 400_000, 10**9)
    assert large < 1.5 * small
    assert whole > 5 * large


def test_bad_arguments_name_parameter_value_and_range(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"chunk_lines=0 .*from 1 to"):
        write_workspace_chunked(tmp_path, chunk_lines=0)
    with pytest.raises(ConfigError, match=r"lines=99 .*from 100 to"):
        write_workspace_chunked(tmp_path, lines=99)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.integers(4, 60),
    products=st.integers(1, 40),
    lines=st.integers(100, 3000),
    seed=st.integers(0, 2**32),
    locations=st.integers(1, 5),
    bad_share=st.sampled_from([0.0, 0.05, 0.1]),
    chunk_lines=st.integers(1, 4000),
)
def test_invariants(
    tmp_path_factory: pytest.TempPathFactory,
    customers: int,
    products: int,
    lines: int,
    seed: int,
    locations: int,
    bad_share: float,
    chunk_lines: int,
) -> None:
    args = {"customers": customers, "products": products, "lines": lines, "seed": seed}
    args |= {"locations": locations, "bad_share": bad_share}
    root = tmp_path_factory.mktemp("inv")
    c = read_workspace(write_workspace_chunked(root, **args, chunk_lines=chunk_lines).parent)
    assert len(c.order_lines) == lines
    assert len(c.truth_bad_rows) == round(bad_share * lines)
    assert c.truth_bad_rows["row_number"].between(1, lines).all()
    assert c.truth_bad_rows["row_number"].is_unique
    good = _good(c)
    assert not good.duplicated(["order_id", "line_no"]).any()
    assert (good["quantity"] > 0).eq(good["order_id"].str.startswith("SO")).all()
    assert good["order_date"].is_monotonic_increasing
    assert good["customer_id"].isin(c.customers["customer_id"]).all()
    for table, key in (("shipments", "shipment_id"), ("invoices", "invoice_id")):
        assert getattr(c, table)[key].is_unique, table
    assert c.returns["return_id"].is_unique
    assert c.shipments["order_id"].isin(good["order_id"]).all()
    pd.testing.assert_series_equal(_net_weekly(c), _net_weekly(synth_company(**args)))
