"""The cifar10 loader on a tiny fake in torchvision's layout (pickled batches under cifar-10-batches-py/)."""

import json
import pickle

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from novelbench.cli import app
from novelbench.datasets.cifar10 import CIFAR10, FOLDER
from novelbench.errors import NovelbenchError

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_fake_cifar10(root, per_batch=20, test_size=30):
    """Five training batches, a test batch and the meta file, as the official Python pickles
    (dicts with ``data``: N x 3072 uint8, channel-major, and ``labels``)."""
    folder = root / FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(name, n, offset):
        labels = [(offset + i) % 10 for i in range(n)]
        data = np.zeros((n, 3, 32, 32), np.uint8)
        for i, label in enumerate(labels):  # class k: bright channel k % 3 plus a class-dependent band, plus noise
            data[i, label % 3] = 200
            data[i, :, 3 * label : 3 * label + 3, :] = 255
            data[i] += rng.integers(0, 30, (3, 32, 32), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels, "data": data.reshape(n, 3072), "filenames": []}, f)
        return data, labels

    train = [batch(f"data_batch_{i}", per_batch, i) for i in range(1, 6)]
    test = batch("test_batch", test_size, 0)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": NAMES, "num_cases_per_batch": per_batch, "num_vis": 3072}, f)
    return train, test


def test_cifar10_reads_the_torchvision_layout(tmp_path):
    train, test = write_fake_cifar10(tmp_path)
    data = CIFAR10(tmp_path).load()
    tr, te = data.splits["train"], data.splits["test"]
    assert tr.images.shape == (100, 3, 32, 32) and tr.images.dtype == torch.uint8 and te.images.shape == (30, 3, 32, 32)
    assert tr.class_names == NAMES and tr.labels.tolist() == sum((labels for _, labels in train), [])
    assert np.array_equal(tr.images[:20].numpy(), train[0][0])  # channel-major rows become (C, H, W)
    assert np.array_equal(te.images.numpy(), test[0]) and te.labels.tolist() == test[1]
    assert CIFAR10(tmp_path, image_size=16).load().splits["test"].images.shape == (30, 3, 16, 16)
    assert CIFAR10(tmp_path).identity() == {"dataset": "cifar10", "image_size": None}


def test_missing_cifar10_is_one_clear_error(tmp_path):
    with pytest.raises(NovelbenchError, match=r"cifar10 not found: looked in .*cifar-10-batches-py .*--download"):
        CIFAR10(tmp_path).load()
    write_fake_cifar10(tmp_path)
    (tmp_path / FOLDER / "data_batch_3").unlink()
    with pytest.raises(NovelbenchError, match=r"missing data_batch_3\)"):
        CIFAR10(tmp_path).load()
    (tmp_path / FOLDER / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(NovelbenchError, match="cannot read CIFAR-10 batch"):
        CIFAR10(tmp_path).load()


def test_one_class_benchmark_runs_on_cifar10_with_one_flag(tmp_path):
    write_fake_cifar10(tmp_path / "data")
    result = CliRunner().invoke(app, ["run", "-m", "ocsvm", "--dataset", "cifar10", "--data-root", str(tmp_path / "data"),
                                      "--classes", "airplane,ship", "--val-share", "0", "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    pools = [r for r in json.loads(result.stdout)["summary"] if r["mix"] == "pool"]
    assert len(pools) == 1 and pools[0]["n"] == 2 and pools[0]["auroc_mean"] > 0.9
    missing = CliRunner().invoke(app, ["run", "-m", "ocsvm", "--dataset", "cifar10", "--data-root", str(tmp_path / "none"),
                                       "--out", str(tmp_path / "out2")])
    assert missing.exit_code == 1 and "cifar10 not found: looked in" in " ".join(missing.stderr.split())
