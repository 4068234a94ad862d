"""REAPER (Lerman, McCoy, Tropp & Zhang, "Robust computation of linear models by convex
relaxation", Found. Comput. Math. 2015).

The convex relaxation of fitting a d-dimensional subspace by least absolute deviations::

    min_P sum_i ||(I - P) x_i||_2   s.t.  0 <= P <= I,  tr P = d

solved by the paper's IRLS algorithm: with weights beta_i = 1 / max(delta, ||(I - P) x_i||),
the weighted problem min sum_i beta_i ||(I - P) x_i||^2 has the closed form P = sum_j nu_j u_j u_jᵀ
over the eigenpairs (sigma_j, u_j) of C = sum_i beta_i x_i x_iᵀ, nu_j = max(0, 1 - theta / sigma_j)
with theta chosen so that sum_j nu_j = d (nu_j = 1 for the top d when sigma_{d+1} = 0). It stops
when the objective falls by less than ``tol`` (relative); ``max_iter`` iterations without that make
the trial a failed row. The recovered subspace is the span of P's top d eigenvectors; a point's
score is its distance to it. Points are scaled to unit norm first (the paper's spherising step).
Transductive (``subspace.py``): it sees the test pool.
"""

from __future__ import annotations

import numpy as np

from novelbench.methods.base import POSITIVE_INT, Interval, Real
from novelbench.methods.subspace import NotConverged, TransductiveSubspaceDetector, span_coordinates, unit_rows
from novelbench.registry import register_method

DELTA = 1e-10


def weighted_solve(sigma: np.ndarray, d: int) -> np.ndarray:
    """nu (eigenvalues of P) for the eigenvalues ``sigma`` of C, sorted descending."""
    nu = np.zeros_like(sigma)
    if len(sigma) <= d or sigma[d] <= DELTA * max(sigma[0], DELTA):
        nu[:d] = 1.0
        return nu
    for k in range(d + 1, len(sigma) + 1):  # active set: the top k eigenvalues
        theta = (k - d) / np.sum(1.0 / sigma[:k])
        if k == len(sigma) or sigma[k] <= theta:
            nu[:k] = 1.0 - theta / sigma[:k]
            return nu
    return nu  # not reached


def reaper(x: np.ndarray, d: int, tol: float, max_iter: int) -> tuple[np.ndarray, int]:
    """The d-dimensional subspace (orthonormal columns) REAPER recovers from the rows of ``x``."""
    beta = np.ones(len(x))
    previous = np.inf
    for it in range(1, max_iter + 1):
        sigma, u = np.linalg.eigh((x * beta[:, None]).T @ x)
        sigma, u = np.maximum(sigma[::-1], 0.0), u[:, ::-1]
        nu = weighted_solve(sigma, d)
        coords = x @ u
        residuals = np.sqrt(np.maximum(np.sum(((1.0 - nu) * coords) ** 2, axis=1), 0.0))
        objective = residuals.sum()
        if previous - objective <= tol * objective:
            return u[:, :d], it
        previous = objective
        beta = 1.0 / np.maximum(DELTA, residuals)
    raise NotConverged(f"reaper did not converge in {max_iter} iterations (objective still falling by "
                       f"{(previous - objective) / objective:.2e} > tol {tol:g})")


@register_method
class REAPER(TransductiveSubspaceDetector):
    name = "reaper"
    summary = "REAPER (Lerman et al. 2015): IRLS for the convex robust-subspace fit of the pool; score = distance to the subspace"
    test_params = {"dim": 2}
    _parameter_constraints = {
        **TransductiveSubspaceDetector._parameter_constraints,
        "dim": [POSITIVE_INT],
        "tol": [Interval(Real, 0, 1, closed="neither")],
        "max_iter": [POSITIVE_INT],
    }

    def __init__(self, *, features: str = "pixels", dim: int = 10, tol: float = 1e-6, max_iter: int = 200):
        self.features = features
        self.dim = dim
        self.tol = tol
        self.max_iter = max_iter

    def _pool_scores(self, x: np.ndarray) -> np.ndarray:
        y = span_coordinates(unit_rows(x))
        basis, self.n_iter_ = reaper(y, min(self.dim, y.shape[1]), self.tol, self.max_iter)
        return np.linalg.norm(y - (y @ basis) @ basis.T, axis=1)
