"""Validation-only tuning of crbnd / crbnd-plus on MNIST's TRAIN split (the test split is never read).

Per digit k: 20 % of k's train images are held out as validation inliers, the rest trains the
model; validation outliers are a random sample of the other digits' train images. From one fit we
report the AUROC of the classifier score, the reconstruction error of the same autoencoder and the
combined (z-scored) score, so the faithful method's pitfall shows up per digit.

    python benchmarks/crbnd_tune.py --method crbnd --digits 0 1 7 8 --param widths="(16,32)"
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from novelbench.registry import get_method
from novelbench.datasets.torchvision_sets import MNIST
from novelbench.methods.training import reconstruction_error


def validation_split(images, labels, digit, n_out, rng):
    idx_in = rng.permutation(np.flatnonzero(labels == digit))
    n_val = len(idx_in) // 5
    idx_out = rng.choice(np.flatnonzero(labels != digit), n_out, replace=False)
    fit = images[idx_in[n_val:]].float() / 255
    val = torch.cat([images[idx_in[:n_val]], images[idx_out]]).float() / 255
    y_out = np.r_[np.zeros(n_val), np.ones(n_out)]
    return fit, val, y_out, np.r_[np.full(n_val, digit), labels[idx_out]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", default="/work/shared/data")
    ap.add_argument("--method", default="crbnd")
    ap.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-outliers", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--param", action="append", default=[], help="name=value (python literal)")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
    train = MNIST(args.data_root).load().splits["train"]  # validation uses the train split only
    print(f"# {args.tag} method={args.method} params={params} seed={args.seed}")
    print("| digit | score | classifier | recon | combined | fit s |")
    print("|---|---|---|---|---|---|")
    rows, per_outlier = [], []
    for k in args.digits:
        rng = np.random.default_rng(1000 + k)  # same validation split for every config
        fit, val, y, lab = validation_split(train.images, train.labels, k, args.n_outliers, rng)
        torch.manual_seed(args.seed)
        np.random.seed(args.seed)
        m = get_method(args.method, **params)
        t = time.perf_counter()
        m.fit(fit)
        sec = time.perf_counter() - t
        s_val = m.score(val)
        score = roc_auc_score(y, s_val)
        r_err = reconstruction_error(m.ae_, val, 512, m.device_)
        rec = roc_auc_score(y, r_err)
        if hasattr(m, "clf_"):
            clf = roc_auc_score(y, -m._logits(val).numpy())
            # combined z-scored evidence, statistics from the fit images
            r_fit = np.log(reconstruction_error(m.ae_, fit, 512, m.device_) + 1e-12)
            c_fit = -m._logits(fit).numpy()
            r_val = np.log(reconstruction_error(m.ae_, val, 512, m.device_) + 1e-12)
            c_val = -m._logits(val).numpy()
            comb = roc_auc_score(y, (r_val - r_fit.mean()) / r_fit.std() + (c_val - c_fit.mean()) / c_fit.std())
        else:
            clf = comb = float("nan")
        rows.append((score, clf, rec, comb, sec))
        pairs = []
        for j in sorted(set(lab) - {k}):  # which outlier digits are hard: AUROC of k vs j alone
            sel = (lab == k) | (lab == j)
            c_j = roc_auc_score(y[sel], c_val[sel]) if hasattr(m, "clf_") else float("nan")
            pairs.append(f"{j}:{roc_auc_score(y[sel], s_val[sel]):.2f}/{c_j:.2f}/{roc_auc_score(y[sel], r_err[sel]):.2f}")
        per_outlier.append(f"| {k} vs | " + " ".join(pairs) + " |")
        print(f"| {k} | {score:.4f} | {clf:.4f} | {rec:.4f} | {comb:.4f} | {sec:.0f} |", flush=True)
    mean = np.nanmean(np.array(rows), axis=0)
    print(f"| mean | {mean[0]:.4f} | {mean[1]:.4f} | {mean[2]:.4f} | {mean[3]:.4f} | {mean[4]:.0f} |")
    print("\nPer outlier digit j, AUROC of inlier k vs j only (score/classifier/recon):")
    print("\n".join(per_outlier))


if __name__ == "__main__":
    main()
