"""The transductive robust-subspace detectors (rgraph, reaper, outlier-pursuit, lrr) and the shared
``features`` parameter: planted outliers in a union of subspaces, the pool they see, bad
parameters, a solver that stops early, backbone features, and the 'sees the test pool' label."""

import json
import urllib.error

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from novelbench.benchmark import report
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.cli import app
from novelbench.errors import NovelbenchError
from novelbench.methods import features
from novelbench.methods.subspace import distinct_pool, span_coordinates
from novelbench.registry import METHODS

SUBSPACE_METHODS = ["rgraph", "reaper", "outlier-pursuit", "lrr"]


def union_of_subspaces(n_subspaces=3, dim=3, ambient=40, per_subspace=40, n_outliers=60, seed=0):
    """Inliers on random `dim`-dimensional subspaces of R^ambient, outliers Gaussian in R^ambient
    (the first experiment of each method's paper), as (N, 1, 1, ambient) "images"."""
    rng = np.random.default_rng(seed)
    inliers = [rng.normal(size=(per_subspace, dim)) @ np.linalg.qr(rng.normal(size=(ambient, dim)))[0].T
               for _ in range(n_subspaces)]
    x = np.concatenate(inliers + [rng.normal(size=(n_outliers, ambient))])
    is_outlier = np.r_[np.zeros(n_subspaces * per_subspace, bool), np.ones(n_outliers, bool)]
    return torch.tensor(x, dtype=torch.float32).reshape(len(x), 1, 1, ambient), is_outlier


@pytest.mark.parametrize("name", SUBSPACE_METHODS)
def test_recovers_planted_outliers_in_a_union_of_subspaces(name):
    x, is_outlier = union_of_subspaces()
    params = {"dim": 9} if name == "reaper" else {}  # REAPER fits one subspace: the span of the three
    with pinned_threads(1):
        seed_everything(0)
        method = METHODS.plugin(name).create(**params).fit(x[~is_outlier][:30])
        scores = method.score(x)
    assert roc_auc_score(is_outlier, scores) > 0.95


def test_pool_is_the_training_and_scored_images_each_once():
    x, _ = union_of_subspaces(per_subspace=5, n_outliers=4)
    train, scored = x[:10], torch.cat([x[:10], x[10:]])  # caltech --transductive: the inliers are scored too
    pool, where = distinct_pool(train, scored)
    assert len(pool) == len(x)
    torch.testing.assert_close(pool[where], scored)
    pool, where = distinct_pool(train, x[10:])  # the inductive case: training images join the pool
    assert len(pool) == len(x) and (where >= 10).all()


def test_a_scored_image_depends_on_the_pool_it_is_scored_in():
    x, is_outlier = union_of_subspaces()
    method = METHODS.plugin("reaper").create(dim=9).fit(x[~is_outlier][:30])
    alone = method.score(x[:5])
    within = method.score(x)[:5]
    assert not np.allclose(alone, within)


def test_span_coordinates_keep_inner_products():
    rng = np.random.default_rng(0)
    wide = rng.normal(size=(20, 300))
    y = span_coordinates(wide)
    assert y.shape == (20, 20)
    np.testing.assert_allclose(y @ y.T, wide @ wide.T, atol=1e-8)


@pytest.mark.parametrize("name, params", [
    ("rgraph", {"features": "pca:0"}), ("rgraph", {"features": "vgg-nope"}), ("rgraph", {"lam": 1.5}),
    ("rgraph", {"gamma": 0.5}), ("reaper", {"dim": 0}), ("outlier-pursuit", {"lam": -1.0}),
    ("lrr", {"max_iter": 0}), ("lrr", {"features": 7}),
])
def test_bad_parameters_are_rejected_in_one_line(name, params):
    with pytest.raises(NovelbenchError) as err:
        METHODS.plugin(name).cls.check_params(params)
    assert "\n" not in str(err.value) and str(next(iter(params))) in str(err.value)


