"""Misbehaving plugins for the fault tests (loaded by dotted path, e.g. ``example_plugin:CrashOnFit``)."""

import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from novelbench.methods.base import Detector


class _Mean(Detector):
    def fit(self, images: torch.Tensor):
        self.mean_ = images.mean(0)
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:
        return (images - self.mean_).pow(2).flatten(1).mean(1).numpy()


class CrashOnFit(_Mean):
    """Kills its own process in ``fit`` (stands in for a worker killed for memory or a segfault)."""

    name = "crash-on-fit"

    def fit(self, images):
        os._exit(1)


class ExitInFit(_Mean):
    """Calls sys.exit() in ``fit``, as a careless plugin might."""

    name = "exit-in-fit"

    def fit(self, images):
        sys.exit(0)


class NaNOnValidation(_Mean):
    """Scores the test pool fine but returns NaN for small pools (the validation pool)."""

    name = "nan-on-validation"

    def score(self, images):
        scores = super().score(images)
        return np.full(len(images), np.nan) if len(images) < 100 else scores


class SleepInFit(_Mean):
    """Writes its process id to $NB_TEST_PID_DIR, then sleeps (for the orphan and kill tests)."""

    name = "sleep-in-fit"

    def __init__(self, *, seconds: float = 600.0):
        self.seconds = seconds

    def fit(self, images):
        Path(os.environ["NB_TEST_PID_DIR"], str(os.getpid())).write_text("started")
        time.sleep(self.seconds)
        return super().fit(images)
