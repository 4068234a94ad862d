"""CRBND-plus: CRBND with negatives that look like real outliers after reconstruction.

Same code as ``crbnd`` (``crbnd.py``); only the defaults of its switches differ:
- ``negatives="structural"``: strong affine warps / patch shuffles of the inliers, passed through
  the same autoencoder and connective mixing, so the classifier cannot separate the classes by
  blur or noise artefacts (the faithful version's failure mode, see results/reference/crbnd-tuning.md);
- ``score_mode="combined"``: classifier score + log reconstruction error, each z-scored on the
  training images.
Every change stays a constructor switch, so ``--param crbnd-plus.negatives=both`` etc. ablate it.
"""

from __future__ import annotations

import inspect

from novelbench.benchmark.registry import register_method
from novelbench.methods.crbnd import CRBND

PLUS_DEFAULTS = {"negatives": "structural", "score_mode": "combined"}


@register_method
class CRBNDPlus(CRBND):
    name = "crbnd-plus"
    summary = "CRBND with structural (warp/shuffle) connective negatives and a combined classifier + reconstruction score"

    def __init__(self, **params):
        super().__init__(**{**PLUS_DEFAULTS, **params})

    # scikit-learn's get_params/clone and Detector.param_defaults read this signature
    __init__.__signature__ = inspect.signature(CRBND.__init__).replace(
        parameters=[
            p.replace(default=PLUS_DEFAULTS.get(name, p.default))
            for name, p in inspect.signature(CRBND.__init__).parameters.items()
        ]
    )
