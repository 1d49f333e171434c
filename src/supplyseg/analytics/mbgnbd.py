"""The MBG/NBD purchase-count model: BG/NBD in which a customer may drop out after *any* purchase.

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for customer
base analysis", International Journal of Research in Marketing 24(3), 201-209 (also Hoppe &
Wagner 2007, "central variant" of the BG/NBD). Like BG/NBD (`supplyseg.analytics.clv`) purchases
arrive at rate lambda ~ Gamma(r, alpha) while the customer is active, and after a purchase the
customer drops out with probability p ~ Beta(a, b) — but here the first purchase counts too.

Why it is the default for CLV in supplyseg: under BG/NBD a customer who never bought again can
never have dropped out, so a one-time buyer silent for two years keeps P(alive) = 1 (and a
churned flag beside it). Under MBG/NBD such a customer has

    P(alive | x = 0, T) = 1 / (1 + a/b ((alpha + T) / alpha)^r),

which falls with every week of silence. For repeat buyers the two models differ little.
Per customer (Batislam et al. 2007, eqs. 3-6, in Fader-Hardie notation):

- L(r, alpha, a, b | x, t_x, T) = G(r+x) alpha^r / G(r) / B(a, b)
  x [B(a, b+x+1) / (alpha+T)^(r+x) + B(a+1, b+x) / (alpha+t_x)^(r+x)];
- P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x));
- E[Y(t) | x, t_x, T] = (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
  2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] P(alive).

The kernels are shared with BG/NBD (`supplyseg.analytics._btyd`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplyseg.analytics._btyd import (
    FloatArray,
    PurchaseCountFit,
    count_objective,
    fit_counts,
    simulate_counts,
)

__all__ = ["MBGNBDFit", "fit_mbgnbd", "simulate_mbgnbd"]


@dataclass(frozen=True)
class MBGNBDFit(PurchaseCountFit):
    """A fitted MBG/NBD model (Batislam, Denizel & Filiztekin 2007); see `PurchaseCountFit`.

    ``p_alive`` is below 1 for one-time buyers and falls the longer they are silent.
    """

    MODEL: ClassVar[str] = "mbgnbd"
    MODIFIED: ClassVar[bool] = True


def _mbgnbd_negll(
    logp: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray, w: FloatArray
) -> tuple[float, FloatArray]:
    """Weighted negative log-likelihood and its gradient with respect to the log-parameters."""
    return count_objective(x, tx, big_t, w, modified=True)(logp)


def fit_mbgnbd(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
) -> MBGNBDFit:
    """Fit the MBG/NBD model by maximum likelihood (Batislam, Denizel & Filiztekin 2007).

    Inputs as for `supplyseg.analytics.clv.fit_bgnbd`: x repeat purchase occasions, t_x the time
    of the last one and T the time since the first purchase, in one time unit. Parameters are
    optimised as logs with L-BFGS-B and the analytic gradient, time rescaled to mean T = 1.
    """
    return MBGNBDFit(**fit_counts(frequency, recency, T, modified=True))  # type: ignore[arg-type]


def simulate_mbgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: npt.ArrayLike,  # noqa: N803
    *,
    holdout: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate MBG/NBD customers observed for ``T`` time units, and ``holdout`` units after.

    Each customer draws lambda ~ Gamma(r, rate alpha) and p ~ Beta(a, b); right after the first
    purchase and after each repeat purchase the customer drops out with probability p; while
    active, repeat purchases arrive as a Poisson(lambda) process. Returns frequency, recency,
    T, alive (still active at T) and holdout_purchases.
    """
    return simulate_counts((r, alpha, a, b), T, holdout=holdout, seed=seed, modified=True)
