"""validate_order: each check at hard/soft/none, boundaries, suggestions, a plain-loop oracle."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.policy.document import CHECKS, PolicyVersion
from supplyseg.service.schemas import OrderIn
from supplyseg.service.validation import CompiledPolicy, validate_order

DOC: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixture_policy.json").read_text(encoding="utf-8")
)
ORDER: dict[str, Any] = {
    "customer_id": "S1",
    "po_number": "PO-1",
    "channel": "edi",
    "order_date": "2026-03-02",
    "requested_date": "2026-03-09",
    "ship_to_id": "S1-MAIN",
    "lines": [{"line_no": 1, "product_id": "P100", "quantity": 25, "unit_price": 10.0}],
}


class Facts:
    """Fixed facts; counts how often each is asked."""

    def __init__(self, open_value: float = 0.0, po_used: bool = False) -> None:
        self.open_value = open_value
        self.po_used = po_used
        self.asked: list[str] = []

    def open_order_value(self, customer_id: str) -> float:
        self.asked.append("open_order_value")
        return self.open_value

    def po_in_use(self, customer_id: str, po_number: str) -> bool:
        self.asked.append("po_in_use")
        return self.po_used


def policy(segment: str = "standard", **rules: Any) -> CompiledPolicy:
    doc = json.loads(json.dumps(DOC))
    doc["segments"][segment].update(rules)
    return CompiledPolicy.from_document(PolicyVersion.model_validate(doc))


def order(**overrides: Any) -> OrderIn:
    raw = json.loads(json.dumps(ORDER))
    line = overrides.pop("line", None)
    if line is not None:
        raw["lines"][0].update(line)
    raw.update(overrides)
    return OrderIn.model_validate(raw)


def only(check: str, strictness: str) -> dict[str, Any]:
    """Segment strictness with ``check`` at ``strictness`` and every other check off."""
    return {"strictness": {c: (strictness if c == check else "none") for c in CHECKS}}


def test_clean_order_is_accepted() -> None:
    v = validate_order(order(), policy(), Facts())
    assert (v.status, v.segment, v.total_value, v.findings) == ("accepted", "standard", 250.0, [])


def test_unknown_customer_is_always_an_exception() -> None:
    v = validate_order(order(customer_id="NOBODY"), policy(**only("credit", "none")), Facts())
    assert v.status == "exception"
    assert [f.code for f in v.findings] == ["unknown_customer"]
    assert v.segment is None
    assert v.total_value == 250.0  # list/agreed prices still give a value for the queue


# (check, expected code, order overrides, facts)
CASES: list[tuple[str, str, dict[str, Any], Facts]] = [
    ("customer_active", "customer_inactive", {"customer_id": "S2", "ship_to_id": None}, Facts()),
    ("channel_allowed", "channel_not_allowed", {"channel": "manual"}, Facts()),
    ("ship_to", "unknown_ship_to", {"ship_to_id": "ELSEWHERE"}, Facts()),
    ("lead_time", "requested_date_too_early", {"requested_date": "2026-03-06"}, Facts()),
    ("product_known", "unknown_product", {"line": {"product_id": "NOPE"}}, Facts()),
    (
        "product_known",
        "product_inactive",
        {"line": {"product_id": "P400", "unit_price": 100}},
        Facts(),
    ),
    (
        "product_allowed",
        "product_not_allowed_for_channel",
        {"channel": "email", "line": {"product_id": "P300", "unit_price": 4.0}},
        Facts(),
    ),
    ("moq", "below_moq", {"line": {"quantity": 5}}, Facts()),
    ("order_multiple", "not_order_multiple", {"line": {"quantity": 23}}, Facts()),
    ("min_order_value", "below_min_order_value", {"line": {"quantity": 15}}, Facts()),
    ("price_tolerance", "price_out_of_tolerance", {"line": {"unit_price": 10.3}}, Facts()),
    ("credit", "credit_limit_exceeded", {}, Facts(open_value=7800.0)),
    ("duplicate_po", "duplicate_po", {}, Facts(po_used=True)),
]


@pytest.mark.parametrize("strictness", ["hard", "soft", "none"])
@pytest.mark.parametrize(("check", "code", "overrides", "facts"), CASES)
def test_each_check_follows_its_segment_strictness(
    check: str, code: str, overrides: dict[str, Any], facts: Facts, strictness: str
) -> None:
    v = validate_order(order(**overrides), policy(**only(check, strictness)), facts)
    if strictness == "none":
        assert (v.status, v.findings) == ("accepted", [])
        return
    assert [f.code for f in v.findings] == [code]
    f = v.findings[0]
    assert f.severity == ("error" if strictness == "hard" else "warning")
    assert v.status == ("exception" if strictness == "hard" else "accepted_with_warnings")
    assert f.message
    assert f.rule
    assert f.field


def test_product_not_allowed_for_segment() -> None:
    doc_order = order(
        customer_id="T1",
        ship_to_id=None,
        requested_date="2026-03-20",
        line={"product_id": "P200", "quantity": 30, "unit_price": 25.0},
    )
    v = validate_order(doc_order, policy("tail", **only("product_allowed", "hard")), Facts())
    assert [(f.code, f.line_no, f.rule) for f in v.findings] == [
        ("product_not_allowed_for_segment", 1, "products.P200.allowed_segments")
    ]


@pytest.mark.parametrize(
    ("overrides", "facts"),
    [
        ({"line": {"quantity": 10, "product_id": "P200", "unit_price": None}}, Facts()),  # = moq
        ({"line": {"quantity": 20, "unit_price": None}}, Facts()),  # value 200 = minimum
        ({"line": {"unit_price": 10.2}}, Facts()),  # exactly 2 % above list
        ({"line": {"unit_price": 9.8}}, Facts()),  # exactly 2 % below list
        ({"requested_date": "2026-03-07"}, Facts()),  # order date + 5 days exactly
        ({}, Facts(open_value=7750.0)),  # 7750 + 2000 + 250 = 10000 = limit
        ({"ship_to_id": None}, Facts()),  # no ship-to: the customer's default
        ({"line": {"unit_price": None}}, Facts()),  # no price: list price, no tolerance check
    ],
)
def test_values_on_the_boundary_pass(overrides: dict[str, Any], facts: Facts) -> None:
    v = validate_order(order(**overrides), policy(), facts)
    assert (v.status, v.findings) == ("accepted", [])


def test_suggestions() -> None:
    v = validate_order(order(requested_date="2026-03-03"), policy(), Facts())
    [f] = v.findings
    assert f.suggested_value == "2026-03-07"
    assert "earliest feasible date is 2026-03-07" in f.message
    p = policy(moq=12, order_multiple=5, min_order_value=0)
    by_code = {f.code: f for f in validate_order(order(line={"quantity": 7}), p, Facts()).findings}
    assert by_code["below_moq"].suggested_value == "15"  # moq rounded up to the multiple
    assert by_code["not_order_multiple"].suggested_value == "15"
    f2 = validate_order(order(line={"quantity": 23}), policy(), Facts()).findings[0]
    assert f2.suggested_value == "25"
    f3 = validate_order(order(line={"unit_price": 11}), policy(), Facts()).findings[0]
    assert (f3.code, f3.suggested_value) == ("price_out_of_tolerance", "10")


def test_database_facts_are_asked_only_when_the_check_runs() -> None:
    facts = Facts()
    validate_order(order(), policy(**only("moq", "hard")), facts)
    assert facts.asked == []
    validate_order(order(), policy(), facts)
    assert sorted(facts.asked) == ["open_order_value", "po_in_use"]
    facts2 = Facts()
    validate_order(order(customer_id="K2", ship_to_id=None), policy(), facts2)
    assert "open_order_value" not in facts2.asked  # K2 has no credit limit


@given(k=st.integers(1, 10_000), m=st.sampled_from([0.1, 0.25, 0.3, 1.0, 2.5, 7.0]))
def test_whole_multiples_of_decimal_steps_pass(k: int, m: float) -> None:
    p = policy(order_multiple=m, moq=0, min_order_value=0, **only("order_multiple", "hard"))
    v = validate_order(order(line={"quantity": k * m, "unit_price": None}), p, Facts())
    assert v.findings == []


# --- independent oracle: plain loops and exact fractions over random orders -------------------

PRODUCTS = {p["product_id"]: p for p in DOC["products"]}
STD = DOC["segments"]["standard"]


def oracle_codes(raw: dict[str, Any]) -> set[tuple[str, int | None]]:
    """Codes the standard segment (default strictness except as in the fixture) must raise."""
    out: set[tuple[str, int | None]] = set()
    total = Fraction(0)
    for ln in raw["lines"]:
        n, pid, q = ln["line_no"], ln["product_id"], Fraction(ln["quantity"])
        price = ln["unit_price"]
        prod = PRODUCTS.get(pid)
        if prod is None:
            out.add(("unknown_product", n))
        else:
            if not prod.get("active", True):
                out.add(("product_inactive", n))
            segs = prod.get("allowed_segments")
            if segs is not None and "standard" not in segs:
                out.add(("product_not_allowed_for_segment", n))
            chans = prod.get("allowed_channels")
            if chans is not None and raw["channel"] not in chans:
                out.add(("product_not_allowed_for_channel", n))
        if q < STD["moq"]:
            out.add(("below_moq", n))
        if q % STD["order_multiple"] != 0:
            out.add(("not_order_multiple", n))
        if prod is not None and price is not None:
            lp = Fraction(prod["list_price"]).limit_denominator(1000)
            pr = Fraction(price).limit_denominator(1000)
            if abs(pr - lp) * 100 > lp * STD["price_tolerance_pct"]:
                out.add(("price_out_of_tolerance", n))
        unit = price if price is not None else (prod["list_price"] if prod else 0)
        total += q * Fraction(unit).limit_denominator(1000)
    if total < STD["min_order_value"]:
        out.add(("below_min_order_value", None))
    return out


line_st = st.fixed_dictionaries(
    {
        "product_id": st.sampled_from([*PRODUCTS, "NOPE"]),
        "quantity": st.integers(1, 60),
        "unit_price": st.one_of(st.none(), st.sampled_from([2.5, 4.0, 9.8, 10.0, 10.5, 25.0])),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(line_st, min_size=1, max_size=5),
    channel=st.sampled_from(["edi", "portal", "email"]),
)
def test_line_checks_match_a_plain_oracle(lines: list[dict[str, Any]], channel: str) -> None:
    raw = {
        **ORDER,
        "channel": channel,
        "lines": [{"line_no": i + 1, **ln} for i, ln in enumerate(lines)],
    }
    p = policy(strictness={"credit": "none", "duplicate_po": "none"})
    v = validate_order(OrderIn.model_validate(raw), p, Facts())
    assert {(f.code, f.line_no) for f in v.findings} == oracle_codes(raw)
    hard = {
        "unknown_product",
        "product_inactive",
        "product_not_allowed_for_segment",
        "product_not_allowed_for_channel",
        "below_moq",
        "price_out_of_tolerance",
    }
    expected = (
        "exception"
        if any(f.code in hard for f in v.findings)
        else ("accepted_with_warnings" if v.findings else "accepted")
    )
    assert v.status == expected
