"""CRBND: Connective Reconstruction-Based Novelty Detection (Hashemi, Aliniya, Razzaghi).

Faithful to the paper's section 3:
1. Reconstructor ``A``: the "refined U-Net" = residual encoder/decoder with local short skips and
   no long encoder-to-decoder skips (``nets.ConvAutoencoder``), fed ``x`` corrupted by Gaussian
   noise (eq. 1) then coarse dropout (eq. 2), trained with the Charbonnier loss (eq. 3) against
   the clean ``x``.
2. Connective samples: positives ``lam*x + (1-lam)*A(x)`` (eq. 4), negatives
   ``lam*x + (1-lam)*d(A(x))`` with ``d`` = motion blur or Gaussian noise per sample (eq. 5).
3. A CNN classifier ``C`` trained with binary cross-entropy, positives vs negatives.
4. Test: ``f(x) = C(lam*x + (1-lam)*A(x))`` (eq. 6); score = -logit (higher = more novel);
   ``predict`` = sigmoid(logit) > 0.5.

Ablation switches (all constructor parameters):
- ``connective=False``: no connective mixing, i.e. ``lam`` is forced to 0: the classifier sees
  ``A(x)`` vs ``d(A(x))`` in training and ``A(x)`` at test (ALOCC's D(R(X)) reading).
- ``score_mode``: ``classifier`` (paper), ``recon`` (reconstruction MSE of the same ``A``), or
  ``combined`` (sum of both, each z-scored on the training images).
- ``negatives``: ``both`` (paper), ``blur``, ``noise``; ``structural`` (strong affine warps /
  patch shuffles of ``x``, passed through ``A`` and the same connective mixing, so the negatives
  look like real outliers after reconstruction); ``mixed`` (half structural, half blur/noise).
The improved variant ``crbnd-plus`` (``crbnd_plus.py``) only changes defaults of these switches.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted

from novelbench.benchmark.registry import register_method
from novelbench.methods import augment as aug
from novelbench.methods.ae import reconstruction_error
from novelbench.methods.base import Detector, resolve_device
from novelbench.methods.nets import CNNClassifier, ConvAutoencoder
from novelbench.methods.training import apply_batched, train_module

NEGATIVES = ("both", "blur", "noise", "structural", "mixed")
SCORE_MODES = ("classifier", "recon", "combined")


@register_method
class CRBND(Detector):
    name = "crbnd"
    summary = "connective reconstruction-based novelty detection (denoising residual AE + connective-sample CNN classifier)"
    test_params = {"widths": (8, 16), "latent_dim": 8, "clf_widths": (8, 16), "ae_epochs": 2, "clf_epochs": 2, "batch_size": 32, "min_steps": 0}

    def __init__(
        self,
        *,
        widths: tuple[int, ...] = (16, 32),
        latent_dim: int | None = 32,
        blocks: int = 1,
        clf_widths: tuple[int, ...] = (16, 32),
        ae_epochs: int = 6,
        clf_epochs: int = 3,
        min_steps: int = 200,
        lr: float = 1e-3,
        clf_lr: float = 1e-3,
        batch_size: int = 128,
        noise_sigma: float = 0.1,
        dropout_p: float = 0.1,
        mask_size: int = 7,
        charbonnier_eps: float = 1e-3,
        blur_kernel: int = 7,
        neg_noise_sigma: float = 0.2,
        lam: float = 0.5,
        connective: bool = True,
        negatives: str = "both",
        score_mode: str = "classifier",
        device: str = "auto",
    ):
        self.widths = widths
        self.latent_dim = latent_dim
        self.blocks = blocks
        self.clf_widths = clf_widths
        self.ae_epochs = ae_epochs
        self.clf_epochs = clf_epochs
        self.min_steps = min_steps  # per network, for tiny training sets (see training.train_module)
        self.lr = lr
        self.clf_lr = clf_lr
        self.batch_size = batch_size
        self.noise_sigma = noise_sigma
        self.dropout_p = dropout_p
        self.mask_size = mask_size
        self.charbonnier_eps = charbonnier_eps
        self.blur_kernel = blur_kernel
        self.neg_noise_sigma = neg_noise_sigma
        self.lam = lam
        self.connective = connective
        self.negatives = negatives
        self.score_mode = score_mode
        self.device = device

    # -- pieces -------------------------------------------------------------------------------
    @property
    def _lam(self) -> float:
        return float(self.lam) if self.connective else 0.0

    def _corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstructor input: eq. (1) then eq. (2)."""
        return aug.coarse_dropout(aug.gaussian_noise(x, self.noise_sigma), self.dropout_p, self.mask_size)

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.ae_(x)

    def _negatives(self, x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        """Connective negatives (eq. 5 and the structural variants)."""
        if self.negatives in ("both", "blur", "noise"):
            return aug.connective(x, aug.blur_or_noise(recon, self.blur_kernel, self.neg_noise_sigma, self.negatives), self._lam)
        warped = aug.structural_negative(x)
        structural = aug.connective(warped, self._reconstruct(warped), self._lam)
        if self.negatives == "structural":
            return structural
        paper = aug.connective(x, aug.blur_or_noise(recon, self.blur_kernel, self.neg_noise_sigma), self._lam)
        return torch.where(torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5, structural, paper)

    def _classifier_loss(self, x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        pos = aug.connective(x, recon, self._lam)  # eq. (4)
        neg = self._negatives(x, recon)
        logits = self.clf_(torch.cat([pos, neg]))
        target = torch.cat([torch.ones(len(x)), torch.zeros(len(x))]).to(logits.device, logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, target)

    def _logits(self, images: torch.Tensor) -> torch.Tensor:
        return apply_batched(lambda x: self.clf_(aug.connective(x, self.ae_(x), self._lam)), images, 512, self.device_)

    # -- contract -----------------------------------------------------------------------------
    def fit(self, images: torch.Tensor) -> "CRBND":
        if self.negatives not in NEGATIVES:
            raise ValueError(f"negatives must be one of {NEGATIVES}, got {self.negatives!r}")
        if self.score_mode not in SCORE_MODES:
            raise ValueError(f"score_mode must be one of {SCORE_MODES}, got {self.score_mode!r}")
        self.device_ = dev = resolve_device(self.device)
        images = images.float()
        self.ae_ = ConvAutoencoder(images.shape[1], images.shape[-1], tuple(self.widths), self.latent_dim, self.blocks)
        self.ae_loss_history_ = train_module(
            self.ae_, (images,), lambda x: aug.charbonnier(self.ae_(self._corrupt(x)), x, self.charbonnier_eps),
            epochs=self.ae_epochs, lr=self.lr, batch_size=self.batch_size, device=dev, min_steps=self.min_steps,
        )
        self.ae_.eval()
        recon = apply_batched(self.ae_, images, 512, dev)
        if self.score_mode != "recon":
            self.clf_ = CNNClassifier(images.shape[1], tuple(self.clf_widths), self.blocks)
            self.clf_loss_history_ = train_module(
                self.clf_, (images, recon), self._classifier_loss,
                epochs=self.clf_epochs, lr=self.clf_lr, batch_size=self.batch_size, device=dev, min_steps=self.min_steps,
            )
        if self.score_mode == "combined":  # z-score statistics of both scores on the training images
            rec = np.log(reconstruction_error(self.ae_, images, 512, dev) + 1e-12)
            clf = -self._logits(images).numpy()
            self.z_stats_ = (rec.mean(), rec.std() + 1e-12, clf.mean(), clf.std() + 1e-12)
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:
        check_is_fitted(self, "ae_")
        images = images.float()
        if self.score_mode == "recon":
            return reconstruction_error(self.ae_, images, 512, self.device_)
        clf = -self._logits(images).numpy()
        if self.score_mode == "classifier":
            return clf
        rm, rs, cm, cs = self.z_stats_
        rec = np.log(reconstruction_error(self.ae_, images, 512, self.device_) + 1e-12)
        return (rec - rm) / rs + (clf - cm) / cs

    def predict(self, images: torch.Tensor) -> np.ndarray | None:
        if self.score_mode == "recon":
            return None
        check_is_fitted(self, "clf_")
        return (torch.sigmoid(self._logits(images.float())) > 0.5).numpy()
