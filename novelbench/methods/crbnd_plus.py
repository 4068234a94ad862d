"""CRBND-plus: CRBND with negatives that look like real outliers after reconstruction (a preset).

Same class as ``crbnd``; only the defaults of two switches differ:
- ``negatives="structural"``: strong affine warps / patch shuffles of the inliers, passed through
  the same autoencoder and connective mixing, so the classifier cannot separate the classes by
  blur or noise artefacts (the faithful version's failure mode, see results/reference/crbnd-tuning.md);
- ``score_mode="combined"``: classifier score + log reconstruction error, each z-scored on the
  training images.
Every change stays a constructor switch, so ``--param crbnd-plus.negatives=both`` etc. ablate it.
"""

from novelbench.methods.crbnd import CRBND
from novelbench.registry import register_preset

register_preset("crbnd-plus", CRBND, negatives="structural", score_mode="combined",
                summary="CRBND with structural (warp/shuffle) connective negatives and a combined classifier + reconstruction score")
