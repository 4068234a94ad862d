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


def switch_id(override: dict) -> str:
    """A switch test's id: ``key=value,...``."""
    return ",".join(f"{k}={v}" for k, v in override.items())


def fit_twice_and_check(name: str, train: torch.Tensor, test: torch.Tensor, **override):
    """Method ``name`` (``test_params`` and ``override``) fitted twice as ``fit_test_params`` does:
    asserts that its scores of ``test`` are per-image, finite, not constant and bit-identical
    across the two fits (the conformance part of a switch test). Returns (first fit, its scores)."""
    fits = [fit_test_params(name, train, **override) for _ in range(2)]
    with pinned_threads(1):
        scores = [np.asarray(m.score(test)) for m in fits]
    assert scores[0].shape == (len(test),) and np.isfinite(scores[0]).all() and scores[0].std() > 0
    np.testing.assert_array_equal(scores[0], scores[1])
    return fits[0], scores[0]


def preset_values_no_test_fits(name: str, switches: list[dict], shrunk: set[str]) -> list[str]:
    """The values that presets of method ``name`` set and that no test fits: the shared conformance
    test fits a preset with its class's ``test_params`` over it, so a value those replace is
    fitted only if a switch test (``switches``) fits it, or it is a size or length shrunk for
    speed (``shrunk``). Presets of subclasses (``geom-paper``'s) count as ``name``'s."""
    cls = METHODS.get(name)
    missing = []
    for preset in (METHODS.plugin(n) for n in METHODS.names()):
        if not preset.is_preset or not issubclass(preset.cls, cls):
            continue
        for key, value in preset.defaults.items():
            if key in preset.cls.test_params and key not in shrunk and not any(s.get(key, object()) == value for s in switches):
                missing.append(f"{preset.name}: {key}={value!r}")
    return missing
