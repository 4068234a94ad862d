"""Numerical stability of a method: the same trial computed with two CPU thread counts.

A trial with ``--threads 1`` and the same trial with ``--threads 2`` differ only in the order
floating-point sums are taken in (a cheap stand-in for another machine or library build). A
method whose metric moves by more than ``STABILITY_LIMIT`` under that change measures rounding
noise as much as the method. Rows are paired by (method, protocol, dataset, positive set,
repeat, seed, device, precision, mix); everything else being equal, threads are the only difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from novelbench.benchmark.compare import PAIR_KEYS, check_metric, default_mix
from novelbench.errors import NovelbenchError

#: a default whose metric moves more than this between thread counts is flagged unstable
STABILITY_LIMIT = 0.03
KEYS = ["method", *PAIR_KEYS, "device", "precision", "mix"]


@dataclass
class Stability:
    pairs: pd.DataFrame  # one row per paired trial: the metric at each thread count and the change
    methods: pd.DataFrame  # one row per method: pairs, largest and median change, unstable?
    metric: str
    threads: tuple[int, int]
    limit: float


def thread_stability(table: pd.DataFrame, metric: str = "auroc", threads: tuple[int, int] = (1, 2), mix: str | None = None,
                     limit: float = STABILITY_LIMIT) -> Stability:
    """Pair each finished trial run with ``threads[0]`` with the same trial run with ``threads[1]``
    on the protocol's own table mix (or ``mix``); ``change`` = metric(b) - metric(a)."""
    check_metric(table, metric)
    a, b = threads
    if a == b:
        raise NovelbenchError(f"compare two different thread counts, got {a} and {b}")
    ok = table[(table["status"] == "ok") & table["threads"].isin([a, b])].copy()
    ok["threads"] = ok["threads"].astype(int)
    chosen = ok["protocol"].map(lambda p: mix or default_mix(p) or "pool")
    ok = ok[ok["mix"] == chosen].drop_duplicates(["trial_id", "mix"])
    dup = ok.duplicated(KEYS + ["threads"], keep=False)
    if dup.any():
        first = ok[dup].iloc[0]
        raise NovelbenchError(f"{first['method']} has two trials with {first['threads']} thread(s) for {first['positives']}, seed "
                              f"{first['seed']}: these inputs mix runs with different protocol options or code")
    wide = ok.pivot_table(index=KEYS, columns="threads", values=metric, aggfunc="first")
    if a not in wide.columns or b not in wide.columns:
        raise NovelbenchError(f"these results need trials run with --threads {a} and with --threads {b}; they have "
                              f"{', '.join(str(t) for t in sorted(ok['threads'].unique())) or 'no finished trials'}")
    wide = wide[[a, b]].dropna()
    if wide.empty:
        raise NovelbenchError(f"no trial was run with both --threads {a} and --threads {b}")
    pairs = wide.rename(columns={a: f"{metric}_threads{a}", b: f"{metric}_threads{b}"}).reset_index()
    pairs["change"] = pairs[f"{metric}_threads{b}"] - pairs[f"{metric}_threads{a}"]
    pairs["unstable"] = pairs["change"].abs() > limit
    per_method = pairs.groupby("method", sort=False).agg(
        pairs=("change", "size"), max_abs_change=("change", lambda c: float(np.abs(c).max())),
        median_abs_change=("change", lambda c: float(np.median(np.abs(c)))), unstable_pairs=("unstable", "sum"))
    per_method["unstable"] = per_method["unstable_pairs"] > 0
    return Stability(pairs, per_method.reset_index(), metric, (a, b), limit)
