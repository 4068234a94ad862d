"""Datasets loaded once per process: the trials of one run (in one worker) share them."""

from __future__ import annotations

import functools
import json
from typing import Any

from novelbench.datasets.base import LoadedDataset
from novelbench.registry import DATASETS


@functools.lru_cache(maxsize=2)
def _load(name: str, params_json: str) -> LoadedDataset:
    return DATASETS.create(name, **json.loads(params_json)).load()


def load_dataset(name: str, params: dict[str, Any]) -> LoadedDataset:
    return _load(name, json.dumps(params, sort_keys=True, default=str))
