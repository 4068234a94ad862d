"""The README's "Adding a method" example, verbatim, so the documented recipe is tested."""

import numpy as np
import torch

from novelbench.methods.base import Detector


class MeanDistance(Detector):
    name = "mean-distance"
    summary = "distance to the mean training image"
    test_params = {}  # tiny settings the conformance test uses

    def __init__(self, *, power: float = 2.0):
        self.power = power

    def fit(self, images: torch.Tensor) -> "MeanDistance":
        self.mean_ = images.mean(0)
        return self

    def score(self, images: torch.Tensor) -> np.ndarray:
        return (images - self.mean_).abs().pow(self.power).flatten(1).mean(1).numpy()


class CrashOnFit(Detector):
    """Kills its own process in ``fit`` (stands in for a worker killed for memory)."""

    name = "crash-on-fit"

    def fit(self, images):
        import os

        os._exit(1)


class Signals(Detector):
    """Writes ``<ready_dir>/<pid>.<n>.json`` (its pid and the environment that decides where it
    computes) as ``fit`` starts, then sleeps ``sleep`` seconds: a test waits for the file and
    kills the process mid-trial, or reads the environment a worker got. Otherwise MeanDistance."""

    name = "signals"

    def __init__(self, *, ready_dir: str = "", sleep: float = 0.0):
        self.ready_dir = ready_dir
        self.sleep = sleep

    def fit(self, images):
        import json
        import os
        import time
        from pathlib import Path

        if self.ready_dir:
            names = ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
            report = {"pid": os.getpid(), "env": {n: os.environ.get(n) for n in names}, "torch_threads": torch.get_num_threads()}
            folder = Path(self.ready_dir)
            tmp = folder / f".{os.getpid()}.{time.monotonic_ns()}.tmp"
            tmp.write_text(json.dumps(report))
            tmp.rename(tmp.with_name(tmp.name[1:].removesuffix(".tmp") + ".json"))  # appears complete
        time.sleep(self.sleep)
        self.mean_ = images.mean(0)
        return self

    def score(self, images):
        return (images - self.mean_).pow(2).flatten(1).mean(1).numpy()
