"""geom-paper: GEOM as the authors' code runs it (a preset of ``geom``).

``izikgo/AnomalyDetectionTransformations`` (experiments.py, models/wide_residual_network.py,
utils.py): WRN-10-4 on images zero-padded to 32 x 32 in [-1, 1], the 72 transformations with
8-pixel translations, Adam lr 1e-3, batch 128, ceil(200 / 72) = 3 epochs over every (image,
transformation) pair, Keras L2 2.5e-4 on every weight, the Dirichlet fitted on all training
inliers. GPU-sized: about 1.2M parameters and 165M multiply-adds per 32 x 32 image, so one
full-MNIST trial is hours on one CPU thread.
"""

from novelbench.methods.geom import GEOM
from novelbench.registry import register_preset

AUTHORS_DEFAULT = dict(net="wrn", wrn_depth=10, wrn_widen=4, pad_to=32, epochs=3, lr=1e-3, l2=2.5e-4, batch_size=128,
                       dirichlet_images=None)

register_preset("geom-paper", GEOM, **AUTHORS_DEFAULT,
                summary="GEOM as the authors run it: WRN-10-4, 32 px zero padding, Adam 1e-3, L2 2.5e-4, 3 epochs, Dirichlet on all inliers")
