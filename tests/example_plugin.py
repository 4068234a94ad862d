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


class Signals(_Mean):
    """Writes ``<ready_dir>/<pid>.<n>.json`` (its pid and the environment that decides where it
    computes: GPU, thread pools) as ``fit`` starts, then sleeps ``sleep`` seconds."""

    name = "signals"

    def __init__(self, *, ready_dir: str = "", sleep: float = 0.0):
        self.ready_dir = ready_dir
        self.sleep = sleep

    def fit(self, images):
        import json

        if self.ready_dir:
            names = ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")
            report = {"pid": os.getpid(), "env": {n: os.environ.get(n) for n in names}, "torch_threads": torch.get_num_threads()}
            tmp = Path(self.ready_dir) / f".{os.getpid()}.{time.monotonic_ns()}.tmp"
            tmp.write_text(json.dumps(report))
            tmp.rename(tmp.with_name(tmp.name[1:].removesuffix(".tmp") + ".json"))  # appears complete
        time.sleep(self.sleep)
        return super().fit(images)
