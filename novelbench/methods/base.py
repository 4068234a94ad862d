"""The Detector contract every method follows (scikit-learn / pyod style).

``__init__`` only stores keyword arguments (so ``get_params``/``clone``/repr come from
scikit-learn's BaseEstimator); ``fit`` takes inlier images only and returns ``self``;
``score`` returns one number per image, HIGHER = MORE NOVEL; ``predict`` is the method's
own decision (True = inlier) or None when it has none. Learned state ends in ``_``.
The harness seeds torch / numpy / random before ``fit``; methods never seed themselves.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator

from novelbench.errors import NovelbenchError


class Detector(BaseEstimator):
    name: ClassVar[str] = ""
    #: tiny settings the conformance test (and a quick smoke run) uses
    test_params: ClassVar[dict[str, Any]] = {}
    #: one line shown by `bench list`
    summary: ClassVar[str] = ""

    def fit(self, images: torch.Tensor) -> "Detector":
        raise NotImplementedError

    def score(self, images: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def predict(self, images: torch.Tensor) -> np.ndarray | None:
        return None

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        sig = inspect.signature(cls.__init__)
        return {n: p.default for n, p in sig.parameters.items() if n != "self" and p.kind == p.KEYWORD_ONLY}


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU. Asking for CUDA without one is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NovelbenchError(f"--device {device} asked for, but torch sees no CUDA device here")
    if device != "cpu" and not device.startswith("cuda"):
        raise NovelbenchError(f"unknown device {device!r}; use auto, cpu or cuda[:N]")
    return torch.device(device)
