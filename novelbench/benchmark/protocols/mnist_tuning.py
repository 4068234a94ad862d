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

from novelbench.benchmark.protocols.base import OPEN_SHARE, ReportLayout, Setting, Split
from novelbench.benchmark.protocols.mnist_transductive import TransductiveOutlierPercentage
from novelbench.datasets.base import LoadedDataset
from novelbench.errors import NovelbenchError
from novelbench.registry import register_protocol

HELD_OUT = "Share of the positive class's train images held out as the test inliers (the rest trains the method)."


@register_protocol
class TuningOutlierPercentage(TransductiveOutlierPercentage):
    """The transductive split's validation pool (held-out train inliers against other classes'
    train images, disjoint from everything else it draws) is this protocol's test pool."""

    name = "mnist-tuning"
    summary = "for choosing settings: one class's held-out train images vs other classes' train images at 10..50 %; no test image is scored"
    options = tuple(dataclasses.replace(o, default=0.2, help=HELD_OUT, constraint=OPEN_SHARE) if o.name == "val_share" else o
                    for o in TransductiveOutlierPercentage.options)
    layout = ReportLayout("outlier_pct", "F1 vs outlier %, inside the train split (for tuning)", auroc_mix="p50", figure=True)

    def split(self, data: LoadedDataset, setting: Setting, seed: int) -> Split:
        split = super().split(data, setting, seed)
        if split.validation is None:
            raise NovelbenchError(f"--val-share {self.val_share:g} holds out no images of {setting.positives} to test on")
        return Split(split.train, split.validation, None)
