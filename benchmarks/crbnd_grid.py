"""Figure-4-style grid: original x, reconstruction A(x), connective lam*x + (1-lam)*A(x) and the
classifier's score, for test inliers and outliers of one MNIST digit, plus the training
negatives the classifier was shown. Fits on the TRAIN split of the digit (default settings).

    python benchmarks/crbnd_grid.py --data-root ../shared/data --digit 8 --method crbnd --out results/reference/grid-crbnd-8.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from novelbench.registry import get_method
from novelbench.datasets.torchvision_sets import MNIST
from novelbench.methods import augment as aug


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--digit", type=int, default=8)
    ap.add_argument("--method", default="crbnd")
    ap.add_argument("--out", default="results/grid.png")
    args = ap.parse_args()
    torch.manual_seed(0)
    data = MNIST(args.data_root).load()
    train, test = data.splits["train"], data.splits["test"]
    x = train.images[torch.from_numpy(train.labels == args.digit)].float() / 255
    model = get_method(args.method, device="cpu").fit(x)

    rng = np.random.default_rng(0)
    inl = rng.choice(np.flatnonzero(test.labels == args.digit), 6, replace=False)
    out = np.array([rng.choice(np.flatnonzero(test.labels == d)) for d in range(10) if d != args.digit][:6])
    idx = np.r_[inl, out]
    imgs = test.images[torch.from_numpy(idx)].float() / 255
    with torch.no_grad():
        rec = model.ae_(imgs)
        con = aug.connective(imgs, rec, model._lam)
        neg = model._negatives(x[:12], model.ae_(x[:12]))
    scores = model.score(imgs)

    rows = [("x", imgs), ("A(x)", rec), ("connective", con)]
    fig, axes = plt.subplots(4, 12, figsize=(12, 4.6))
    for r, (name, batch) in enumerate(rows):
        for c in range(12):
            ax = axes[r, c]
            ax.imshow(batch[c, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
            if r == 0:
                ax.set_title(f"{'in' if c < 6 else 'OUT'} {scores[c]:.2f}", fontsize=7, color="k" if c < 6 else "r")
    for c in range(12):
        ax = axes[3, c]
        ax.imshow(neg[c, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
        if c == 0:
            ax.set_ylabel("train negatives", fontsize=8)
    fig.suptitle(f"{args.method}, digit {args.digit}: test inliers (left) and outliers (right); title = score (higher = more novel)", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
