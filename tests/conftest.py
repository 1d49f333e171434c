"""Settings for the whole test suite.

Hypothesis runs derandomized (examples follow from each test's source, not a random seed) and
without its example database, so that ``make test`` draws the same examples on every machine
and every run: a failure reproduces, and a shrink that once took minutes cannot appear at random
in an unrelated change. ``HYPOTHESIS_PROFILE=explore`` draws fresh random examples instead,
for a session that hunts for new cases.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
