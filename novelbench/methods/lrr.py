"""Low-Rank Representation (Liu, Lin, Yan, Sun, Yu & Ma, "Robust Recovery of Subspace Structures
by Low-Rank Representation", IEEE TPAMI 2013) with the l2,1 error term.

Each point of the pool (a column of X) is represented by the others, jointly at lowest rank, up
to a column-sparse error::

    min ||Z||_* + lam * ||E||_{2,1}   s.t.  X = X Z + E

and a point's score is the norm of its column of E. ``lam`` defaults to the paper's outlier
choice 3 / (7 ||X|| sqrt(gamma n)) (Theorem 3 of the paper), gamma = ``outlier_fraction``.

Solver: the paper's Algorithm 1 (inexact ALM with the auxiliary J = Z), on the paper's reduced
problem (its section 4.3: Z lies in the row space of X, so with X = U S Vᵀ one solves for an
r x n matrix with dictionary U S, and rotating by Uᵀ changes no norm)::

    J <- SVT_{1/mu}(Z + Y2/mu)
    Z <- (I + BᵀB)^-1 (Bᵀ(X - E) + J + (BᵀY1 - Y2)/mu)     (B = S, diagonal here)
    E <- colshrink_{lam/mu}(X - B Z + Y1/mu)
    Y1 <- Y1 + mu (X - B Z - E);  Y2 <- Y2 + mu (Z - J);  mu <- min(rho mu, mu_max)

stopping when both constraint residuals' largest entries are below ``tol``; ``max_iter``
iterations without that make the trial a failed row. Points are scaled to unit norm first.
Transductive (``subspace.py``): it sees the test pool.
"""

from __future__ import annotations

import numpy as np

from novelbench.methods.base import POSITIVE_INT, Interval, Real
from novelbench.methods.subspace import (NotConverged, TransductiveSubspaceDetector, column_shrink,
                                         singular_value_threshold, span_coordinates, unit_rows)
from novelbench.registry import register_method

RHO = 1.5
MU0 = 1e-2
MU_MAX = 1e10


def lrr(x: np.ndarray, lam: float, tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray, int]:
    """LRR of the points in the COLUMNS of ``x`` (r x n): (Z in the reduced basis, E, iterations)."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    keep = s > 1e-10 * s[0]
    s, vt = s[keep], vt[keep]
    xr = s[:, None] * vt  # Uᵀ X: the same column norms; the dictionary is then diag(s)
    z = np.zeros((len(s), xr.shape[1]))
    e = np.zeros_like(xr)
    y1 = np.zeros_like(xr)
    y2 = np.zeros_like(z)
    mu, rank = MU0, 1
    inverse = 1.0 / (1.0 + s**2)
    for it in range(1, max_iter + 1):
        j, rank = singular_value_threshold(z + y2 / mu, 1.0 / mu, rank + 1)
        z = inverse[:, None] * (s[:, None] * (xr - e) + j + (s[:, None] * y1 - y2) / mu)
        bz = s[:, None] * z
        e = column_shrink(xr - bz + y1 / mu, lam / mu, axis=0)
        r1 = xr - bz - e
        r2 = z - j
        if max(np.abs(r1).max(), np.abs(r2).max()) < tol:
            return z, e, it
        y1 += mu * r1
        y2 += mu * r2
        mu = min(RHO * mu, MU_MAX)
    raise NotConverged(f"lrr did not converge in {max_iter} iterations (largest constraint residual "
                       f"{max(np.abs(r1).max(), np.abs(r2).max()):.2e} > tol {tol:g})")


@register_method
class LRR(TransductiveSubspaceDetector):
    name = "lrr"
    summary = "Low-Rank Representation (Liu et al. 2013), l2,1 error; score = the point's column norm of the error"
    test_params = {"max_iter": 200}
    _parameter_constraints = {
        **TransductiveSubspaceDetector._parameter_constraints,
        "lam": [Interval(Real, 0, None, closed="neither"), None],
        "outlier_fraction": [Interval(Real, 0, 1, closed="neither")],
        "tol": [Interval(Real, 0, 1, closed="neither")],
        "max_iter": [POSITIVE_INT],
    }

    def __init__(self, *, features: str = "pixels", lam: float | None = None, outlier_fraction: float = 0.5,
                 tol: float = 1e-6, max_iter: int = 500):
        self.features = features
        self.lam = lam
        self.outlier_fraction = outlier_fraction
        self.tol = tol
        self.max_iter = max_iter

    def _pool_scores(self, x: np.ndarray) -> np.ndarray:
        y = span_coordinates(unit_rows(x))
        lam = self.lam or 3.0 / (7.0 * np.linalg.norm(y, 2) * np.sqrt(self.outlier_fraction * len(y)))
        _, e, self.n_iter_ = lrr(y.T, lam, self.tol, self.max_iter)
        return np.linalg.norm(e, axis=0)
