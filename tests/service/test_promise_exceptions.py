"""Which lines backorder processing marks ``late`` or ``within_limit`` (the flip of the
lateness rule of `supplyseg.service.promise_rules`), as a pure function."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from supplyseg.policy.document import SegmentRules
from supplyseg.service.promise_exceptions import late_promise_flips

REQ = date(2030, 3, 9)  # requested; with a 3-day limit the latest acceptable date is 2030-03-12


def _rules(strictness: str = "hard", days: int | None = 3) -> dict[str, SegmentRules]:
    doc = {"promising": {"max_lateness_days": days}, "strictness": {"late_promise": strictness}}
    return {"k": SegmentRules.model_validate(doc)}


@pytest.mark.parametrize(
    ("old", "new", "flip"),
    [
        (date(2030, 3, 9), date(2030, 3, 12), None),  # still in time (the limit itself)
        (date(2030, 3, 9), date(2030, 3, 13), "late"),
        (date(2030, 3, 12), None, "late"),  # nothing confirmed any more
        (date(2030, 3, 20), date(2030, 3, 10), "within_limit"),
        (None, date(2030, 3, 9), "within_limit"),
        (date(2030, 3, 20), date(2030, 3, 25), None),  # late before and after: no flip
        (None, None, None),
    ],
)
def test_only_a_change_across_the_limit_flips(
    old: date | None, new: date | None, flip: str | None
) -> None:
    lines = pd.DataFrame({"customer_segment": ["k"], "requested_date": [REQ]})
    assert late_promise_flips(lines, [old], [new], _rules()) == ({} if flip is None else {0: flip})
    # soft segments are marked too (they get a warning, not an exception)
    assert late_promise_flips(lines, [old], [new], _rules("soft")) == (
        {} if flip is None else {0: flip}
    )


def test_no_limit_no_check_or_no_segment_never_flips() -> None:
    lines = pd.DataFrame({"customer_segment": ["k", None, "other"], "requested_date": [REQ] * 3})
    old = [date(2030, 3, 9)] * 3
    new = [date(2030, 4, 30)] * 3
    assert late_promise_flips(lines, old, new, _rules("none")) == {}
    assert late_promise_flips(lines, old, new, _rules(days=None)) == {}
    assert late_promise_flips(lines, old, new, _rules()) == {0: "late"}
