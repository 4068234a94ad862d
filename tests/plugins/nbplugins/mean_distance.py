# my_package/mean_distance.py: a method is one file
import numpy as np
import torch

from novelbench.methods.base import POSITIVE_REAL, Detector
from novelbench.registry import register_method


@register_method
class MeanDistance(Detector):
    name = "mean-distance"
    summary = "distance to the mean training image"
    test_params = {}  # tiny settings the conformance test uses
    _parameter_constraints = {"power": [POSITIVE_REAL]}  # checked before a run starts

    def __init__(self, *, power: float = 2.0):
        self.power = power

    def fit(self, images: torch.Tensor) -> "MeanDistance":
        self.mean_ = images.mean(0)
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:  # higher = more novel
        return (images - self.mean_).abs().pow(self.power).flatten(1).mean(1).numpy()
