"""Convolutional autoencoder; score = per-image mean squared reconstruction error."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted

from novelbench.methods.base import DEVICE, NON_NEGATIVE_INT, POSITIVE_INT, POSITIVE_REAL, Detector, resolve_device
from novelbench.methods.nets import ConvAutoencoder
from novelbench.methods.training import apply_batched, reconstruction_error, train_module
from novelbench.registry import register_method


@register_method
class AE(Detector):
    name = "ae"
    summary = "convolutional autoencoder (residual blocks, dense bottleneck); score = reconstruction MSE"
    resumable = True  # fit = one train_module loop: a long trial resumes from checkpoints (checkpoint.py)
    test_params = {"epochs": 1, "min_steps": 60, "batch_size": 16, "widths": (8, 16), "latent_dim": 8}
    _parameter_constraints = {
        "widths": [tuple, list], "latent_dim": [POSITIVE_INT, None], "blocks": [NON_NEGATIVE_INT], "epochs": [POSITIVE_INT],
        "min_steps": [NON_NEGATIVE_INT], "lr": [POSITIVE_REAL], "batch_size": [POSITIVE_INT], "device": DEVICE,
    }

    def __init__(
        self,
        *,
        widths: tuple[int, ...] = (16, 32),
        latent_dim: int | None = 32,
        blocks: int = 1,
        epochs: int = 5,
        min_steps: int = 200,
        lr: float = 1e-3,
        batch_size: int = 128,
        device: str = "auto",
    ):
        self.widths = widths
        self.latent_dim = latent_dim
        self.blocks = blocks
        self.epochs = epochs
        self.min_steps = min_steps
        self.lr = lr
        self.batch_size = batch_size
        self.device = device

    def fit(self, images: torch.Tensor) -> "AE":
        self.device_ = resolve_device(self.device)
        self.model_ = ConvAutoencoder(images.shape[1], images.shape[-1], tuple(self.widths), self.latent_dim, self.blocks)
        self.loss_history_ = train_module(
            self.model_, (images,), lambda x: F.mse_loss(self.model_(x), x),
            epochs=self.epochs, lr=self.lr, batch_size=self.batch_size, device=self.device_, min_steps=self.min_steps,
        )
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:
        check_is_fitted(self, "model_")
        return reconstruction_error(self.model_, images, 512, self.device_)

    def image_panels(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        check_is_fitted(self, "model_")
        return {"reconstruction": apply_batched(self.model_, images, 512, self.device_)}
