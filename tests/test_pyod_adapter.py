"""The pyod:<Name> method family: pyod detectors through the adapter pass the same conformance
checks as every registered method; their parameters are checked; missing pyod or an unknown
detector is one clear error; trial identity fingerprints the adapter."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from novelbench.benchmark.identity import module_closure
from novelbench.benchmark.plan import plan_trials
from novelbench.cli import app
from novelbench.errors import NovelbenchError
from novelbench.methods import pyod_adapter
from novelbench.registry import METHODS

from test_registry import test_method_conformance as _conformance
from test_registry import test_method_separates_an_easy_split_in_the_right_direction as _separates

DETECTORS = ["pyod:KNN", "pyod:IForest", "pyod:ECOD", "pyod:LOF"]
needs_pyod = pytest.mark.skipif(pyod_adapter._pyod_models_dir() is None, reason="pyod is not installed")
runner = CliRunner()


def _assert_one_error(result, message):
    """One error message (the console may wrap it), no traceback."""
    text = " ".join(result.stderr.split())
    assert message in text and text.startswith("error:") and text.count("error:") == 1
    assert "Traceback" not in result.output


@pytest.fixture
def without_pyod(monkeypatch):
    """The adapter as it behaves where pyod is not installed."""
    def clear():
        pyod_adapter.resolve.cache_clear()
        pyod_adapter.detector_modules.cache_clear()

    clear()
    monkeypatch.setattr(pyod_adapter, "_pyod_models_dir", lambda: None)
    yield
    monkeypatch.undo()
    clear()


@needs_pyod
@pytest.mark.parametrize("name", DETECTORS)
def test_pyod_detector_conformance(name, synthetic):
    _conformance(name, synthetic)
    _separates(name, synthetic)
    cls = METHODS.plugin(name).cls
    assert set(cls._parameter_constraints) == set(cls.param_defaults()), "declare a constraint for every parameter"
    cls.check_params(cls.param_defaults())


@needs_pyod
def test_pyod_family_lists_tabular_unsupervised_detectors():
    names = METHODS.families()["pyod"]
    assert {"KNN", "IForest", "ECOD", "LOF", "COPOD", "OCSVM"} <= set(names)
    assert not {"XGBOD", "DevNet"} & set(names)  # supervised: fit needs labels
    assert not {"DOMINANT", "TimeSeriesOD", "EmbeddingOD", "BaseDetector"} & set(names)  # graphs, series, encoders, bases


@needs_pyod
def test_parameters_are_pyods_plus_pca_and_are_checked():
    plugin = METHODS.plugin("pyod:KNN")
    defaults = plugin.param_defaults()
    assert defaults["n_neighbors"] == 5 and defaults["method"] == "largest" and defaults["pca_components"] is None
    plugin.cls.check_params({"n_neighbors": 10, "pca_components": 20})
    METHODS.plugin("pyod:IForest").cls.check_params({"max_samples": 256})  # a string default that also takes numbers
    with pytest.raises(NovelbenchError, match="'n_neighbors' parameter of pyod:KNN"):
        plugin.cls.check_params({"n_neighbors": "ten"})
    with pytest.raises(NovelbenchError, match="pyod:KNN has no parameter 'bogus'"):
        plugin.cls.check_params({"bogus": 1})
    with pytest.raises(NovelbenchError, match="'pca_components' parameter"):
        plugin.cls.check_params({"pca_components": 0})
    made = plugin.create(n_neighbors=3, pca_components=4)
    assert made.get_params()["n_neighbors"] == 3 and repr(made) == "PyOD_KNN(n_neighbors=3, pca_components=4)"
    with pytest.raises(NovelbenchError, match="bad parameters"):
        plugin.create(bogus=1)


@needs_pyod
def test_pca_reduces_what_the_detector_sees(synthetic):
    data = synthetic.splits["train"]
    train = data.images[data.labels == 0].float() / 255
    method = METHODS.create("pyod:KNN", pca_components=5).fit(train)
    assert method.pca_.n_components_ == 5 and method.detector_.decision_scores_.shape == (len(train),)
    assert method.score(train[:7]).shape == (7,)


@needs_pyod
def test_score_batch_limits_what_a_transductive_detector_sees(synthetic):
    data, test = synthetic.splits["train"], synthetic.splits["test"]
    train, probe = data.images[data.labels == 0].float() / 255, test.images.float() / 255
    whole = METHODS.create("pyod:ECOD").fit(train)
    # pyod's ECOD re-estimates its ECDFs on the training data plus the scored images: an image's
    # score depends on its companions ...
    assert whole.score(probe[:5])[0] != whole.score(probe)[0]
    # ... unless each call scores few images: score_batch=1 scores every image against the training data alone
    alone = METHODS.create("pyod:ECOD", score_batch=1).fit(train)
    np.testing.assert_array_equal(alone.score(probe[:6]), np.concatenate([whole.score(probe[i : i + 1]) for i in range(6)]))
    knn, knn_batched = (METHODS.create("pyod:KNN", score_batch=b).fit(train) for b in (None, 7))
    np.testing.assert_allclose(knn_batched.score(probe), knn.score(probe))  # an inductive detector: no change


@needs_pyod
def test_a_fitted_pyod_method_pickles_by_reference(tmp_path):
    method = METHODS.create("pyod:KNN").fit(torch.rand(30, 1, 6, 6))
    torch.save(method, tmp_path / "m.pt")  # what --keep-models does
    loaded = torch.load(tmp_path / "m.pt", weights_only=False)
    assert type(loaded) is type(method)
    probe = torch.rand(4, 1, 6, 6)
    np.testing.assert_array_equal(loaded.score(probe), method.score(probe))


@needs_pyod
def test_trial_identity_fingerprints_the_adapter_and_names_the_detector():
    def trial(method, params=()):
        trials, _ = plan_trials([method], list(params), "mnist", {"classes": "hbar"}, "synthetic",
                                {"data_root": None, "download": False, "image_size": None}, [0], "cpu")
        return trials[0]

    knn = trial("pyod:KNN")
    assert "novelbench.methods.pyod_adapter" in knn.code_roots()
    assert {"novelbench.methods.pyod_adapter", "novelbench.methods.base"} <= set(module_closure(knn.code_roots()))
    assert knn._method_identity()["class"] == "novelbench.methods.pyod_adapter:PyOD_KNN"
    assert knn.trial_id == trial("pyod:KNN").trial_id
    assert len({knn.trial_id, trial("pyod:IForest").trial_id, trial("pyod:KNN", ["pyod:KNN.n_neighbors=7"]).trial_id}) == 3


@needs_pyod
def test_cli_grid_over_a_pyod_parameter(tmp_path):
    result = runner.invoke(app, ["run", "-m", "pyod:KNN", "--dataset", "synthetic", "--classes", "hbar", "--outlier-pcts", "50",
                                 "--param", "pyod:KNN.n_neighbors=3,5", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert {r["method"] for r in summary} == {"pyod:KNN[n_neighbors=3]", "pyod:KNN[n_neighbors=5]"}
    assert all(r["auroc_mean"] > 0.8 for r in summary)


@needs_pyod
def test_cli_list_shows_the_pyod_detectors():
    info = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    assert {"KNN", "IForest", "ECOD"} <= set(info["method_families"]["pyod"])


@needs_pyod
@pytest.mark.parametrize("args, message", [
    (["-m", "pyod:Nope"], "unknown pyod detector 'Nope'; available: ABOD"),
    (["-m", "pyod:KNN", "--param", "pyod:KNN.n_neighbors=ten"], "'n_neighbors' parameter of pyod:KNN"),
    (["-m", "pyod:KNN", "--param", "pyod:KNN.method=foo"], "pyod:KNN[method=foo] rejects method='foo'"),
])
def test_cli_pyod_mistakes_are_one_line(args, message):
    result = runner.invoke(app, ["run", *args, "--dataset", "synthetic"])
    assert result.exit_code == 1
    _assert_one_error(result, message)


def test_without_pyod_a_pyod_method_is_one_clear_error(without_pyod):
    with pytest.raises(NovelbenchError, match=r"pyod:KNN needs pyod: .*pip install -e \"\.\[pyod\]\""):
        METHODS.plugin("pyod:KNN")
    assert METHODS.families()["pyod"] == []
    result = runner.invoke(app, ["run", "-m", "pyod:KNN", "--dataset", "synthetic"])
    assert result.exit_code == 1
    _assert_one_error(result, "pyod:KNN needs pyod")


def test_without_pyod_bench_list_shows_how_to_install_it(without_pyod):
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.replace("│", " ").split())
    assert 'pyod:<NAME> none available: install the optional extra, pip install -e ".[pyod]"' in text
