# my_package/leave_one_out.py: a protocol is one file
import numpy as np

from novelbench.benchmark.protocols.base import POSITIVE_SHARE, Option, Protocol, ReportLayout, Setting, Split, make_pool
from novelbench.registry import register_protocol


@register_protocol
class LeaveOneOut(Protocol):
    name = "leave-one-out"
    summary = "every class but one is an inlier; the left-out class is the outlier"
    default_dataset = "digits"
    options = (Option("train_share", "float", 1.0, "Share of the inlier training images to fit on.", POSITIVE_SHARE),)
    layout = ReportLayout("group", "AUROC and F1 per left-out class", mix="pool")

    def settings(self, data):
        names = data.splits["train"].class_names
        return [Setting(tuple(c for c in names if c != out), group=f"out={out}") for out in names]

    def split(self, data, setting, seed):
        train, test = data.splits["train"], data.splits["test"]
        inlier_labels = [train.label_of(c) for c in setting.positives]
        rng = np.random.default_rng([seed, 3])
        fit = rng.permutation(np.flatnonzero(np.isin(train.labels, inlier_labels)))
        fit = np.sort(fit[: max(1, round(self.train_share * len(fit)))])
        is_in = np.isin(test.labels, inlier_labels)
        pool = make_pool(test.subset(np.flatnonzero(is_in)), test.subset(np.flatnonzero(~is_in)), [], with_pool_mix=True)
        return Split(train.subset(fit), pool, None)
