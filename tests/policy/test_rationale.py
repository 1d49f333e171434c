"""Tests for supplyseg.policy._rationale: the grouping of rows by their combination of codes
against a plain dictionary, on both the int64-key and the wide-key paths."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.policy._rationale import group_codes


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 2), st.sampled_from([0, 2**40])),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_group_codes_match_a_dictionary(rows: list[tuple[int, int, int]], wide: bool) -> None:
    parts = [np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)]
    if wide:  # radix product >= 2**62: the np.unique path
        parts.append(np.where(parts[0] > 1, 2**30, 0).astype(np.int64))
        parts[2][0] = 2**40
    inverse, first = group_codes(parts)
    keys = list(zip(*(p.tolist() for p in parts), strict=True))
    code_of: dict[tuple[int, ...], int] = {}
    for i, k in enumerate(keys):
        code_of.setdefault(k, int(inverse[i]))
        assert inverse[i] == code_of[k]  # same combination, same code
    assert len(set(code_of.values())) == len(code_of)  # different combinations, other codes
    assert len(first) == len(code_of)
    for c, f in enumerate(first):  # first row of each code
        assert inverse[f] == c
        assert c not in inverse[:f]
