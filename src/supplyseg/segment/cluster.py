"""k-means segments on standardised metrics, k chosen by silhouette, named by dominant features.

The output has the same columns as a rule scheme (``<ids>, scheme, segment, rule,
explanation``), plus a profile table of the cluster centres in original units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from supplyseg.config.segmentation import ClusterScheme
from supplyseg.errors import ConfigError

__all__ = ["ClusterResult", "cluster_segments"]

# Silhouette is O(n²): score on a seeded sample beyond this many entities.
_SILHOUETTE_SAMPLE = 5_000


@dataclass(frozen=True)
class ClusterResult:
    """Segments per entity, the centre profile per segment, and the silhouette per k tried."""

    segments: pd.DataFrame
    profile: pd.DataFrame
    silhouette: dict[int, float]
    k: int


def _name(z_centre: np.ndarray, metrics: Sequence[str]) -> str:
    """Name a cluster by its two most distinctive features, e.g. ``high rush_share, low orders``."""
    order = np.argsort(-np.abs(z_centre))[:2]
    parts = [f"{'high' if z_centre[i] > 0 else 'low'} {metrics[i]}" for i in order]
    return ", ".join(parts)


def cluster_segments(
    metrics: pd.DataFrame, scheme: ClusterScheme, *, ids: Sequence[str], name: str, path: str
) -> ClusterResult:
    """Cluster the rows of ``metrics`` on ``scheme.metrics``; rows with a missing metric are
    put in segment ``not clustered`` with the reason."""
    unknown = sorted(set(scheme.metrics) - set(metrics.columns))
    if unknown:
        raise ConfigError(
            f"{path}.metrics: unknown metric(s) {unknown}; available:"
            f" {sorted(c for c in metrics.columns if c not in ids)}"
        )
    x = metrics[scheme.metrics].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    for j, m in enumerate(scheme.metrics):
        if m in scheme.log:
            x[:, j] = np.log1p(np.clip(x[:, j], 0, None))
    complete = ~np.isnan(x).any(axis=1)
    n = int(complete.sum())
    if n <= scheme.k_min:
        raise ConfigError(
            f"{path}: only {n} entities have every metric; k-means needs more than"
            f" k_min = {scheme.k_min}; fix: choose metrics that are present or lower k_min"
        )
    scaler = StandardScaler().fit(x[complete])
    z = scaler.transform(x[complete])
    rng = np.random.default_rng(scheme.seed)
    sample = rng.choice(n, size=min(n, _SILHOUETTE_SAMPLE), replace=False)
    scores: dict[int, float] = {}
    models: dict[int, KMeans] = {}
    for k in range(scheme.k_min, min(scheme.k_max, n - 1) + 1):
        model = KMeans(n_clusters=k, n_init=10, random_state=scheme.seed).fit(z)
        labels = model.labels_[sample]
        if len(set(labels)) < 2:
            continue
        scores[k] = float(silhouette_score(z[sample], labels))
        models[k] = model
    if not scores:
        raise ConfigError(f"{path}: the metrics do not separate into clusters (all identical?)")
    k = max(scores, key=lambda kk: (scores[kk], -kk))
    model = models[k]
    names = [_name(c, scheme.metrics) for c in model.cluster_centers_]
    # Two clusters with the same two dominant features get a number to stay distinct.
    names = [f"{nm} ({i + 1})" if names.count(nm) > 1 else nm for i, nm in enumerate(names)]
    centres = scaler.inverse_transform(model.cluster_centers_)
    for j, m in enumerate(scheme.metrics):
        if m in scheme.log:
            centres[:, j] = np.expm1(centres[:, j])

    out = metrics[list(ids)].reset_index(drop=True).copy()
    segment = np.full(len(metrics), "not clustered", dtype=object)
    explanation = np.full(len(metrics), "a clustering metric is missing", dtype=object)
    segment[complete] = np.array(names, dtype=object)[model.labels_]
    dist = np.linalg.norm(z - model.cluster_centers_[model.labels_], axis=1)
    explanation[complete] = [
        f"nearest centre of {k} (silhouette {scores[k]:.2f}); distance {d:.2f} in std units"
        for d in dist
    ]
    out["scheme"] = name
    out["segment"] = segment
    out["rule"] = np.where(complete, f"kmeans k={k}", "default")
    out["explanation"] = explanation
    profile = pd.DataFrame(centres, columns=list(scheme.metrics))
    profile.insert(0, "segment", names)
    profile.insert(1, "entities", np.bincount(model.labels_, minlength=k))
    return ClusterResult(out, profile, scores, k)
