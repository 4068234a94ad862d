"""Metrics of one test mix. Outliers are the positive class for AUROC / AUPR; F1 takes INLIERS
as the positive class (the ALOCC / GPND convention). Thresholding is kept apart from scoring:
each threshold policy is one function returning a boolean "flagged as outlier" array.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

POLICIES = ("quantile", "validation", "oracle", "native")


def auroc(is_outlier: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(is_outlier, scores)) if 0 < is_outlier.sum() < len(is_outlier) else float("nan")


def aupr(is_outlier: np.ndarray, scores: np.ndarray) -> float:
    return float(average_precision_score(is_outlier, scores)) if is_outlier.any() else float("nan")


def f1_inliers(is_outlier: np.ndarray, flagged: np.ndarray) -> float:
    """F1 with inliers as the positive class: a true positive is an inlier not flagged."""
    tp = np.sum(~is_outlier & ~flagged)
    fp = np.sum(is_outlier & ~flagged)
    fn = np.sum(~is_outlier & flagged)
    return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else float("nan")


def trivial_f1(outlier_share: float) -> float:
    """F1 of calling everything an inlier: 2(1-p)/(2-p), the floor every table shows."""
    return 2 * (1 - outlier_share) / (2 - outlier_share)


def f1_quantile(is_outlier: np.ndarray, scores: np.ndarray, share: float) -> float:
    """`quantile` policy: flag the k = round(share * n) most novel scores; inlier F1.

    Ties are broken neutrally by fractional credit: when the k-th score is tied, the m images
    holding that score share the remaining flags, each counting as flagged by the fraction
    (flags left) / m. This is the expected F1 counts of a uniformly random tie-break, so tied
    scores never count for or against a method by the pool's order (pools list inliers first).
    """
    n = len(scores)
    k = int(round(share * n))
    n_out = int(is_outlier.sum())
    n_in = n - n_out
    if k == 0:
        flagged_in = flagged_out = 0.0
    else:
        cut = np.sort(scores)[::-1][k - 1]
        above, tied = scores > cut, scores == cut
        frac = (k - above.sum()) / tied.sum()
        flagged_in = float((above & ~is_outlier).sum() + frac * (tied & ~is_outlier).sum())
        flagged_out = float((above & is_outlier).sum() + frac * (tied & is_outlier).sum())
    tp, fn, fp = n_in - flagged_in, flagged_in, n_out - flagged_out
    return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else float("nan")


def best_f1_threshold(is_outlier: np.ndarray, scores: np.ndarray) -> float:
    """The threshold t maximising inlier-F1 when images with score > t are flagged.

    Every cut between distinct sorted scores is tried (plus flagging everything), in one pass.
    Ties in F1 go to the lowest threshold.
    """
    order = np.argsort(scores, kind="stable")
    s, out = scores[order], is_outlier[order]
    tp = np.cumsum(~out)  # inliers kept when the k+1 lowest scores are called inliers
    fp = np.cumsum(out)
    fn = (~out).sum() - tp
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    last_of_value = np.r_[s[1:] != s[:-1], True]  # cut only where the score changes
    f1 = np.where(last_of_value, f1, -1.0)
    best = int(np.argmax(f1))
    if f1[best] <= 0.0:  # flagging everything is never better for F1 on inliers, but be safe
        return float(-np.inf)
    return float(s[best])


def flag_above(scores: np.ndarray, threshold: float) -> np.ndarray:
    return scores > threshold
