"""Metrics against values computed by hand."""

import numpy as np
import pytest

from novelbench.benchmark import metrics

# 4 inliers, 2 outliers; higher score = more novel
SCORES = np.array([0.1, 0.2, 0.3, 0.7, 0.5, 0.9])
OUTLIER = np.array([False, False, False, False, True, True])


def test_auroc_and_aupr_by_hand():
    # outlier pairs ranked above inliers: 0.5 beats 3 of 4, 0.9 beats 4 of 4 -> 7/8
    assert metrics.auroc(OUTLIER, SCORES) == pytest.approx(7 / 8)
    # ranking by score: 0.9 (out), 0.7 (in), 0.5 (out): AP = (1/1 + 2/3) / 2
    assert metrics.aupr(OUTLIER, SCORES) == pytest.approx((1 + 2 / 3) / 2)


def test_f1_takes_inliers_as_positive_class():
    flagged = np.array([False, False, False, True, False, True])  # one inlier and one outlier flagged
    # inliers kept: tp=3, outlier kept as inlier: fp=1, inlier flagged: fn=1 -> 6/8
    assert metrics.f1_inliers(OUTLIER, flagged) == pytest.approx(6 / 8)


def test_quantile_policy_flags_top_share():
    # flags 0.9 (outlier) and 0.7 (inlier): the same as flagging those two by hand
    flagged = np.array([False, False, False, True, False, True])
    assert metrics.f1_quantile(OUTLIER, SCORES, 2 / 6) == pytest.approx(metrics.f1_inliers(OUTLIER, flagged)) == pytest.approx(6 / 8)


def test_quantile_ties_are_broken_neutrally_not_by_position():
    # 2 inliers then 2 outliers (pools list inliers first), every score tied, 50 % flagged.
    # The old rule (stable order, by position) flagged the first two: both inliers -> F1 0.
    # Fractional credit flags each image by half: tp = 1, fn = 1, fp = 1 -> F1 = 0.5, the
    # expected F1 counts of a coin-flip tie-break, whatever the order of the pool.
    out = np.array([False, False, True, True])
    tied = np.zeros(4)
    old_rule = np.zeros(4, bool)
    old_rule[np.argsort(-tied, kind="stable")[:2]] = True
    assert metrics.f1_inliers(out, old_rule) == 0.0
    assert metrics.f1_quantile(out, tied, 0.5) == pytest.approx(0.5)
    assert metrics.f1_quantile(out[::-1], tied, 0.5) == pytest.approx(0.5)
    # a partial tie at the cut: 0.9 is flagged outright, one of the two tied 0.5s shares the last flag
    scores, out = np.array([0.1, 0.5, 0.5, 0.9]), np.array([False, False, True, True])
    # flagged inliers 0.5, flagged outliers 1.5 -> tp 1.5, fn 0.5, fp 0.5 -> 3 / 4
    assert metrics.f1_quantile(out, scores, 0.5) == pytest.approx(3 / 4)


def test_oracle_threshold_maximises_f1_on_the_mix():
    t = metrics.best_f1_threshold(OUTLIER, SCORES)
    # t = 0.7 keeps 0.1, 0.2, 0.3, 0.5, 0.7: tp=4, fp=1 -> 8/9 (t = 0.3: tp=3, fn=1 -> 6/7; t = 0.5: tp=3, fp=1, fn=1 -> 6/8)
    assert t == pytest.approx(0.7)
    assert metrics.f1_inliers(OUTLIER, metrics.flag_above(SCORES, t)) == pytest.approx(8 / 9)


def test_validation_threshold_is_applied_to_other_scores():
    val_scores = np.array([0.1, 0.2, 0.25, 0.6, 0.65])
    val_out = np.array([False, False, False, True, True])
    t = metrics.best_f1_threshold(val_out, val_scores)
    assert t == pytest.approx(0.25)
    # on the test mix, scores above 0.25 are flagged: 0.3, 0.7, 0.5, 0.9 -> tp=2, fp=0, fn=2
    flagged = metrics.flag_above(SCORES, t)
    assert flagged.tolist() == [False, False, True, True, True, True]
    assert metrics.f1_inliers(OUTLIER, flagged) == pytest.approx(2 * 2 / (2 * 2 + 0 + 2))


def test_threshold_never_cuts_between_tied_scores():
    scores = np.array([0.1, 0.5, 0.5, 0.9])
    out = np.array([False, False, True, True])
    t = metrics.best_f1_threshold(out, scores)
    assert t in (0.1, 0.5)  # both tied 0.5s fall on the same side
    assert metrics.flag_above(scores, t)[1] == metrics.flag_above(scores, t)[2]


def test_trivial_f1_floor():
    for p, expected in [(0.1, 0.947), (0.2, 0.889), (0.3, 0.824), (0.4, 0.750), (0.5, 0.667)]:
        assert metrics.trivial_f1(p) == pytest.approx(expected, abs=5e-4)
    everything_inlier = np.zeros(10, bool)
    out = np.r_[np.zeros(7, bool), np.ones(3, bool)]
    assert metrics.f1_inliers(out, everything_inlier) == pytest.approx(metrics.trivial_f1(0.3))


def test_auroc_undefined_without_both_classes():
    assert np.isnan(metrics.auroc(np.zeros(3, bool), np.arange(3.0)))


def test_the_one_list_of_metric_columns_is_what_a_trial_writes(synthetic):
    """summary.METRICS (every table, summary and comparison reads it) names exactly the metric
    columns rows.mix_rows writes for a test mix."""
    from novelbench.benchmark.rows import mix_rows
    from novelbench.benchmark.summary import LABELS, METRICS
    from novelbench.registry import PROTOCOLS

    proto = PROTOCOLS.create("mnist", outlier_pcts=[50])
    split = proto.split(synthetic, proto.settings(synthetic)[0], seed=0)
    scores = np.random.default_rng(0).random(len(split.test.is_outlier))
    row = mix_rows(split.test, scores, None, None, None)[0]
    assert set(row) - {"mix", "outlier_pct", "n_test", "n_outliers"} == set(METRICS) == set(LABELS)
    assert row["f1_trivial"] == metrics.trivial_f1(row["n_outliers"] / row["n_test"])
