"""What one full-MNIST ``geom-paper`` trial would cost on this machine: a few timed steps, extrapolated.

``geom-paper`` (the authors' WRN-10-4, 3 epochs over every (image, transformation) pair, the
Dirichlet fitted on all training inliers) is too slow to run whole on a CPU; this times the two
costs a trial is made of on random 32 x 32 inputs (the cost does not depend on the pixels) and
multiplies them out for a digit with ``--n-train`` training images and the 10,000-image test pool:

- training steps: ceil(n_train x 72 / batch) x epochs, each one Adam step of the preset's network;
- scoring passes: 72 x (n_test + n_train) images in eval mode (test pool + Dirichlet fit), in
  batches of geom's SCORE_BATCH.

    python benchmarks/geom_paper_cost.py [--threads 1] [--n-train 6742] [--steps 6]

Digit 1 has MNIST's largest training set (6,742 images). The first step and batch are not timed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from novelbench.methods.geom import SCORE_BATCH
from novelbench.methods.geometric import transformation_set
from novelbench.methods.wrn import WideResNet
from novelbench.registry import get_method


def seconds_per_call(fn, calls: int) -> float:
    fn()  # warm-up, not timed
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=6742)
    parser.add_argument("--n-test", type=int, default=10000)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    p = get_method("geom-paper")  # the preset's settings: network, image side, optimiser, epochs
    side = p.pad_to
    n_transforms = len(transformation_set(p.transforms, shift=side // 4))  # the count does not depend on the shift
    net = WideResNet(1, n_transforms, p.wrn_depth, p.wrn_widen)
    optimiser = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=2 * p.l2)
    x = torch.randn(p.batch_size, 1, side, side)
    y = torch.randint(0, n_transforms, (p.batch_size,))

    def train_step() -> None:
        optimiser.zero_grad()
        F.cross_entropy(net(x), y).backward()
        optimiser.step()

    load0 = os.getloadavg()[0]
    step_s = seconds_per_call(train_step, args.steps)
    net.eval()
    batch = torch.randn(SCORE_BATCH, 1, side, side)
    with torch.no_grad():
        score_s = seconds_per_call(lambda: net(batch), 2)
    steps = math.ceil(args.n_train * n_transforms / p.batch_size) * p.epochs
    passes = n_transforms * (args.n_test + args.n_train)
    train_h, score_h = steps * step_s / 3600, passes / SCORE_BATCH * score_s / 3600
    print(json.dumps({"threads": args.threads, "parameters": sum(t.numel() for t in net.parameters()),
                      "train_step_s": round(step_s, 3), "score_batch_s": round(score_s, 3), "score_batch": SCORE_BATCH,
                      "train_steps": steps, "scoring_passes": passes, "train_hours": round(train_h, 2),
                      "score_hours": round(score_h, 2), "trial_hours": round(train_h + score_h, 2),
                      "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
