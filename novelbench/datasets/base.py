"""The one in-memory image-set type every loader returns, and the dataset base class."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from novelbench.errors import NovelbenchError

DATA_ROOT_ENV = "NOVELBENCH_DATA_ROOT"
CACHE_DIR_ENV = "NOVELBENCH_CACHE_DIR"


def default_data_root() -> Path:
    return Path(os.environ.get(DATA_ROOT_ENV, "data"))


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "novelbench"))


@dataclass
class ImageSet:
    """Images as uint8 (N, C, H, W), integer labels (N,), and the name of each label."""

    images: torch.Tensor
    labels: np.ndarray
    class_names: list[str]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.labels) != len(self.images):
            raise ValueError("images and labels differ in length")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "ImageSet":
        index = np.asarray(index, dtype=np.int64)
        return ImageSet(self.images[torch.from_numpy(index)], self.labels[index], self.class_names)

    def label_of(self, class_name: str) -> int:
        return self.class_names.index(class_name)


@dataclass
class LoadedDataset:
    """Named splits ("train"/"test", or "all" for collections without an official split)."""

    name: str
    splits: dict[str, ImageSet]
    clutter_class: str | None = None  # outlier source of the clutter protocol, never an inlier
    skipped_files: list[str] = field(default_factory=list)  # unreadable / non-image files, reported


class ImageDataset:
    """Base of every dataset loader. Subclasses set ``name`` and implement ``load``."""

    name: ClassVar[str]
    default_image_size: ClassVar[int | None] = None  # None: native size

    def __init__(self, data_root: str | Path | None = None, download: bool = False, image_size: int | None = None):
        if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1):
            raise NovelbenchError(f"--image-size must be a positive number of pixels, got {image_size!r}")
        self.data_root = Path(data_root) if data_root is not None else default_data_root()
        self.download = download
        self.image_size = image_size if image_size is not None else self.default_image_size

    def identity(self) -> dict:
        """What decides the data's content (goes into trial ids); the root's location does not."""
        return {"dataset": self.name, "image_size": self.image_size}

    def load(self) -> LoadedDataset:
        raise NotImplementedError


def resize_uint8(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """Resize a uint8 (N, C, H, W) batch to size x size (antialiased bilinear); no-op if already there."""
    if size is None or images.shape[-2:] == (size, size):
        return images
    out = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8)
