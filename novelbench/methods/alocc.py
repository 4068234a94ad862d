"""ALOCC: Adversarially Learned One-Class Classifier (Sabokrou et al., CVPR 2018).

Two networks trained adversarially on the inliers only:
- R, a convolutional encoder-decoder, gets ``x~ = clip(x + N(0, noise_sigma^2), 0, 1)`` (sigma
  0.155, as the authors' code; fresh noise per batch) and is trained to fool D plus
  ``lam * ||x - R(x~)||^2`` (the paper's refinement loss);
- D, a convolutional discriminator with a sigmoid output, tells the real ``x`` (label 1) from
  ``R(x~)`` (label 0).
Per step D takes one RMSProp step, then R takes ``r_steps`` (the authors' code runs R's update
twice "to make sure that d_loss does not go to zero"; the paper describes one).

Score (``score_mode``): ``dr`` = D(R(x)), the paper's main score, or ``d`` = D(x). D's output is the
probability of "target class", so the novelty score is ``-logit D(.)``: a monotone transform of
1 - D(.) with the same ranking and thresholds, which does not saturate in float32. There is no
native decision (``predict`` is None): the paper's threshold tau is "predefined" but never given,
and D(.) > 0.5 is no substitute, since D is trained to call every R(x~) fake, so D(R(x)) < 0.5
for inliers too. The threshold policies of the harness (quantile / validation / oracle) apply.

Defaults and where they come from:
- ``lam=0.2``, RMSProp ``lr=2e-3``, ``batch_size=128``, ``noise_sigma=0.155``, ``r_steps=2``,
  D widths 16/32/64/128 and R widths 32/64/128 with 5x5 kernels: the authors' public code (the
  paper states lambda 0.4: ``--param alocc.lam=0.4``). RMSProp decay 0.9 (TensorFlow's default).
- ``recon_loss`` [mean]: ``mean`` = the squared error averaged over pixels (the scale of the
  authors' code, whose ``reduce_mean`` refinement term is per pixel) or ``sum`` = summed over the
  pixels of an image, the paper's ||x - R(x~)||^2 read literally (averaged over the batch). The
  readings differ by a factor of C*H*W (784 on MNIST) in the weight of reconstruction against the
  adversarial loss. With ``sum`` R becomes a good generic autoencoder that rebuilds outliers as
  well, and D(R(x)) falls to chance or below within 2-4 epochs (validation AUROC on MNIST's train
  split, digits 1 and 5; see the notes), so ``mean`` is the default.
- Stopping rule [one epoch]. The paper stops "when R reconstructs well"; the authors' code trains
  40 epochs and keeps per-epoch checkpoints. Here: train ``epochs`` epochs, but at least
  ``min_steps`` steps (default 40, about one MNIST epoch, so a 70-image Caltech training set gets
  as many updates as an MNIST digit), or stop earlier, at the end of the first epoch whose mean
  per-pixel reconstruction error is at most
  ``stop_mse`` (``None``, the default: no early stop). Why one epoch: the game is unstable, and
  on MNIST's TRAIN split (held-out inliers vs other digits' train images, digits 1, 5, 8, seed 0)
  the validation AUROC of D(R(x)) was highest after the first epoch for all three digits (.97 /
  .75 / .86, against .66 / .71 / .67 after the second) and later swings between .05 and .99 from
  epoch to epoch (digit 1: .99 at epoch 5, .05 at 10, .94 at 15, .17 at 20) while the
  reconstruction error only falls, so no reconstruction threshold picks the good epochs. One
  epoch also keeps a full-MNIST trial well inside 180 s on one CPU thread. The authors' schedule
  is ``--param alocc.epochs=40``; ``benchmarks/gan_tune.py`` redraws the per-epoch validation
  curves, and ``results/reference/baselines.md`` sets 40 epochs against the default.

Failure is never a number: a non-finite loss or weight raises ``GANDiverged``; so does a
saturated D, whose probability D(.) (the paper's score, float32) or logit is the same for every
training image at the end of training (512 are checked), or for every image scored.
On CUDA the training passes run under the harness's bfloat16 autocast; scores are float32.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted

from novelbench.methods.adversarial import (
    ConvDiscriminator, ConvEncoderDecoder, ShuffledBatches, check_finite, check_not_constant, check_parameters, discriminator_logits,
)
from novelbench.methods.base import DEVICE, NON_NEGATIVE_INT, POSITIVE_INT, POSITIVE_REAL, UNIT_INTERVAL, Detector, Interval, Real, StrOptions, resolve_device
from novelbench.methods.training import apply_batched, autocast
from novelbench.registry import register_method

SCORE_BATCH = 512
CHECK_IMAGES = 512  # training images the end-of-training saturation check looks at


@register_method
class ALOCC(Detector):
    name = "alocc"
    summary = "adversarially learned one-class classifier: denoising reconstructor R vs discriminator D; score = D(R(x)) or D(x)"
    test_params = {"r_widths": (8, 16), "d_widths": (8, 16), "epochs": 1, "min_steps": 60, "batch_size": 16, "kernel": 3,
                   "recon_loss": "sum"}
    _parameter_constraints = {
        "score_mode": [StrOptions({"dr", "d"})], "r_widths": [tuple, list], "d_widths": [tuple, list], "kernel": [POSITIVE_INT],
        "noise_sigma": [Interval(Real, 0, None, closed="left")], "lam": [Interval(Real, 0, None, closed="left")],
        "recon_loss": [StrOptions({"mean", "sum"})], "lr": [POSITIVE_REAL], "rmsprop_decay": [UNIT_INTERVAL],
        "batch_size": [POSITIVE_INT], "r_steps": [POSITIVE_INT], "epochs": [POSITIVE_INT], "min_steps": [NON_NEGATIVE_INT],
        "stop_mse": [POSITIVE_REAL, None], "device": DEVICE,
    }

    def __init__(
        self,
        *,
        score_mode: str = "dr",
        r_widths: tuple[int, ...] = (32, 64, 128),
        d_widths: tuple[int, ...] = (16, 32, 64, 128),
        kernel: int = 5,
        noise_sigma: float = 0.155,
        lam: float = 0.2,
        recon_loss: str = "mean",
        lr: float = 2e-3,
        rmsprop_decay: float = 0.9,
        batch_size: int = 128,
        r_steps: int = 2,
        epochs: int = 1,
        min_steps: int = 40,
        stop_mse: float | None = None,
        device: str = "auto",
    ):
        self.score_mode = score_mode
        self.r_widths = r_widths
        self.d_widths = d_widths
        self.kernel = kernel
        self.noise_sigma = noise_sigma
        self.lam = lam
        self.recon_loss = recon_loss
        self.lr = lr
        self.rmsprop_decay = rmsprop_decay
        self.batch_size = batch_size
        self.r_steps = r_steps
        self.epochs = epochs
        self.min_steps = min_steps
        self.stop_mse = stop_mse
        self.device = device

    # -- training -----------------------------------------------------------------------------
    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.noise_sigma * torch.randn_like(x)).clamp_(0, 1)

    def _recon_error(self, recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        err = (recon.float() - x).pow(2).flatten(1)
        return err.sum(1).mean() if self.recon_loss == "sum" else err.mean()

    def fit(self, images: torch.Tensor) -> "ALOCC":
        self.device_ = dev = resolve_device(self.device)
        data = images.float().to(dev)
        c, size = data.shape[1], data.shape[-1]
        self.r_ = R = ConvEncoderDecoder(c, tuple(self.r_widths), self.kernel).to(dev)
        self.d_ = D = ConvDiscriminator(c, size, tuple(self.d_widths), self.kernel, batch_norm=True).to(dev)
        opt_r = torch.optim.RMSprop(R.parameters(), lr=self.lr, alpha=self.rmsprop_decay)
        opt_d = torch.optim.RMSprop(D.parameters(), lr=self.lr, alpha=self.rmsprop_decay)
        batches = ShuffledBatches(len(data), self.batch_size, dev)
        max_steps = max(self.epochs * batches.steps_per_epoch, self.min_steps)
        self.history_ = history = {"d_loss": [], "r_adv": [], "r_mse": []}
        epoch_mse, step = [], 0
        R.train(), D.train()
        while step < max_steps:
            x = data[next(batches)]
            where = f"epoch {batches.epoch + 1}, step {step + 1}"
            with autocast(dev):  # D: real x -> 1, R(x~) -> 0
                fake = R(self._noisy(x)).detach()
                real_logit, fake_logit = D(x), D(fake)
                d_loss = (F.binary_cross_entropy_with_logits(real_logit.float(), torch.ones_like(real_logit, dtype=torch.float32))
                          + F.binary_cross_entropy_with_logits(fake_logit.float(), torch.zeros_like(fake_logit, dtype=torch.float32)))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            history["d_loss"].append(check_finite(d_loss.item(), "the discriminator loss", where))
            for _ in range(self.r_steps):  # R: fool D, and reconstruct x from x~
                with autocast(dev):
                    recon = R(self._noisy(x))
                    logit = D(recon).float()
                    adv = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
                    mse = self._recon_error(recon, x)
                    r_loss = adv + self.lam * mse
                opt_r.zero_grad(set_to_none=True)
                r_loss.backward()
                opt_r.step()
            history["r_adv"].append(check_finite(adv.item(), "the reconstructor's adversarial loss", where))
            history["r_mse"].append(check_finite((recon.detach().float() - x).pow(2).mean().item(), "the reconstruction error", where))
            epoch_mse.append(history["r_mse"][-1])
            step += 1
            if batches.epoch and step % batches.steps_per_epoch == 0:  # an epoch ended: the stopping rule
                if self.stop_mse is not None and step >= self.min_steps and np.mean(epoch_mse) <= self.stop_mse:
                    break
                epoch_mse = []
        self.n_steps_ = step
        R.eval(), D.eval()
        check_parameters(R, "R"), check_parameters(D, "D")
        self._check_saturation(self._logits(images[:CHECK_IMAGES]), "training images")
        return self

    # -- scoring ------------------------------------------------------------------------------
    @property
    def _what(self) -> str:
        return "D(R(x))" if self.score_mode == "dr" else "D(x)"

    def _logits(self, images: torch.Tensor) -> torch.Tensor:
        return discriminator_logits(self.d_, images, SCORE_BATCH, self.device_, before=self.r_ if self.score_mode == "dr" else None)

    def _check_saturation(self, logits: torch.Tensor, where: str) -> None:
        """The paper's score is the probability D(.): equal on every image = a saturated D."""
        check_not_constant(logits, f"the logit of {self._what} on the {where}")
        check_not_constant(torch.sigmoid(logits), f"{self._what} on the {where}")

    def score(self, images: torch.Tensor) -> np.ndarray:
        check_is_fitted(self, "d_")
        logits = self._logits(images)
        self._check_saturation(logits, "scored images")
        return (-logits).numpy()

    def image_panels(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        check_is_fitted(self, "r_")
        return {"reconstruction": apply_batched(self.r_, images, SCORE_BATCH, self.device_)}
