"""One-class SVM on flattened pixels (scikit-learn), optionally after PCA."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.svm import OneClassSVM
from sklearn.utils.validation import check_is_fitted

from novelbench.benchmark.registry import register_method
from novelbench.methods.base import Detector


@register_method
class OCSVM(Detector):
    name = "ocsvm"
    summary = "scikit-learn OneClassSVM on raw pixels; score = -decision_function"
    test_params = {"nu": 0.1}

    def __init__(self, *, nu: float = 0.1, gamma: str | float = "scale", kernel: str = "rbf", pca_components: int | None = None):
        self.nu = nu
        self.gamma = gamma
        self.kernel = kernel
        self.pca_components = pca_components

    @staticmethod
    def _flat(images: torch.Tensor) -> np.ndarray:
        return images.reshape(images.shape[0], -1).numpy()

    def fit(self, images: torch.Tensor) -> "OCSVM":
        svm = OneClassSVM(kernel=self.kernel, gamma=self.gamma, nu=self.nu)
        steps = [PCA(n_components=self.pca_components, random_state=0), svm] if self.pca_components else [svm]
        self.model_ = make_pipeline(*steps).fit(self._flat(images))
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:
        check_is_fitted(self, "model_")
        return -self.model_.decision_function(self._flat(images))

    def predict(self, images: torch.Tensor) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(self._flat(images)) == 1
