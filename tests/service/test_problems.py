"""Error bodies: `echo` keeps rejected input short and JSON-safe."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.service.problems import MAX_ECHO_CHARS, echo, request_errors


def test_echo_keeps_small_values_and_cuts_large_ones() -> None:
    assert echo({"a": [1, 2.5, "x"]}) == {"a": [1, 2.5, "x"]}
    assert echo([float("nan"), float("inf"), -float("inf")]) == ["NaN", "Infinity", "-Infinity"]
    assert echo(date(2026, 3, 2)) == "2026-03-02"
    cut = echo("x" * 3_000_000)
    assert isinstance(cut, str)
    assert cut.endswith("... (3000002 characters)")
    assert len(cut) < MAX_ECHO_CHARS + 40


json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=50,
)


@settings(max_examples=60)
@given(json_values)
def test_echo_is_always_strict_json_of_bounded_size(value: Any) -> None:
    out = echo(value)
    text = json.dumps(out, allow_nan=False, ensure_ascii=False)
    # either the value itself, small, or a cut string of its JSON
    assert len(text) <= MAX_ECHO_CHARS or (isinstance(out, str) and len(out) <= MAX_ECHO_CHARS + 40)


def test_request_errors_make_ctx_plain() -> None:
    [err] = request_errors(
        [
            {
                "loc": ("body", "x"),
                "msg": "m",
                "type": "t",
                "input": 1.0,
                "ctx": {"error": ValueError("bad"), "gt": 0.0, "n": 3},
            }
        ]
    )
    assert err["ctx"] == {"error": "bad", "gt": 0.0, "n": 3}
    json.dumps(err, allow_nan=False)
