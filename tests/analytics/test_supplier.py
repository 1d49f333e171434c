"""Supplier metrics against a pandas oracle on the synthetic company, and small hand cases."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from supplyseg.analytics.supplier import SUPPLIER_METRIC_COLUMNS, supplier_metrics
from supplyseg.data.synth import synth_company
from supplyseg.errors import ConfigError, DataContractError


@pytest.fixture(scope="module")
def company_po() -> tuple[pd.DataFrame, pd.DataFrame]:
    c = synth_company(customers=40, products=120, lines=3000, suppliers=15, seed=11)
    assert c.purchase_orders is not None
    assert c.suppliers is not None
    return c.purchase_orders, c.suppliers


def _oracle(po: pd.DataFrame) -> pd.DataFrame:
    po = po.assign(value=po["quantity"] * po["unit_price"])
    g = po.groupby("supplier_id")
    judged = po.dropna(subset=["receipt_date", "promised_date", "received_quantity"])
    hit = (judged["receipt_date"] <= judged["promised_date"]) & (
        judged["received_quantity"] >= judged["quantity"]
    )
    days = (po["receipt_date"] - po["order_date"]).dt.days
    suppliers_of = po.groupby("product_id")["supplier_id"].nunique()
    single = po["product_id"].map(suppliers_of) == 1
    pair = po.groupby(["supplier_id", "product_id"]).agg(
        m=("unit_price", "mean"), s=("unit_price", lambda x: x.std(ddof=0)), v=("value", "sum")
    )
    pair["w"] = pair["s"] / pair["m"] * pair["v"]
    pv = pair.groupby("supplier_id").apply(lambda p: 100 * p["w"].sum() / p["v"].sum())
    return pd.DataFrame(
        {
            "spend": g["value"].sum(),
            "po_lines": g.size(),
            "products": g["product_id"].nunique(),
            "otif": hit.groupby(judged["supplier_id"]).mean(),
            "lead_time_mean_days": days.groupby(po["supplier_id"]).mean(),
            "lead_time_std_days": days.groupby(po["supplier_id"]).std(ddof=1),
            "lead_time_p90_days": days.groupby(po["supplier_id"]).quantile(0.9),
            "single_source_share": single.groupby(po["supplier_id"]).mean(),
            "price_variance_pct": pv,
            "main_mode": g["mode"].agg(lambda x: x.value_counts().sort_index().idxmax()),
        }
    )


def test_metrics_match_a_pandas_oracle(company_po: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    po, suppliers = company_po
    got = supplier_metrics(ibis.memtable(po), suppliers).set_index("supplier_id")
    want = _oracle(po)
    assert list(got.reset_index().columns) == list(SUPPLIER_METRIC_COLUMNS)
    assert sorted(got.index) == sorted(want.index)
    got = got.loc[want.index]
    for col in want.columns:
        if col == "main_mode":
            assert (got[col] == want[col]).all()
        else:
            np.testing.assert_allclose(
                got[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-9
            )
    assert (got["country"] == suppliers.set_index("supplier_id").loc[want.index, "country"]).all()
    assert np.allclose(got["lead_time_cv"], got["lead_time_std_days"] / got["lead_time_mean_days"])


def _lines(**cols: list[object]) -> ibis.Table:
    frame = pd.DataFrame(cols)
    for c in ("order_date", "promised_date", "receipt_date"):
        if c in frame:
            frame[c] = pd.to_datetime(frame[c]).dt.date
    return ibis.memtable(frame)


def test_otif_tolerances_and_unknown_lines() -> None:
    po = _lines(
        supplier_id=["S1"] * 5,
        product_id=["P1"] * 5,
        order_date=["2024-01-01"] * 5,
        quantity=[10.0] * 5,
        promised_date=["2024-01-10", "2024-01-10", "2024-01-10", None, "2024-01-10"],
        receipt_date=["2024-01-10", "2024-01-12", "2024-01-09", "2024-01-05", None],
        received_quantity=[10.0, 10.0, 9.0, 10.0, None],
    )
    # Judged: the first three; on time and in full: only the first.
    strict = supplier_metrics(po).iloc[0]
    assert (strict["otif"], strict["otif_lines"]) == (pytest.approx(1 / 3), 3)
    # Two days late and 10 % short are within these tolerances: all three hit.
    lenient = supplier_metrics(po, otif_tolerance_days=2, in_full_tolerance=0.1).iloc[0]
    assert lenient["otif"] == pytest.approx(1.0)
    # Without prices, spend and price variance are unknown, not 0.
    assert np.isnan(strict["spend"])
    assert np.isnan(strict["price_variance_pct"])
    assert strict["single_source_share"] == 1.0


def test_no_promised_dates_means_unknown_otif() -> None:
    po = _lines(
        supplier_id=["S1"], product_id=["P1"], order_date=["2024-01-01"], quantity=[1.0],
        receipt_date=["2024-01-03"],
    )  # fmt: skip
    got = supplier_metrics(po).iloc[0]
    assert np.isnan(got["otif"])
    assert got["otif_lines"] == 0
    assert got["lead_time_mean_days"] == 2.0


def test_bad_inputs_name_the_fix() -> None:
    with pytest.raises(DataContractError, match="quantity"):
        supplier_metrics(_lines(supplier_id=["S"], product_id=["P"], order_date=["2024-01-01"]))
    po = _lines(supplier_id=["S"], product_id=["P"], order_date=["2024-01-01"], quantity=[1.0])
    with pytest.raises(ConfigError, match="in_full_tolerance"):
        supplier_metrics(po, in_full_tolerance=1.5)
