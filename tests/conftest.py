import os
import sys
from pathlib import Path

import pytest
import torch

from novelbench.datasets.synthetic import Synthetic

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


def needs_shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available at {path}")
    return path
