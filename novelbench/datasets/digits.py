"""scikit-learn's bundled handwritten digits: real data that needs no download."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from novelbench.registry import register_dataset
from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset, resize_uint8

SPLIT_SEED = 0  # fixed, so every user gets the same train/test split
TEST_SHARE = 0.3


@register_dataset
class Digits(ImageDataset):
    """1,797 8x8 digits, upscaled to 28x28 so MNIST-sized methods run unchanged."""

    name = "digits"
    default_image_size = 28

    def load(self) -> LoadedDataset:
        bunch = load_digits()
        pixels = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # values are 0..16
        images = resize_uint8(torch.from_numpy(pixels).unsqueeze(1), self.image_size)
        index = np.arange(len(bunch.target))
        train_idx, test_idx = train_test_split(
            index, test_size=TEST_SHARE, random_state=SPLIT_SEED, stratify=bunch.target
        )
        names = [str(c) for c in bunch.target_names]
        full = ImageSet(images, bunch.target, names)
        return LoadedDataset(self.name, {"train": full.subset(np.sort(train_idx)), "test": full.subset(np.sort(test_idx))})
