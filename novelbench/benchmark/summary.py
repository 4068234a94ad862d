"""Mean +- std per method and setting, from a run's tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from novelbench.benchmark.metrics import POLICIES

#: the metric columns of a run table, as rows.mix_rows writes them (a test holds the two together):
#: AUROC, AUPR, the F1 of each threshold policy, and the trivial floor's F1
METRICS = ["auroc", "aupr", *(f"f1_{policy}" for policy in POLICIES), "f1_trivial"]
#: the metrics a method is compared and ranked on (the floor is the same for every method)
SCORED = [m for m in METRICS if m != "f1_trivial"]
LABELS = {"auroc": "AUROC", "aupr": "AUPR", **{f"f1_{policy}": f"F1 {policy}" for policy in POLICIES}, "f1_trivial": "F1 trivial"}
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
