"""Validation-only comparison of settings of any method on MNIST's TRAIN split (test never read).

Per digit k: 20 % of k's train images (at most --max-val) are held out as validation inliers and
the rest (at most --max-train) trains the method; validation outliers are --n-outliers images of
the other digits' train images. The split depends only on k, so every setting sees the same
data. Prints the validation AUROC and the CPU seconds of fit + validation scoring, one thread.

    python benchmarks/validation_tune.py --data-root DATA --method geom --digits 2 8 --param head='"flatten"'
"""

from __future__ import annotations

import argparse
import ast
import json
import resource
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.datasets.torchvision_sets import MNIST
from novelbench.registry import get_method


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--method", required=True)
    ap.add_argument("--digits", type=int, nargs="+", default=[2, 8])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-train", type=int, default=0, help="cap on training images (0 = all)")
    ap.add_argument("--n-outliers", type=int, default=1000)
    ap.add_argument("--param", action="append", default=[], help="NAME=VALUE (a Python literal)")
    args = ap.parse_args()
    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
    train = MNIST(args.data_root).load().splits["train"]
    for k in args.digits:
        rng = np.random.default_rng(1000 + k)
        inliers = rng.permutation(np.flatnonzero(train.labels == k))
        n_val = min(len(inliers) // 5, 1000)
        fit_idx = inliers[n_val:][: args.max_train or None]
        out_idx = rng.choice(np.flatnonzero(train.labels != k), args.n_outliers, replace=False)
        fit = train.images[fit_idx].float() / 255
        val = torch.cat([train.images[inliers[:n_val]], train.images[out_idx]]).float() / 255
        is_out = np.r_[np.zeros(n_val), np.ones(args.n_outliers)]
        with pinned_threads(1):
            seed_everything(args.seed)
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            method = get_method(args.method, **{"device": "cpu", **params} if "device" in
                                get_method(args.method).get_params() else params).fit(fit)
            auroc = roc_auc_score(is_out, method.score(val))
            cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
        print(json.dumps({"method": args.method, "params": {k2: repr(v) for k2, v in params.items()}, "digit": k,
                          "n_fit": len(fit_idx), "val_auroc": round(auroc, 4), "cpu_s": round(cpu, 1), "wall_s": round(wall, 1)}),
              flush=True)


if __name__ == "__main__":
    main()
