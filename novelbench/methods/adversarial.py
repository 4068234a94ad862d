"""Shared pieces of the adversarially trained methods (``alocc``, ``g2d``).

Plain ``nn.Module``s and small helpers, kept apart from the methods so neither method imports
the other:
- ``ConvDiscriminator``: DCGAN-style strided convolutions -> one logit, any image size/channels
  (ALOCC's D with batch norm, G2D's WGAN-GP critic without: a batch-normed critic breaks the
  per-sample gradient penalty).
- ``ConvEncoderDecoder``: ALOCC's reconstructor R, strided convolutions down and transposed
  convolutions back to exactly the input size (odd sizes such as 7 included).
- ``ConvGenerator``: latent vector -> image of any size / channel count (G2D's generator).
- ``gradient_penalty``: WGAN-GP's penalty on random interpolates of real and fake images.
- ``ShuffledBatches``: index batches of reshuffled epochs, for step-counted GAN loops.
- ``GANDiverged`` and the checks that raise it: a diverged or saturated GAN must become a failed
  trial with its reason, never a number.

Every image network ends in a sigmoid, because the harness hands images in [0, 1] (the
authors' TensorFlow code maps images to [-1, 1] and ends in tanh: the same up to an affine map).
Randomness comes from torch's global generator, which the harness seeds.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class GANDiverged(RuntimeError):
    """Adversarial training diverged (non-finite loss) or collapsed (a saturated, constant output)."""


def check_finite(value: float, what: str, where: str) -> float:
    """``value`` if finite, else ``GANDiverged`` naming the quantity and the training step."""
    if not math.isfinite(value):
        raise GANDiverged(f"training diverged: {what} became {value} at {where}")
    return value


def check_not_constant(values: torch.Tensor | np.ndarray, what: str) -> None:
    """``GANDiverged`` when ``values`` (a network's logits, or the probabilities a paper scores
    with) hold a non-finite entry or are all equal: a saturated or collapsed network ranks nothing."""
    arr = np.asarray(values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise GANDiverged(f"training diverged: {what} holds {int((~np.isfinite(arr)).sum())} non-finite value(s)")
    if arr.size > 1 and np.ptp(arr) == 0:
        raise GANDiverged(f"saturated: {what} is {arr.flat[0]:g} for all {arr.size} images, so it ranks nothing")


def check_parameters(module: nn.Module, what: str) -> None:
    for name, p in module.named_parameters():
        if not torch.isfinite(p).all():
            raise GANDiverged(f"training diverged: {what} weight {name} holds non-finite values")


class ConvDiscriminator(nn.Module):
    """Per width a stride-2 k x k convolution (+ batch norm from the second layer on, when
    ``batch_norm``) + LeakyReLU(0.2), then a linear layer to one logit."""

    def __init__(self, in_channels: int, image_size: int, widths: tuple[int, ...], kernel: int = 5, batch_norm: bool = True):
        super().__init__()
        layers, c, s = [], in_channels, image_size
        for i, w in enumerate(widths):
            layers.append(nn.Conv2d(c, w, kernel, 2, kernel // 2, bias=not (batch_norm and i > 0)))
            if batch_norm and i > 0:
                layers.append(nn.BatchNorm2d(w))
            layers.append(nn.LeakyReLU(0.2))
            c, s = w, (s + 2 * (kernel // 2) - kernel) // 2 + 1
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c * s * s, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)


class ConvEncoderDecoder(nn.Module):
    """ALOCC's R: encoder of stride-2 k x k convolutions (``widths``; batch norm, LeakyReLU 0.2),
    decoder of stride-2 transposed convolutions back through the encoder's sizes (batch norm,
    ReLU; widths halved mirror images of the encoder's, as in the authors' code), sigmoid output.
    No dense bottleneck and no skips."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], kernel: int = 5):
        super().__init__()
        enc, c = [], in_channels
        for w in widths:
            enc.append(nn.Sequential(nn.Conv2d(c, w, kernel, 2, kernel // 2, bias=False), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)))
            c = w
        self.encoder = nn.ModuleList(enc)
        dec_widths = [max(w // 2, 1) for w in reversed(widths[:-1])] + [in_channels]
        dec = []
        for i, w in enumerate(dec_widths):
            last = i == len(dec_widths) - 1
            conv = nn.ConvTranspose2d(c, w, kernel, 2, kernel // 2, bias=last)
            dec.append(nn.ModuleList([conv, nn.Identity() if last else nn.Sequential(nn.BatchNorm2d(w), nn.ReLU())]))
            c = w
        self.decoder = nn.ModuleList(dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(x))

    def decode_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's output before its final activation (a subclass may choose another one)."""
        sizes = []
        for layer in self.encoder:
            sizes.append(x.shape[-2:])
            x = layer(x)
        for (conv, act), size in zip(self.decoder, reversed(sizes)):
            x = act(conv(x, output_size=list(size)))
        return x


class ConvGenerator(nn.Module):
    """DCGAN generator: z -> linear -> (widths[0], s0, s0) -> per further width a 2x transposed
    convolution (k4) + batch norm + ReLU -> 2x transposed convolution to the image channels ->
    sigmoid; s0 = ceil(size / 2**len(widths)), the output cropped to ``image_size``."""

    def __init__(self, z_dim: int, out_channels: int, image_size: int, widths: tuple[int, ...]):
        super().__init__()
        self.image_size = image_size
        self.s0 = math.ceil(image_size / 2 ** len(widths))
        self.widths = tuple(widths)
        self.project = nn.Sequential(nn.Linear(z_dim, widths[0] * self.s0 * self.s0, bias=False),
                                     nn.BatchNorm1d(widths[0] * self.s0 * self.s0), nn.ReLU())
        layers, c = [], widths[0]
        for w in widths[1:]:
            layers += [nn.ConvTranspose2d(c, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        layers.append(nn.ConvTranspose2d(c, out_channels, 4, 2, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z).reshape(z.shape[0], self.widths[0], self.s0, self.s0)
        x = self.body(x)[..., : self.image_size, : self.image_size]
        return torch.sigmoid(x)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): mean of (||grad_x critic(x_hat)||_2 - 1)^2 over random
    interpolates x_hat = eps * real + (1 - eps) * fake, eps ~ U(0, 1) per sample; the gradient
    norm is taken over all pixels and channels of a sample, in float32."""
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.float().flatten(1).norm(2, dim=1) - 1).pow(2).mean()


class ShuffledBatches:
    """Index batches over reshuffled epochs of ``n`` items; ``epoch`` counts finished epochs.
    Every batch has ``min(batch_size, n)`` items (an epoch's last, short batch is topped up from
    the next permutation), so batch-normed networks never see a batch of one."""

    def __init__(self, n: int, batch_size: int, device: torch.device):
        self.n, self.size, self.device = n, min(batch_size, n), device
        self.epoch, self._order, self._pos = 0, torch.randperm(n), 0

    def __iter__(self) -> Iterator[torch.Tensor]:
        return self

    def __next__(self) -> torch.Tensor:
        parts, need = [], self.size
        while need:
            take = self._order[self._pos : self._pos + need]
            parts.append(take)
            need -= len(take)
            self._pos += len(take)
            if self._pos >= self.n:
                self.epoch += 1
                self._order, self._pos = torch.randperm(self.n), 0
        return torch.cat(parts).to(self.device)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n / self.size)

    def state_dict(self) -> dict:
        """Where the batches are (for a checkpoint): the epochs done, this epoch's order, the position in it."""
        return {"epoch": self.epoch, "order": self._order.clone(), "pos": self._pos}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self._order, self._pos = state["epoch"], state["order"].clone(), state["pos"]


def discriminator_logits(net: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device,
                         before: nn.Module | None = None) -> torch.Tensor:
    """float32 logits of ``net`` (after ``before``, e.g. ALOCC's R) over ``images`` in batches, on the CPU."""
    out = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            x = images[start : start + batch_size].to(device).float()
            if before is not None:
                x = before(x).float()
            out.append(net(x).float().cpu())
    return torch.cat(out) if out else torch.zeros(0)
