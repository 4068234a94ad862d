"""Decode folders of image files once into a uint8 tensor, cached on disk and reused.

Files without an image extension and unreadable images (truncated, corrupt) are skipped and
listed, never fatal.
CMYK, palette and greyscale images are converted to RGB.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from novelbench.datasets import decodecache


def _decode_one(path: Path, size: int) -> np.ndarray | None:
    try:
        with Image.open(path) as img:
            img = img.convert("RGB").resize((size, size), Image.BILINEAR, reducing_gap=None)
            return np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def _list_files(class_dirs: list[Path]) -> tuple[list[tuple[Path, int]], list[str]]:
    """Image files by extension (as torchvision's ImageFolder does); other files are returned as skipped."""
    files, skipped = [], []
    for label, folder in enumerate(class_dirs):
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                files.append((path, label))
            else:
                skipped.append(str(path))
    return files, skipped


def decode_class_folders(class_dirs: list[Path], size: int) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    """Decode every file of each class folder (label = folder's position) to RGB size x size.

    Returns images (N, 3, size, size) uint8, labels (N,), and the skipped files' paths.
    The result is cached under the cache dir, keyed by the files' content and the size.
    """
    files, not_images = _list_files(class_dirs)
    cache_file = decodecache.cache_path(files, size, class_dirs[0].parent.name)
    cached = decodecache.load(cache_file)
    if cached is not None:
        return cached["images"], cached["labels"], cached["skipped"]

    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        decoded = list(pool.map(lambda item: _decode_one(item[0], size), files))
    kept = [i for i, arr in enumerate(decoded) if arr is not None]
    skipped = not_images + [str(files[i][0]) for i, arr in enumerate(decoded) if arr is None]
    if kept:
        images = torch.from_numpy(np.stack([decoded[i] for i in kept])).permute(0, 3, 1, 2).contiguous()
    else:
        images = torch.zeros((0, 3, size, size), dtype=torch.uint8)
    labels = np.array([files[i][1] for i in kept], dtype=np.int64)

    decodecache.save(cache_file, {"images": images, "labels": labels, "skipped": skipped})
    return images, labels, skipped
