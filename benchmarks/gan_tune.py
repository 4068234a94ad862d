"""Validation-only tuning curves of alocc and g2d on MNIST's TRAIN split (the test split is never read).

Per digit, the harness's own `mnist` split: the model fits on the digit's train images minus the
held-out 10 % (exactly what a trial fits on); the validation pool is those held-out inliers plus as
many other digits' TRAIN images (the pool of the `validation` F1 policy). One training run gives a
whole curve:
- alocc: validation AUROC of both scores, D(R(x)) and D(x), and the reconstruction error, at the
  end of every epoch (what `epochs` / `stop_mse` would stop at);
- g2d: one WGAN-GP run to the largest T with generator snapshots along the way; for each T in
  --thresholds, a classifier is trained on the inliers vs negatives drawn from the snapshots up to
  T, and its validation AUROC reported (what `threshold_iter` would give). --grid saves a PNG of
  each snapshot's samples.

    PYTHONPATH=. python benchmarks/gan_tune.py alocc --data-root DATA --digits 1 5 8 --epochs 10
    PYTHONPATH=. python benchmarks/gan_tune.py g2d --data-root DATA --digits 1 5 8 --thresholds 50 100 200 400

(``PYTHONPATH=.`` from the repository root, so this checkout's ``novelbench`` is imported.)
"""

from __future__ import annotations

import argparse
import ast
import os
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

import novelbench.methods.alocc as alocc_module
from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.execution import to_float
from novelbench.benchmark.protocols.base import Setting
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.methods.adversarial import ShuffledBatches
from novelbench.registry import PROTOCOLS, get_method


def split_for(data_root: str, digit: int, seed: int):
    params = {"data_root": data_root, "download": False, "image_size": None}
    data = load_dataset("mnist", params)
    split = PROTOCOLS.create("mnist").split(data, Setting((data.splits["train"].class_names[digit],)), seed)
    val = split.validation
    idx = val.mix("p50").index  # held-out inliers + as many other-digit train images
    return to_float(split.train.images), to_float(val.images.images[idx]), val.is_outlier[idx]


def alocc_curve(args, params, digit, fit, val, y) -> None:
    method = get_method("alocc", **params, epochs=args.epochs, device="cpu")

    class Hooked(ShuffledBatches):  # evaluates the networks whenever an epoch of batches ends
        def __next__(self):
            before = self.epoch
            out = super().__next__()
            if self.epoch != before:
                evaluate(self.epoch)
            return out

    def evaluate(epoch):
        r, d = method.r_, method.d_
        r.eval(), d.eval()
        with torch.no_grad():
            l_dr = torch.cat([d(r(val[i:i + 512])) for i in range(0, len(val), 512)])
            l_d = torch.cat([d(val[i:i + 512]) for i in range(0, len(val), 512)])
            mse = np.mean(method.history_["r_mse"][-method_steps(fit):])
        a_dr, a_d = roc_auc_score(y, -l_dr.numpy()), roc_auc_score(y, -l_d.numpy())
        print(f"| {digit} | {epoch} | {a_dr:.3f} | {a_d:.3f} | {mse:.4f} | {time.perf_counter() - t0:.0f} |", flush=True)
        r.train(), d.train()

    def method_steps(x):
        return -(-len(x) // params.get("batch_size", 128))

    alocc_module.ShuffledBatches = Hooked
    t0 = time.perf_counter()
    try:
        method.fit(fit)
    finally:
        alocc_module.ShuffledBatches = ShuffledBatches


def g2d_curve(args, params, digit, fit, val, y) -> None:
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
    ap.add_argument("method", choices=["alocc", "g2d"])
    ap.add_argument("--data-root", default=os.environ.get("NOVELBENCH_DATA_ROOT", "data"))
    ap.add_argument("--digits", type=int, nargs="+", default=[0, 1, 8])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=10, help="alocc: epochs to trace")
    ap.add_argument("--thresholds", type=int, nargs="+", default=[50, 100, 200, 400], help="g2d: values of T to try")
    ap.add_argument("--snapshots", type=int, default=16, help="g2d: snapshots over (0, max T]")
    ap.add_argument("--grid", default="", help="g2d: folder for PNG grids of snapshot samples")
    ap.add_argument("--param", action="append", default=[], help="name=value (python literal)")
    args = ap.parse_args()
    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
    print(f"# {args.method} params={params} seed={args.seed} threads={args.threads} (validation AUROC, MNIST train split)")
    if args.method == "alocc":
        print("| digit | epoch | AUROC D(R(x)) | AUROC D(x) | recon MSE/pixel | s |\n|---|---|---|---|---|---|")
    else:
        print("| digit | T | snapshots used | AUROC | GAN s (to T) | classifier s |\n|---|---|---|---|---|---|")
    for digit in args.digits:
        fit, val, y = split_for(args.data_root, digit, args.seed)
        with pinned_threads(args.threads):
            seed_everything(args.seed)
            (alocc_curve if args.method == "alocc" else g2d_curve)(args, params, digit, fit, val, y)


if __name__ == "__main__":
    main()
