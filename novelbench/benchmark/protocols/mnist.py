"""`mnist` protocol (outlier percentage; the paper's Figure 3).

For each positive class k and seed: train on the train-split images of k (minus a held-out
validation share); the test pool is the whole test split (inliers = k, outlier candidates =
every other class); the mix at p % keeps all test inliers and adds round(n_in * p / (100 - p))
seeded-sampled outliers. A "pool" mix (the whole test split, one-vs-rest) is reported as well.
Works on any labelled dataset with train and test splits.
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
class OutlierPercentage(Protocol):
    name = "mnist"
    summary = "one class = inliers, other classes = outliers at 10..50 %; train/test splits of the dataset"
    default_dataset = "mnist"
    options = (
        Option("classes", "strs", None, "Positive classes to run, by name or label index (default: all).", selects=True),
        Option("outlier_pcts", "floats", [10.0, 20.0, 30.0, 40.0, 50.0], "Outlier percentages of the test mixes, in (0, 100).", PERCENT),
        Option("val_share", "float", 0.1, "Share of training inliers held out of fitting for the `validation` F1 policy (0 disables it).", SHARE),
        Option("max_per_class", "int", 0, "Cap on training images per positive class (0 = no cap).", NON_NEGATIVE),
    )
    layout = ReportLayout("outlier_pct", "F1 vs outlier % (the paper's Figure 3)", auroc_mix="pool", figure=True)

    def _splits(self, data: LoadedDataset):
        if "train" not in data.splits or "test" not in data.splits:
            raise NovelbenchError(f"the mnist protocol needs a dataset with train and test splits; {data.name} has {sorted(data.splits)}")
        return data.splits["train"], data.splits["test"]

    def settings(self, data: LoadedDataset) -> list[Setting]:
        train, test = self._splits(data)
        exclude = {data.clutter_class} if data.clutter_class else set()
        chosen = resolve_classes(self.classes, train.class_names, exclude)
        for name in chosen:
            for split_name, split in (("training", train), ("test", test)):
                if name not in split.class_names or not (split.labels == split.label_of(name)).any():
                    raise NovelbenchError(f"class {name!r} has no {split_name} images in {data.name}; "
                                          f"choose others with --classes")
        return [Setting((c,), group="n=1") for c in chosen]

    def split(self, data: LoadedDataset, setting: Setting, seed: int) -> Split:
        train, test = self._splits(data)
        rng = np.random.default_rng([seed, 1])
        usable = [i for i, c in enumerate(train.class_names) if c != data.clutter_class]
        pos = {train.label_of(c) for c in setting.positives}
        in_train = np.flatnonzero(np.isin(train.labels, list(pos)))
        if self.max_per_class:
            in_train = np.sort(rng.permutation(in_train)[: self.max_per_class * len(pos)])
        fit_idx, val_idx = hold_out(in_train, self.val_share, rng)
        if len(fit_idx) == 0:
            raise NovelbenchError(f"no training images for {setting.positives} in {data.name}")

        out_test = np.flatnonzero(~np.isin(test.labels, list(pos)) & np.isin(test.labels, usable))
        in_test = np.flatnonzero(np.isin(test.labels, list(pos)))
        test_pool = make_pool(test.subset(in_test), test.subset(rng.permutation(out_test)),
                              self.outlier_pcts, with_pool_mix=True)

        validation = None
        if len(val_idx):
            out_train = np.flatnonzero(~np.isin(train.labels, list(pos)) & np.isin(train.labels, usable))
            needed = min(n_outliers_for(len(val_idx), max(self.outlier_pcts)), len(out_train))
            validation = make_pool(train.subset(val_idx), train.subset(rng.permutation(out_train)[:needed]),
                                   self.outlier_pcts, with_pool_mix=False)
        return Split(train.subset(fit_idx), test_pool, validation)
