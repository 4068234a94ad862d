"""Running one trial: load the split, seed, fit on the training inliers, score the test pool
(and validation pool) once, and turn the scores into rows. The same function runs inside every
executor, with the trial's fixed CPU thread count, so a trial gives the same numbers anywhere.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.rows import describe_exception, failed_rows, mix_rows, ok_rows
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.registry import METHODS, PROTOCOLS


class BadScores(ValueError):
    """A method returned scores or decisions that must never become numbers."""


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(255.0)


def _checked_scores(scores: Any, n: int, what: str) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (n,):
        raise BadScores(f"{what} scores have shape {scores.shape}, expected ({n},)")
    if not np.isfinite(scores).all():
        raise BadScores(f"{what} scores hold {int((~np.isfinite(scores)).sum())} non-finite value(s) (NaN or inf)")
    if n > 1 and np.ptp(scores) == 0:
        raise BadScores(f"{what} scores are all equal ({scores[0]:g}): a constant score ranks nothing")
    return scores


def _checked_native(native: Any, n: int) -> np.ndarray | None:
    if native is None:
        return None
    native = np.asarray(native)
    if native.shape != (n,) or native.dtype != bool:
        raise BadScores(f"predict returned {native.dtype} {native.shape}, expected bool ({n},) (True = inlier)")
    return native


def model_path(model_dir: str | Path, trial_id: str) -> Path:
    return Path(model_dir) / f"{trial_id}.pt"


def save_model(method: Any, path: Path) -> None:
    """Pickle the fitted method (torch modules included) atomically, for `bench samples`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(method, tmp)
    os.replace(tmp, path)


def execute(trial: Trial) -> list[dict[str, Any]]:
    """Run one trial; raises on failure (``run_trial`` turns that into a failed row)."""
    with pinned_threads(trial.threads):
        data = load_dataset(trial.dataset, trial.dataset_params)
        split = PROTOCOLS.create(trial.protocol, **trial.protocol_params).split(data, trial.setting, trial.seed)
        plugin = METHODS.plugin(trial.method)
        params = dict(trial.method_params)
        if "device" in plugin.param_defaults():
            params["device"] = trial.device
        method = plugin.create(**params)

        seed_everything(trial.seed)
        t0 = time.perf_counter()
        method.fit(to_float(split.train.images))
        fit_seconds = time.perf_counter() - t0
        if trial.model_dir:
            save_model(method, model_path(trial.model_dir, trial.trial_id))
        test_images = to_float(split.test.images.images)
        t0 = time.perf_counter()
        scores, native = method.score_and_predict(test_images)
        score_seconds = time.perf_counter() - t0
        scores = _checked_scores(scores, len(test_images), "test")
        native = _checked_native(native, len(test_images))
        val_scores = None
        if split.validation is not None:
            val_images = to_float(split.validation.images.images)
            val_scores = _checked_scores(method.score(val_images), len(val_images), "validation")

    mixes = mix_rows(split.test, scores, native, split.validation, val_scores)
    device = str(getattr(method, "device_", "cpu"))
    return ok_rows(trial, mixes, len(split.train), fit_seconds, score_seconds, device)


def run_trial(trial: Trial) -> list[dict[str, Any]]:
    """Run one trial; any failure (an exception, a plugin's sys.exit) becomes one row with status
    "failed" and the reason, never a crash and never a number. Ctrl-C still stops the run."""
    try:
        return execute(trial)
    except (Exception, SystemExit) as exc:
        return failed_rows(trial, describe_exception(exc))
