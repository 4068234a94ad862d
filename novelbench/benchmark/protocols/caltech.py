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
    Protocol, Setting, Split, check_pcts, hold_out, make_pool, n_outliers_for, resolve_classes,
)
from novelbench.benchmark.registry import register_protocol
from novelbench.datasets.base import LoadedDataset
from novelbench.errors import NovelbenchError


@register_protocol
class Clutter(Protocol):
    name = "caltech"
    summary = "n random categories = inliers, clutter class = outliers, test mix exactly 50 %"

    def __init__(self, classes: list[str] | None = None, n_classes: list[int] | None = None, repeats: int = 20,
                 max_per_class: int | None = 150, train_fraction: float = 0.5, transductive: bool = False,
                 outlier_pcts: list[float] | None = None, val_share: float = 0.1):
        self.classes = list(classes) if classes else None
        self.n_classes = [int(n) for n in (n_classes or [1, 3, 5])]
        self.repeats = repeats
        self.max_per_class = max_per_class
        if not 0 < train_fraction < 1:
            raise NovelbenchError(f"train fraction {train_fraction} must be in (0, 1)")
        self.train_fraction = train_fraction
        self.transductive = transductive
        self.outlier_pcts = check_pcts(outlier_pcts or [50.0])
        self.val_share = val_share

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
        if self.transductive:
            train_idx, test_idx = inliers, inliers
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
