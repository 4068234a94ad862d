"""Protocols: exact mix sizes and shares, disjoint train/test, seeded reproducibility, clutter rules."""

import hashlib

import numpy as np
import pytest

from novelbench.benchmark.protocols.base import n_outliers_for
from novelbench.benchmark.protocols.caltech import Clutter
from novelbench.benchmark.protocols.mnist import OutlierPercentage
from novelbench.errors import NovelbenchError


def image_hashes(images) -> set[str]:
    return {hashlib.sha1(img.numpy().tobytes()).hexdigest() for img in images}


def test_mnist_mixes_have_exact_sizes_and_shares(synthetic):
    proto = OutlierPercentage(outlier_pcts=[10, 20, 30, 40, 50])
    settings = proto.settings(synthetic)
    assert [s.positives for s in settings] == [("hbar",), ("vbar",), ("ring",), ("diag",)]  # clutter never positive
    split = proto.split(synthetic, settings[0], seed=0)
    test = split.test
    n_in = int((~test.is_outlier).sum())
    assert n_in == 30
    for mix in test.mixes:
        out = test.is_outlier[mix.index]
        assert (~out).sum() == n_in  # every test inlier is kept
        if mix.name == "pool":
            assert len(mix.index) == len(test.is_outlier)
            continue
        assert out.sum() == n_outliers_for(n_in, mix.outlier_pct) == round(n_in * mix.outlier_pct / (100 - mix.outlier_pct))
        assert len(set(mix.index.tolist())) == len(mix.index)
    assert test.mix("p50").index.size == 60
    labels = test.images.labels
    assert set(labels[~test.is_outlier]) == {synthetic.splits["train"].label_of("hbar")}


def test_mnist_train_holds_only_inliers_and_validation_is_held_out(synthetic):
    proto = OutlierPercentage(val_share=0.2)
    split = proto.split(synthetic, proto.settings(synthetic)[1], seed=3)
    label = synthetic.splits["train"].label_of("vbar")
    assert set(split.train.labels) == {label}
    assert len(split.train) == 48 and (~split.validation.is_outlier).sum() == 12  # 60 train images, 20 % held out
    assert not image_hashes(split.train.images) & image_hashes(split.validation.images.images)
    assert not image_hashes(split.train.images) & image_hashes(split.test.images.images)
    val_mix = split.validation.mix("p20")
    assert split.validation.is_outlier[val_mix.index].sum() == n_outliers_for(12, 20)


def test_splits_are_seeded(synthetic):
    proto = OutlierPercentage()
    setting = proto.settings(synthetic)[0]
    a, b, c = (proto.split(synthetic, setting, seed=s) for s in (0, 0, 1))
    assert np.array_equal(a.test.images.images.numpy(), b.test.images.images.numpy())
    assert np.array_equal(a.train.images.numpy(), b.train.images.numpy())
    p10a = a.test.images.images[a.test.mix("p10").index]
    p10c = c.test.images.images[c.test.mix("p10").index]
    assert not np.array_equal(p10a.numpy(), p10c.numpy())


def test_caltech_mix_is_exactly_half_clutter_and_train_test_disjoint(synthetic):
    proto = Clutter(n_classes=[1, 2], repeats=3, max_per_class=40, train_fraction=0.5)
    settings = proto.settings(synthetic)
    assert len(settings) == 6 and {s.group for s in settings} == {"n=1", "n=2"}
    clutter = synthetic.splits["all"].label_of("clutter")
    for setting in settings:
        split = proto.split(synthetic, setting, seed=0)
        test = split.test
        mix = test.mix("p50")
        assert test.is_outlier[mix.index].sum() * 2 == len(mix.index)
        assert clutter not in set(split.train.labels)
        assert set(test.images.labels[test.is_outlier]) == {clutter}
        assert clutter not in set(test.images.labels[~test.is_outlier])
        assert len(split.train) + (~split.validation.is_outlier).sum() + (~test.is_outlier).sum() == 40 * len(setting.positives)
        train_h = image_hashes(split.train.images)
        assert not train_h & image_hashes(test.images.images)
        assert not train_h & image_hashes(split.validation.images.images)
        # validation clutter is disjoint from test clutter
        assert not image_hashes(test.images.images[test.is_outlier]) & image_hashes(split.validation.images.images[split.validation.is_outlier])


def test_caltech_draws_depend_on_repeat_not_seed(synthetic):
    proto = Clutter(n_classes=[2], repeats=4)
    assert proto.settings(synthetic) == proto.settings(synthetic)
    assert len({s.positives for s in proto.settings(synthetic)}) > 1


def test_transductive_tests_on_the_training_images(synthetic):
    proto = Clutter(n_classes=[1], repeats=1, transductive=True, val_share=0.0)
    split = proto.split(synthetic, proto.settings(synthetic)[0], seed=0)
    assert image_hashes(split.train.images) == image_hashes(split.test.images.images[~split.test.is_outlier])


