"""Validation-only tuning curves of g2d on MNIST's TRAIN split (the test split is never read).

(alocc's per-epoch curves are a `bench` feature now: `bench curves -m alocc --param alocc.epochs=N ...`,
through the method's own `fit(images, on_epoch=...)` hook.)

Per digit, the harness's own `mnist` split: the model fits on the digit's train images minus the
held-out 10 % (exactly what a trial fits on); the validation pool is those held-out inliers plus as
many other digits' TRAIN images (the pool of the `validation` F1 policy). One training run gives a
whole curve: one WGAN-GP run to the largest T with generator snapshots along the way; for each T in
  --thresholds, a classifier is trained on the inliers vs negatives drawn from the snapshots up to
  T, and its validation AUROC reported (what `threshold_iter` would give). --grid saves a PNG of
  each snapshot's samples.

    PYTHONPATH=. python benchmarks/gan_tune.py g2d --data-root DATA --digits 1 5 8 --thresholds 50 100 200 400

(``PYTHONPATH=.`` from the repository root, so this checkout's ``novelbench`` is imported.)
"""

from __future__ import annotations

import argparse
import ast
import os
import time

import torch
from sklearn.metrics import roc_auc_score

from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.execution import to_float
from novelbench.benchmark.protocols.base import Setting
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.registry import PROTOCOLS, get_method


def splits_for(data_root: str, digit: int, seed: int):
    """The `mnist` split (fit set, validation pool) and the `mnist-transductive` split of a digit:
    both fit on the same images (the same seeded hold-out), and read the TRAIN split only."""
    params = {"data_root": data_root, "download": False, "image_size": None}
    data = load_dataset("mnist", params)
    setting = Setting((data.splits["train"].class_names[digit],))
    inductive = PROTOCOLS.create("mnist").split(data, setting, seed)
    transductive = PROTOCOLS.create("mnist-transductive").split(data, setting, seed)
    assert torch.equal(inductive.train.images, transductive.train.images)
    return inductive, transductive


def validation_pool(split):
    val = split.validation
    idx = val.mix("p50").index  # held-out inliers + as many other-digit train images
    return to_float(val.images.images[idx]), val.is_outlier[idx]


def g2d_curve(args, params, digit, inductive, transductive) -> None:
    fit = to_float(inductive.train.images)
    val, y = validation_pool(inductive)
    t_max = max(args.thresholds)
    k = args.snapshots
    base = get_method("g2d", **params, device="cpu", threshold_iter=t_max, snapshots=k, n_negatives=k * len(fit))
    base.device_ = torch.device("cpu")
    t0 = time.perf_counter()
    negatives = base._train_gan(fit, k * len(fit))  # snapshot j (at iteration t_max*j/k) made block j
    gan_seconds = time.perf_counter() - t0
    blocks = negatives.reshape(k, len(fit), *fit.shape[1:])
    if args.grid:
        import torchvision.utils as vutils
        os.makedirs(args.grid, exist_ok=True)
        vutils.save_image(blocks[:, :16].reshape(-1, *fit.shape[1:]), f"{args.grid}/g2d-digit{digit}-snapshots.png", nrow=16)
    for t in sorted(args.thresholds):
        j = max(1, round(k * t / t_max))  # snapshots up to T
        pool = blocks[:j].reshape(-1, *fit.shape[1:])
        neg = pool[torch.randperm(len(pool))[: len(fit)]]
        method = get_method("g2d", **params, device="cpu", threshold_iter=t)
        method.device_ = torch.device("cpu")
        t1 = time.perf_counter()
        method._train_gan = lambda data, n, neg=neg: neg  # the same GAN trajectory, cut at T
        method.fit(fit)
        auc = roc_auc_score(y, method.score(val))
        print(f"| {digit} | {t} | {j} | {auc:.3f} | {gan_seconds * t / t_max:.0f} | {time.perf_counter() - t1:.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("method", choices=["g2d"])
    ap.add_argument("--data-root", default=os.environ.get("NOVELBENCH_DATA_ROOT", "data"))
    ap.add_argument("--digits", type=int, nargs="+", default=[0, 1, 8])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--thresholds", type=int, nargs="+", default=[50, 100, 200, 400], help="g2d: values of T to try")
    ap.add_argument("--snapshots", type=int, default=16, help="g2d: snapshots over (0, max T]")
    ap.add_argument("--grid", default="", help="g2d: folder for PNG grids of snapshot samples")
    ap.add_argument("--param", action="append", default=[], help="name=value (python literal)")
    args = ap.parse_args()
    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
    print(f"# {args.method} params={params} seed={args.seed} threads={args.threads} (validation AUROC, MNIST train split)")
    print("| digit | T | snapshots used | AUROC | GAN s (to T) | classifier s |\n|---|---|---|---|---|---|")
    for digit in args.digits:
        inductive, transductive = splits_for(args.data_root, digit, args.seed)
        with pinned_threads(args.threads):
            seed_everything(args.seed)
            g2d_curve(args, params, digit, inductive, transductive)


if __name__ == "__main__":
    main()
