"""Shared blocks of the transductive robust-subspace detectors (``rgraph``, ``reaper``,
``outlier-pursuit``, ``lrr``).

These methods are *transductive*: they take a pool of unlabelled points, inliers near a union
of low-dimensional subspaces and outliers, and find the outliers in it. Here ``fit`` only keeps
the training inliers; ``score`` builds the pool the method sees, the training images plus the
images being scored, each distinct image once (on ``caltech --transductive`` and
``mnist-transductive`` the scored inliers *are* the training images, so the pool is exactly the
test pool), computes the features on it (``features.py``; ``pca:K`` is fitted on this pool),
runs the algorithm on the whole pool and returns the scored images' scores. An image's score
therefore depends on the others scored with it: these methods see the test pool, as pyod's ECOD,
COPOD and RGraph do, and reports say so.

Every algorithm here depends on the data only through inner products, so it runs on exact
*span coordinates*: an (N, r) matrix Y with Y Yᵀ = X Xᵀ, r = rank(X) <= min(N, D). On 64 x 64
colour images (D = 12,288) that is an N x N problem instead of a 12,288-wide one, with the same
solution (rotated).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from scipy.sparse.linalg import svds
from sklearn.utils.validation import check_is_fitted

from novelbench.errors import NovelbenchError
from novelbench.methods.base import Detector
from novelbench.methods.features import FEATURES, Features, check_available

#: a solver that stops before its tolerance raises this (the trial becomes a failed row with it)
NotConverged = NovelbenchError


class TransductiveSubspaceDetector(Detector):
    """Base: subclasses implement ``_pool_scores(x) -> scores`` on the (N, D) features of the pool
    (higher = more novel)."""

    transductive: ClassVar[bool] = True  # `bench list` and the tables mark it: it sees the test pool
    _parameter_constraints: ClassVar[dict[str, list]] = {"features": [FEATURES]}

    @classmethod
    def check_params(cls, params, label=None) -> None:
        super().check_params(params, label)
        if "features" in params:
            check_available(params["features"])  # download, or one line naming the missing weights file

    def fit(self, images: torch.Tensor) -> "TransductiveSubspaceDetector":
        self.train_ = images.detach().cpu().float().contiguous()
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:
        check_is_fitted(self, "train_")
        pool, where = distinct_pool(self.train_, images.detach().cpu().float().contiguous())
        x = Features(self.features).fit_transform(pool)
        scores = np.asarray(self._pool_scores(x), dtype=np.float64)
        return scores[where]

    def _pool_scores(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def distinct_pool(train: torch.Tensor, scored: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
    """The training images plus the scored ones, each distinct image once, and the row of each
    scored image in that pool."""
    both = torch.cat([train, scored])
    rows: dict[bytes, int] = {}
    keep, index = [], np.empty(len(both), dtype=np.int64)
    flat = both.reshape(len(both), -1).numpy()
    for i, row in enumerate(flat):
        key = row.tobytes()
        if key not in rows:
            rows[key] = len(keep)
            keep.append(i)
        index[i] = rows[key]
    return both[keep], index[len(train):]


def span_coordinates(x: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """(N, r) coordinates with the same inner products as the rows of ``x`` (N, D), r = rank."""
    if x.shape[1] <= x.shape[0]:
        return x
    eigenvalues, vectors = np.linalg.eigh(x @ x.T)
    keep = eigenvalues > rtol * max(eigenvalues[-1], np.finfo(float).tiny)
    return vectors[:, keep] * np.sqrt(eigenvalues[keep])


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each point scaled to unit l2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def column_shrink(m: np.ndarray, tau: float, axis: int = 0) -> np.ndarray:
    """Proximal map of tau * (sum of l2 norms along ``axis``): each vector shrunk towards 0 by tau."""
    norms = np.linalg.norm(m, axis=axis, keepdims=True)
    return m * np.maximum(0.0, 1.0 - tau / np.where(norms > 0, norms, 1.0))


def singular_value_threshold(m: np.ndarray, tau: float, rank_guess: int) -> tuple[np.ndarray, int]:
    """Proximal map of tau * nuclear norm: U max(S - tau, 0) Vᵀ, computing only the singular values
    above tau (a partial SVD of growing size while all of those computed exceed tau). Returns the
    result and its rank (the next call's guess)."""
    small = min(m.shape)
    if not np.any(m):
        return np.zeros_like(m), 0
    k = max(1, rank_guess)
    while True:
        if k >= small // 10:
            u, s, vt = thin_svd(m)
            break
        u, s, vt = svds(m, k=k, rng=0)  # a fixed start vector: the same answer every call
        if s.min() <= tau:
            break
        k = min(2 * k, small)
    keep = s > tau
    return (u[:, keep] * (s[keep] - tau)) @ vt[keep], int(keep.sum())


def thin_svd(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U, S, Vᵀ of ``m`` through the eigendecomposition of its smaller Gram matrix: for a tall
    15,000 x 784 matrix a 784 x 784 problem, several times faster than LAPACK's SVD of the whole.
    Singular values below ~1e-8 of the largest lose precision (they are squared); the thresholding
    above only needs the large ones, and directions of zero singular value are dropped."""
    if m.shape[0] < m.shape[1]:
        v, s, ut = thin_svd(m.T)
        return ut.T, s, v.T
    eigenvalues, v = np.linalg.eigh(m.T @ m)
    eigenvalues, v = eigenvalues[::-1], v[:, ::-1]
    s = np.sqrt(np.maximum(eigenvalues, 0.0))
    keep = s > 1e-8 * max(s[0], np.finfo(float).tiny)
    s, v = s[keep], v[:, keep]
    return (m @ v) / s, s, v.T
