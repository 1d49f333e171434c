"""The ``cost_to_serve:`` section: defaults, and errors that name the YAML path, value, allowed."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from supplyseg.config.cost_to_serve import (
    BUILTIN_DRIVERS,
    CostToServeSettings,
    CustomDriver,
    cost_to_serve_settings,
    cts_assumptions,
)
from supplyseg.errors import ConfigError

YAML = """
pools:
  - {name: handling, driver: orders, rate: 12, rate_by_channel: {EDI: 2.0, web: 4}}
  - {name: lines, driver: order_lines, rate: 1.2}
  - {name: freight, driver: freight, rate: 0.3, basis: weight}
  - {name: returns, driver: returned_lines, rate: 15, lost_value_share: 0.25,
     lost_value_basis: price}
  - {name: credit, driver: receivable_days, rate: 0.08, terms_days: 45}
  - {name: key_account, driver: customer_years, rate: 2500, where: {region: [North, South]}}
  - name: edi_messages
    rate: 0.4
    driver:
      table: order_lines
      column: order_id
      agg: count_distinct
      where: {channel: EDI, rush: false, is_credit_note: false, order_date: 2024-03-01}
"""


def _pools(*pools: dict[str, Any]) -> dict[str, Any]:
    ok = [
        {"name": "a", "driver": "orders", "rate": 1.0},
        {"name": "b", "driver": "units", "rate": 1},
    ]
    return {"pools": [*ok, *pools]}


def _error(raw: Any) -> str:
    with pytest.raises(ConfigError) as exc:
        cost_to_serve_settings(raw, origin="ws/supplyseg.yaml")
    return str(exc.value)


def test_defaults_are_valid_and_cover_every_builtin_driver() -> None:
    s = cost_to_serve_settings(None)
    assert s == CostToServeSettings()
    assert {p.driver for p in s.pools} == set(BUILTIN_DRIVERS)
    assert all((p.rate or 0) >= 0 for p in s.pools)


def test_a_full_yaml_section_validates() -> None:
    s = cost_to_serve_settings(yaml.safe_load(YAML))
    assert [p.name for p in s.pools][:3] == ["handling", "lines", "freight"]
    assert s.pools[0].rate_by_channel == {"EDI": 2.0, "web": 4.0}
    assert s.pools[2].basis == "weight"
    assert s.pools[5].where == {"region": ["North", "South"]}
    drv = s.pools[6].driver
    assert isinstance(drv, CustomDriver)
    assert (drv.table, drv.column, drv.agg) == ("order_lines", "order_id", "count_distinct")
    assert drv.label.startswith("count_distinct(order_lines.order_id|channel=EDI")
    # the model is frozen and round-trips
    assert CostToServeSettings.model_validate(s.model_dump()) == s
    with pytest.raises(Exception, match="frozen"):
        s.pools[0].rate = 3.0  # type: ignore[misc]


def test_unknown_driver_names_path_value_and_allowed() -> None:
    msg = _error(_pools({"name": "c", "driver": "pallets", "rate": 1}))
    assert msg.startswith("ws/supplyseg.yaml: cost_to_serve.pools.2.driver (value 'pallets'):")
    assert "unknown driver 'pallets'; allowed: ['orders', 'order_lines'," in msg


def test_negative_rates_name_path_value_and_allowed() -> None:
    msg = _error(_pools({"name": "c", "driver": "units", "rate": -0.5}))
    assert msg == (
        "ws/supplyseg.yaml: cost_to_serve.pools.2.rate (value -0.5):"
        " Input should be greater than or equal to 0; fix: correct it in the workspace file"
    )
    msg = _error(
        _pools({"name": "c", "driver": "orders", "rate": 1, "rate_by_channel": {"EDI": -1}})
    )
    assert (
        "cost_to_serve.pools.2.rate_by_channel.EDI: rate -1.0 is negative; rates must be >= 0"
        in msg
    )
    msg = _error(
        _pools({"name": "c", "driver": "returned_lines", "rate": 1, "lost_value_share": 2})
    )
    assert "pools.2.lost_value_share (value 2): Input should be less than or equal to 1" in msg


def test_pools_on_missing_tables_and_unknown_columns() -> None:
    def custom(**driver: Any) -> dict[str, Any]:
        return _pools({"name": "c", "rate": 1.0, "driver": {"agg": "count", **driver}})

    msg = _error(custom(table="warehouse_moves", column="x"))
    assert "cost_to_serve.pools.2.driver.table: unknown table 'warehouse_moves'; allowed:" in msg
    assert "'order_lines', 'customers', 'invoices', 'shipments', 'returns'" in msg
    msg = _error(custom(table="inventory", column="on_hand"))
    assert (
        "pools.2.driver.table: rows of table 'inventory' cannot be attributed to a customer" in msg
    )
    msg = _error(custom(table="shipments", column="carrier"))
    assert "pools.2.driver.column: unknown column 'carrier' of table shipments; allowed:" in msg
    assert "'freight_cost', 'mode', 'weight'" in msg
    msg = _error(custom(table="order_lines", column="order_id", where={"chanel": "EDI"}))
    assert "pools.2.driver.where.chanel: unknown column 'chanel' of table order_lines" in msg
    msg = _error(custom(table="order_lines", column="order_id", where={"rush": "yes"}))
    assert "pools.2.driver.where.rush: value 'yes' does not fit column order_lines.rush" in msg
    msg = _error(
        _pools(
            {
                "name": "c",
                "rate": 1,
                "driver": {"table": "shipments", "column": "mode", "agg": "sum"},
            }
        )
    )
    assert "pools.2.driver.agg: sum needs a numeric column, shipments.mode is string" in msg
    msg = _error(custom(table="order_lines", column="order_id", agg="median"))
    assert msg.endswith(
        "pools.2.driver.agg: Input should be 'count', 'sum' or 'count_distinct' (value 'median');"
        " fix: correct it in the workspace file"
    )
    msg = _error(_pools({"name": "c", "driver": "customer_years", "rate": 1, "where": {"tier": 1}}))
    assert "pools.2.where.tier: unknown column 'tier' of table customers; allowed:" in msg


def test_fields_of_another_driver_names_and_missing_rates_are_errors() -> None:
    msg = _error(_pools({"name": "c", "driver": "units", "rate": 1, "basis": "weight"}))
    assert "pools.2.basis: basis = 'weight' only applies to driver freight; this pool's" in msg
    assert "pools.2.rate: required for driver units" in _error(
        _pools({"name": "c", "driver": "units"})
    )
    cost_to_serve_settings(_pools({"name": "c", "driver": "freight"}))  # actual freight needs none
    msg = _error(_pools({"name": "a", "driver": "units", "rate": 1}))
    assert "cost_to_serve.pools.2.name: duplicate pool name 'a' (also pools.0)" in msg
    msg = _error(_pools({"name": "net_profit", "driver": "units", "rate": 1}))
    assert "pools.2.name (value 'net_profit'): pool name 'net_profit' clashes" in msg
    msg = _error(_pools({"name": "Net Profit", "driver": "units", "rate": 1}))
    assert "use lower-case letters, digits and _" in msg
    msg = _error(_pools({"name": "c", "driver": "units", "rate": 1, "colour": "red"}))
    assert "pools.2.colour (value 'red'): unknown setting 'colour'; allowed: basis, driver," in msg
    assert "expected a mapping with `pools:`" in _error(["orders"])


def test_cts_assumptions_say_which_rates_are_built_in() -> None:
    # Nothing in the YAML: every pool rate is a built-in default, listed with its value.
    rows = {r["setting"]: r for r in cts_assumptions(CostToServeSettings())}
    assert rows["cost_to_serve.pools.order_handling.rate"] == {
        "setting": "cost_to_serve.pools.order_handling.rate",
        "value": 12.0,
        "source": "built-in default",
    }
    assert rows["cost_to_serve.pools.order_handling.rate_by_channel"]["value"] == {
        "edi": 2.0,
        "web": 4.0,
    }
    assert rows["cost_to_serve.pools.credit.terms_days"]["value"] == 30.0
    assert {r["source"] for r in rows.values()} == {"built-in default"}
    # Pools from the YAML: what the user wrote is theirs, the fields left out are defaults.
    settings = cost_to_serve_settings({**yaml.safe_load(YAML), "warn_share_above_revenue": 0.5})
    rows = {r["setting"]: r for r in cts_assumptions(settings, origin="shop/supplyseg.yaml")}
    assert rows["cost_to_serve.pools.handling.rate"]["source"] == "shop/supplyseg.yaml"
    assert rows["cost_to_serve.pools.credit.terms_days"]["source"] == "shop/supplyseg.yaml"
    lost = rows["cost_to_serve.pools.returns.lost_value_share"]
    assert (lost["value"], lost["source"]) == (0.25, "shop/supplyseg.yaml")
    years = rows["cost_to_serve.pools.key_account.years"]
    assert (years["value"], years["source"]) == (None, "built-in default")
    share = rows["cost_to_serve.warn_share_above_revenue"]
    assert (share["value"], share["source"]) == (0.5, "shop/supplyseg.yaml")
    assert "cost_to_serve.pools.lines.basis" not in rows  # only the fields a driver uses


def test_warn_share_above_revenue_is_a_share() -> None:
    assert CostToServeSettings().warn_share_above_revenue == 0.2
    with pytest.raises(ConfigError, match=r"cost_to_serve\.warn_share_above_revenue \(value 2"):
        cost_to_serve_settings({"warn_share_above_revenue": 2})


def test_details_name_the_detail_tables_a_run_writes() -> None:
    assert CostToServeSettings().details == ("order", "customer_product")
    assert cost_to_serve_settings({"details": ["order"]}).details == ("order",)
    with pytest.raises(ConfigError, match=r"cost_to_serve\.details.*repeated level"):
        cost_to_serve_settings({"details": ["order", "order"]})
    with pytest.raises(ConfigError, match=r"cost_to_serve\.details\.0.*'pairs'"):
        cost_to_serve_settings({"details": ["pairs"]})
