"""Caltech-256 and Caltech-101: real photos with a clutter class as the outlier source."""

from __future__ import annotations

from pathlib import Path

from novelbench.registry import register_dataset
from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset
from novelbench.datasets.decode import decode_class_folders
from novelbench.errors import NovelbenchError


class _Caltech(ImageDataset):
    default_image_size = 64
    folder: str  # e.g. 256_ObjectCategories
    tv_folder: str  # torchvision's folder under the root, e.g. caltech256
    clutter: str
    tv_class: str  # torchvision.datasets class that downloads it

    def _tv_download(self) -> None:
        import torchvision.datasets

        getattr(torchvision.datasets, self.tv_class)(root=str(self.data_root), download=True)

    def _categories_dir(self) -> Path:
        candidates = [self.data_root / self.tv_folder / self.folder, self.data_root / self.folder]
        if self.download and not any(c.is_dir() for c in candidates):
            self._tv_download()
        for candidate in candidates:
            if candidate.is_dir():
                return candidate
        looked = " and ".join(str(c) for c in candidates)
        raise NovelbenchError(
            f"{self.name} not found: looked in {looked}. Run with --download to fetch it through "
            f"torchvision, or point --data-root at a folder holding {self.tv_folder}/{self.folder}/."
        )

    def load(self) -> LoadedDataset:
        root = self._categories_dir()
        class_dirs = sorted(p for p in root.iterdir() if p.is_dir())
        names = [p.name for p in class_dirs]
        if self.clutter not in names:
            raise NovelbenchError(f"{root} has no clutter folder {self.clutter!r}; is this a complete {self.name}?")
        images, labels, skipped = decode_class_folders(class_dirs, self.image_size)
        return LoadedDataset(self.name, {"all": ImageSet(images, labels, names)}, self.clutter, skipped)


@register_dataset
class Caltech256(_Caltech):
    name = "caltech256"
    folder = "256_ObjectCategories"
    tv_folder = "caltech256"
    clutter = "257.clutter"
    tv_class = "Caltech256"


@register_dataset
class Caltech101(_Caltech):
    name = "caltech101"
    folder = "101_ObjectCategories"
    tv_folder = "caltech101"
    clutter = "BACKGROUND_Google"
    tv_class = "Caltech101"
