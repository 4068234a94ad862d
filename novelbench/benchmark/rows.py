"""Metric-row assembly: the tidy rows of one trial (one per test mix), or its one failed row."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np
import sklearn
import torch

import novelbench
from novelbench.benchmark import metrics
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.protocols.base import Pool


def versions() -> str:
    return f"novelbench={novelbench.__version__} torch={torch.__version__} sklearn={sklearn.__version__}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def base_row(trial: Trial) -> dict[str, Any]:
    row = {
        "trial_id": trial.trial_id, "config_id": trial.config_id, "protocol": trial.protocol, "dataset": trial.dataset,
        "method": trial.label or trial.method, "method_name": trial.method,
        "positives": "|".join(trial.setting.positives), "group": trial.setting.group,
        "repeat": trial.setting.repeat, "seed": trial.seed,
    }
    row.update({f"p_{k}": str(v) for k, v in sorted(trial.method_params.items())})
    return row


def mix_rows(test: Pool, scores: np.ndarray, native: np.ndarray | None, validation: Pool | None,
             val_scores: np.ndarray | None) -> list[dict[str, Any]]:
    """Metrics of every test mix from one set of pool scores (and validation scores for the
    `validation` threshold policy, chosen on the validation mix of the same outlier share)."""
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
            "f1_quantile": metrics.f1_quantile(out, s, share),
            "f1_validation": f1_val,
            "f1_oracle": metrics.f1_inliers(out, metrics.flag_above(s, metrics.best_f1_threshold(out, s))),
            "f1_native": metrics.f1_inliers(out, ~native[mix.index]) if native is not None else float("nan"),
            "f1_trivial": metrics.trivial_f1(share),
        })
    return rows


def ok_rows(trial: Trial, mixes: list[dict[str, Any]], n_train: int, fit_seconds: float, score_seconds: float,
            device: str) -> list[dict[str, Any]]:
    runtime = trial.runtime()
    stamp = _now()
    return [{**base_row(trial), **mix, "n_train": n_train, "fit_seconds": fit_seconds, "score_seconds": score_seconds,
             "device": device, "precision": runtime["precision"], "threads": runtime["threads"], "status": "ok", "error": "",
             "versions": versions(), "timestamp": stamp} for mix in mixes]


def failed_rows(trial: Trial, error: str) -> list[dict[str, Any]]:
    """The one row that records a failed trial with its error (never cached as success)."""
    return [{**base_row(trial), "mix": "", "status": "failed", "error": error[:500], "versions": versions(), "timestamp": _now()}]


def describe_exception(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit: the method called sys.exit({exc.code!r}) inside the trial"
    return f"{type(exc).__name__}: {exc}"
