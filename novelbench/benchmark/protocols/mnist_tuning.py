"""`mnist-tuning` protocol: compare a method's settings on the TRAIN split; no test image is scored.

For choosing settings without looking at test numbers (how `crbnd-plus`'s were chosen). For each
positive class k and seed: a share of k's train images (``--val-share``, default 0.2) is held out
as the test inliers and the rest trains the method; the test outliers are other classes' train
images, as many as the largest outlier % needs, and the mix at p % adds a nested seeded sample of
them. No validation pool (so no `validation` F1 policy) and no one-vs-rest "pool" mix: the AUROC
column of the reports is the 50 % mix's. The other options are those of the `mnist` protocol.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from novelbench.benchmark.protocols.base import OPEN_SHARE, ReportLayout, Setting, Split, hold_out, make_pool, n_outliers_for
from novelbench.benchmark.protocols.mnist import OutlierPercentage
from novelbench.datasets.base import LoadedDataset
from novelbench.errors import NovelbenchError
from novelbench.registry import register_protocol

HELD_OUT = "Share of the positive class's train images held out as the test inliers (the rest trains the method)."


@register_protocol
class TuningOutlierPercentage(OutlierPercentage):
    name = "mnist-tuning"
    summary = "for choosing settings: one class's held-out train images vs other classes' train images at 10..50 %; no test image is scored"
    options = tuple(dataclasses.replace(o, default=0.2, help=HELD_OUT, constraint=OPEN_SHARE) if o.name == "val_share" else o
                    for o in OutlierPercentage.options)
    layout = ReportLayout("outlier_pct", "F1 vs outlier %, inside the train split (for tuning)", auroc_mix="p50", figure=True)

    def split(self, data: LoadedDataset, setting: Setting, seed: int) -> Split:
        train, _ = self._splits(data)
        rng = np.random.default_rng([seed, 1])
        usable = [i for i, c in enumerate(train.class_names) if c != data.clutter_class]
        pos = [train.label_of(c) for c in setting.positives]
        in_train = np.flatnonzero(np.isin(train.labels, pos))
        if self.max_per_class:
            in_train = np.sort(rng.permutation(in_train)[: self.max_per_class * len(pos)])
        fit_idx, held_idx = hold_out(in_train, self.val_share, rng)
        if len(fit_idx) == 0 or len(held_idx) == 0:
            raise NovelbenchError(f"--val-share {self.val_share:g} leaves no training or no held-out images for {setting.positives}")
        outliers = rng.permutation(np.flatnonzero(~np.isin(train.labels, pos) & np.isin(train.labels, usable)))
        needed = n_outliers_for(len(held_idx), max(self.outlier_pcts))
        test_pool = make_pool(train.subset(held_idx), train.subset(outliers[:needed]), self.outlier_pcts, with_pool_mix=False)
        return Split(train.subset(fit_idx), test_pool, None)
