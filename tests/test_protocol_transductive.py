"""`mnist-transductive` (ALOCC's no-split setup): the test inliers are exactly the fitted images."""

import numpy as np

from novelbench.benchmark.protocols.base import n_outliers_for
from novelbench.registry import PROTOCOLS


def _rows(images):
    return {img.numpy().tobytes() for img in images}


def test_transductive_mnist_tests_on_the_fitted_images(synthetic):
    proto = PROTOCOLS.create("mnist-transductive", outlier_pcts=[10, 50], val_share=0.1)
    setting = proto.settings(synthetic)[2]
    split = proto.split(synthetic, setting, seed=0)
    train = synthetic.splits["train"]
    label = train.label_of(setting.positives[0])
    test, val = split.test, split.validation
    assert set(split.train.labels) == {label} and len(split.train) == 54  # 60 train images, 10 % held out
    inliers = test.images.images[~test.is_outlier]
    assert np.array_equal(inliers.numpy(), split.train.images.numpy())  # fitted = tested, in order
    assert [m.name for m in test.mixes] == ["p10", "p50"]  # no one-vs-rest pool without a test split
    for mix in test.mixes:
        assert test.is_outlier[mix.index].sum() == n_outliers_for(54, mix.outlier_pct)
    outliers = test.images.images[test.is_outlier]
    assert not set(test.images.labels[test.is_outlier]) & {label}
    assert _rows(outliers) <= _rows(train.images)  # every image comes from the train split
    assert not _rows(outliers) & _rows(val.images.images[val.is_outlier])  # validation outliers are other images
    assert not _rows(split.train.images) & _rows(val.images.images[~val.is_outlier])
    again = proto.split(synthetic, setting, seed=0)
    assert np.array_equal(again.test.images.images.numpy(), test.images.images.numpy())


def test_transductive_mnist_without_validation(synthetic):
    proto = PROTOCOLS.create("mnist-transductive", val_share=0)
    split = proto.split(synthetic, proto.settings(synthetic)[0], seed=1)
    assert split.validation is None and len(split.train) == 60
