"""The user's own images in the ImageFolder layout: ROOT/train/<class>/*, ROOT/test/<class>/*."""

from __future__ import annotations

from novelbench.registry import register_dataset
from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset
from novelbench.datasets.decode import decode_class_folders
from novelbench.errors import NovelbenchError


@register_dataset
class ImageFolder(ImageDataset):
    """Any labelled image collection; greyscale collections stay single-channel."""

    name = "folder"
    default_image_size = 64

    def identity(self) -> dict:
        # a user folder has no fixed content, so its resolved path is part of what decides the numbers
        return {**super().identity(), "root": str(self.data_root.resolve())}

    def load(self) -> LoadedDataset:
        splits, skipped, class_names = {}, [], None
        for split in ("train", "test"):
            split_dir = self.data_root / split
            if not split_dir.is_dir():
                raise NovelbenchError(
                    f"folder dataset needs {split_dir}/<class>/<images>; --data-root must hold train/ and test/"
                )
            class_dirs = sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
            if not class_dirs:
                raise NovelbenchError(f"{split_dir} holds no class folders; the folder dataset needs {split_dir}/<class>/<images>")
            names = [p.name for p in class_dirs]
            if class_names is not None and names != class_names:
                raise NovelbenchError(f"train/ and test/ under {self.data_root} hold different class folders")
            class_names = names
            images, labels, bad = decode_class_folders(class_dirs, self.image_size)
            splits[split], skipped = ImageSet(images, labels, names), skipped + bad
        if all(bool((s.images[:, 0] == s.images[:, 1]).all() and (s.images[:, 1] == s.images[:, 2]).all()) for s in splits.values()):
            splits = {k: ImageSet(s.images[:, :1].contiguous(), s.labels, s.class_names) for k, s in splits.items()}
        return LoadedDataset(self.name, splits, skipped_files=skipped)
