"""The registry, and a conformance test that walks it: every method fits and scores with its
``test_params`` on synthetic data, returns finite per-image scores, and is seed-deterministic."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from novelbench import registry
from novelbench.benchmark.execution import to_float
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.registry import METHODS, Registry, get_method
from novelbench.errors import NovelbenchError
from novelbench.methods.base import Detector, StrOptions
from novelbench.methods.geometric import SET_NAMES

from conftest import fit_twice_and_check, preset_values_no_test_fits, switch_id


def _fit(name, train):
    plugin = METHODS.plugin(name)
    params = dict(plugin.cls.test_params)
    if "device" in plugin.param_defaults():
        params["device"] = "cpu"
    with pinned_threads(1):
        seed_everything(0)
        return plugin.create(**params).fit(train)


def _class_images(synthetic, split, name):
    data = synthetic.splits[split]
    return to_float(data.images[data.labels == data.label_of(name)])


@pytest.mark.parametrize("name", METHODS.names())
def test_method_conformance(name, synthetic):
    data = synthetic.splits["train"]
    train = to_float(data.images[data.labels == 0][:48])
    test = to_float(synthetic.splits["test"].images[::5])
    plugin = METHODS.plugin(name)
    method = _fit(name, train)
    with pinned_threads(1):
        scores = method.score(test)
        both_scores, native = method.score_and_predict(test)
        predicted = method.predict(test)
    assert isinstance(method, Detector) and (method.name == name or plugin.is_preset)
    assert isinstance(scores, np.ndarray) and scores.shape == (len(test),)
    assert np.isfinite(scores).all()
    assert scores.std() > 0, "constant scores carry no ranking"
    np.testing.assert_array_equal(both_scores, scores)  # the one-pass hook gives the same scores
    assert (native is None) == (predicted is None)
    if native is not None:
        assert native.dtype == bool and native.shape == (len(test),)
        np.testing.assert_array_equal(native, predicted)
    with pinned_threads(1):
        again = _fit(name, train).score(test)
    np.testing.assert_array_equal(scores, again)  # same seed, same threads: the same numbers, bit for bit
    assert set(method.get_params()) == set(type(method).param_defaults())  # params come from BaseEstimator
    for panel in method.image_panels(test[:4]).values():
        assert panel.shape == test[:4].shape


@pytest.mark.parametrize("name", METHODS.names())
def test_method_separates_an_easy_split_in_the_right_direction(name, synthetic):
    """Trained on one pattern class, every method must score another pattern class as more
    novel: a sign flip in a score (or a decision) fails here."""
    method = _fit(name, _class_images(synthetic, "train", "hbar"))
    # R-graph models a UNION of subspaces and sees the test pool: 30 near-identical rings in it are
    # one more subspace to it, hence inliers by design; scattered clutter blobs are its outliers
    novel = "clutter" if name == "rgraph" else "ring"
    inliers, outliers = _class_images(synthetic, "test", "hbar"), _class_images(synthetic, "test", novel)[:30]
    is_outlier = np.r_[np.zeros(len(inliers), bool), np.ones(len(outliers), bool)]
    with pinned_threads(1):
        scores, native = method.score_and_predict(torch.cat([inliers, outliers]))
    assert roc_auc_score(is_outlier, scores) > 0.8
    if native is not None:  # the native decision (True = inlier) keeps inliers at least as often as outliers
        assert native[~is_outlier].mean() >= native[is_outlier].mean()


@pytest.mark.parametrize("name", [n for n in METHODS.names() if METHODS.plugin(n).module.startswith("novelbench.")])
def test_every_parameter_is_declared_and_defaults_pass(name):
    plugin = METHODS.plugin(name)
    defaults = plugin.param_defaults()
    assert set(plugin.cls._parameter_constraints) == set(plugin.cls.param_defaults()), "declare a constraint for every parameter"
    plugin.cls.check_params(defaults)
    plugin.cls.check_params({**defaults, **plugin.cls.test_params})


@pytest.mark.parametrize("params, message", [
    ({"epochs": -3}, "'epochs' parameter of ae must be an int in the range [1, inf). Got -3"),
    ({"epochs": "abc"}, "'epochs' parameter of ae must be an int in the range [1, inf). Got 'abc'"),
    ({"widths": 3}, "'widths' parameter of ae must be an instance of 'tuple' or an instance of 'list'"),
    ({"bogus": 1}, "ae has no parameter 'bogus'"),
])
def test_parameters_are_checked_against_their_declaration(params, message):
    with pytest.raises(NovelbenchError) as err:
        METHODS.get("ae").check_params(params)
    assert message in str(err.value)


def test_a_preset_is_a_class_with_other_defaults():
    plus, base = METHODS.plugin("crbnd-plus"), METHODS.plugin("crbnd")
    assert plus.cls is base.cls and plus.is_preset and not base.is_preset
    assert plus.param_defaults() == {**base.param_defaults(), "negatives": "structural", "score_mode": "combined"}
    made = plus.create(lam=0.3)
    assert made.get_params()["negatives"] == "structural" and made.lam == 0.3
    assert plus.preset_module == "novelbench.methods.crbnd_plus"
    with pytest.raises(TypeError, match="no parameter"):
        Registry("method").register_preset("bad", base.cls, no_such_switch=1)


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


#: (method, parameter) for every built-in parameter that takes one of named options
OPTION_PARAMETERS = [(n, p) for n in METHODS.names() if METHODS.plugin(n).module.startswith("novelbench.")
                     and not METHODS.plugin(n).is_preset
                     for p, allowed in METHODS.get(n)._parameter_constraints.items()
                     if any(isinstance(c, StrOptions) for c in allowed)]


@pytest.mark.parametrize("name, param", OPTION_PARAMETERS, ids=lambda x: x)
def test_an_option_that_does_not_exist_is_one_clear_error_from_python_too(name, param):
    """From Python as from --param: a misspelt option never falls through to another branch."""
    with pytest.raises(NovelbenchError) as err:
        get_method(name, **{param: "no-such-option"})
    message = str(err.value)
    assert f"'{param}' parameter of {name} must be a str among" in message and "\n" not in message


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


class _ChattyEntryPoint:
    name = "chatty"

    def load(self):
        print("a line a plugin prints when imported")
        from novelbench.methods.ocsvm import OCSVM

        return OCSVM


def test_what_plugins_print_when_imported_goes_to_stderr_not_stdout(monkeypatch, tmp_path, capsys):
    """stdout carries the product's tables and ``--json``; a plugin (pyod, for one) that prints
    while it is imported must not end up in them."""
    monkeypatch.setattr(registry, "entry_points", lambda group: [_ChattyEntryPoint()])
    (tmp_path / "chatty_method.py").write_text(
        "print('a line a module prints when imported')\n"
        "from novelbench.methods.ocsvm import OCSVM as Chatty\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("method", "novelbench.methods", "novelbench.methods")
    assert "chatty" in reg.names()
    assert reg.get("chatty_method:Chatty").__name__ == "OCSVM"
    out, err = capsys.readouterr()
    assert out == ""
    assert "a line a plugin prints when imported" in err and "a line a module prints when imported" in err


#: per method, every switch value that the shared tests, fitting ``test_params``, leave out, and the
#: preset values those tests shrink for speed (alocc's own switch test is in test_alocc)
SWITCHES = {
    # test_params use classifiers=2: 1 is g2d-paper's, 3 the default
    "g2d": [{"classifiers": 1}, {"classifiers": 3}, {"own_negatives": False}, {"n_negatives": 64},
            {"match_band": 0.2}, {"blur_scope": "classifier"}, {"input_blur": None}, {"cue_match": False},
            {"critic_steps": 2}, {"gp_weight": 0.0}],
    # test_params use transforms "rot"; the WRN at width 1 for speed (geom-paper's WRN-10-4 is fitted by
    # the shared conformance test)
    "geom": ([{"transforms": name} for name in SET_NAMES if name != "rot"]
             + [{"transforms": "shift", "shift": 4}, {"pad_to": 20}, {"head": "flatten"}, {"score_mode": "simple"},
                {"l2": 0.0}, {"dirichlet_images": None}, {"net": "wrn", "wrn_depth": 16, "wrn_widen": 1}]),
}
SHRUNK = {"g2d": {"gen_widths", "critic_widths", "clf_widths", "threshold_iter", "gan_batch_size"},
          "geom": {"epochs", "batch_size"}}


@pytest.mark.parametrize("name, override", [(n, o) for n, values in SWITCHES.items() for o in values],
                         ids=lambda x: switch_id(x) if isinstance(x, dict) else x)
def test_every_switch_value_fits_scores_deterministically_and_separates_an_easy_split(name, override, easy):
    train, test, is_outlier = easy
    _, scores = fit_twice_and_check(name, train, test, **override)
    assert roc_auc_score(is_outlier, scores) > 0.9


@pytest.mark.parametrize("name", SWITCHES)
def test_every_value_a_preset_sets_is_fitted_by_some_test(name):
    assert preset_values_no_test_fits(name, SWITCHES[name], SHRUNK[name]) == []


CRBND_SWITCHES = [{"connective": False}, {"negatives": "blur"}, {"negatives": "noise"}, {"negatives": "mixed"},
                  {"score_mode": "recon"}, {"score_mode": "combined"}, {"neg_target": "input"}, {"neg_target": "either"},
                  {"positive_recon": "corrupted"}, {"dropout_per_channel": True}, {"latent_dim": None}]


@pytest.mark.parametrize("override", CRBND_SWITCHES, ids=switch_id)
def test_crbnd_switches_conform(override, synthetic):
    data = synthetic.splits["train"]
    train = to_float(data.images[data.labels == 0][:48])
    test = to_float(synthetic.splits["test"].images[::5])
    runs = []
    for _ in range(2):
        with pinned_threads(1):
            seed_everything(0)
            method = get_method("crbnd", **{**METHODS.get("crbnd").test_params, **override, "device": "cpu"})
            runs.append(method.fit(train).score_and_predict(test))
    scores, native = runs[0]
    assert scores.shape == (len(test),) and np.isfinite(scores).all() and scores.std() > 0
    np.testing.assert_array_equal(scores, runs[1][0])
    assert (native is None) == (override.get("score_mode") == "recon")


def test_crbnd_score_and_decision_take_one_autoencoder_pass(synthetic, monkeypatch):
    data = synthetic.splits["train"]
    train = to_float(data.images[data.labels == 0][:48])
    test = to_float(synthetic.splits["test"].images[::5])
    method = get_method("crbnd", **{**METHODS.get("crbnd").test_params, "score_mode": "combined", "device": "cpu"}).fit(train)
    seen = []
    forward = type(method.ae_).forward
    monkeypatch.setattr(type(method.ae_), "forward", lambda self, x: (seen.append(len(x)), forward(self, x))[1])
    scores, native = method.score_and_predict(test)
    assert sum(seen) == len(test)  # every image through the autoencoder exactly once
    assert native is not None and scores.shape == (len(test),)


def test_crbnd_switches_change_what_they_say():
    from novelbench.methods import augment as aug

    torch.manual_seed(0)
    rgb = torch.rand(64, 3, 14, 14) + 0.1
    shared = aug.coarse_dropout(rgb, 0.5, 7, per_channel=False) == 0
    own = aug.coarse_dropout(rgb, 0.5, 7, per_channel=True) == 0
    assert torch.equal(shared[:, 0], shared[:, 1]) and not torch.equal(own[:, 0], own[:, 1])
    x, recon = torch.zeros(8, 1, 4, 4), torch.ones(8, 1, 4, 4)
    crbnd = METHODS.get("crbnd")
    assert torch.equal(crbnd(neg_target="input")._d_target(x, recon), x)
    assert torch.equal(crbnd(neg_target="recon")._d_target(x, recon), recon)
    torch.manual_seed(0)
    either = crbnd(neg_target="either")._d_target(torch.zeros(400, 1, 2, 2), torch.ones(400, 1, 2, 2))
    assert 0.4 < either.mean() < 0.6  # per image, x or A(x) at random
