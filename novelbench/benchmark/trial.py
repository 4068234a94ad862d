"""One trial = (method + params, protocol + params, dataset, positive set, seed).

``run_trial`` loads the split, seeds every generator, fits on the training inliers, scores the
test pool (and validation pool) once, and turns the scores into one tidy row per test mix.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch

import novelbench
from novelbench.benchmark import metrics
from novelbench.benchmark.protocols.base import Pool, Setting
from novelbench.benchmark.registry import DATASETS, METHODS, PROTOCOLS
from novelbench.datasets.base import LoadedDataset
from novelbench.methods.base import resolve_device


SHARED_CODE = ("novelbench.methods.base", "novelbench.methods.nets", "novelbench.methods.augment",
               "novelbench.methods.training", "novelbench.benchmark.metrics", "novelbench.benchmark.protocols.base")


@functools.lru_cache(maxsize=None)
def _module_digest(module_name: str) -> str:
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    path = getattr(module, "__file__", None)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12] if path else ""


def code_fingerprint(method: str, protocol: str) -> str:
    """Hash of the source that decides a trial's numbers: the method's and protocol's modules and
    the shared blocks, so results computed by older code are never reused as if current."""
    modules = [METHODS.get(method).__module__, PROTOCOLS.get(protocol).__module__, *SHARED_CODE]
    return hashlib.sha256("".join(_module_digest(m) for m in modules).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Trial:
    method: str  # registry name, entry-point name or package.module:Class
    method_params: dict[str, Any]  # overrides of the method's defaults
    protocol: str
    protocol_params: dict[str, Any]
    dataset: str
    dataset_params: dict[str, Any]  # data_root, download, image_size
    setting: Setting
    seed: int
    device: str = "auto"
    label: str = ""  # e.g. crbnd[lam=0.3]
    data_identity: dict[str, Any] = field(default_factory=dict)  # what decides the data's content

    @property
    def trial_id(self) -> str:
        """Hash of everything that decides the trial's numbers (not where the data lies, nor the device)."""
        key = {
            "method": self.method, "method_params": self.method_params,
            "protocol": self.protocol, "protocol_params": self.protocol_params,
            "data": self.data_identity, "positives": self.setting.positives, "repeat": self.setting.repeat,
            "seed": self.seed, "version": novelbench.__version__, "code": code_fingerprint(self.method, self.protocol),
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def describe(self) -> str:
        pos = "+".join(self.setting.positives)
        rep = f" r{self.setting.repeat}" if self.setting.repeat else ""
        return f"{self.label or self.method} | {pos}{rep} | seed {self.seed}"


@functools.lru_cache(maxsize=2)
def load_dataset(name: str, params_json: str) -> LoadedDataset:
    """Load a dataset once per process (trials of one run share it)."""
    return DATASETS.create(name, **json.loads(params_json)).load()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(255.0)


def versions() -> str:
    return f"novelbench={novelbench.__version__} torch={torch.__version__} sklearn={sklearn.__version__}"


def _base_row(trial: Trial) -> dict[str, Any]:
    row = {
        "trial_id": trial.trial_id, "protocol": trial.protocol, "dataset": trial.dataset,
        "method": trial.label or trial.method, "method_name": trial.method,
        "positives": "|".join(trial.setting.positives), "group": trial.setting.group,
        "repeat": trial.setting.repeat, "seed": trial.seed,
    }
    row.update({f"p_{k}": str(v) for k, v in sorted(trial.method_params.items())})
    return row


def _mix_rows(test: Pool, scores: np.ndarray, native: np.ndarray | None, validation: Pool | None, val_scores: np.ndarray | None) -> list[dict]:
    rows = []
    for mix in test.mixes:
        s, out = scores[mix.index], test.is_outlier[mix.index]
        share = out.mean()
        val_mix = validation.mix(mix.name) if validation is not None else None
        if val_mix is not None:
            t = metrics.best_f1_threshold(validation.is_outlier[val_mix.index], val_scores[val_mix.index])
            f1_val = metrics.f1_inliers(out, metrics.flag_above(s, t))
        else:
            f1_val = float("nan")
        rows.append({
            "mix": mix.name, "outlier_pct": mix.outlier_pct, "n_test": len(s), "n_outliers": int(out.sum()),
            "auroc": metrics.auroc(out, s), "aupr": metrics.aupr(out, s),
            "f1_quantile": metrics.f1_inliers(out, metrics.flag_top_share(s, share)),
            "f1_validation": f1_val,
            "f1_oracle": metrics.f1_inliers(out, metrics.flag_above(s, metrics.best_f1_threshold(out, s))),
            "f1_native": metrics.f1_inliers(out, ~native[mix.index]) if native is not None else float("nan"),
            "f1_trivial": metrics.trivial_f1(share),
        })
    return rows


def execute(trial: Trial) -> list[dict[str, Any]]:
    """Run one trial; raises on failure (``run_trial`` turns that into a failed row)."""
    data = load_dataset(trial.dataset, json.dumps(trial.dataset_params, sort_keys=True, default=str))
    protocol = PROTOCOLS.create(trial.protocol, **trial.protocol_params)
    split = protocol.split(data, trial.setting, trial.seed)
    params = dict(trial.method_params)
    if "device" in METHODS.get(trial.method).param_defaults() and "device" not in params:
        params["device"] = trial.device
    method = METHODS.create(trial.method, **params)

    seed_everything(trial.seed)
    t0 = time.perf_counter()
    method.fit(to_float(split.train.images))
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    test_images = to_float(split.test.images.images)
    scores = np.asarray(method.score(test_images), dtype=np.float64)
    score_seconds = time.perf_counter() - t0
    if scores.shape != (len(test_images),) or not np.isfinite(scores).all():
        raise ValueError(f"{trial.method}.score returned shape {scores.shape} with non-finite values: wrong scores are never recorded")
    native = method.predict(test_images)
    native = None if native is None else np.asarray(native, dtype=bool)
    val_scores = None
    if split.validation is not None:
        val_scores = np.asarray(method.score(to_float(split.validation.images.images)), dtype=np.float64)

    device = str(getattr(method, "device_", "cpu"))
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = []
    for mix_row in _mix_rows(split.test, scores, native, split.validation, val_scores):
        rows.append({**_base_row(trial), **mix_row, "n_train": len(split.train), "fit_seconds": fit_seconds,
                     "score_seconds": score_seconds, "device": device, "status": "ok", "error": "",
                     "versions": versions(), "timestamp": stamp})
    return rows


def failed_rows(trial: Trial, exc: BaseException) -> list[dict[str, Any]]:
    """The one row that records a failed trial with its error (never cached as success)."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    return [{**_base_row(trial), "mix": "", "status": "failed", "error": error,
             "versions": versions(), "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds")}]


def run_trial(trial: Trial) -> list[dict[str, Any]]:
    """Run one trial; a failure becomes one row with status "failed" and the error, never a crash."""
    try:
        return execute(trial)
    except Exception as exc:  # recorded, shown, and never cached as success
        return failed_rows(trial, exc)
