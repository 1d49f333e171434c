"""k-means segments: k by silhouette, centres in original units, names, missing metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplyseg.config.segmentation import ClusterScheme
from supplyseg.errors import ConfigError
from supplyseg.segment.cluster import cluster_segments


def _blobs(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = [(10.0, 1_000.0), (50.0, 100.0), (90.0, 5_000.0)]
    rows = [rng.normal(c, (2.0, 20.0), size=(40, 2)) for c in centres]
    x = np.vstack(rows)
    return pd.DataFrame(
        {"customer_id": [f"c{i:03d}" for i in range(len(x))], "rush": x[:, 0], "value": x[:, 1]}
    )


SCHEME = ClusterScheme(entity="customer", metrics=["rush", "value"], k_min=2, k_max=6, seed=1)


def test_recovers_three_blobs_with_centres_in_original_units() -> None:
    result = cluster_segments(_blobs(), SCHEME, ids=["customer_id"], name="km", path="p")
    assert result.k == 3
    assert sorted(result.profile["entities"]) == [40, 40, 40]
    centres = sorted(result.profile[["rush", "value"]].itertuples(index=False))
    for got, want in zip(centres, [(10, 1000), (50, 100), (90, 5000)], strict=True):
        assert got[0] == pytest.approx(want[0], abs=1.5)
        assert got[1] == pytest.approx(want[1], rel=0.05)
    # Same blob, same segment; different blobs, different segments.
    seg = result.segments["segment"].to_numpy()
    assert len(set(seg[:40])) == len(set(seg[40:80])) == len(set(seg[80:])) == 1
    assert len({seg[0], seg[40], seg[80]}) == 3
    assert set(result.segments.columns) == {
        "customer_id",
        "scheme",
        "segment",
        "rule",
        "explanation",
    }


def test_deterministic_for_a_seed() -> None:
    a = cluster_segments(_blobs(), SCHEME, ids=["customer_id"], name="km", path="p")
    b = cluster_segments(_blobs(), SCHEME, ids=["customer_id"], name="km", path="p")
    pd.testing.assert_frame_equal(a.segments, b.segments)


def test_missing_metric_values_are_not_clustered() -> None:
    data = _blobs()
    data.loc[5, "rush"] = np.nan
    result = cluster_segments(data, SCHEME, ids=["customer_id"], name="km", path="p")
    row = result.segments.iloc[5]
    assert (row["segment"], row["rule"]) == ("not clustered", "default")


def test_log_transform_and_unknown_metric() -> None:
    data = _blobs()
    logged = ClusterScheme(entity="customer", metrics=["rush", "value"], log=["value"], seed=1)
    result = cluster_segments(data, logged, ids=["customer_id"], name="km", path="p")
    assert result.profile["value"].min() > 0
    bad = ClusterScheme(entity="customer", metrics=["rush", "size"])
    with pytest.raises(ConfigError, match=r"p\.metrics: unknown metric\(s\) \['size'\]"):
        cluster_segments(data, bad, ids=["customer_id"], name="km", path="p")