def test_clutter_can_never_be_an_inlier(synthetic):
    with pytest.raises(NovelbenchError, match="clutter"):
        OutlierPercentage(classes=["clutter"]).settings(synthetic)
    with pytest.raises(NovelbenchError, match="clutter"):
        Clutter(classes=["hbar", "clutter"]).settings(synthetic)


@pytest.mark.parametrize("pct", [0, 100, 150, -5])
def test_outlier_percentage_outside_open_interval_is_rejected(pct):
    with pytest.raises(NovelbenchError, match=r"in the range \(0.0, 100.0\)"):
        OutlierPercentage(outlier_pcts=[pct])


def test_too_few_clutter_images_is_a_clear_error(synthetic):
    proto = Clutter(n_classes=[4], repeats=1, max_per_class=None, train_fraction=0.1)
    with pytest.raises(NovelbenchError, match="clutter images"):
        proto.split(synthetic, proto.settings(synthetic)[0], seed=0)


def test_mixes_are_nested(synthetic):
    proto = OutlierPercentage()
    split = proto.split(synthetic, proto.settings(synthetic)[2], seed=4)
    outliers = [set(m.index[split.test.is_outlier[m.index]].tolist()) for m in split.test.mixes if m.name != "pool"]
    assert all(a < b for a, b in zip(outliers, outliers[1:]))  # p10 outliers within p20's, and so on


def test_caltech_validation_inliers_are_disjoint_from_test_inliers(synthetic):
    proto = Clutter(n_classes=[2], repeats=2, max_per_class=40, val_share=0.2)
    for setting in proto.settings(synthetic):
        split = proto.split(synthetic, setting, seed=1)
        val_in = split.validation.images.images[~split.validation.is_outlier]
        test_in = split.test.images.images[~split.test.is_outlier]
        assert len(val_in) and not image_hashes(val_in) & image_hashes(test_in)


def test_transductive_fits_on_every_image_and_never_validates_on_test_images(synthetic):
    proto = Clutter(n_classes=[1], repeats=1, transductive=True, max_per_class=40)  # val_share stays 0.1
    split = proto.split(synthetic, proto.settings(synthetic)[0], seed=0)
    test_in = split.test.images.images[~split.test.is_outlier]
    assert len(split.train) == len(test_in) == 40
    assert image_hashes(split.train.images) == image_hashes(test_in)
    assert split.validation is None


def test_mix_rows_use_validation_scores_native_orientation_and_exact_shares():
    from novelbench.benchmark.protocols.base import ImageSet, make_pool
    from novelbench.benchmark.rows import mix_rows
    from novelbench.benchmark import metrics
    import torch

    def pool(n_in, n_out, pcts, with_pool_mix):
        imgs = lambda n: ImageSet(torch.zeros(n, 1, 2, 2, dtype=torch.uint8), np.zeros(n), ["a"])  # noqa: E731
        return make_pool(imgs(n_in), imgs(n_out), pcts, with_pool_mix)

    # stand-ins for what a detector returns: fixed scores for each pool and a fixed native decision
    test = pool(8, 8, [20, 50], with_pool_mix=True)
    validation = pool(4, 4, [20, 50], with_pool_mix=False)
    # test scores: inliers 0..7 (0.1..0.8), outliers 0.45..0.95
    scores = np.r_[np.linspace(0.1, 0.8, 8), np.linspace(0.45, 0.95, 8)]
    # validation scores put the best cut at 0.6 (everything above is an outlier there)
    val_scores = np.r_[0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    native = np.r_[np.ones(6, bool), np.zeros(2, bool), np.zeros(8, bool)]  # True = inlier
    rows = {r["mix"]: r for r in mix_rows(test, scores, native, validation, val_scores)}
    p50 = test.mix("p50")
    out, s = test.is_outlier[p50.index], scores[p50.index]
    assert rows["p50"]["n_outliers"] == 8 and rows["p20"]["n_outliers"] == round(8 * 20 / 80)  # exact shares
    expected_val = metrics.f1_inliers(out, s > 0.6)  # the validation cut, applied to test scores
    assert rows["p50"]["f1_validation"] == pytest.approx(expected_val)
    assert rows["p50"]["f1_validation"] != pytest.approx(rows["p50"]["f1_oracle"])  # not the test's own best cut
    # native: 6 inliers kept, 2 flagged, all 8 outliers flagged -> tp 6, fn 2, fp 0
    assert rows["p50"]["f1_native"] == pytest.approx(2 * 6 / (2 * 6 + 0 + 2))
    assert np.isnan(rows["pool"]["f1_validation"])  # no validation mix for the whole pool
