"""Sanity anchor: plain scikit-learn OneClassSVM vs `bench run --method ocsvm` on MNIST.

Plain: OneClassSVM(gamma="scale", nu=0.1) on raw pixels, trained on one digit's training
images, scored on the whole test split (one-vs-rest AUROC). The harness must land on the same
number at nearly the same time. Usage:

    python benchmarks/ocsvm_anchor.py --data-root ../shared/data [--digits 0,1,...]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.svm import OneClassSVM

from novelbench.datasets.torchvision_sets import MNIST


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    args = ap.parse_args()
    digits = [int(d) for d in args.digits.split(",")]

    data = MNIST(args.data_root).load()
    train, test = data.splits["train"], data.splits["test"]
    x_test = test.images.reshape(len(test), -1).numpy().astype(np.float32)
    plain = {}
    for d in digits:
        t0 = time.perf_counter()
        x = train.images[train.labels == d].reshape(-1, 784).numpy().astype(np.float32)
        svm = OneClassSVM(gamma="scale", nu=0.1).fit(x)
        auc = roc_auc_score(test.labels != d, -svm.decision_function(x_test))
        plain[d] = (auc, time.perf_counter() - t0)
        print(f"plain sklearn digit {d}: AUROC {auc:.4f} in {plain[d][1]:.2f} s", flush=True)

    with tempfile.TemporaryDirectory() as out:
        cmd = ["bench", "run", "--method", "ocsvm", "--protocol", "mnist", "--data-root", args.data_root,
               "--classes", args.digits, "--val-share", "0", "--out", out, "--json"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        import pandas as pd

        table = pd.read_parquet(f"{out}/results.parquet")
    pool = table[table["mix"] == "pool"].set_index("positives")
    print("\ndigit  plain_auroc  bench_auroc  plain_s  bench_fit+score_s")
    for d, name in zip(digits, [data.splits["train"].class_names[d] for d in digits]):
        r = pool.loc[name]
        print(f"{d:5d}  {plain[d][0]:.4f}       {r['auroc']:.4f}       {plain[d][1]:6.2f}   {r['fit_seconds'] + r['score_seconds']:6.2f}")
    mean_plain = np.mean([v[0] for v in plain.values()])
    print(f"\nmean AUROC plain {mean_plain:.4f}  bench {pool['auroc'].mean():.4f}")
    print(f"seconds/digit plain {np.mean([v[1] for v in plain.values()]):.2f}  "
          f"bench fit+score {np.mean(pool['fit_seconds'] + pool['score_seconds']):.2f}  "
          f"bench wall incl. start-up, loading and all mixes {wall / len(digits):.2f}")


if __name__ == "__main__":
    main()
