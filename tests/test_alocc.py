"""ALOCC's switches for each difference from the authors' code, its preset, the TF1 RMSProp it
trains with, the per-epoch curves hook and the threads-1-vs-2 stability report."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from novelbench.benchmark import curves, stability
from novelbench.benchmark.plan import plan_trials
from novelbench.errors import NovelbenchError
from novelbench.methods.alocc import ALOCC
from novelbench.methods.tf1_rmsprop import TF1RMSprop
from novelbench.registry import METHODS, get_method

from conftest import fit_test_params, fit_twice_and_check, preset_values_no_test_fits, switch_id

#: a non-default value of every switch (most stand for a difference from the authors' code; the last four
#: set the schedule, the weight average and the optimiser)
SWITCHES = [{"optimizer": "torch"}, {"recon_loss": "mean"}, {"recon_loss": "sum"}, {"recon_target": "clean"},
            {"r_output": "sigmoid"}, {"init": "torch"}, {"noise": "per-step"}, {"score_batch_norm": "batch"},
            {"weight_average": "none"}, {"real_range": "unit"}, {"score_mode": "d"},
            {"r_steps": 1}, {"stop_mse": 0.05}, {"ema_decay": 0.9}, {"rmsprop_decay": 0.5}]
#: the previous default, every switch the other way (this project's reading before the switches)
OLD_READING = {"optimizer": "torch", "recon_loss": "mean", "recon_target": "clean", "r_output": "sigmoid", "init": "torch",
               "noise": "per-step", "weight_average": "none", "real_range": "unit"}


@pytest.mark.parametrize("override", SWITCHES + [OLD_READING], ids=switch_id)
def test_every_switch_fits_scores_deterministically_and_separates_an_easy_split(override, easy):
    train, test, is_outlier = easy
    method, scores = fit_twice_and_check("alocc", train, test, **override)
    method.score_mode = "d"  # the same fit scored with D(x): the score mode only chooses what is scored
    assert roc_auc_score(is_outlier, method.score(test)) > 0.9
    # D(R(x)) moves with the step count on this tiny split (r_output=sigmoid: 0.83, 0.95, 0.72 after
    # 60, 120, 200 steps), so it is held to less; summed error: R rebuilds outliers as well, and
    # D(R(x)) is near chance (documented)
    if override.get("recon_loss") != "sum":
        assert roc_auc_score(is_outlier, scores) > 0.6


def test_every_value_a_preset_sets_is_fitted_by_some_test():
    assert preset_values_no_test_fits("alocc", SWITCHES, shrunk={"epochs"}) == []


def test_the_paper_preset_differs_from_the_code_only_in_lambda():
    plugin = METHODS.plugin("alocc-paper")
    assert plugin.cls is ALOCC and plugin.defaults == {"lam": 0.4}
    assert ALOCC.param_defaults()["lam"] == 0.2


def test_r_output_sets_the_range_d_sees_for_fakes(easy):
    train, test, _ = easy
    tanh, sigmoid = fit_test_params("alocc", train), fit_test_params("alocc", train, r_output="sigmoid")
    with torch.no_grad():
        assert tanh.r_(test).min() < 0  # the authors' R: tanh, so D's fakes reach below the real images' 0
        out = sigmoid.r_(test)
        assert out.min() >= 0 and out.max() <= 1
    for panel in tanh.image_panels(test[:4]).values():  # panels stay images
        assert panel.min() >= 0 and panel.max() <= 1


def test_normal_init_draws_small_weights_and_zero_biases():
    torch.manual_seed(0)
    method = get_method("alocc", device="cpu", epochs=1, min_steps=0)
    from novelbench.methods.alocc import Reconstructor, init_normal

    net = Reconstructor(1, (32, 64), 5, "tanh")
    init_normal(net)
    conv = net.encoder[1][0]
    assert conv.weight.std().item() == pytest.approx(0.02 * 0.88, rel=0.1)  # N(0, 0.02) truncated at 2 std: std 0.88 * 0.02
    assert conv.weight.abs().max().item() <= 0.04
    assert all((m.bias == 0).all() for m in net.modules() if isinstance(m, torch.nn.ConvTranspose2d) and m.bias is not None)
    assert method.init == "normal"


def test_noise_once_reuses_one_noisy_copy_and_per_step_draws_fresh(easy, monkeypatch):
    train = easy[0]
    calls = []
    noisy = ALOCC._noisy
    monkeypatch.setattr(ALOCC, "_noisy", lambda self, x: (calls.append(len(x)), noisy(self, x))[1])
    once = fit_test_params("alocc", train, min_steps=5, lr=2e-3)  # 5 steps at the default lr leave D(R(x)) flat in float32
    assert calls == [len(train)]  # the whole training set, once
    calls.clear()
    fit_test_params("alocc", train, min_steps=5, lr=2e-3, noise="per-step")
    assert len(calls) == once.n_steps_ * (1 + once.r_steps)  # D's step and each of R's steps


def test_batch_mode_scores_depend_on_batch_companions_and_running_mode_does_not(easy):
    train, test, _ = easy
    running, batch = fit_test_params("alocc", train), fit_test_params("alocc", train, score_batch_norm="batch")
    half = len(test) // 2
    np.testing.assert_allclose(running.score(test)[:half], running.score(test[:half]), rtol=1e-5, atol=1e-5)
    assert not np.allclose(batch.score(test)[:half], batch.score(test[:half]), rtol=1e-4, atol=1e-4)


def test_refinement_losses_read_as_documented():
    method = get_method("alocc")
    out, x, noisy = torch.tensor([[0.5, -1.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.8, 0.2]])
    bce = -(noisy * torch.log(torch.sigmoid(out)) + (1 - noisy) * torch.log(1 - torch.sigmoid(out))).mean()
    assert method._refinement_loss(out, x, noisy).item() == pytest.approx(bce.item(), rel=1e-6)
    method.set_params(recon_loss="mean", recon_target="clean")
    assert method._refinement_loss(out, x, noisy).item() == pytest.approx(((0.5 - 1) ** 2 + 1) / 2)
    method.set_params(recon_loss="sum")
    assert method._refinement_loss(out, x, noisy).item() == pytest.approx((0.5 - 1) ** 2 + 1)


def test_weight_average_scores_with_averaged_weights(easy):
    train, test, _ = easy
    raw, ema = fit_test_params("alocc", train, weight_average="none"), fit_test_params("alocc", train)
    for a, b in zip(raw.d_.state_dict().values(), ema.d_.state_dict().values()):  # same trajectory ...
        assert a.shape == b.shape
    assert not np.allclose(raw.score(test), ema.score(test))  # ... scored with other weights


# -- the optimiser --------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.0, 0.5])  # 0: what ALOCC runs (TF1's default, the authors' code)
def test_tf1_rmsprop_follows_the_documented_update(momentum):
    """TF1: ms <- 0.9 ms + 0.1 g^2 with ms starting at ONE; mom <- m mom + lr g / sqrt(ms + eps); p <- p - mom."""
    lr, decay, eps = 0.01, 0.9, 1e-10
    p = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    opt = TF1RMSprop([p], lr=lr, decay=decay, momentum=momentum, eps=eps)
    ref, ms, mom = p.detach().numpy().copy(), np.ones(3), np.zeros(3)
    for step in range(4):
        opt.zero_grad()
        loss = (p ** 2 * torch.tensor([1.0, 3.0, -0.5], dtype=torch.float64)).sum() + step * p.sum()
        loss.backward()
        g = p.grad.numpy().copy()
        ms = decay * ms + (1 - decay) * g ** 2
        mom = momentum * mom + lr * g / np.sqrt(ms + eps)
        ref = ref - mom
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), ref, rtol=1e-12)
    # the first step is about lr * g (accumulator near one), not torch's lr * sign(g) * 3.16
    q = torch.tensor([0.0], requires_grad=True)
    opt = TF1RMSprop([q], lr=0.1)
    (q * 1e-3).sum().backward()
    opt.step()
    assert q.item() == pytest.approx(-0.1 * 1e-3 / math.sqrt(0.9 + 0.1 * 1e-6), rel=1e-5)


def test_tf1_rmsprop_rejects_bad_settings():
    with pytest.raises(ValueError):
        TF1RMSprop([torch.zeros(1, requires_grad=True)], lr=0.0)


# -- per-epoch curves -----------------------------------------------------------------------------
def _trials(method, params=(), classes=("hbar",)):
    trials, _ = plan_trials([method], list(params), "mnist", {"classes": list(classes), "outlier_pcts": [50]}, "synthetic",
                            {"data_root": None, "download": False, "image_size": None}, [0], "cpu")
    return trials


def test_curves_give_one_row_per_epoch_on_the_validation_pool():
    small = [f"alocc.{k}={v!r}".replace(" ", "") for k, v in METHODS.get("alocc").test_params.items() if k != "epochs"]
    rows = curves.epoch_curves(_trials("alocc", small + ["alocc.epochs=3", "alocc.min_steps=0"])[0])
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert all(0 <= r["val_auroc"] <= 1 and not r["error"] for r in rows)
    assert rows[-1]["steps"] > rows[0]["steps"] and all(np.isfinite(r["mean_d_loss"]) for r in rows)
    assert rows[0]["val_n"] > 0 and rows[0]["positives"] == "hbar"


def test_curves_of_a_method_without_the_hook_are_a_clear_error():
    with pytest.raises(NovelbenchError, match="no per-epoch hook"):
        curves.epoch_curves(_trials("ocsvm")[0])


# -- stability ------------------------------------------------------------------------------------
def _row(method, seed, threads, auroc, mix="pool", status="ok"):
    return {"trial_id": f"{method}-{seed}-{threads}", "method": method, "protocol": "mnist", "dataset": "mnist", "group": "one class",
            "positives": "3", "repeat": 0, "seed": seed, "device": "cpu", "precision": "fp32", "mix": mix, "threads": threads,
            "auroc": auroc, "status": status}


def test_stability_pairs_the_same_trial_across_thread_counts_and_flags_large_changes():
    table = pd.DataFrame([_row("a", 0, 1, 0.90), _row("a", 0, 2, 0.95), _row("a", 1, 1, 0.80), _row("a", 1, 2, 0.80),
                          _row("b", 0, 1, 0.70), _row("b", 0, 2, 0.71), _row("b", 1, 1, 0.5),  # seed 1 of b: no pair
                          _row("a", 0, 1, 0.1, mix="p10")])
    result = stability.thread_stability(table)
    assert len(result.pairs) == 3
    a = result.pairs[(result.pairs["method"] == "a") & (result.pairs["seed"] == 0)].iloc[0]
    assert a["change"] == pytest.approx(0.05) and a["unstable"]
    methods = result.methods.set_index("method")
    assert methods.loc["a", "unstable"] and not methods.loc["b", "unstable"]
    assert methods.loc["a", "max_abs_change"] == pytest.approx(0.05) and methods.loc["b", "pairs"] == 1
    with pytest.raises(NovelbenchError, match="--threads 1 and with --threads 4"):
        stability.thread_stability(table, threads=(1, 4))


def test_symmetric_real_range_hands_d_real_images_in_minus_one_to_one(easy):
    train, test, _ = easy
    method = fit_test_params("alocc", train, score_mode="d")
    with torch.no_grad():
        expected = -method.d_(test * 2 - 1).numpy()
    np.testing.assert_allclose(method.score(test), expected, rtol=1e-4, atol=1e-4)


def test_cli_curves_and_stability_say_what_is_missing_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from novelbench.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["curves", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "hbar", "--out", str(tmp_path / "c.csv")])
    assert out.exit_code == 1 and "no per-epoch hook" in out.output and "Traceback" not in out.output
    table = tmp_path / "t.csv"
    pd.DataFrame([_row("a", 0, 1, 0.9)]).to_csv(table, index=False)
    for threads in ("1", "0,-2", "2,2"):
        out = runner.invoke(app, ["stability", str(table), "--threads", threads])
        assert out.exit_code == 1 and "two different thread counts of at least 1" in out.output
    (tmp_path / "folder").mkdir()
    out = runner.invoke(app, ["curves", "-m", "alocc", "--dataset", "synthetic", "--classes", "hbar", "--out", str(tmp_path / "folder")])
    assert out.exit_code == 1 and "is an existing folder; give a file name" in out.output  # before any training


def test_the_authors_preset_puts_every_departing_default_back_at_their_code():
    """The default departs from the authors' code in four switches (lr, real_range,
    score_batch_norm, weight_average) and in the schedule; `alocc-authors` has their values."""
    from novelbench.methods.alocc import AUTHORS

    plugin = METHODS.plugin("alocc-authors")
    defaults = ALOCC.param_defaults()
    assert plugin.cls is ALOCC and plugin.defaults == AUTHORS
    assert all(defaults[name] != value for name, value in AUTHORS.items())  # each one is a real departure
    assert AUTHORS == {"lr": 2e-3, "real_range": "unit", "score_batch_norm": "batch", "weight_average": "none", "epochs": 40}
