"""Per-epoch validation curves on the training split, for choosing a label-free stopping rule.

For a trial (method, positive set, seed, threads), the protocol's own split is drawn and the
method is fitted on exactly the images a trial fits on; after every epoch the method's
``fit(images, on_epoch=...)`` hook hands over the model, which scores the protocol's
VALIDATION pool: held-out training inliers plus other classes' TRAINING images (the pool of the
`validation` F1 policy). The test split is never read. Each epoch gives one row: the validation
AUROC and the epoch's mean of every training loss the method records in ``history_``.

A method opts in by accepting ``on_epoch`` in ``fit`` (``alocc`` does); others are a clear error.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from novelbench.benchmark import metrics
from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.execution import to_float
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.rows import base_row
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.errors import NovelbenchError
from novelbench.registry import METHODS, PROTOCOLS


def check_curves_supported(trial: Trial) -> None:
    """One clear line, before any work, when a trial cannot give per-epoch curves."""
    fit = METHODS.plugin(trial.method).cls.fit
    if "on_epoch" not in inspect.signature(fit).parameters:
        raise NovelbenchError(f"{trial.method} has no per-epoch hook (fit(images, on_epoch=...)), so it gives no curves")


def epoch_curves(trial: Trial) -> list[dict[str, Any]]:
    """One row per finished epoch of ``trial``'s fit: validation AUROC and the epoch's mean losses."""
    check_curves_supported(trial)
    with pinned_threads(trial.threads):
        data = load_dataset(trial.dataset, trial.dataset_params)
        split = PROTOCOLS.create(trial.protocol, **trial.protocol_params).split(data, trial.setting, trial.seed)
        if split.validation is None:
            raise NovelbenchError(f"{trial.protocol} gives no validation pool here (is val_share 0?): curves need one")
        plugin = METHODS.plugin(trial.method)
        params = dict(trial.method_params)
        if "device" in plugin.param_defaults():
            params["device"] = trial.device
        method = plugin.create(**params)
        val_images, is_outlier = to_float(split.validation.images.images), split.validation.is_outlier
        rows: list[dict[str, Any]] = []
        seen = {"steps": 0}

        def on_epoch(epoch: int, fitted: Any) -> None:
            row = {**base_row(trial), "threads": trial.threads, "epoch": epoch, "n_train": len(split.train),
                   "val_n": len(is_outlier), "val_auroc": math.nan, "error": ""}
            history = getattr(fitted, "history_", {}) or {}
            steps = len(next(iter(history.values()), []))
            for name, values in history.items():
                row[f"mean_{name}"] = float(np.mean(values[seen["steps"]:])) if len(values) > seen["steps"] else math.nan
            row["steps"] = seen["steps"] = steps
            try:
                row["val_auroc"] = metrics.auroc(is_outlier, np.asarray(fitted.score(val_images), dtype=np.float64))
            except Exception as exc:  # a saturated epoch is a gap in the curve, with its reason
                row["error"] = f"{type(exc).__name__}: {exc}"
            rows.append(row)

        seed_everything(trial.seed)
        try:
            method.fit(to_float(split.train.images), on_epoch=on_epoch)
        except Exception as exc:  # e.g. the end-of-fit checks: the epochs already seen stay
            if not rows:
                raise NovelbenchError(f"{trial.describe()}: failed before its first epoch ended: {type(exc).__name__}: {exc}") from exc
            rows[-1]["error"] = rows[-1]["error"] or f"after the last epoch: {type(exc).__name__}: {exc}"
    return rows
