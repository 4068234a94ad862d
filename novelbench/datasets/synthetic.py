"""A tiny generated dataset for fast tests: distinct stroke patterns per class plus a clutter class."""

from __future__ import annotations

import numpy as np
import torch

from novelbench.registry import register_dataset
from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset

CLASSES = ["hbar", "vbar", "ring", "diag"]
PER_CLASS = {"train": 60, "test": 30}


def _pattern(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    jitter = rng.uniform(-0.08, 0.08, size=2)
    if kind == "hbar":
        img = np.exp(-(((yy - 0.5 - jitter[0]) / 0.08) ** 2))
    elif kind == "vbar":
        img = np.exp(-(((xx - 0.5 - jitter[1]) / 0.08) ** 2))
    elif kind == "ring":
        r = np.hypot(yy - 0.5 - jitter[0], xx - 0.5 - jitter[1])
        img = np.exp(-(((r - 0.3) / 0.06) ** 2))
    elif kind == "diag":
        img = np.exp(-(((yy - xx - jitter[0]) / 0.1) ** 2))
    else:  # clutter: smooth random blobs
        img = np.zeros((size, size))
        for _ in range(4):
            cy, cx = rng.uniform(0, 1, size=2)
            img += np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / 0.01))
    img = np.clip(img + rng.normal(0, 0.05, size=img.shape), 0, 1)
    return (img * 255).round().astype(np.uint8)


@register_dataset
class Synthetic(ImageDataset):
    """4 pattern classes (60 train / 30 test each) + a larger "clutter" class, 16x16 greyscale, fixed seed."""

    name = "synthetic"
    default_image_size = 16

    def load(self) -> LoadedDataset:
        rng = np.random.default_rng(0)
        size = self.image_size
        names = CLASSES + ["clutter"]
        splits = {}
        for split, n in PER_CLASS.items():
            images, labels = [], []
            for label, kind in enumerate(names):
                for _ in range(3 * n if kind == "clutter" else n):  # enough clutter for n=2 clutter mixes
                    images.append(_pattern(kind, size, rng))
                    labels.append(label)
            splits[split] = ImageSet(torch.from_numpy(np.stack(images)).unsqueeze(1), np.array(labels), names)
        # the clutter protocol uses one collection without an official split
        all_images = torch.cat([splits["train"].images, splits["test"].images])
        all_labels = np.concatenate([splits["train"].labels, splits["test"].labels])
        splits["all"] = ImageSet(all_images, all_labels, names)
        return LoadedDataset(self.name, splits, clutter_class="clutter")
