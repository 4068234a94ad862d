"""MNIST and Fashion-MNIST through torchvision (download when online, else read --data-root)."""

from __future__ import annotations

from novelbench.registry import register_dataset
from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset, resize_uint8
from novelbench.errors import NovelbenchError


class _TorchvisionDigitLike(ImageDataset):
    folder: str  # torchvision's folder name under the root (also its class name in torchvision.datasets)

    def load(self) -> LoadedDataset:
        import torchvision.datasets

        cls = getattr(torchvision.datasets, self.folder)
        splits = {}
        for split in ("train", "test"):
            try:
                ds = cls(root=str(self.data_root), train=split == "train", download=self.download)
            except RuntimeError as exc:
                raise NovelbenchError(
                    f"{self.name} not found under {self.data_root / self.folder / 'raw'} ({exc}). "
                    f"Run with --download to fetch it, or point --data-root at a folder holding "
                    f"{self.folder}/raw/ (torchvision layout)."
                ) from exc
            images = resize_uint8(ds.data.unsqueeze(1).contiguous(), self.image_size)
            splits[split] = ImageSet(images, ds.targets.numpy(), list(ds.classes))
        return LoadedDataset(self.name, splits)


@register_dataset
class MNIST(_TorchvisionDigitLike):
    name = "mnist"
    folder = "MNIST"


@register_dataset
class FashionMNIST(_TorchvisionDigitLike):
    name = "fashion-mnist"
    folder = "FashionMNIST"
