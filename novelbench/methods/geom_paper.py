"""geom-paper: GEOM as the authors' code runs it (a preset of ``geom``).

``izikgo/AnomalyDetectionTransformations`` (experiments.py, models/wide_residual_network.py,
utils.py): WRN-10-4 on images zero-padded to 32 x 32 in [-1, 1], the 72 transformations with
8-pixel translations, Adam lr 1e-3, batch 128, ceil(200 / 72) = 3 epochs over every (image,
transformation) pair, Keras L2 2.5e-4 on every weight, the Dirichlet fitted on all training
inliers. GPU-sized: about 1.2M parameters and 165M multiply-adds per 32 x 32 image, so one
full-MNIST trial is hours on one CPU thread.

On a CPU it fits and scores with denormal floats flushed to zero. The L2 drives the weights that
stop mattering towards zero, through the denormal range (below 1.2e-38), where x86 arithmetic is
about ten times slower: a conv layer of a half-trained digit-8 checkpoint took 2.2 s per step with
denormals and 0.23 s flushed, so training slowed several-fold after its first epoch. Flushing
changes only values below 1.2e-38.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from novelbench.methods.geom import GEOM
from novelbench.registry import register_preset

AUTHORS_DEFAULT = dict(net="wrn", wrn_depth=10, wrn_widen=4, pad_to=32, epochs=3, lr=1e-3, l2=2.5e-4, batch_size=128,
                       dirichlet_images=None)


@contextlib.contextmanager
def flushed_denormals():
    """Denormal floats flushed to zero on the CPU inside the block (torch's default, off, after it)."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


class GEOMPaper(GEOM):
    """GEOM with the authors' settings; fit and score flush denormals (see the module docstring)."""

    def fit(self, images: torch.Tensor) -> "GEOMPaper":
        with flushed_denormals():
            return super().fit(images)

    def normality(self, images: torch.Tensor) -> np.ndarray:
        with flushed_denormals():
            return super().normality(images)


register_preset("geom-paper", GEOMPaper, **AUTHORS_DEFAULT,
                summary="GEOM as the authors run it: WRN-10-4, 32 px zero padding, Adam 1e-3, L2 2.5e-4, 3 epochs, Dirichlet on all inliers")
