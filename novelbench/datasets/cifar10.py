"""CIFAR-10 in torchvision's layout: ``DATA_ROOT/cifar-10-batches-py/`` (``--download`` fetches it).

The folder holds the official Python pickles: ``data_batch_1`` ... ``data_batch_5`` (train,
50,000 images), ``test_batch`` (10,000) and ``batches.meta`` (class names); each batch is a
dict with ``data`` (N x 3072 uint8, channel-major 32 x 32) and ``labels``. They are read here
directly rather than through ``torchvision.datasets.CIFAR10``, whose MD5 check would reject
anything but the official files; torchvision only downloads (and verifies) them.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset, resize_uint8
from novelbench.errors import NovelbenchError
from novelbench.registry import register_dataset

FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
META_FILE = "batches.meta"


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f, encoding="latin1")


@register_dataset
class CIFAR10(ImageDataset):
    """CIFAR-10: 10 classes of 32x32 colour photos, 50,000 train / 10,000 test (torchvision layout)."""

    name = "cifar10"

    def _folder(self) -> Path:
        folder = self.data_root / FOLDER
        needed = (*TRAIN_FILES, *TEST_FILES, META_FILE)
        if self.download and not all((folder / f).is_file() for f in needed):
            import torchvision.datasets

            try:
                torchvision.datasets.CIFAR10(root=str(self.data_root), train=True, download=True)
            except Exception as exc:  # offline, disk full, checksum mismatch ...
                raise NovelbenchError(f"could not download CIFAR-10 into {self.data_root}: {type(exc).__name__}: {exc}") from None
        missing = [f for f in needed if not (folder / f).is_file()]
        if missing:
            raise NovelbenchError(
                f"cifar10 not found: looked in {folder} (missing {', '.join(missing)}). Run with --download to fetch it "
                f"through torchvision, or point --data-root at a folder holding {FOLDER}/ (cifar-10-python.tar.gz, unpacked)."
            )
        return folder

    def _read(self, folder: Path, files: tuple[str, ...], class_names: list[str]) -> ImageSet:
        data, labels = [], []
        for name in files:
            try:
                batch = _unpickle(folder / name)
                data.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                labels.extend(batch["labels"])
            except Exception as exc:
                raise NovelbenchError(f"cannot read CIFAR-10 batch {folder / name}: {type(exc).__name__}: {exc}") from None
        images = resize_uint8(torch.from_numpy(np.concatenate(data)), self.image_size)
        return ImageSet(images, np.asarray(labels), class_names)

    def load(self) -> LoadedDataset:
        folder = self._folder()
        try:
            class_names = list(_unpickle(folder / META_FILE)["label_names"])
        except Exception as exc:
            raise NovelbenchError(f"cannot read {folder / META_FILE}: {type(exc).__name__}: {exc}") from None
        splits = {"train": self._read(folder, TRAIN_FILES, class_names), "test": self._read(folder, TEST_FILES, class_names)}
        return LoadedDataset(self.name, splits)
