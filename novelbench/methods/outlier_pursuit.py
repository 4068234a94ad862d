"""Outlier Pursuit (Xu, Caramanis & Sanghavi, "Robust PCA via Outlier Pursuit", IEEE Trans. IT 2012).

The pool's points (the columns of M; rows here) split into a low-rank part and a column-sparse
part::

    min ||L||_* + lam * sum_i ||C_i||_2   s.t.  M = L + C

and a point's score is the norm of its column of C (0 for points the low-rank part explains).
``lam`` (default 0.3): with unit-norm points, an outlier goes to C when its part outside the
low-rank span is longer than about ``lam`` (so lam < 1), and inliers of an r-dimensional subspace
holding n_in points stay in L when lam > about sqrt(r / n_in). The paper's theorem uses
3 / (7 sqrt(gamma n)) (gamma = the outlier fraction), a choice for small outlier fractions: at the
protocols' 50 % it puts every point in C (L = 0, all scores 1). On the synthetic test
(tests/test_subspace.py) lam = 0.2 ... 0.5 recover the outliers; 0.3 was fixed from that, never
from benchmark labels.

Solver: the inexact augmented Lagrangian method (Lin, Chen & Ma 2010, the form Xu et al. use
for their experiments), with the nuclear-norm step a partial SVD of the singular values above the
threshold::

    L <- SVT_{1/mu}(M - C + Y/mu);  C <- colshrink_{lam/mu}(M - L + Y/mu);
    Y <- Y + mu (M - L - C);  mu <- min(rho mu, mu_max)

stopping when ||M - L - C||_F <= tol ||M||_F; ``max_iter`` iterations without that make the
trial a failed row. Points are scaled to unit norm first (``features.py`` gives the vectors).
Transductive (``subspace.py``): it sees the test pool.
"""

from __future__ import annotations

import numpy as np

from novelbench.methods.base import POSITIVE_INT, Interval, Real
from novelbench.methods.subspace import (NotConverged, TransductiveSubspaceDetector, column_shrink,
                                         singular_value_threshold, span_coordinates, unit_rows)
from novelbench.registry import register_method

RHO = 1.5
MU_MAX_FACTOR = 1e7


def outlier_pursuit(m: np.ndarray, lam: float, tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(L, C, iterations) for points as the rows of ``m``; raises NotConverged after ``max_iter``."""
    norm2 = np.linalg.norm(m, 2)
    mu = 1.25 / norm2
    mu_max = mu * MU_MAX_FACTOR
    dual = m / max(norm2, np.linalg.norm(m, axis=1).max() / lam)  # a feasible start for the dual
    c = np.zeros_like(m)
    rank = 1
    m_norm = np.linalg.norm(m)
    for it in range(1, max_iter + 1):
        low, rank = singular_value_threshold(m - c + dual / mu, 1.0 / mu, rank + 1)
        c = column_shrink(m - low + dual / mu, lam / mu, axis=1)
        residual = m - low - c
        if np.linalg.norm(residual) <= tol * m_norm:
            return low, c, it
        dual += mu * residual
        mu = min(RHO * mu, mu_max)
    raise NotConverged(f"outlier-pursuit did not converge in {max_iter} iterations "
                       f"(||M - L - C|| / ||M|| = {np.linalg.norm(residual) / m_norm:.2e} > tol {tol:g})")


@register_method
class OutlierPursuit(TransductiveSubspaceDetector):
    name = "outlier-pursuit"
    summary = ("Outlier Pursuit (Xu et al. 2012): low-rank + column-sparse split of the pool; "
               "score = the point's column norm in the sparse part")
    test_params = {"max_iter": 200}
    _parameter_constraints = {
        **TransductiveSubspaceDetector._parameter_constraints,
        "lam": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, 1, closed="neither")],
        "max_iter": [POSITIVE_INT],
    }

    def __init__(self, *, features: str = "pixels", lam: float = 0.3,
                 tol: float = 1e-7, max_iter: int = 500):
        self.features = features
        self.lam = lam
        self.tol = tol
        self.max_iter = max_iter

    def _pool_scores(self, x: np.ndarray) -> np.ndarray:
        y = span_coordinates(unit_rows(x))
        _, c, self.n_iter_ = outlier_pursuit(y, self.lam, self.tol, self.max_iter)
        return np.linalg.norm(c, axis=1)
