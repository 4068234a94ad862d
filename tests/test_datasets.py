"""Dataset loaders return the one image-set type; bad files are skipped and counted."""

import numpy as np
import pytest
import torch
from PIL import Image

from novelbench.datasets.caltech import Caltech101, Caltech256
from novelbench.datasets.digits import Digits
from novelbench.datasets.folder import ImageFolder
from novelbench.datasets.torchvision_sets import MNIST, FashionMNIST
from novelbench.errors import NovelbenchError

from conftest import needs_shared


def test_digits_is_bundled_resized_and_split_the_same_way_every_time():
    a, b = Digits().load(), Digits().load()
    train, test = a.splits["train"], a.splits["test"]
    assert train.images.shape[1:] == (1, 28, 28) and train.images.dtype == torch.uint8
    assert len(train) + len(test) == 1797
    assert train.images.max() > 200  # 0..16 scaled to 0..255
    assert np.array_equal(train.labels, b.splits["train"].labels)
    assert set(np.unique(test.labels)) == set(range(10))


def _write_images(folder, n, mode="RGB", size=(20, 12)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    for i in range(n):
        shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
        arr = rng.integers(0, 255, shape, dtype=np.uint8)
        Image.fromarray(arr).convert(mode).save(folder / f"img{i}.jpg" if mode != "CMYK" else folder / f"img{i}.jpg")


def test_caltech_layout_decodes_mixed_modes_and_skips_bad_files(tmp_path):
    root = tmp_path / "caltech256" / "256_ObjectCategories"
    _write_images(root / "001.ak47", 3)
    _write_images(root / "002.bat", 2, mode="L")
    _write_images(root / "003.cmyk", 2, mode="CMYK")
    _write_images(root / "257.clutter", 4)
    (root / "001.ak47" / "notes.txt").write_text("not an image")
    (root / "257.clutter" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    data = Caltech256(tmp_path, image_size=16).load()
    allset = data.splits["all"]
    assert allset.images.shape == (11, 3, 16, 16)
    assert data.clutter_class == "257.clutter"
    assert sorted(p.split("/")[-1] for p in data.skipped_files) == ["broken.jpg", "notes.txt"]
    assert np.bincount(allset.labels).tolist() == [3, 2, 2, 4]
    cached = Caltech256(tmp_path, image_size=16).load()  # second load comes from the cache
    assert torch.equal(cached.splits["all"].images, allset.images)


def test_missing_caltech_is_a_clear_error(tmp_path):
    with pytest.raises(NovelbenchError, match="--download"):
        Caltech101(tmp_path).load()


def test_folder_dataset_keeps_greyscale_single_channel(tmp_path):
    for split, n in (("train", 4), ("test", 2)):
        _write_images(tmp_path / split / "cat", n, mode="L")
        _write_images(tmp_path / split / "dog", n, mode="L")
    data = ImageFolder(tmp_path, image_size=8).load()
    assert data.splits["train"].images.shape == (8, 1, 8, 8)
    assert data.splits["test"].class_names == ["cat", "dog"]


def test_folder_dataset_needs_train_and_test(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(NovelbenchError, match="test"):
        ImageFolder(tmp_path).load()


def test_real_mnist_from_data_root():
    root = needs_shared("MNIST", "raw").parents[1]
    data = MNIST(root).load()
    assert data.splits["train"].images.shape == (60000, 1, 28, 28)
    assert len(data.splits["test"]) == 10000
    assert np.bincount(data.splits["test"].labels).tolist()[0] == 980


@pytest.mark.slow
def test_real_caltech101_counts_the_stray_file():
    root = needs_shared("caltech101").parent
    data = Caltech101(root, image_size=32).load()
    allset = data.splits["all"]
    assert len(allset.class_names) == 102 and data.clutter_class == "BACKGROUND_Google"
    assert len(data.skipped_files) == 1 and data.skipped_files[0].endswith("BACKGROUND_Google/tmp")
    assert len(allset) == 9144  # every JPEG; the stray non-image `tmp` is not among them
    assert (allset.labels == allset.label_of("BACKGROUND_Google")).sum() == 467


def test_fashion_mnist_reads_the_torchvision_layout(tmp_path):
    # Fashion-MNIST ships in MNIST's file format; MNIST's files stand in for it offline
    raw = needs_shared("MNIST", "raw")
    (tmp_path / "FashionMNIST" / "raw").mkdir(parents=True)
    for f in raw.iterdir():
        (tmp_path / "FashionMNIST" / "raw" / f.name).symlink_to(f)
    data = FashionMNIST(tmp_path, image_size=14).load()
    assert data.splits["test"].images.shape == (10000, 1, 14, 14)
    assert data.splits["train"].class_names[0] == "T-shirt/top"
