"""The README's "Adding a method" example, verbatim, so the documented recipe is tested."""

import numpy as np
import torch

from novelbench.methods.base import Detector


class MeanDistance(Detector):
    name = "mean-distance"
    summary = "distance to the mean training image"
    test_params = {}  # tiny settings the conformance test uses

    def __init__(self, *, power: float = 2.0):
        self.power = power

    def fit(self, images: torch.Tensor) -> "MeanDistance":
        self.mean_ = images.mean(0)
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:
        return (images - self.mean_).abs().pow(self.power).flatten(1).mean(1).numpy()


class CrashOnFit(Detector):
    """Kills its own process in ``fit`` (stands in for a worker killed for memory)."""

    name = "crash-on-fit"

    def fit(self, images):
        import os

        os._exit(1)
