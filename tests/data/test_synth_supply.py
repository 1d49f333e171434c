"""Tests for supplyseg.data.synth_supply: the synthetic company's optional supply table."""

from __future__ import annotations

import pandas as pd
import pytest

from supplyseg.allocation.supply import supply_events, supply_table
from supplyseg.data.synth import SynthCompany, synth_company
from supplyseg.data.synth_supply import TODAY, synth_supply
from supplyseg.errors import DataContractError


@pytest.fixture(scope="module")
def company() -> SynthCompany:
    return synth_company(customers=40, products=20, lines=3000, seed=3)


def test_supply_is_on_hand_plus_weekly_receipts_sized_by_cover(
    company: SynthCompany,
) -> None:
    full = synth_supply(company, weeks=4, cover=1.0)
    scarce = synth_supply(company, weeks=4, cover=0.5)
    supply_table(full, None, TODAY)  # passes the contract checks
    on_hand = full[full["kind"] == "on_hand"]
    assert on_hand["quantity"].sum() == company.inventory["on_hand"].sum()
    assert (on_hand["date"] == TODAY).all()
    rec = full[full["kind"] == "receipt"]
    assert rec["date"].min() > TODAY
    assert rec["date"].nunique() <= 4
    ratio = scarce.loc[scarce["kind"] == "receipt", "quantity"].sum() / rec["quantity"].sum()
    assert ratio == pytest.approx(0.5, abs=0.05)
    # every event is kept: the on-hand snapshot is the latest and receipts follow it
    assert supply_events(full)["quantity"].sum() == pytest.approx(full["quantity"].sum())
    assert not full.duplicated(["product_id", "location_id", "date", "kind"]).any()


def test_weeks_zero_is_on_hand_only_and_bad_arguments_say_what_is_allowed(
    company: SynthCompany,
) -> None:
    assert (synth_supply(company, weeks=0)["kind"] == "on_hand").all()
    with pytest.raises(DataContractError, match=r"allowed: 0\.\.10"):
        synth_supply(company, cover=-1)
    assert isinstance(synth_supply(company), pd.DataFrame)
