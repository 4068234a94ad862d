"""Shared network blocks: residual blocks, encoders, decoders, the autoencoder and a CNN classifier.

Plain ``nn.Module``s, kept apart from training so they are reusable and testable alone.
Spatial sizes need not be powers of two: the autoencoder resizes its output to the input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_act(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a local (short) skip connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class Encoder(nn.Module):
    """Per stage: a stride-2 convolution to the stage's width, then ``blocks`` residual blocks."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], blocks: int = 1, residual: bool = True):
        super().__init__()
        layers, c = [], in_channels
        for w in widths:
            layers.append(conv_bn_act(c, w, stride=2))
            layers += [ResidualBlock(w) if residual else conv_bn_act(w, w) for _ in range(blocks)]
            c = w
        self.layers = nn.Sequential(*layers)
        self.out_channels = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Decoder(nn.Module):
    """Mirror of ``Encoder``: per stage ``blocks`` residual blocks, then 2x nearest upsampling + conv."""

    def __init__(self, out_channels: int, widths: tuple[int, ...], blocks: int = 1, residual: bool = True):
        super().__init__()
        rev = tuple(reversed(widths))
        layers = []
        for i, w in enumerate(rev):
            layers += [ResidualBlock(w) if residual else conv_bn_act(w, w) for _ in range(blocks)]
            nxt = rev[i + 1] if i + 1 < len(rev) else rev[-1]
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), conv_bn_act(w, nxt)]
        layers.append(nn.Conv2d(rev[-1], out_channels, 3, 1, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)


def encoded_size(size: int, stages: int) -> int:
    for _ in range(stages):
        size = (size + 1) // 2  # stride-2, kernel 3, padding 1
    return size


class ConvAutoencoder(nn.Module):
    """Encoder -> optional dense bottleneck -> decoder -> sigmoid, output resized to the input size.

    No long encoder-to-decoder skips (a U-Net's long skips would let outliers through too).
    """

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        widths: tuple[int, ...] = (32, 64),
        latent_dim: int | None = 32,
        blocks: int = 1,
        residual: bool = True,
    ):
        super().__init__()
        self.encoder = Encoder(in_channels, widths, blocks, residual)
        self.decoder = Decoder(in_channels, widths, blocks, residual)
        s = encoded_size(image_size, len(widths))
        self.code_shape = (widths[-1], s, s)
        flat = widths[-1] * s * s
        self.bottleneck = (
            nn.Sequential(nn.Flatten(), nn.Linear(flat, latent_dim), nn.Linear(latent_dim, flat))
            if latent_dim
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.bottleneck(self.encoder(x)).reshape(x.shape[0], *self.code_shape)
        out = self.decoder(z)
        if out.shape[-2:] != x.shape[-2:]:
            out = F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(out)


class CNNClassifier(nn.Module):
    """Encoder -> global average pool -> one logit (positive class = inlier)."""

    def __init__(self, in_channels: int, widths: tuple[int, ...] = (32, 64), blocks: int = 1):
        super().__init__()
        self.encoder = Encoder(in_channels, widths, blocks)
        self.head = nn.Linear(self.encoder.out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x).mean(dim=(2, 3))).squeeze(1)
