"""Bias-free LeNet-type networks of Deep SVDD (Ruff et al., ICML 2018, section 4.1).

Each module is a 5x5 convolution without bias, batch normalisation without affine parameters
(so no bias term anywhere: a bias would let the one-class objective map every input onto the
center), leaky ReLU and 2x2 max pooling; a dense layer without bias gives the representation.
- ``mnist``: 8 then 4 filters, 32 output units (the paper's MNIST network);
- ``cifar10``: 32, 64 then 128 filters, 128 output units (the paper's CIFAR-10 network).
``net_config("auto", shape)`` picks the MNIST network for one channel and the CIFAR-10 network
otherwise; any image size works (the dense layer takes whatever the pooling leaves).

The decoder used for autoencoder pretraining mirrors the encoder (dense layer, then per module
2x upsampling + 5x5 convolution + batch norm + leaky ReLU, a sigmoid output), also without bias,
resized to the input size when the poolings floored an odd side.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CONFIGS = {"mnist": ((8, 4), 32), "cifar10": ((32, 64, 128), 128)}
BN_EPS = 1e-4


def net_config(net: str, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(filters per module, representation size) of ``net`` ("auto", "mnist" or "cifar10") for
    images of ``shape`` (C, H, W)."""
    if net == "auto":
        net = "mnist" if shape[0] == 1 else "cifar10"
    return CONFIGS[net]


def _pooled(size: int, modules: int) -> int:
    for _ in range(modules):
        size //= 2
    if size < 1:
        raise ValueError(f"{modules} poolings need images of at least {2 ** modules} pixels a side")
    return size


def _module(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 5, padding=2, bias=False), nn.BatchNorm2d(c_out, eps=BN_EPS, affine=False), nn.LeakyReLU(0.01)]


class LeNetEncoder(nn.Module):
    def __init__(self, in_channels: int, image_size: int, filters: tuple[int, ...], rep_dim: int):
        super().__init__()
        layers, c = [], in_channels
        for f in filters:
            layers += [*_module(c, f), nn.MaxPool2d(2)]
            c = f
        s = _pooled(image_size, len(filters))
        self.features = nn.Sequential(*layers)
        self.dense = nn.Linear(c * s * s, rep_dim, bias=False)
        self.rep_dim = rep_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.features(x).flatten(1))


class LeNetDecoder(nn.Module):
    def __init__(self, out_channels: int, image_size: int, filters: tuple[int, ...], rep_dim: int):
        super().__init__()
        s = _pooled(image_size, len(filters))
        self.code_shape = (filters[-1], s, s)
        self.dense = nn.Linear(rep_dim, filters[-1] * s * s, bias=False)
        layers = [nn.BatchNorm2d(filters[-1], eps=BN_EPS, affine=False), nn.LeakyReLU(0.01)]
        rev = tuple(reversed(filters))
        for c_in, c_out in zip(rev, rev[1:]):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_module(c_in, c_out)]
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(rev[-1], out_channels, 5, padding=2, bias=False)]
        self.layers = nn.Sequential(*layers)
        self.image_size = image_size

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.layers(self.dense(z).reshape(z.shape[0], *self.code_shape))
        if out.shape[-1] != self.image_size:
            out = F.interpolate(out, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return torch.sigmoid(out)


class LeNetAutoencoder(nn.Module):
    def __init__(self, in_channels: int, image_size: int, filters: tuple[int, ...], rep_dim: int):
        super().__init__()
        self.encoder = LeNetEncoder(in_channels, image_size, filters, rep_dim)
        self.decoder = LeNetDecoder(in_channels, image_size, filters, rep_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
