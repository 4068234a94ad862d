"""Wide residual network (Zagoruyko & Komodakis 2016), as GEOM's authors build it.

WRN-d-k: a 3x3 convolution to 16 channels, then three groups of (d - 4) / 6 pre-activation
basic blocks (batch norm, ReLU, 3x3 convolution, twice) of widths 16k, 32k, 64k (strides 1, 2,
2), then batch norm, ReLU, global average pooling and a linear layer. A block whose width
changes takes its shortcut through a 1x1 convolution of the pre-activated input. Convolutions
have no bias and He-normal weights (std sqrt(2 / fan_in)); the linear layer's bias starts at 0.
GEOM's default is WRN-10-4 (one block per group, widths 64, 128, 256; about 1.2M parameters).
"""

from __future__ import annotations

import torch
from torch import nn


class PreActBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU())
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
        )
        self.shortcut = None if c_in == c_out and stride == 1 else nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.pre(x)
        return self.body(a) + (x if self.shortcut is None else self.shortcut(a))


class WideResNet(nn.Module):
    def __init__(self, in_channels: int, n_classes: int, depth: int = 10, widen: int = 4):
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"a WRN's depth is 6n + 4 with n >= 1 (10, 16, 22, ...), got {depth}")
        n = (depth - 4) // 6
        layers: list[nn.Module] = [nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)]
        c = 16
        for width, stride in ((16 * widen, 1), (32 * widen, 2), (64 * widen, 2)):
            for i in range(n):
                layers.append(PreActBlock(c, width, stride if i == 0 else 1))
                c = width
        layers += [nn.BatchNorm2d(c), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))
