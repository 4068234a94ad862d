"""CRBND: Connective Reconstruction-Based Novelty Detection (Hashemi, Aliniya, Razzaghi).

Faithful to the paper's section 3:
1. Reconstructor ``A``: the "refined U-Net" = residual encoder/decoder with local short skips and
   no long encoder-to-decoder skips (``nets.ConvAutoencoder``), fed ``x`` corrupted by Gaussian
   noise (eq. 1) then coarse dropout (eq. 2), trained with the Charbonnier loss (eq. 3) against
   the clean ``x``.
2. Connective samples: positives ``lam*x + (1-lam)*A(x)`` (eq. 4), negatives
   ``lam*x + (1-lam)*d(.)`` with ``d`` = motion blur or Gaussian noise per sample (eq. 5).
3. A CNN classifier ``C`` trained with binary cross-entropy, positives vs negatives.
4. Test: ``f(x) = C(lam*x + (1-lam)*A(x))`` (eq. 6); score = -logit (higher = more novel);
   ``predict`` = sigmoid(logit) > 0.5.

Where the paper is ambiguous, each reading is a switch (defaults in brackets):
- ``neg_target`` [recon]: what ``d`` acts on. Section 3 says "one of the original or
  reconstructed samples" (``either``, per sample), section 3.1 "the input image" (``input``:
  d(x)), Figure 2's caption "augmented reconstructed samples" (``recon``: d(A(x))).
- ``positive_recon`` [clean]: the ``x'`` of eq. 4 is A(clean x) (``clean``) or the A(corrupted x)
  of eq. 3 (``corrupted``). The test phase (eq. 6) always uses A(x).
- ``dropout_per_channel`` [False]: the coarse-dropout mask is shared by the channels, or one per
  channel as the paper's beta "with the same number of channels" (matters on RGB only).
- ``latent_dim`` [32]: a dense bottleneck of that size, or ``None`` for a fully convolutional
  bottleneck (the encoder's feature map goes straight to the decoder).

Ablation switches:
- ``connective=False``: no connective mixing, i.e. ``lam`` is forced to 0: the classifier sees
  ``A(x)`` vs ``d(A(x))`` in training and ``A(x)`` at test (ALOCC's D(R(X)) reading).
- ``score_mode``: ``classifier`` (paper), ``recon`` (reconstruction MSE of the same ``A``), or
  ``combined`` (sum of both, each z-scored on the training images).
- ``negatives``: ``both`` (paper), ``blur``, ``noise``; ``structural`` (strong affine warps /
  patch shuffles of ``x``, passed through ``A`` and the same connective mixing, so the negatives
  look like real outliers after reconstruction); ``mixed`` (half structural, half blur/noise).
The improved variant ``crbnd-plus`` (``crbnd_plus.py``) is a preset: other defaults of these switches.

Scoring runs ``A`` once per image: the classifier input, the reconstruction error and the native
decision all come from the same forward pass (``score_and_predict``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted

from novelbench.methods import augment as aug
from novelbench.methods.base import DEVICE, NON_NEGATIVE_INT, POSITIVE_INT, POSITIVE_REAL, UNIT_INTERVAL, Detector, StrOptions, resolve_device
from novelbench.methods.nets import CNNClassifier, ConvAutoencoder
from novelbench.methods.training import apply_batched, train_module
from novelbench.registry import register_method

NEGATIVES = ("both", "blur", "noise", "structural", "mixed")
SCORE_MODES = ("classifier", "recon", "combined")
NEG_TARGETS = ("recon", "input", "either")
POSITIVE_RECONS = ("clean", "corrupted")
SCORE_BATCH = 512


@register_method
class CRBND(Detector):
    name = "crbnd"
    summary = "connective reconstruction-based novelty detection (denoising residual AE + connective-sample CNN classifier)"
    resumable = True  # fit = two train_module loops + deterministic steps between them (checkpoint.py)
    test_params = {"widths": (8, 16), "latent_dim": 8, "clf_widths": (8, 16), "ae_epochs": 10, "clf_epochs": 10, "batch_size": 16, "min_steps": 0}
    _parameter_constraints = {
        "widths": [tuple, list], "latent_dim": [POSITIVE_INT, None], "blocks": [NON_NEGATIVE_INT], "clf_widths": [tuple, list],
        "ae_epochs": [POSITIVE_INT], "clf_epochs": [POSITIVE_INT], "min_steps": [NON_NEGATIVE_INT],
        "lr": [POSITIVE_REAL], "clf_lr": [POSITIVE_REAL], "batch_size": [POSITIVE_INT],
        "noise_sigma": [UNIT_INTERVAL], "dropout_p": [UNIT_INTERVAL], "mask_size": [POSITIVE_INT],
        "charbonnier_eps": [POSITIVE_REAL], "blur_kernel": [POSITIVE_INT], "neg_noise_sigma": [UNIT_INTERVAL],
        "lam": [UNIT_INTERVAL], "connective": ["boolean"], "negatives": [StrOptions(set(NEGATIVES))],
        "score_mode": [StrOptions(set(SCORE_MODES))], "neg_target": [StrOptions(set(NEG_TARGETS))],
        "positive_recon": [StrOptions(set(POSITIVE_RECONS))], "dropout_per_channel": ["boolean"], "device": DEVICE,
    }

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
        neg_target: str = "recon",
        positive_recon: str = "clean",
        dropout_per_channel: bool = False,
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
        self.neg_target = neg_target
        self.positive_recon = positive_recon
        self.dropout_per_channel = dropout_per_channel
        self.device = device

    # -- pieces -------------------------------------------------------------------------------
    @property
    def _lam(self) -> float:
        return float(self.lam) if self.connective else 0.0

    def _corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstructor input: eq. (1) then eq. (2)."""
        return aug.coarse_dropout(aug.gaussian_noise(x, self.noise_sigma), self.dropout_p, self.mask_size, self.dropout_per_channel)

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.ae_(x)

    def _d_target(self, x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        """What the negative operator ``d`` acts on (``neg_target``)."""
        if self.neg_target == "recon":
            return recon
        if self.neg_target == "input":
            return x
        return torch.where(torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5, x, recon)

    def _negatives(self, x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        """Connective negatives (eq. 5 and the structural variants)."""
        if self.negatives in ("both", "blur", "noise"):
            d = aug.blur_or_noise(self._d_target(x, recon), self.blur_kernel, self.neg_noise_sigma, self.negatives)
            return aug.connective(x, d, self._lam)
        warped = aug.structural_negative(x)
        structural = aug.connective(warped, self._reconstruct(warped), self._lam)
        if self.negatives == "structural":
            return structural
        paper = aug.connective(x, aug.blur_or_noise(self._d_target(x, recon), self.blur_kernel, self.neg_noise_sigma), self._lam)
        return torch.where(torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5, structural, paper)

    def _classifier_loss(self, x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        pos = aug.connective(x, recon, self._lam)  # eq. (4)
        neg = self._negatives(x, recon)
        logits = self.clf_(torch.cat([pos, neg]))
        target = torch.cat([torch.ones(len(x)), torch.zeros(len(x))]).to(logits.device, logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, target)

    def _forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass of ``A`` per image: (classifier logit or NaN, log reconstruction error), float32."""
        def both(x: torch.Tensor) -> torch.Tensor:
            recon = self.ae_(x)
            err = (recon - x).pow(2).flatten(1).mean(1)
            logit = self.clf_(aug.connective(x, recon, self._lam)) if hasattr(self, "clf_") else torch.full_like(err, float("nan"))
            return torch.stack([logit, err], 1)

        out = apply_batched(both, images, SCORE_BATCH, self.device_)
        return out[:, 0], out[:, 1]

    def _score_from(self, logit: torch.Tensor, err: torch.Tensor) -> np.ndarray:
        if self.score_mode == "recon":
            return err.numpy()
        clf = -logit.numpy()
        if self.score_mode == "classifier":
            return clf
        rm, rs, cm, cs = self.z_stats_
        return (np.log(err.numpy() + 1e-12) - rm) / rs + (clf - cm) / cs

    # -- contract -----------------------------------------------------------------------------
    def fit(self, images: torch.Tensor) -> "CRBND":
        self.device_ = dev = resolve_device(self.device)
        images = images.float()
        self.ae_ = ConvAutoencoder(images.shape[1], images.shape[-1], tuple(self.widths), self.latent_dim, self.blocks)
        self.ae_loss_history_ = train_module(
            self.ae_, (images,), lambda x: aug.charbonnier(self.ae_(self._corrupt(x)), x, self.charbonnier_eps),
            epochs=self.ae_epochs, lr=self.lr, batch_size=self.batch_size, device=dev, min_steps=self.min_steps,
        )
        self.ae_.eval()
        if self.score_mode != "recon":
            source = images if self.positive_recon == "clean" else self._corrupt(images.to(dev)).cpu()
            recon = apply_batched(self.ae_, source, SCORE_BATCH, dev)
            self.clf_ = CNNClassifier(images.shape[1], tuple(self.clf_widths), self.blocks)
            self.clf_loss_history_ = train_module(
                self.clf_, (images, recon), self._classifier_loss,
                epochs=self.clf_epochs, lr=self.clf_lr, batch_size=self.batch_size, device=dev, min_steps=self.min_steps,
            )
        if self.score_mode == "combined":  # z-score statistics of both scores on the training images
            logit, err = self._forward(images)
            rec, clf = np.log(err.numpy() + 1e-12), -logit.numpy()
            self.z_stats_ = (rec.mean(), rec.std() + 1e-12, clf.mean(), clf.std() + 1e-12)
        return self

    def score_and_predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        check_is_fitted(self, "ae_")
        logit, err = self._forward(images)
        native = None if self.score_mode == "recon" else (torch.sigmoid(logit) > 0.5).numpy()
        return self._score_from(logit, err), native

    def score(self, images: torch.Tensor) -> np.ndarray:
        return self.score_and_predict(images)[0]

    def predict(self, images: torch.Tensor) -> np.ndarray | None:
        return self.score_and_predict(images)[1]

    def image_panels(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        check_is_fitted(self, "ae_")
        recon = apply_batched(self.ae_, images, SCORE_BATCH, self.device_)
        return {"reconstruction": recon, "connective": aug.connective(images.float(), recon, self._lam)}