def test_bad_features_stop_a_run_before_any_trial(tmp_path):
    result = CliRunner().invoke(app, ["run", "-m", "reaper", "--dataset", "synthetic", "--classes", "hbar",
                                      "--param", "reaper.features=pca:0", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "features" in result.output
    assert not (tmp_path / "trials").exists() or not any((tmp_path / "trials").iterdir())


def test_rgraph_working_set_stops_like_the_authors_and_grows_when_too_small():
    """A working set of 2 on 180 points: before the authors' stop (a round that no longer lowers the
    objective) and their growth rule (+10 % while nonzeros fill 80 %), this cycled and raised after
    40 rounds (as R-graph did on every MNIST digit); now it converges and still finds the outliers."""
    from novelbench.methods.rgraph import elastic_net_self_representation, random_walk_scores
    from novelbench.methods.subspace import unit_rows

    x, is_outlier = union_of_subspaces()
    y = unit_rows(x.reshape(len(x), -1).double().numpy())
    c = elastic_net_self_representation(y, lam=0.95, gamma=50.0, support=2, max_rounds=40)
    assert c.shape == (len(y), len(y)) and c.diagonal().sum() == 0 and c.nnz > len(y)
    assert roc_auc_score(is_outlier, -random_walk_scores(c, 1000)) > 0.95


@pytest.mark.parametrize("name, params, reason", [
    ("outlier-pursuit", {"max_iter": 1}, "did not converge in 1 iterations"),
    ("lrr", {"max_iter": 1}, "did not converge in 1 iterations"),
    ("reaper", {"max_iter": 1}, "did not converge in 1 iterations"),
    ("rgraph", {"max_rounds": 1, "support": 1}, "optimality violators after 1 working-set rounds"),
])
def test_a_solver_that_stops_early_is_a_failed_row_with_its_reason(tmp_path, name, params, reason):
    args = ["run", "-m", name, "--dataset", "synthetic", "--classes", "hbar", "--outlier-pcts", "50",
            "--out", str(tmp_path), "--json"]
    for key, value in params.items():
        args += ["--param", f"{name}.{key}={value}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # a run with a failed trial says so in its exit status
    assert json.loads(result.stdout[result.stdout.index("{"):])["failed"] == 1
    table = pd.read_parquet(tmp_path / "results.parquet")
    assert (table["status"] == "failed").all() and table["error"].str.contains(reason).all()


def test_pca_features_are_fitted_on_the_images_given():
    x, _ = union_of_subspaces()
    feats = features.Features("pca:5").fit(x)
    assert feats.transform(x).shape == (len(x), 5)
    with pytest.raises(NovelbenchError, match="at most"):
        features.Features("pca:500").fit(x)


def test_backbone_features_with_random_weights_on_tiny_images():
    images = torch.rand(3, 1, 8, 8)  # grey: repeated to three channels
    torch.manual_seed(0)
    out = features.Features("resnet18:random").fit_transform(images)
    assert out.shape == (3, 512) and np.isfinite(out).all()


def test_a_backbone_runs_inside_a_method():
    x = torch.rand(12, 3, 8, 8)
    torch.manual_seed(0)
    scores = METHODS.plugin("reaper").create(features="resnet18:random", dim=2).fit(x[:6]).score(x[6:])
    assert scores.shape == (6,) and np.isfinite(scores).all()


def test_missing_weights_offline_is_one_line_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(NovelbenchError) as err:
        METHODS.plugin("rgraph").cls.check_params({"features": "vgg16"})
    message = str(err.value)
    assert "\n" not in message and "vgg16-397923af.pth" in message and str(tmp_path / "checkpoints") in message
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "vgg16-397923af.pth").write_bytes(b"")
    METHODS.plugin("rgraph").cls.check_params({"features": "vgg16"})  # present: nothing to fetch


def test_tables_and_list_mark_methods_that_see_the_test_pool():
    assert report.sees_test_pool("rgraph") and report.sees_test_pool("pyod:ECOD")
    assert not report.sees_test_pool("ocsvm") and not report.sees_test_pool("pyod:KNN")
    rows = []
    for method in ("rgraph", "ocsvm"):
        for group in ("n=1", "n=3"):
            rows.append({"method": method, "method_name": method, "dataset": "caltech101", "group": group,
                         "mix": "p50", "outlier_pct": 50.0, "trial_id": f"{method}{group}", "status": "ok",
                         "auroc": 0.7, "f1_quantile": 0.6, "protocol": "caltech"})
    table = report.protocol_table(pd.DataFrame(rows), "caltech", which="none")
    labels = list(table.frame["method"])
    assert any("rgraph" in label and report.SEES_POOL in label for label in labels)
    assert not any("ocsvm" in label and report.SEES_POOL in label for label in labels)
    assert report.SEES_POOL_NOTE in table.notes
    listing = CliRunner().invoke(app, ["list", "--json"])
    methods = json.loads(listing.stdout)["methods"]
    assert all(methods[n]["sees_test_pool"] for n in SUBSPACE_METHODS) and not methods["ocsvm"]["sees_test_pool"]


def test_published_rows_of_these_systems_say_another_dataset_and_feature_space():
    from novelbench.benchmark import published

    refs = published.references("caltech", ["caltech101"])
    by_method = {}
    for ref in refs:
        by_method.setdefault(ref.method, []).append(ref)
    for method in ("R-graph", "REAPER", "OutlierPursuit", "LRR"):
        assert method in by_method, f"{method}: no published Caltech row"
        for ref in by_method[method]:
            assert "another dataset" in ref.label() and "VGG features: another feature space" in ref.label()
            assert {g for g, _ in ref.values} >= {"n=1"}
    assert all("feature space" not in ref.label() for ref in by_method["G2D"])  # trained on the images
