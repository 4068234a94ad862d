"""Mean +- std per method and setting, from a run's tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd

METRICS = ["auroc", "aupr", "f1_quantile", "f1_validation", "f1_oracle", "f1_native", "f1_trivial"]
KEYS = ["dataset", "protocol", "method", "group", "mix"]


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, group, mix): n trials and mean/std of each metric and of fit time."""
    ok = table[table["status"] == "ok"] if "status" in table else table
    if ok.empty:
        return pd.DataFrame()
    grouped = ok.groupby(KEYS, sort=False)
    out = grouped.agg(n=("trial_id", "nunique"), outlier_pct=("outlier_pct", "mean"))
    for m in METRICS + ["fit_seconds"]:
        out[f"{m}_mean"] = grouped[m].mean()
        out[f"{m}_std"] = grouped[m].std(ddof=0)
    out = out.reset_index()
    order = {name: i for i, name in enumerate(dict.fromkeys(ok["mix"]))}
    return out.sort_values(["protocol", "dataset", "method", "group", "mix"], key=lambda s: s.map(order) if s.name == "mix" else s, kind="stable")


def fmt(mean: float, std: float) -> str:
    """Compact mean ± std, e.g. ".953±.012" (tables stay narrow enough for a terminal)."""
    if np.isnan(mean):
        return "-"
    std = 0.0 if np.isnan(std) else std
    return f"{mean:.3f}".lstrip("0") + "±" + f"{std:.3f}".lstrip("0")
