"""Dataset loaders; importing this package registers them."""

from novelbench.datasets import caltech, digits, folder, synthetic, torchvision_sets  # noqa: F401
from novelbench.datasets.base import ImageDataset, ImageSet, LoadedDataset  # noqa: F401
