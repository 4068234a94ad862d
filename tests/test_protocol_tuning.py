"""`mnist-tuning`: choosing settings inside the train split; no test image is ever scored."""

import numpy as np

from novelbench.benchmark.protocols.base import n_outliers_for
from novelbench.registry import PROTOCOLS


def _rows(images):
    return {img.numpy().tobytes() for img in images}


def test_tuning_protocol_tests_held_out_train_images_against_other_train_classes(synthetic):
    proto = PROTOCOLS.create("mnist-tuning", outlier_pcts=[10, 50])
    setting = proto.settings(synthetic)[1]
    split = proto.split(synthetic, setting, seed=0)
    train = synthetic.splits["train"]
    label = train.label_of(setting.positives[0])
    test = split.test
    assert set(split.train.labels) == {label} and len(split.train) == 48  # 60 train images, 20 % held out
    inliers = test.images.images[~test.is_outlier]
    assert len(inliers) == 12 and not _rows(inliers) & _rows(split.train.images)
    assert _rows(test.images.images) <= _rows(train.images)  # nothing from the test split
    assert not set(test.images.labels[test.is_outlier]) & {label}
    assert [m.name for m in test.mixes] == ["p10", "p50"] and split.validation is None
    for mix in test.mixes:
        assert test.is_outlier[mix.index].sum() == n_outliers_for(12, mix.outlier_pct)
    again = proto.split(synthetic, setting, seed=0)
    assert np.array_equal(again.test.images.images.numpy(), test.images.images.numpy())


def test_tuning_protocol_runs_through_bench(tmp_path):
    from typer.testing import CliRunner

    from novelbench.cli import app

    result = CliRunner().invoke(app, ["run", "-m", "ocsvm", "--protocol", "mnist-tuning", "--dataset", "digits", "--classes", "3",
                                      "--device", "cpu", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    import json

    summary = json.loads(result.stdout)["summary"]
    assert {r["mix"] for r in summary} == {"p10", "p20", "p30", "p40", "p50"}  # no one-vs-rest pool of the test split
