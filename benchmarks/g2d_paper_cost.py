"""What one full-MNIST ``g2d-paper`` trial would cost on this machine: the method's own code, timed
for a few generator iterations, extrapolated.

``g2d-paper`` (the authors' DCGAN generator 1024-512-256 and critic 256-512-1024, WGAN-GP with 5
critic steps per generator step, batch 64, T = 2,000 generator iterations) is GPU-sized. This
runs the preset's ``_train_gan`` (the real loop, on random 28 x 28 "inliers": the cost does not
depend on the pixels) for two numbers of iterations and takes the difference per iteration, so the
fixed cost (networks, negatives) drops out; and it times Adam steps of the preset's classifier:

- GAN: T generator iterations x the per-iteration cost;
- classifier: ceil(2 x n_train / batch) x clf_epochs steps (inliers + as many negatives);
- scoring (10,000 test images, one pass of the classifier) is under a minute and left out.

    python benchmarks/g2d_paper_cost.py [--threads 1] [--n-train 6742] [--iters 2 6]

Digit 1 has MNIST's largest training set (6,742 images).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from geom_paper_cost import seconds_per_call  # run as a script from benchmarks/ (or with it on the path)
from novelbench.methods.dcgan import DCGANCritic
from novelbench.registry import get_method


def gan_seconds(iterations: int, data: torch.Tensor) -> float:
    method = get_method("g2d-paper", threshold_iter=iterations, snapshots=1, n_negatives=64)
    method.device_ = torch.device("cpu")
    start = time.perf_counter()
    method._train_gan(data, 64)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=6742)
    parser.add_argument("--iters", type=int, nargs=2, default=(2, 6))
    parser.add_argument("--clf-steps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    p = get_method("g2d-paper")
    data = torch.rand(512, 1, 28, 28)
    load0 = os.getloadavg()[0]
    few, many = (gan_seconds(k, data) for k in args.iters)
    iter_s = (many - few) / (args.iters[1] - args.iters[0])

    clf = DCGANCritic(1, 28, tuple(p.clf_widths))
    optimiser = torch.optim.Adam(clf.parameters(), lr=p.clf_lr)
    x, y = torch.rand(p.batch_size, 1, 28, 28), torch.randint(0, 2, (p.batch_size,)).float()

    def clf_step() -> None:
        optimiser.zero_grad()
        F.binary_cross_entropy_with_logits(clf(x), y).backward()
        optimiser.step()

    clf_step_s = seconds_per_call(clf_step, args.clf_steps)
    clf_steps = max(math.ceil(2 * args.n_train / p.batch_size) * p.clf_epochs, p.min_steps)
    gan_h, clf_h = p.threshold_iter * iter_s / 3600, clf_steps * clf_step_s / 3600
    print(json.dumps({"threads": args.threads, "generator_iteration_s": round(iter_s, 3), "iterations": p.threshold_iter,
                      "clf_step_s": round(clf_step_s, 3), "clf_steps": clf_steps, "gan_hours": round(gan_h, 2),
                      "clf_hours": round(clf_h, 2), "trial_hours": round(gan_h + clf_h, 2),
                      "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
