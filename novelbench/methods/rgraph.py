"""R-graph (You, Robinson & Vidal, "Provable self-representation based outlier detection in a
union of subspaces", CVPR 2017).

1. Self-representation by the elastic net (the paper's eq. 2): for every point x_j of the pool,
   c_j = argmin  lam ||c||_1 + (1 - lam)/2 ||c||_2^2 + alpha_j/2 ||x_j - sum_i c_i x_i||^2,
   c_jj = 0, with alpha_j = gamma * lam / max_{i != j} |<x_i, x_j>| (``gamma`` times the smallest
   alpha for which c_j is not 0, the rule of the authors' EnSC code).
2. The representation graph's random walk: transition P_ji = |c_ji| / ||c_j||_1, start uniform,
   pi_t = pi_{t-1} P; the score is minus the average pi_1..pi_T (``steps`` = T): the walk leaves
   the outliers (inessential states) and stays in the inliers' subspaces.

Points are scaled to unit norm (the paper's setting). The elastic nets of all points are solved
together by ADMM on the Gram matrix (C = A split, the C step in closed form through the Gram's
eigendecomposition, so each iteration is a few N x N x r products; r = the rank), to ``tol``.

Why not pyod's ``RGraph``: it forces ``tau = 1`` (pure l1: sparse subspace clustering, not the
paper's elastic net) with its lasso solvers, standardises features instead of normalising points,
keeps only the 10 largest coefficients per point, defaults to T = 10 steps, and scores new data by
re-running everything on the training data plus blocks of 10 test images.

Pool size: the self-representation is quadratic in the pool size (and its solve cubic-ish), so a
pool larger than ``max_pool`` is split at random into equal blocks of at most ``max_pool`` points
(each with the pool's own mix of images), R-graph runs on each, and scores are pi_bar times the
block size, so blocks compare. Transductive (``subspace.py``): it sees the test pool.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.linear_model._cd_fast import enet_coordinate_descent_gram

from novelbench.methods.base import POSITIVE_INT, Integral, Interval, Real
from novelbench.methods.subspace import NotConverged, TransductiveSubspaceDetector, unit_rows
from novelbench.registry import register_method

#: a point outside the working set violates optimality when its correlation with the residual
#: exceeds the threshold by more than this share (the inner solve is to a duality gap, not exact)
KKT_SLACK = 1e-2


def _elastic_net(gram_work: np.ndarray, corr: np.ndarray, coef: np.ndarray, l1: float, l2: float, tol: float,
                 max_epochs: int) -> np.ndarray:
    """min 1/2 cᵀ G c - corrᵀ c + l1 ||c||_1 + l2/2 ||c||^2 (a unit-norm target) by scikit-learn's
    compiled coordinate descent on the Gram matrix (the solver behind ``ElasticNet(precompute=...)``,
    called directly: the public wrapper's checks cost more than one small solve); warm-started
    from ``coef``."""
    coef, gap, tolerance, _ = enet_coordinate_descent_gram(coef, l1, l2, np.ascontiguousarray(gram_work), corr,
                                                           np.ones(1), max_epochs, tol, np.random.RandomState(0),
                                                           False, False, False)
    if gap > tolerance:
        raise NotConverged(f"rgraph's elastic net did not converge in {max_epochs} coordinate-descent epochs "
                           f"(duality gap {gap:.1e} > {tolerance:.1e})")
    return coef


def elastic_net_self_representation(y: np.ndarray, lam: float, gamma: float, support: int, max_rounds: int,
                                    tol: float = 1e-4, max_epochs: int = 10_000) -> sparse.csr_matrix:
    """Row j = the elastic-net representation of point j (a unit-norm row of ``y``) by the others.

    The active-set scheme of the authors' EnSC solver (You, Li, Robinson & Vidal, CVPR 2016): each
    point's problem is solved on a working set of ``support`` candidates (first its most coherent
    points), then the points violating the optimality condition alpha_j |<x_i, x_j - sum_k c_k x_k>|
    <= lam join the working set in place of its zero coefficients, until none does or, as in their
    code, a round no longer lowers the objective (the remaining violations are within the inner
    solver's tolerance); as in their code the working set grows by 10 % while its nonzeros fill
    more than 80 % of it. Still violated after ``max_rounds`` rounds that kept lowering the objective,
    the trial fails (their code returns the last solution silently)."""
    n = len(y)
    s = min(support, n - 1)
    gram = y @ y.T
    off = np.abs(gram - np.diag(np.diag(gram)))
    coherence = off.max(axis=1)
    alpha = gamma * lam / np.maximum(coherence, 1e-12)  # per point: gamma times the zero-solution threshold
    rows, cols, vals = [], [], []
    for j in range(n):
        l1, l2 = lam / alpha[j], (1.0 - lam) / alpha[j]  # the problem divided by alpha_j
        candidates = off[j].copy()
        candidates[j] = -1.0
        work = np.argpartition(-candidates, s - 1)[:s]
        coef = np.zeros(s)
        size, last = s, np.inf
        for _ in range(max_rounds):
            gram_work = gram[np.ix_(work, work)]
            coef = _elastic_net(gram_work, gram[work, j], coef, l1, l2, tol, max_epochs)
            objective = 0.5 - coef @ gram[work, j] + 0.5 * coef @ gram_work @ coef + l1 * np.abs(coef).sum() + 0.5 * l2 * coef @ coef
            if last - objective < 1e-10 * last:  # the authors' stop: this round did not lower the objective
                break
            last = objective
            corr = np.abs(gram[j] - coef @ gram[work])
            corr[j] = 0.0
            corr[work] = 0.0
            violators = np.flatnonzero(corr > l1 * (1 + KKT_SLACK))
            if violators.size == 0:
                break
            active = coef != 0
            if active.sum() > 0.8 * size:  # the working set is too small: grow it (their rule)
                size = min(round(max(active.sum(), size) * 1.1), n - 1)
            worst = violators[np.argsort(-corr[violators])][: max(size - active.sum(), 1)]
            work = np.concatenate([work[active], worst])
            coef = np.concatenate([coef[active], np.zeros(worst.size)])
        else:
            raise NotConverged(f"rgraph's elastic net: point {j} still had {violators.size} optimality violators after "
                               f"{max_rounds} working-set rounds (raise support or max_rounds)")
        keep = coef != 0
        rows.append(np.full(keep.sum(), j))
        cols.append(work[keep])
        vals.append(coef[keep])
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def random_walk_scores(c: sparse.csr_matrix, steps: int) -> np.ndarray:
    """Average of pi_1..pi_T of the walk on |C| (rows normalised), from the uniform start."""
    weights = abs(c)
    sums = np.asarray(weights.sum(axis=1)).ravel()
    transition = sparse.diags(1.0 / np.where(sums > 0, sums, 1.0)) @ weights
    transition_t = transition.T.tocsr()
    pi = np.full(c.shape[0], 1.0 / c.shape[0])
    total = np.zeros_like(pi)
    for _ in range(steps):
        pi = transition_t @ pi
        total += pi
    return total / steps


@register_method
class RGraph(TransductiveSubspaceDetector):
    name = "rgraph"
    summary = "R-graph (You et al. 2017): elastic-net self-representation of the pool, random walk; score = -its average visit share"
    test_params = {}
    _parameter_constraints = {
        **TransductiveSubspaceDetector._parameter_constraints,
        "lam": [Interval(Real, 0, 1, closed="right")],
        "gamma": [Interval(Real, 1, None, closed="neither")],
        "steps": [POSITIVE_INT],
        "max_pool": [Interval(Integral, 10, None, closed="left")],
        "support": [POSITIVE_INT],
        "max_rounds": [POSITIVE_INT],
    }

    def __init__(self, *, features: str = "pixels", lam: float = 0.95, gamma: float = 50.0, steps: int = 1000,
                 max_pool: int = 3000, support: int = 100, max_rounds: int = 40):
        self.features = features
        self.lam = lam
        self.gamma = gamma
        self.steps = steps
        self.max_pool = max_pool
        self.support = support
        self.max_rounds = max_rounds

    def _pool_scores(self, x: np.ndarray) -> np.ndarray:
        y = unit_rows(x)
        n_blocks = -(-len(y) // self.max_pool)
        scores = np.empty(len(y))
        order = np.random.default_rng(0).permutation(len(y)) if n_blocks > 1 else np.arange(len(y))  # a fixed split
        for block in np.array_split(order, n_blocks):
            block = np.sort(block)
            c = elastic_net_self_representation(y[block], self.lam, self.gamma, self.support, self.max_rounds)
            scores[block] = -random_walk_scores(c, self.steps) * len(block)
        return scores
