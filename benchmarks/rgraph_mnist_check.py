"""Is R-graph's MNIST AUROC below 0.5 the harness or the method? A check outside the harness.

R-graph (``novelbench.methods.rgraph``) on small MNIST pools built here directly from the training
split, without the protocol, the executors or the trial code: ``--inliers`` images of one digit plus
other digits' images as outliers at 10 % and 50 %, points scaled to unit norm, the registry's
default lam / gamma / working set, walk lengths T = 10 and 1000. AUROC with outliers positive
(score = minus the walk's average visit share, as the method returns). Seeds draw the images.

    python benchmarks/rgraph_mnist_check.py --data-root DATA --digits 1 3 --seeds 0 1 [--save DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--digits", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--inliers", type=int, default=600)
    parser.add_argument("--save", type=Path, help="write DIR/rgraph-mnist-check.csv")
    args = parser.parse_args()

    from torchvision.datasets import MNIST

    from novelbench.methods.rgraph import RGraph, elastic_net_self_representation, random_walk_scores
    from novelbench.methods.subspace import unit_rows

    defaults = RGraph()
    data = MNIST(args.data_root, train=True, download=False)
    pixels = data.data.reshape(len(data.data), -1).numpy().astype(np.float64) / 255.0
    labels = data.targets.numpy()
    rows = []
    for seed in args.seeds:
        for digit in args.digits:
            for share in (0.1, 0.5):
                rng = np.random.default_rng(seed)
                inliers = rng.choice(np.flatnonzero(labels == digit), args.inliers, replace=False)
                n_out = round(args.inliers * share / (1 - share))
                outliers = rng.choice(np.flatnonzero(labels != digit), n_out, replace=False)
                x = unit_rows(pixels[np.r_[inliers, outliers]])
                is_outlier = np.r_[np.zeros(len(inliers)), np.ones(n_out)]
                c = elastic_net_self_representation(x, defaults.lam, defaults.gamma, defaults.support, defaults.max_rounds)
                for steps in (10, 1000):
                    auroc = roc_auc_score(is_outlier, -random_walk_scores(c, steps))
                    rows.append({"digit": digit, "seed": seed, "outlier share": share, "T": steps, "auroc": auroc})
                    print(f"digit {digit} seed {seed} outliers {share:.0%} T={steps}: AUROC {auroc:.3f}", flush=True)
    table = pd.DataFrame(rows)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.save / "rgraph-mnist-check.csv", index=False)


if __name__ == "__main__":
    main()
