"""`caltech` protocol (clutter outliers; the paper's Table 1).

For n in {1, 3, 5} positive categories and each seeded repeat: draw n object categories, take
the first ``max_per_class`` images (default 150) of each, split them into train and test
inliers (``train_fraction``; ``transductive`` trains on all of them and tests on all of them,
ALOCC's no-split setup), and add clutter images so the test mix is exactly 50 % outliers.
The clutter class is the only outlier source and is never an inlier.
"""

from __future__ import annotations

import numpy as np

from novelbench.benchmark.protocols.base import (
    NON_NEGATIVE, OPEN_SHARE, PERCENT, POSITIVE, SHARE, Option, Protocol, ReportLayout, Setting, Split, hold_out, make_pool, n_outliers_for, resolve_classes,
)
from novelbench.datasets.base import LoadedDataset
from novelbench.errors import NovelbenchError
from novelbench.registry import register_protocol


@register_protocol
class Clutter(Protocol):
    name = "caltech"
    summary = "n random categories = inliers, clutter class = outliers, test mix exactly 50 %"
    default_dataset = "caltech256"
    options = (
        Option("classes", "strs", None, "Categories the positives are drawn from, by name or label index (default: all but clutter).", selects=True),
        Option("n_classes", "ints", [1, 3, 5], "Positive-set sizes.", POSITIVE, selects=True),
        Option("repeats", "int", 20, "Random positive-set draws per size (the draw depends on size and repeat only).", POSITIVE, selects=True),
        Option("max_per_class", "int", 150, "Cap on images per positive category, the first ones in file order (0 = no cap).", NON_NEGATIVE),
        Option("train_fraction", "float", 0.5, "Share of the positive images used for training; the rest are test inliers.",
               OPEN_SHARE),
        Option("transductive", "bool", False, "Train and test on the same positive images (ALOCC's setup); no validation split then."),
        Option("outlier_pcts", "floats", [50.0], "Outlier percentages of the test mixes, in (0, 100).", PERCENT),
        Option("val_share", "float", 0.1, "Share of training inliers held out of fitting for the `validation` F1 policy (0 disables it).", SHARE),
    )
    layout = ReportLayout("group", "Table 1: AUROC and F1 per number of positive classes", mix="p50")

    def _data(self, data: LoadedDataset):
        if not data.clutter_class or "all" not in data.splits:
            raise NovelbenchError(f"the caltech protocol needs a dataset with a clutter class (caltech256, caltech101, synthetic); {data.name} has none")
        return data.splits["all"]

    def settings(self, data: LoadedDataset) -> list[Setting]:
        allset = self._data(data)
        candidates = resolve_classes(self.classes, allset.class_names, {data.clutter_class})
        out = []
        for n in self.n_classes:
            if not 1 <= n <= len(candidates):
                raise NovelbenchError(f"cannot draw {n} positive classes from {len(candidates)} categories")
            for r in range(self.repeats):
                rng = np.random.default_rng([n, r])  # the draw depends on (n, repeat) only, not on seed
                drawn = tuple(sorted(rng.choice(candidates, size=n, replace=False).tolist()))
                out.append(Setting(drawn, repeat=r, group=f"n={n}"))
        return out

    def split(self, data: LoadedDataset, setting: Setting, seed: int) -> Split:
        allset = self._data(data)
        rng = np.random.default_rng([seed, setting.repeat, 2])
        inliers = []
        for name in setting.positives:
            idx = np.flatnonzero(allset.labels == allset.label_of(name))
            inliers.append(idx[: self.max_per_class] if self.max_per_class else idx)
        inliers = np.concatenate(inliers)
        if self.transductive:  # fit on every image and test on the same ones; nothing is left to validate on
            fit_idx, test_idx, val_idx = inliers, inliers, inliers[:0]
        else:
            train_idx, test_idx = hold_out(inliers, 1 - self.train_fraction, rng)
            fit_idx, val_idx = hold_out(train_idx, self.val_share, rng)

        clutter = rng.permutation(np.flatnonzero(allset.labels == allset.label_of(data.clutter_class)))
        n_test_out = n_outliers_for(len(test_idx), max(self.outlier_pcts))
        n_val_out = n_outliers_for(len(val_idx), max(self.outlier_pcts))
        if n_test_out + n_val_out > len(clutter):
            raise NovelbenchError(f"{setting.positives} need {n_test_out + n_val_out} clutter images, {data.name} has {len(clutter)}; lower --max-per-class")
        test_pool = make_pool(allset.subset(test_idx), allset.subset(clutter[:n_test_out]), self.outlier_pcts, with_pool_mix=False)
        validation = None
        if len(val_idx):
            validation = make_pool(allset.subset(val_idx), allset.subset(clutter[n_test_out : n_test_out + n_val_out]),
                                   self.outlier_pcts, with_pool_mix=False)
        return Split(allset.subset(fit_idx), test_pool, validation)
