# my_package/npz_arrays.py: a dataset is one file
import numpy as np
import torch

from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset, resize_uint8
from novelbench.errors import NovelbenchError
from novelbench.registry import register_dataset


@register_dataset
class NpzArrays(ImageDataset):
    """Your own arrays: DATA_ROOT/arrays.npz with uint8 x_train, x_test ((N, H, W) or (N, H, W, C))
    and integer labels y_train, y_test (0..K-1)."""

    name = "npz-arrays"

    def load(self) -> LoadedDataset:
        path = self.data_root / "arrays.npz"
        if not path.exists():
            raise NovelbenchError(f"npz-arrays: no {path}; save x_train, y_train, x_test, y_test there")
        arrays = np.load(path)
        names = [str(k) for k in range(int(arrays["y_train"].max()) + 1)]
        splits = {}
        for split in ("train", "test"):
            x = torch.from_numpy(arrays[f"x_{split}"])
            x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # -> (N, C, H, W)
            splits[split] = ImageSet(resize_uint8(x.contiguous(), self.image_size), arrays[f"y_{split}"], names)
        return LoadedDataset(self.name, splits)
