"""`mnist-transductive` protocol: ALOCC's MNIST setup, trained and tested on the same images.

ALOCC's MNIST numbers (and the LOF / DRAE rows beside them) come from a setup with no train/test
split: the authors' code trains on the TRAIN images of digit k and tests on those same images
mixed with other digits' TRAIN images. Here, for each positive class k and seed: the model fits
on the train-split images of k minus a held-out validation share; the test pool is exactly those
fitted images (inliers) plus other classes' train-split images, and the mix at p % keeps every
inlier and adds round(n_in * p / (100 - p)) of them (nested, seeded). The held-out share, with
other train-split outliers disjoint from the test's, forms the `validation` policy's pool
(``--val-share 0`` disables it). No one-vs-rest "pool" mix: there is no test split, so the AUROC
column of the reports is the 50 % mix's. Options are those of the `mnist` protocol.
"""

from __future__ import annotations

import numpy as np

from novelbench.benchmark.protocols.base import ReportLayout, Setting, Split, hold_out, make_pool, n_outliers_for
from novelbench.benchmark.protocols.mnist import OutlierPercentage
from novelbench.datasets.base import LoadedDataset
from novelbench.errors import NovelbenchError
from novelbench.registry import register_protocol


@register_protocol
class TransductiveOutlierPercentage(OutlierPercentage):
    name = "mnist-transductive"
    summary = "ALOCC's setup: one class = inliers, fitted and tested on the same train-split images; other classes' train images = outliers at 10..50 %"
    layout = ReportLayout("outlier_pct", "F1 vs outlier %, transductive (ALOCC's no-split setup)", auroc_mix="p50", figure=True)

    def split(self, data: LoadedDataset, setting: Setting, seed: int) -> Split:
        train, _ = self._splits(data)
        rng = np.random.default_rng([seed, 1])
        usable = [i for i, c in enumerate(train.class_names) if c != data.clutter_class]
        pos = [train.label_of(c) for c in setting.positives]
        in_train = np.flatnonzero(np.isin(train.labels, pos))
        if self.max_per_class:
            in_train = np.sort(rng.permutation(in_train)[: self.max_per_class * len(pos)])
        fit_idx, val_idx = hold_out(in_train, self.val_share, rng)
        if len(fit_idx) == 0:
            raise NovelbenchError(f"no training images for {setting.positives} in {data.name}")

        outliers = rng.permutation(np.flatnonzero(~np.isin(train.labels, pos) & np.isin(train.labels, usable)))
        n_test = n_outliers_for(len(fit_idx), max(self.outlier_pcts))
        n_val = min(n_outliers_for(len(val_idx), max(self.outlier_pcts)), max(len(outliers) - n_test, 0))
        if n_test > len(outliers):
            raise NovelbenchError(f"a {max(self.outlier_pcts):g}% mix needs {n_test} outliers but {data.name} has {len(outliers)}")
        test_pool = make_pool(train.subset(fit_idx), train.subset(outliers[:n_test]), self.outlier_pcts, with_pool_mix=False)
        validation = None
        if len(val_idx):
            validation = make_pool(train.subset(val_idx), train.subset(outliers[n_test : n_test + n_val]), self.outlier_pcts,
                                   with_pool_mix=False)
        return Split(train.subset(fit_idx), test_pool, validation)
