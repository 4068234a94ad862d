"""One-class SVM on flattened pixels (scikit-learn's libsvm solver), optionally after PCA.

The kernel matrix is computed with BLAS (``pairwise_kernels``) and handed to libsvm as a
precomputed kernel: the same model and decision function as ``OneClassSVM(kernel=...)``, but
libsvm's scalar kernel loop is avoided, which is many times faster on large images (a 64x64 RGB
Caltech image has 12,288 features). Beyond ``MAX_PRECOMPUTED`` training images the n x n
kernel would not fit in memory comfortably, so libsvm computes kernels itself.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.svm import OneClassSVM
from sklearn.utils.validation import check_is_fitted

from novelbench.methods.base import POSITIVE_INT, Detector, Interval, Real, StrOptions
from novelbench.registry import register_method

MAX_PRECOMPUTED = 20_000


@register_method
class OCSVM(Detector):
    name = "ocsvm"
    summary = "scikit-learn OneClassSVM on raw pixels (optional PCA); score = -decision_function"
    test_params = {"nu": 0.1}
    _parameter_constraints = {
        "nu": [Interval(Real, 0, 1, closed="right")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0, None, closed="neither")],
        "kernel": [StrOptions({"rbf", "linear", "poly", "sigmoid"})],
        "pca_components": [POSITIVE_INT, None],
    }

    def __init__(self, *, nu: float = 0.1, gamma: str | float = "scale", kernel: str = "rbf", pca_components: int | None = None):
        self.nu = nu
        self.gamma = gamma
        self.kernel = kernel
        self.pca_components = pca_components

    def _features(self, images: torch.Tensor) -> np.ndarray:
        x = images.reshape(images.shape[0], -1).numpy().astype(np.float64)
        return self.pca_.transform(x) if self.pca_ is not None else x

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return pairwise_kernels(a, b, metric=self.kernel, filter_params=True, gamma=self.gamma_)

    def fit(self, images: torch.Tensor) -> "OCSVM":
        flat = images.reshape(images.shape[0], -1).numpy().astype(np.float64)
        self.pca_ = PCA(n_components=self.pca_components, random_state=0).fit(flat) if self.pca_components else None
        x = self._features(images)
        # the same rule as scikit-learn's gamma="scale" / "auto"
        self.gamma_ = {"scale": 1.0 / (x.shape[1] * x.var()), "auto": 1.0 / x.shape[1]}.get(self.gamma, self.gamma)
        self.precomputed_ = len(x) <= MAX_PRECOMPUTED
        if self.precomputed_:
            self.svm_ = OneClassSVM(kernel="precomputed", nu=self.nu).fit(self._kernel(x, x))
            self.support_vectors_ = x[self.svm_.support_]
        else:
            self.svm_ = OneClassSVM(kernel=self.kernel, gamma=self.gamma_, nu=self.nu).fit(x)
        return self

    def decision_function(self, images: torch.Tensor) -> np.ndarray:
        """libsvm's decision value: sum_i alpha_i K(sv_i, x) - rho (positive = inlier)."""
        check_is_fitted(self, "svm_")
        x = self._features(images)
        if not self.precomputed_:
            return self.svm_.decision_function(x)
        return (self._kernel(x, self.support_vectors_) @ self.svm_.dual_coef_[0]) + self.svm_.intercept_[0]

    def score(self, images: torch.Tensor) -> np.ndarray:
        return -self.decision_function(images)

    def predict(self, images: torch.Tensor) -> np.ndarray:
        return self.decision_function(images) >= 0  # libsvm's rule: +1 (inlier) when the value is >= 0

    def score_and_predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        decision = self.decision_function(images)  # one kernel evaluation for both
        return -decision, decision >= 0
