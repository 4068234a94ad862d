"""The registry, and a conformance test that walks it: every method fits and scores with its
``test_params`` on synthetic data, returns finite per-image scores, and is seed-deterministic."""

import numpy as np
import pytest
import torch

from novelbench import registry
from novelbench.benchmark.execution import to_float
from novelbench.benchmark.seeding import seed_everything
from novelbench.registry import METHODS, Registry, get_method
from novelbench.errors import NovelbenchError
from novelbench.methods.base import Detector


def _fit_score(name, train, test):
    seed_everything(0)
    method = get_method(name, **METHODS.get(name).test_params)
    if "device" in method.get_params():
        method.set_params(device="cpu")
    method.fit(train)
    return method, method.score(test)


@pytest.mark.parametrize("name", METHODS.names())
def test_method_conformance(name, synthetic):
    data = synthetic.splits["train"]
    train = to_float(data.images[data.labels == 0][:48])
    test = to_float(synthetic.splits["test"].images[::5])
    method, scores = _fit_score(name, train, test)
    plugin = METHODS.plugin(name)
    assert isinstance(method, Detector) and (method.name == name or plugin.is_preset)
    assert isinstance(scores, np.ndarray) and scores.shape == (len(test),)
    assert np.isfinite(scores).all()
    assert scores.std() > 0, "constant scores carry no ranking"
    _, again = _fit_score(name, train, test)
    np.testing.assert_allclose(scores, again, rtol=1e-5, atol=1e-6)
    native = method.predict(test)
    assert native is None or (np.asarray(native).dtype == bool and len(native) == len(test))
    assert set(method.get_params()) == set(type(method).param_defaults())  # params come from BaseEstimator


def test_duplicate_names_are_an_error():
    reg = Registry("thing")

    class A:
        name = "a"

    class B:
        name = "a"

    reg.register(A)
    with pytest.raises(ValueError, match="duplicate"):
        reg.register(B)


def test_dotted_path_and_unknown_name():
    assert METHODS.get("novelbench.methods.ocsvm:OCSVM").name == "ocsvm"
    with pytest.raises(NovelbenchError, match="unknown method 'nope'"):
        METHODS.get("nope")
    with pytest.raises(NovelbenchError, match="cannot import"):
        METHODS.get("no_such_pkg.mod:Thing")


def test_bad_parameters_are_a_clear_error():
    with pytest.raises(NovelbenchError, match="bad parameters"):
        get_method("ocsvm", not_a_param=1)


class _BrokenEntryPoint:
    name = "broken"

    def load(self):
        raise ImportError("needs a package that is not installed")


class _GoodEntryPoint:
    name = "plugin-ocsvm"

    def load(self):
        from novelbench.methods.ocsvm import OCSVM

        return type("PluginOCSVM", (OCSVM,), {})


def test_entry_point_plugins_load_and_broken_ones_are_listed(monkeypatch):
    monkeypatch.setattr(registry, "entry_points", lambda group: [_BrokenEntryPoint(), _GoodEntryPoint()])
    reg = Registry("method", "novelbench.methods", "novelbench.methods")
    assert "plugin-ocsvm" in reg.names()
    assert reg.unavailable() == {"broken": "ImportError: needs a package that is not installed"}
    with pytest.raises(NovelbenchError, match="failed to import"):
        reg.get("broken")
    assert reg.create("plugin-ocsvm").fit(torch.rand(20, 1, 4, 4)).score(torch.rand(3, 1, 4, 4)).shape == (3,)


CRBND_ABLATIONS = [{"connective": False}, {"negatives": "blur"}, {"negatives": "noise"}, {"negatives": "mixed"},
                   {"score_mode": "recon"}, {"score_mode": "combined"}]


@pytest.mark.parametrize("override", CRBND_ABLATIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_crbnd_ablations_conform(override, synthetic):
    data = synthetic.splits["train"]
    train = to_float(data.images[data.labels == 0][:48])
    test = to_float(synthetic.splits["test"].images[::5])
    runs = []
    for _ in range(2):
        seed_everything(0)
        method = get_method("crbnd", **{**METHODS.get("crbnd").test_params, **override, "device": "cpu"})
        runs.append(method.fit(train).score(test))
    assert runs[0].shape == (len(test),) and np.isfinite(runs[0]).all() and runs[0].std() > 0
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-5, atol=1e-6)
    native = method.predict(test)
    assert (native is None) == (override.get("score_mode") == "recon")
