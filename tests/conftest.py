import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from novelbench.benchmark.execution import to_float
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.datasets.synthetic import Synthetic
from novelbench.registry import METHODS, get_method

torch.set_num_threads(1)  # tiny networks: one thread is fastest, and robust on a busy machine

#: real data for the slow tests: $NOVELBENCH_TEST_DATA, else ../shared/data beside the checkout
SHARED_DATA = Path(os.environ.get("NOVELBENCH_TEST_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
#: the README's example plugins live in tests/plugins/nbplugins (importable as ``nbplugins``)
PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"
sys.path.insert(0, str(PLUGINS_DIR))


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Decoded-image caches go to a per-session temp folder, never the user's home."""
    monkeypatch.setenv("NOVELBENCH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def synthetic():
    return Synthetic().load()


def class_images(data, split: str, *names: str) -> torch.Tensor:
    """The float images of the classes ``names`` in one split of a loaded dataset."""
    part = data.splits[split]
    return torch.cat([to_float(part.images[part.labels == part.label_of(n)]) for n in names])


@pytest.fixture(scope="module")
def easy(synthetic):
    """Trained on horizontal bars; tested on bars vs rings (the conformance test's split, held to
    AUROC > 0.9): (train, test, is_outlier)."""
    inliers, outliers = class_images(synthetic, "test", "hbar"), class_images(synthetic, "test", "ring")
    return class_images(synthetic, "train", "hbar"), torch.cat([inliers, outliers]), np.r_[np.zeros(len(inliers)), np.ones(len(outliers))]


def fit_test_params(name: str, train: torch.Tensor, **override):
    """Method ``name`` with its class's ``test_params`` (and ``override``) on the CPU, fitted on
    ``train`` with one thread and seed 0."""
    params = {**METHODS.get(name).test_params, "device": "cpu", **override}
    with pinned_threads(1):
        seed_everything(0)
        return get_method(name, **params).fit(train)


def needs_shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available at {path}")
    return path
