"""Deep SVDD: deep support vector data description (Ruff et al., ICML 2018).

1. Preprocessing (part of the method, as in the paper): global contrast normalisation with the
   l1 norm (each image minus its mean, divided by its mean absolute deviation), then min-max
   scaling with the minimum and maximum over the training class after that normalisation; test
   images are scaled with the training class's numbers.
2. Pretraining: a bias-free LeNet-type autoencoder (``lenet.py``: the paper's MNIST network for
   one channel, its CIFAR-10 network otherwise) minimises the squared reconstruction error.
3. Center ``c``: the mean of the initial forward pass of the training images through the
   pretrained encoder; coordinates with ``|c_j| < eps`` are pushed to ``+-eps`` (a coordinate of
   exactly 0 to ``+eps``), since a zero coordinate is trivially reached by zero weights.
4. One-class objective: minimise the mean of ``||phi(x) - c||^2`` (plus Adam's weight decay).
   ``objective="soft-boundary"``: minimise ``R^2 + 1/nu * mean(max(0, ||phi(x) - c||^2 - R^2))``,
   with ``R`` set every mini-batch after ``warm_up_epochs`` to the (1 - nu)-quantile of the
   batch's distances.
5. Score: ``||phi(x) - c||^2`` (one-class) or ``||phi(x) - c||^2 - R^2`` (soft-boundary, whose
   native decision is "inside the sphere").

The paper's schedule (the authors' MNIST command): 150 pretraining epochs (Adam, lr 1e-4, weight
decay 0.5e-3, lr x0.1 at epoch 50) and 150 Deep SVDD epochs (Adam, lr 1e-4, weight decay 0.5e-6,
lr x0.1 at epoch 50), batch 200: the ``deep-svdd-paper`` preset, or ``--param`` overrides. The
defaults are a shorter schedule sized for one CPU thread (see results/reference/baselines.md).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from novelbench.methods.base import DEVICE, NON_NEGATIVE_INT, NON_NEGATIVE_REAL, POSITIVE_INT, POSITIVE_REAL, Detector, Interval, Real, StrOptions, resolve_device
from novelbench.methods.lenet import LeNetAutoencoder, LeNetEncoder, net_config
from novelbench.methods.training import apply_batched, train_module
from novelbench.registry import register_method

SCORE_BATCH = 1024


def global_contrast_normalization(images: torch.Tensor) -> torch.Tensor:
    """Per image: subtract the mean over all pixels and channels, divide by the mean absolute
    deviation (l1 scale). A constant image (deviation below 1e-6, far under one grey level of
    an 8-bit image: only rounding residue) becomes all zeros."""
    flat = images.flatten(1)
    centered = flat - flat.mean(1, keepdim=True)
    scale = centered.abs().mean(1, keepdim=True)
    return torch.where(scale > 1e-6, centered / scale.clamp_min(1e-6), 0.0).reshape(images.shape)


def center_from(features: torch.Tensor, eps: float) -> torch.Tensor:
    """Mean of ``features`` (N, D); coordinates closer to 0 than ``eps`` pushed to ``+-eps``."""
    c = features.mean(0)
    near = c.abs() < eps
    return torch.where(near, torch.where(c < 0, -eps, eps).to(c.dtype), c)


@register_method
class DeepSVDD(Detector):
    name = "deep-svdd"
    summary = "Deep SVDD (Ruff et al. 2018): bias-free LeNet mapped into a minimal hypersphere; score = squared distance to its center"
    # not resumable: the soft-boundary loss moves self.radius_ during training, state a loop checkpoint does not hold
    test_params = {"ae_epochs": 5, "epochs": 10, "batch_size": 16, "lr": 1e-3, "ae_lr": 1e-3,
                   "ae_lr_milestones": (), "lr_milestones": ()}
    _parameter_constraints = {
        "objective": [StrOptions({"one-class", "soft-boundary"})], "nu": [Interval(Real, 0, 1, closed="right")],
        "net": [StrOptions({"auto", "mnist", "cifar10"})], "preprocess": [StrOptions({"gcn-minmax", "none"})],
        "pretrain": ["boolean"], "ae_epochs": [POSITIVE_INT], "ae_lr": [POSITIVE_REAL], "ae_lr_milestones": [tuple, list],
        "ae_weight_decay": [NON_NEGATIVE_REAL], "epochs": [POSITIVE_INT], "lr": [POSITIVE_REAL], "lr_milestones": [tuple, list],
        "weight_decay": [NON_NEGATIVE_REAL], "batch_size": [POSITIVE_INT], "eps": [POSITIVE_REAL],
        "warm_up_epochs": [NON_NEGATIVE_INT], "device": DEVICE,
    }

    def __init__(
        self,
        *,
        objective: str = "one-class",
        nu: float = 0.1,
        net: str = "auto",
        preprocess: str = "gcn-minmax",
        pretrain: bool = True,
        ae_epochs: int = 25,
        ae_lr: float = 1e-3,
        ae_lr_milestones: tuple[int, ...] = (20,),
        ae_weight_decay: float = 0.5e-3,
        epochs: int = 25,
        lr: float = 1e-4,
        lr_milestones: tuple[int, ...] = (20,),
        weight_decay: float = 0.5e-6,
        batch_size: int = 200,
        eps: float = 0.1,
        warm_up_epochs: int = 10,
        device: str = "auto",
    ):
        self.objective = objective
        self.nu = nu
        self.net = net
        self.preprocess = preprocess
        self.pretrain = pretrain
        self.ae_epochs = ae_epochs
        self.ae_lr = ae_lr
        self.ae_lr_milestones = ae_lr_milestones
        self.ae_weight_decay = ae_weight_decay
        self.epochs = epochs
        self.lr = lr
        self.lr_milestones = lr_milestones
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.eps = eps
        self.warm_up_epochs = warm_up_epochs
        self.device = device

    # -- pieces -------------------------------------------------------------------------------
    def _preprocess(self, images: torch.Tensor) -> torch.Tensor:
        if self.preprocess == "none":
            return images.float()
        x = global_contrast_normalization(images.float())
        lo, hi = self.minmax_
        return (x - lo) / (hi - lo)

    def _distances(self, x: torch.Tensor) -> torch.Tensor:
        return (self.encoder_(x) - self.c_).pow(2).sum(1)

    def _svdd_loss(self, steps_per_epoch: int):
        step = [0]

        def loss(x: torch.Tensor) -> torch.Tensor:
            dist = self._distances(x)
            epoch, step[0] = step[0] // steps_per_epoch, step[0] + 1
            if self.objective == "one-class":
                return dist.mean()
            r2 = self.radius_ ** 2
            value = r2 + torch.clamp(dist - r2, min=0).mean() / self.nu
            if epoch >= self.warm_up_epochs:  # R from the batch's distances (not a gradient step)
                self.radius_ = float(np.quantile(dist.detach().float().sqrt().cpu().numpy(), 1 - self.nu))
            return value

        return loss

    # -- contract -----------------------------------------------------------------------------
    def fit(self, images: torch.Tensor) -> "DeepSVDD":
        self.device_ = dev = resolve_device(self.device)
        n, c, h, w = images.shape
        if h != w:
            raise ValueError(f"deep-svdd needs square images, got {h}x{w}")
        if self.preprocess != "none":
            gcn = global_contrast_normalization(images.float())
            self.minmax_ = (float(gcn.min()), float(gcn.max()))
            if self.minmax_[1] <= self.minmax_[0]:
                raise ValueError("every training image is constant: min-max scaling is undefined")
        x = self._preprocess(images)
        filters, rep_dim = net_config(self.net, (c, h, w))
        if self.pretrain:
            ae = LeNetAutoencoder(c, h, filters, rep_dim)
            self.ae_loss_history_ = train_module(
                ae, (x,), lambda b: (ae(b) - b).pow(2).flatten(1).sum(1).mean(), epochs=self.ae_epochs, lr=self.ae_lr,
                batch_size=self.batch_size, device=dev, weight_decay=self.ae_weight_decay,
                lr_milestones=tuple(self.ae_lr_milestones),
            )
            self.encoder_ = ae.encoder
        else:
            self.encoder_ = LeNetEncoder(c, h, filters, rep_dim)
        self.encoder_.to(dev).eval()
        self.c_ = center_from(apply_batched(self.encoder_, x, SCORE_BATCH, dev), self.eps).to(dev)
        self.radius_ = 0.0
        self.loss_history_ = train_module(
            self.encoder_, (x,), self._svdd_loss(math.ceil(n / self.batch_size)), epochs=self.epochs, lr=self.lr,
            batch_size=self.batch_size, device=dev, weight_decay=self.weight_decay, lr_milestones=tuple(self.lr_milestones),
        )
        if not np.isfinite(self.loss_history_[-1]):
            raise RuntimeError(f"Deep SVDD training diverged (loss {self.loss_history_[-1]}); try a lower lr")
        return self

    def score_and_predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        check_is_fitted(self, "encoder_")
        dist = apply_batched(self._distances, self._preprocess(images), SCORE_BATCH, self.device_).double().numpy()
        if self.objective == "one-class":
            return dist, None
        return dist - self.radius_ ** 2, dist <= self.radius_ ** 2

    def score(self, images: torch.Tensor) -> np.ndarray:
        return self.score_and_predict(images)[0]

    def predict(self, images: torch.Tensor) -> np.ndarray | None:
        return self.score_and_predict(images)[1]
