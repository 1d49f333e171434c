"""Synthetic company: deterministic, sound references, designed truth recoverable, real bad rows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplyseg.config import load_workspace
from supplyseg.data.contract import TABLES
from supplyseg.data.synth import (
    HORIZON_END,
    HORIZON_START,
    TABLE_NAMES,
    SynthCompany,
    synth_company,
    write_workspace,
)
from supplyseg.data.synth_chunks import read_workspace, write_workspace_chunked
from supplyseg.errors import ConfigError

START = pd.Timestamp(HORIZON_START)
REQUIRED = ("order_id", "customer_id", "product_id", "order_date", "quantity", "unit_price")


@pytest.fixture(scope="module", params=["synth_company", "write_workspace_chunked"])
def company(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> SynthCompany:
    """The default size (what the demo and the recovery promise use), made in memory or written
    in chunks and read back: both must keep every promise below."""
    if request.param == "synth_company":
        return synth_company()
    root = tmp_path_factory.mktemp("chunked")
    write_workspace_chunked(root, chunk_lines=30_000)
    return read_workspace(root)


def _good(c: SynthCompany) -> pd.DataFrame:
    bad = c.truth_bad_rows["row_number"].to_numpy() - 1
    return c.order_lines.drop(index=bad)


def _defects(c: SynthCompany) -> pd.DataFrame:
    """Every defect flag of every order line, computed independently of the generator."""
    ol = c.order_lines
    is_cn = ol["order_id"].fillna("").str.startswith("CN")
    key_seen = ol.duplicated(["order_id", "line_no"], keep="first")
    return pd.DataFrame(
        {
            "missing_required": ol[list(REQUIRED)].isna().any(axis=1),
            "zero_quantity": ol["quantity"] == 0,
            "negative_quantity": (ol["quantity"] < 0) & ~is_cn,
            "bad_price": ol["unit_price"] <= 0,
            "date_out_of_range": (ol["order_date"] < START)
            | (ol["order_date"] > pd.Timestamp(HORIZON_END)),
            "duplicate_key": key_seen,
            "unknown_customer": ol["customer_id"].notna()
            & ~ol["customer_id"].isin(c.customers["customer_id"]),
            "unknown_product": ol["product_id"].notna()
            & ~ol["product_id"].isin(c.products["product_id"]),
        }
    )


# ---------------------------------------------------------------- determinism and arguments


def test_same_seed_same_tables_other_seed_differs() -> None:
    a, b = (synth_company(customers=60, products=30, lines=4000, seed=5) for _ in range(2))
    for name in (
        *TABLE_NAMES,
        "truth_customers",
        "truth_products",
        "truth_bad_rows",
        "truth_outliers",
    ):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    other = synth_company(customers=60, products=30, lines=4000, seed=6)
    assert not a.order_lines["quantity"].equals(other.order_lines["quantity"])
    assert not a.truth_products["pattern"].equals(other.truth_products["pattern"])


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"customers": 3}, "customers=3 .*from 4 to 10,000,000"),
        ({"customers": True}, "customers=True .*integer"),
        ({"products": 0}, "products=0 .*from 1 to"),
        ({"lines": 99}, "lines=99 .*from 100 to"),
        ({"lines": 1000.0}, "lines=1000.0 .*integer"),
        ({"seed": -1}, "seed=-1 .*from 0 to"),
        ({"locations": 51}, "locations=51 .*from 1 to 50"),
        ({"bad_share": 0.5}, "bad_share=0.5 .*from 0 to 0.1"),
        ({"bad_share": math.nan}, "bad_share=nan .*from 0 to 0.1"),
        ({"bad_share": "0.01"}, "bad_share='0.01' .*number"),
    ],
)
def test_bad_arguments_name_parameter_value_and_range(kwargs: dict[str, object], text: str) -> None:
    with pytest.raises(ConfigError, match=text):
        synth_company(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- shape and integrity


def test_tables_use_canonical_columns(company: SynthCompany) -> None:
    for name in TABLE_NAMES:
        frame = getattr(company, name)
        spec = TABLES[name]
        assert set(frame.columns) <= set(spec.names), name
        assert set(spec.required) <= set(frame.columns), name
        for col in frame.columns:
            kind = spec.column(col).dtype
            if kind == "date":
                assert frame[col].dtype == "datetime64[ns]", (name, col)
            elif kind == "float":
                assert frame[col].dtype == np.float64, (name, col)
    ol = company.order_lines
    assert set(ol.columns) == set(TABLES["order_lines"].names)  # no is_credit_note / row_number
    assert len(ol) == 200_000
    days = _good(company)["order_date"]
    assert (days.min(), days.max()) == (START, pd.Timestamp(HORIZON_END))


def test_good_rows_reference_existing_rows(company: SynthCompany) -> None:
    good = _good(company)
    assert good["customer_id"].isin(company.customers["customer_id"]).all()
    assert good["product_id"].isin(company.products["product_id"]).all()
    assert good["location_id"].isin(company.locations["location_id"]).all()
    assert not good.duplicated(["order_id", "line_no"]).any()
    orders = set(good["order_id"])
    assert company.shipments["order_id"].isin(orders).all()
    assert company.returns["order_id"].isin(orders).all()
    assert company.returns["product_id"].isin(company.products["product_id"]).all()
    assert company.invoices["customer_id"].isin(company.customers["customer_id"]).all()
    assert company.inventory["product_id"].isin(company.products["product_id"]).all()
    for table, key in (
        ("shipments", "shipment_id"),
        ("invoices", "invoice_id"),
        ("returns", "return_id"),
    ):
        assert getattr(company, table)[key].is_unique, table
    assert not company.inventory.duplicated(["product_id", "location_id"]).any()
    # An order has one customer and one date; line numbers run 1..n.
    per_order = good.groupby("order_id").agg(
        customers=("customer_id", "nunique"), days=("order_date", "nunique"),
        lines=("line_no", "size"), top=("line_no", "max"),
    )  # fmt: skip
    assert (per_order["customers"] == 1).all()
    assert (per_order["days"] == 1).all()
    assert (per_order["lines"] == per_order["top"]).all()


def test_invoices_match_delivered_value_and_terms(company: SynthCompany) -> None:
    good = _good(company)
    sales = good[good["order_id"].str.startswith("SO")]
    value = (sales["delivered_quantity"] * sales["unit_price"]).groupby(sales["order_id"]).sum()
    inv = company.invoices.assign(order_id="SO" + company.invoices["invoice_id"].str[3:])
    np.testing.assert_allclose(inv["amount"], value.reindex(inv["order_id"]).round(2), atol=0.01)
    terms = company.customers.set_index("customer_id")["payment_terms_days"]
    days = (inv["due_date"] - inv["invoice_date"]).dt.days
    np.testing.assert_array_equal(days, terms.reindex(inv["customer_id"]).to_numpy())
    assert (inv["paid_date"].dropna() >= inv.loc[inv["paid_date"].notna(), "invoice_date"]).all()
    assert inv["paid_date"].isna().any()  # some invoices are open at the end


def test_credit_notes_are_negative_and_reference_real_rows(company: SynthCompany) -> None:
    good = _good(company)
    cn = good[good["order_id"].str.startswith("CN")]
    assert len(cn) == round(0.004 * 200_000)
    assert (cn["quantity"] < 0).all()
    assert (cn["unit_price"] > 0).all()
    assert cn["customer_id"].isin(company.customers["customer_id"]).all()
    # Each credit note matches a sales line of the same customer and product in the same week.
    sales = good[good["order_id"].str.startswith("SO")]
    week = (good["order_date"] - START).dt.days // 7
    keys = set(zip(sales["customer_id"], sales["product_id"], week[sales.index], strict=True))
    assert all(
        k in keys for k in zip(cn["customer_id"], cn["product_id"], week[cn.index], strict=True)
    )


# ---------------------------------------------------------------- bad rows


def test_bad_rows_have_exactly_their_one_defect(company: SynthCompany) -> None:
    truth = company.truth_bad_rows
    assert len(truth) == round(0.002 * 200_000)
    assert (truth["table"] == "order_lines").all()
    counts = truth["reason_code"].value_counts()
    assert len(counts) == 8
    assert counts.max() - counts.min() <= 1
    flags = _defects(company)
    n_defects = flags.sum(axis=1)
    bad = truth["row_number"].to_numpy() - 1
    assert (n_defects.iloc[bad] == 1).all()
    assert n_defects.drop(index=bad).eq(0).all()  # good rows have none
    found = flags.iloc[bad].idxmax(axis=1).to_numpy()
    np.testing.assert_array_equal(found, truth["reason_code"].to_numpy())


def test_bad_share_zero_gives_no_bad_rows() -> None:
    c = synth_company(customers=20, products=10, lines=500, bad_share=0.0)
    assert c.truth_bad_rows.empty
    assert _defects(c).sum().sum() == 0


# ---------------------------------------------------------------- designed truth is recoverable


def _sb_classes(c: SynthCompany) -> pd.Series:
    """Syntetos-Boylan class per product from net weekly demand over its active horizon."""
    good = _good(c)
    week = (good["order_date"] - START).dt.days // 7
    frame = pd.DataFrame({"p": good["product_id"], "w": week, "q": good["quantity"]})
    weekly = frame.groupby(["p", "w"], as_index=False)["q"].sum()
    out = {}
    for product, g in weekly[weekly["q"] != 0].groupby("p"):
        adi = (g["w"].max() - g["w"].min() + 1) / len(g)
        q = g["q"].to_numpy()
        cv2 = q.var() / q.mean() ** 2  # ddof 0
        out[product] = ("smooth", "erratic", "intermittent", "lumpy")[
            2 * (adi >= 1.32) + (cv2 >= 0.49)
        ]
    return pd.Series(out)


def test_designed_patterns_are_recovered(company: SynthCompany) -> None:
    truth = company.truth_products.set_index("product_id")["pattern"]
    shares = truth.value_counts(normalize=True)
    assert shares.to_dict() == {"smooth": 0.4, "intermittent": 0.25, "erratic": 0.2, "lumpy": 0.15}
    got = _sb_classes(company).reindex(truth.index)
    assert (got == truth).mean() >= 0.9
    for pattern in ("smooth", "erratic", "intermittent", "lumpy"):
        assert (got[truth == pattern] == pattern).mean() >= 0.9, pattern
    assert set(company.truth_products["abc_design"]) == {"A", "B", "C"}


def test_customer_types_are_separable(company: SynthCompany) -> None:
    truth = company.truth_customers.set_index("customer_id")
    pairs = set(zip(truth["customer_type"], truth["behaviour"], truth["cts_level"], strict=True))
    assert pairs == {
        ("key_account", "continuous_replenishment", "low"),
        ("distributor", "lean", "medium"),
        ("web_shop", "agile", "high"),
        ("project", "fully_flexible", "high"),
    }
    good = _good(company)
    sales = good[good["order_id"].str.startswith("SO")].assign(
        value=lambda d: d["quantity"] * d["unit_price"]
    )
    orders = sales.groupby("order_id").agg(
        customer_id=("customer_id", "first"), day=("order_date", "first"),
        rush=("rush", "first"), value=("value", "sum"), lines=("line_no", "size"),
    ).sort_values(["customer_id", "day"])  # fmt: skip
    gap = orders.groupby("customer_id")["day"].diff().dt.days
    per_customer = orders.assign(gap=gap).groupby("customer_id").agg(
        gap_mean=("gap", "mean"), gap_std=("gap", lambda g: g.std(ddof=0)),
        rush=("rush", "mean"), value=("value", "mean"), lines=("lines", "mean"),
    )  # fmt: skip
    per_customer["interval_cv"] = per_customer["gap_std"] / per_customer["gap_mean"]
    per_customer["breadth"] = sales.groupby("customer_id")["product_id"].nunique()
    by_type = per_customer.join(truth["customer_type"]).groupby("customer_type").median()
    cv, rush = by_type["interval_cv"], by_type["rush"]
    assert cv["key_account"] < 0.1 < cv["distributor"] < 0.5 < min(cv["web_shop"], cv["project"])
    assert rush["key_account"] < rush["distributor"] < 0.1 < min(rush["web_shop"], rush["project"])
    value, lines = by_type["value"], by_type["lines"]
    assert value["web_shop"] < value["distributor"] < min(value["key_account"], value["project"])
    assert lines.idxmax() == "key_account"
    assert by_type["breadth"].idxmax() == "key_account"
    # Each type orders through its own channel (a few phone orders aside).
    channel = sales.groupby(sales["customer_id"].map(truth["customer_type"]))["channel"]
    assert channel.agg(lambda s: s.mode()[0]).to_dict() == {
        "key_account": "EDI", "distributor": "portal", "web_shop": "web", "project": "phone",
    }  # fmt: skip
    returns = company.returns.merge(
        sales[["order_id", "customer_id"]].drop_duplicates(), on="order_id"
    )
    rate = returns.groupby(returns["customer_id"].map(truth["customer_type"])).size()
    assert rate.idxmax() == "web_shop"


def _weekly(c: SynthCompany) -> pd.DataFrame:
    """Net demand per product and week (0 = the week of 2024-01-01), products x weeks."""
    good = _good(c)
    week = (good["order_date"] - START).dt.days // 7
    table = good.groupby([good["product_id"], week])["quantity"].sum().unstack(fill_value=0.0)
    return table.reindex(columns=range(105), fill_value=0.0)


def test_designed_lifecycles_seasons_and_outliers(company: SynthCompany) -> None:
    truth = company.truth_products.set_index("product_id")
    assert truth["lifecycle"].value_counts().to_dict() == {
        "active": 440, "new": 20, "dormant": 20, "obsolete": 20,
    }  # fmt: skip
    seasonal = truth["seasonal"]
    assert seasonal.dtype == bool
    assert seasonal.sum() == 50
    assert (truth.loc[seasonal, "lifecycle"] == "active").all()
    assert (truth.loc[seasonal, "pattern"] == "smooth").all()
    weekly = _weekly(company).reindex(truth.index, fill_value=0.0)
    positive = weekly.to_numpy() > 0
    first = positive.argmax(axis=1)
    since = positive[:, ::-1].argmax(axis=1)  # trailing weeks without demand
    life = truth["lifecycle"].to_numpy()
    # Weeks since the last demand and since the first, by design (the as-of week is 104).
    assert (since[life == "active"] == 0).all()
    assert (first[life != "new"] == 0).all()
    assert np.isin(104 - first[life == "new"], range(3, 11)).all()
    assert np.isin(since[life == "dormant"], range(15, 22)).all()  # about 4 months
    assert np.isin(since[life == "obsolete"], range(39, 66)).all()  # 9 months and more
    # Some dormant and obsolete items still have stock on hand: the planner's problem.
    stock = company.inventory.groupby("product_id")["on_hand"].sum().reindex(truth.index)
    assert (stock[np.isin(life, ["dormant", "obsolete"])] > 0).mean() > 0.5
    # Seasonal items peak around Christmas: their December weeks are the year's highest.
    dec = [w for w in range(105) if (START + pd.Timedelta(weeks=w)).month == 12]
    ratio = weekly.loc[seasonal, dec].mean(axis=1) / weekly.loc[seasonal].median(axis=1)
    assert (ratio > 1.8).all()
    flat = weekly.loc[~seasonal & (truth["lifecycle"] == "active") & (truth["pattern"] == "smooth")]
    assert (flat[dec].mean(axis=1) / flat.median(axis=1)).between(0.8, 1.25).mean() > 0.95


def test_injected_outliers_are_single_huge_lines(company: SynthCompany) -> None:
    out = company.truth_outliers
    truth = company.truth_products.set_index("product_id")
    assert len(out) == 10
    assert out["product_id"].is_unique
    assert (truth.loc[out["product_id"], "pattern"] == "smooth").all()
    assert not truth.loc[out["product_id"], "seasonal"].any()
    good = _good(company).set_index(["order_id", "line_no"])
    line = good.loc[list(zip(out["order_id"], out["line_no"], strict=True))]
    np.testing.assert_array_equal(line["product_id"], out["product_id"])
    np.testing.assert_array_equal(line["order_date"], out["order_date"])
    assert (line["quantity"].to_numpy() >= out["extra_quantity"].to_numpy()).all()
    # A simple independent detector finds every one, in its week, and nowhere else among the
    # smooth active non-seasonal items: week > median + 10 x MAD of the item's weeks.
    weekly = _weekly(company)
    steady = truth.index[
        (truth["pattern"] == "smooth") & (truth["lifecycle"] == "active") & ~truth["seasonal"]
    ]
    y = weekly.loc[steady]
    med = y.median(axis=1)
    mad = y.sub(med, axis=0).abs().median(axis=1)
    flagged = y.gt(med + 10 * mad, axis=0)
    found = {(p, int(w)) for p, w in zip(*np.nonzero(flagged.to_numpy()), strict=True)}
    found = {(steady[p], w) for p, w in found}
    want = {
        (p, int((d - START).days // 7))
        for p, d in zip(out["product_id"], out["order_date"], strict=True)
    }
    recall = len(found & want) / len(want)
    precision = len(found & want) / len(found)
    print(f"\noutliers: recall {recall:.0%}, precision {precision:.0%} ({len(found)} flagged)")
    assert recall >= 0.9
    assert precision >= 0.9


# ---------------------------------------------------------------- workspace files


def test_write_workspace_round_trip(company: SynthCompany, tmp_path: Path) -> None:
    path = write_workspace(company, tmp_path / "ws")
    assert path == tmp_path / "ws" / "supplyseg.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert "seed=0" in text
    ws = load_workspace(path)
    assert set(ws.data) == set(TABLE_NAMES)
    assert all(not src.columns for src in ws.data.values())
    (rule,) = ws.data["order_lines"].rules
    assert (rule.column, rule.starts_with, rule.action) == ("order_id", "CN", "credit_note")
    assert (ws.analysis.start, ws.analysis.end) == (HORIZON_START, HORIZON_END)
    assert (ws.analysis.bucket, ws.analysis.credit_notes) == ("week", "net")
    for name in TABLE_NAMES:
        table = pq.read_table(ws.source_path(name))
        frame = getattr(company, name)
        assert table.column_names == list(frame.columns)
        assert table.num_rows == len(frame)
    lines = pq.read_table(ws.source_path("order_lines"))
    assert str(lines.schema.field("order_date").type) == "date32[day]"
    assert (
        lines.column("customer_id").null_count == (company.order_lines["customer_id"].isna()).sum()
    )
    assert lines.column("quantity").null_count == company.order_lines["quantity"].isna().sum() > 0
    truth = pd.read_parquet(tmp_path / "ws" / "truth" / "bad_rows.parquet")
    pd.testing.assert_frame_equal(truth, company.truth_bad_rows, check_dtype=False)
    for name in ("customers", "products", "outliers"):
        assert (tmp_path / "ws" / "truth" / f"{name}.parquet").exists()


def test_loader_rejects_exactly_the_designed_bad_rows(tmp_path: Path) -> None:
    from supplyseg.data.load import load_dataset
    from supplyseg.engine import connect

    c = synth_company(customers=200, products=60, lines=8000, seed=3, bad_share=0.01)
    ds = load_dataset(load_workspace(write_workspace(c, tmp_path)), connect())
    rejects = ds.rejects
    assert set(rejects["table"]) == {"order_lines"}
    got = rejects[["row_number", "reason_code"]].astype({"row_number": "int64", "reason_code": str})
    want = c.truth_bad_rows[["row_number", "reason_code"]].astype({"reason_code": str})
    pd.testing.assert_frame_equal(got.sort_values("row_number", ignore_index=True), want)


# ---------------------------------------------------------------- invariants over sizes and seeds


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.integers(4, 60),
    products=st.integers(1, 40),
    lines=st.integers(100, 3000),
    seed=st.integers(0, 2**32),
    locations=st.integers(1, 5),
    bad_share=st.sampled_from([0.0, 0.002, 0.05, 0.1]),
)
def test_invariants(
    customers: int, products: int, lines: int, seed: int, locations: int, bad_share: float
) -> None:
    c = synth_company(customers, products, lines, seed, locations, bad_share)
    assert len(c.order_lines) == lines
    assert len(c.truth_bad_rows) == round(bad_share * lines)
    assert c.truth_bad_rows["row_number"].between(1, lines).all()
    assert c.truth_bad_rows["row_number"].is_unique
    good = _good(c)
    assert (good["unit_price"] > 0).all()
    assert (good["unit_cost"] > 0).all()
    assert (good["quantity"] != 0).all()
    assert (good["quantity"] > 0).eq(good["order_id"].str.startswith("SO")).all()
    assert good["order_date"].between(START, pd.Timestamp(HORIZON_END)).all()
    sales = good[good["quantity"] > 0]
    assert (sales["requested_date"] > sales["order_date"]).all()
    assert (sales["promised_date"] >= sales["requested_date"]).all()
    shipped = sales[sales["ship_date"].notna()]
    assert (shipped["ship_date"] >= shipped["order_date"]).all()
    delivered = shipped[shipped["delivered_date"].notna()]
    assert (delivered["delivered_date"] > delivered["ship_date"]).all()
    assert sales.loc[sales["ship_date"].isna(), "delivered_date"].isna().all()
    assert (shipped["delivered_quantity"] <= shipped["quantity"]).all()
    assert (shipped["delivered_quantity"] >= 0).all()
    assert sales.loc[sales["ship_date"].isna(), "delivered_quantity"].isna().all()
    assert (c.shipments["freight_cost"] > 0).all()
    assert (c.shipments["weight"] >= 0).all()
    assert (c.invoices["due_date"] > c.invoices["invoice_date"]).all()
    assert (c.returns["quantity"] >= 1).all()
    assert (c.inventory["on_hand"] >= 0).all()
    assert len(c.inventory) == products * locations
