"""End to end: `supplyseg run` writes the allocation tables, `supplyseg publish` carries them
into the service, and ``POST /promise`` confirms quantities from the run's supply, nested by the
run's customer segments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from supplyseg import cli
from supplyseg.allocation import nested_room
from supplyseg.config import load_workspace
from supplyseg.data.synth import synth_company, write_workspace
from supplyseg.data.synth_supply import TODAY, synth_supply
from supplyseg.pipeline import run as run_pipeline
from supplyseg.service.app import create_app
from supplyseg.service.security import issue_api_key
from supplyseg.service.settings import Settings

runner = CliRunner()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("promise_run")
    company = synth_company(customers=150, products=80, lines=8000, seed=1)
    config = write_workspace(company, root)
    supply = synth_supply(company, weeks=4, cover=1.0)
    supply.to_parquet(root / "data" / "supply.parquet", index=False)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["data"]["supply"] = {"path": "data/supply.parquet"}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    done = runner.invoke(cli.app, ["run", str(root)])
    assert done.exit_code == 0, done.output
    db = f"sqlite:///{root / 'service.db'}"
    done = runner.invoke(cli.app, ["publish", str(root), "--db", db])
    assert done.exit_code == 0, done.output
    run = next(p for p in sorted((root / "out").iterdir()) if (p / "manifest.json").exists())
    return run, db, supply


def test_the_run_writes_the_allocation_tables(
    published: tuple[Path, str, pd.DataFrame],
) -> None:
    run, _, supply = published
    shares = pd.read_parquet(run / "allocation_shares.parquet")
    products = pd.read_parquet(run / "allocation_products.parquet")
    written = pd.read_parquet(run / "supply.parquet")
    assert len(written) == len(supply)
    assert written["quantity"].sum() == pytest.approx(supply["quantity"].sum())
    # each product segment's shares add up to the whole supply (all shares derived from demand)
    assert shares.groupby("product_segment")["share"].sum().to_numpy() == pytest.approx(1.0)
    segments = pd.read_parquet(run / "segments_customer.parquet")
    primary = set(segments.loc[segments["primary"], "segment"])
    assert set(shares["customer_segment"]) == primary
    assert set(shares["product_segment"]) <= set(products["product_segment"])


def test_the_allocation_needs_no_table_of_pairs(
    published: tuple[Path, str, pd.DataFrame], tmp_path: Path
) -> None:
    # The run sums the order lines per product and customer segment on the engine: a run
    # without the customer x product tables (the 100M-line recipe) has the same allocation.
    run, _, _ = published
    root = run.parent.parent
    raw = yaml.safe_load((root / "supplyseg.yaml").read_text(encoding="utf-8"))
    raw["demand"] = {"grains": ["product", "product_location", "customer"]}
    raw["cost_to_serve"] = {"details": ["order"]}
    (tmp_path / "data").symlink_to(root / "data")
    (tmp_path / "supplyseg.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    lean = run_pipeline(load_workspace(tmp_path)).path
    assert not (lean / "demand_customer_product.parquet").exists()
    for name in ("allocation_shares", "allocation_products", "allocation_protection"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(lean / f"{name}.parquet"), pd.read_parquet(run / f"{name}.parquet")
        )


def _promise(client: TestClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/promise", json=body, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    line: dict[str, Any] = r.json()["lines"][0]
    return {**line, "segment": r.json()["segment"]}


def test_promise_confirms_from_the_published_supply(
    published: tuple[Path, str, pd.DataFrame],
) -> None:
    run, db, supply = published
    shares = pd.read_parquet(run / "allocation_shares.parquet")
    products = pd.read_parquet(run / "allocation_products.parquet")
    segments = pd.read_parquet(run / "segments_customer.parquet")
    customer = segments[segments["primary"]].iloc[0]
    planned = products[products["product_segment"].isin(shares["product_segment"])]
    on_hand = supply[supply["kind"] == "on_hand"].groupby("product_id")["quantity"].sum()
    total = supply.groupby("product_id")["quantity"].sum()
    product = next(p for p in planned["product_id"] if on_hand.get(p, 0.0) >= 4)
    app = create_app(Settings(db_url=db))
    with app.state.sessions() as session:
        key = issue_api_key(session, "submitter", None, label="test")[1]
        session.commit()
    body = {
        "customer_id": str(customer["customer_id"]),
        "po_number": "E2E-1",
        "channel": "edi",
        "order_date": TODAY.isoformat(),
        "requested_date": (TODAY + dt.timedelta(days=1)).isoformat(),
        "lines": [{"line_no": 1, "product_id": product, "quantity": 2.0, "unit_price": 1.0}],
    }
    with TestClient(app) as client:
        small = _promise(client, key, body)
        assert small["segment"] == customer["segment"]
        assert small["allocation_segment"] == customer["segment"]
        assert small["confirmed_quantity"] == 2.0
        assert small["promised_date"] == body["requested_date"]
        body["lines"][0]["quantity"] = float(total[product]) * 10
        big = _promise(client, key, body)
        # never more than the product's supply over the horizon, the rest on backorder
        assert 0 < big["confirmed_quantity"] <= total[product] + 1e-9
        assert big["backorder_quantity"] == pytest.approx(
            body["lines"][0]["quantity"] - big["confirmed_quantity"]
        )


def test_a_lower_segment_gets_what_the_fill_target_protection_leaves(
    published: tuple[Path, str, pd.DataFrame],
) -> None:
    run, db, supply = published
    shares = pd.read_parquet(run / "allocation_shares.parquet")
    products = pd.read_parquet(run / "allocation_products.parquet")
    kept = pd.read_parquet(run / "allocation_protection.parquet")
    segments = pd.read_parquet(run / "segments_customer.parquet")
    capacity = supply.groupby("product_id")["quantity"].sum()
    kept = kept.assign(capacity=kept["product_id"].map(capacity))
    # a product the top segment protects part of (not all) at the horizon's start
    row = kept[
        (kept["protected_quantity"] > 1) & (kept["protected_quantity"] < kept["capacity"] - 1)
    ]
    row = row.iloc[0]
    assert row["horizon_start"] == TODAY
    product_segment = products.set_index("product_id").loc[row["product_id"], "product_segment"]
    plan = shares[shares["product_segment"] == product_segment]
    levels = sorted(set(plan["priority"]))
    protected = np.zeros(len(levels))
    for seg, prio, share in zip(
        plan["customer_segment"], plan["priority"], plan["share"], strict=True
    ):
        mine = kept[(kept["product_id"] == row["product_id"]) & (kept["customer_segment"] == seg)]
        protected[levels.index(prio)] += (
            float(mine["protected_quantity"].iloc[0]) if len(mine) else share * row["capacity"]
        )
    lowest = plan.sort_values("priority").iloc[-1]
    customer = segments[segments["primary"] & (segments["segment"] == lowest["customer_segment"])]
    app = create_app(Settings(db_url=db))
    with app.state.sessions() as session:
        key = issue_api_key(session, "submitter", None, label="test")[1]
        session.commit()
    body = {
        "customer_id": str(customer["customer_id"].iloc[0]),
        "po_number": "E2E-2",
        "channel": "edi",
        "order_date": TODAY.isoformat(),
        "requested_date": (TODAY + dt.timedelta(days=1)).isoformat(),
        "lines": [
            {"line_no": 1, "product_id": row["product_id"], "quantity": 10 * row["capacity"],
             "unit_price": 1.0}
        ],
    }  # fmt: skip
    room = nested_room(row["capacity"], protected, np.zeros(len(levels)), len(levels) - 1)
    with TestClient(app) as client:
        got = _promise(client, key, body)
    assert got["allocation_segment"] == lowest["customer_segment"]
    assert got["confirmed_quantity"] == pytest.approx(max(room, 0.0))
    assert got["confirmed_quantity"] <= row["capacity"] - row["protected_quantity"] + 1e-9
    assert got["confirmed_quantity"] > 0  # the rest of the supply is not all protected
