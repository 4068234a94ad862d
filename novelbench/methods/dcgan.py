"""The G2D authors' critic, any width and image size (``masoudpz/G2D_generate_to_detect_anomaly``).

Per width a 4 x 4 convolution of stride 2 and padding 1 (halving the side), instance norm with
a learned affine map, LeakyReLU(0.2); then one linear map of the whole final feature map to a
logit (the authors' last layer is a 4 x 4 convolution over the 4 x 4 map of a 32 x 32 image: the
same thing). Instance norm, not batch norm, keeps each sample's output a function of that sample
alone, which WGAN-GP's per-sample gradient penalty needs. G2D uses this shape twice: as the
WGAN-GP critic and, trained with binary cross-entropy, as the inlier-vs-irregular classifier.
The authors' generator is ``adversarial.ConvGenerator`` with widths (1024, 512, 256).
"""

from __future__ import annotations

import torch
from torch import nn


class DCGANCritic(nn.Module):
    def __init__(self, in_channels: int, image_size: int, widths: tuple[int, ...]):
        super().__init__()
        layers, c, s = [], in_channels, image_size
        for w in widths:
            layers += [nn.Conv2d(c, w, 4, 2, 1), nn.InstanceNorm2d(w, affine=True), nn.LeakyReLU(0.2)]
            c, s = w, s // 2
            if s < 1:
                raise ValueError(f"{len(widths)} stride-2 layers need images of at least {2 ** len(widths)} pixels a side, got {image_size}")
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c * s * s, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)
