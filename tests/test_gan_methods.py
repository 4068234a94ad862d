"""alocc and g2d (and their shared adversarial blocks): separation, the score switch, forced
divergence through the harness, RGB 64x64 inputs, bf16 autocast, and the blocks' contracts."""

import contextlib

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from novelbench.benchmark.execution import run_trial
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.methods import adversarial
from novelbench.methods.adversarial import (
    ConvDiscriminator, ConvEncoderDecoder, ConvGenerator, GANDiverged, ShuffledBatches, check_not_constant, gradient_penalty,
)
from novelbench.methods.g2d import G2D, low_level_cues, low_level_separation, lowpass, match_cues
from novelbench.registry import METHODS, get_method

from conftest import fit_test_params

GAN_METHODS = ["alocc", "g2d"]


@pytest.mark.parametrize("name", GAN_METHODS)
def test_gan_method_separates_an_easy_split(name, easy):
    train, test, is_outlier = easy
    method = fit_test_params(name, train)
    with pinned_threads(1):
        scores, native = method.score_and_predict(test)
    assert roc_auc_score(is_outlier, scores) > 0.9
    if name == "g2d":  # a classifier's own decision; alocc has none (the paper's tau is not given)
        assert native.dtype == bool and native[is_outlier == 0].mean() >= native[is_outlier == 1].mean()
        assert native[is_outlier == 0].mean() > 0.5
    else:
        assert native is None


def test_alocc_score_switch_gives_two_different_scores_both_higher_for_novel(easy):
    train, test, is_outlier = easy
    dr, d = fit_test_params("alocc", train, score_mode="dr"), fit_test_params("alocc", train, score_mode="d")
    for net in ("r_", "d_"):  # the switch only changes scoring: the same seed trains the same networks
        for a, b in zip(getattr(dr, net).state_dict().values(), getattr(d, net).state_dict().values()):
            assert torch.equal(a, b)
    with pinned_threads(1):
        s_dr, s_d = dr.score(test), d.score(test)
    assert not np.allclose(s_dr, s_d)
    assert roc_auc_score(is_outlier, s_dr) > 0.9 and roc_auc_score(is_outlier, s_d) > 0.9
    expected = -dr.d_(dr.r_(test)).detach().numpy()  # D(R(x)) really is what "dr" scores
    np.testing.assert_allclose(s_dr, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name, absurd", [("alocc", "lr=1e12"), ("alocc", "lr=1e6"), ("g2d", "gan_lr=1e12"), ("g2d", "clf_lr=1e12")])
def test_a_forced_divergence_is_a_failed_row_with_its_reason(name, absurd):
    small = [f"{name}.{k}={v!r}".replace(" ", "") for k, v in METHODS.get(name).test_params.items()]
    trials, _ = plan_trials([name], small + [f"{name}.{absurd}"], "mnist", {"classes": ["hbar"], "outlier_pcts": [50]},
                            "synthetic", {"data_root": None, "download": False, "image_size": None}, [0], "cpu")
    rows = run_trial(trials[0])
    assert len(rows) == 1 and rows[0]["status"] == "failed"
    assert rows[0]["error"].startswith("GANDiverged: ")
    assert "diverged" in rows[0]["error"] or "saturated" in rows[0]["error"]
    assert "auroc" not in rows[0]  # never a number


@pytest.mark.parametrize("name", GAN_METHODS)
def test_rgb_64x64_inputs_fit_and_score(name):
    torch.manual_seed(0)
    train = torch.rand(24, 3, 64, 64) * 0.2 + torch.linspace(0, 0.6, 64).view(1, 1, 1, 64)
    test = torch.rand(6, 3, 64, 64)
    small = ({"r_widths": (4, 8), "d_widths": (4, 8), "min_steps": 20} if name == "alocc"
             else {"gen_widths": (8, 4), "critic_widths": (4, 8), "clf_widths": (4, 8), "threshold_iter": 4, "min_steps": 4})
    method = fit_test_params(name, train, **small)
    scores = method.score(test)
    assert scores.shape == (6,) and scores.dtype == np.float32 and np.isfinite(scores).all()
    for panel in method.image_panels(test[:2]).values():
        assert panel.shape == (2, 3, 64, 64)


@pytest.mark.parametrize("name", GAN_METHODS)
def test_bf16_autocast_training_path_gives_float32_scores(name, easy, monkeypatch):
    """The CUDA path (bf16 autocast in training, float32 scores), exercised with CPU autocast."""
    module = __import__(f"novelbench.methods.{name}", fromlist=["autocast"])
    used = []

    def cpu_bf16(device):
        used.append(device)
        return torch.autocast("cpu", dtype=torch.bfloat16)

    monkeypatch.setattr(module, "autocast", cpu_bf16)
    train, test, is_outlier = easy
    method = fit_test_params(name, train)
    scores = method.score(test)
    assert used and scores.dtype == np.float32 and np.isfinite(scores).all()
    assert roc_auc_score(is_outlier, scores) > 0.8


def test_alocc_stops_when_reconstruction_is_good_enough(easy):
    train = easy[0]
    steps_per_epoch = -(-len(train) // 16)
    # a 4-step EMA is all init, and 4 steps at the default lr 2e-4 leave D(R(x)) flat in float32
    fast = {"weight_average": "none", "lr": 2e-3}
    loose = fit_test_params("alocc", train, epochs=5, min_steps=0, stop_mse=1.0, **fast)  # any reconstruction is "good": one epoch
    assert loose.n_steps_ == steps_per_epoch
    strict = fit_test_params("alocc", train, epochs=3, min_steps=0, stop_mse=1e-9, **fast)  # never good enough: every epoch
    assert strict.n_steps_ == 3 * steps_per_epoch
    assert len(strict.history_["r_mse"]) == strict.n_steps_


def test_g2d_negatives_come_evenly_from_snapshots_up_to_t():
    method = get_method("g2d", threshold_iter=300, snapshots=10)
    plan = method._snapshot_plan(1003)
    assert sorted(plan) == list(range(30, 301, 30)) and sum(plan.values()) == 1003
    assert max(plan.values()) - min(plan.values()) <= 1
    assert get_method("g2d", threshold_iter=3, snapshots=10)._snapshot_plan(9) == {1: 3, 2: 3, 3: 3}
    assert get_method("g2d", threshold_iter=40, snapshots=4)._snapshot_plan(3) == {10: 1, 20: 1, 30: 1}  # no empty snapshot


def test_g2d_trains_the_generator_only_up_to_t(easy):
    method = fit_test_params("g2d", easy[0], threshold_iter=7, snapshots=3, n_negatives=30)
    assert len(method.history_["gen_loss"]) == 7 and len(method.history_["critic_loss"]) == 7
    assert len(method.negatives_) == 2 * 30  # test_params' two classifiers, each with its own 30 (``own_negatives``)
    few = fit_test_params("g2d", easy[0], threshold_iter=4, snapshots=4, n_negatives=5, classifiers=1)  # snapshots of one sample each
    assert len(few.negatives_) == 5


def test_a_saturated_discriminator_is_an_error_not_a_number(easy, monkeypatch):
    train, test, _ = easy
    method = fit_test_params("alocc", train)
    monkeypatch.setattr(method.d_, "forward", lambda x: -200.0 - torch.arange(float(x.shape[0])))  # D(.) = 0 in float32
    with pytest.raises(GANDiverged, match="saturated: D\\(R\\(x\\)\\)"):
        method.score(test)
    with pytest.raises(GANDiverged, match="non-finite"):
        check_not_constant(torch.tensor([0.1, float("nan")]), "x")
    check_not_constant(torch.tensor([0.1, 0.2]), "x")  # a spread is fine


# -- shared blocks --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [16, 28, 31, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_blocks_keep_any_image_size_and_channel_count(size, channels):
    x = torch.rand(2, channels, size, size)
    assert ConvEncoderDecoder(channels, (4, 8, 16)).eval()(x).shape == x.shape
    assert ConvDiscriminator(channels, size, (4, 8, 8, 8)).eval()(x).shape == (2,)
    assert ConvDiscriminator(channels, size, (4, 8), kernel=4, batch_norm=False)(x).shape == (2,)
    out = ConvGenerator(10, channels, size, (8, 4)).eval()(torch.randn(2, 10))
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1


def test_gradient_penalty_of_a_linear_critic_is_its_weight_norm_minus_one_squared():
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.arange(12.0).view(1, 12) / 10)
    norm = (torch.arange(12.0) / 10).norm()
    gp = gradient_penalty(critic, torch.rand(5, 3, 2, 2), torch.rand(5, 3, 2, 2))
    assert gp.item() == pytest.approx((norm.item() - 1) ** 2, rel=1e-5)
    gp.backward()  # differentiable w.r.t. the critic (create_graph)
    assert critic[1].weight.grad is not None and critic[1].weight.grad.abs().sum() > 0


def test_shuffled_batches_are_full_and_cover_each_epoch():
    torch.manual_seed(0)
    batches = ShuffledBatches(10, 4, torch.device("cpu"))
    seen = torch.cat([next(batches) for _ in range(5)])  # 20 items = 2 epochs
    assert all(len(b) == 4 for b in [next(batches)]) and batches.steps_per_epoch == 3
    assert sorted(seen[:10].tolist()) == list(range(10)) and batches.epoch == 2
    assert len(next(ShuffledBatches(3, 8, torch.device("cpu")))) == 3


def test_training_checks_catch_non_finite_weights():
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight[0, 0] = float("inf")
    with pytest.raises(GANDiverged, match="weight"):
        adversarial.check_parameters(net, "D")
    with contextlib.suppress(GANDiverged):
        adversarial.check_finite(float("nan"), "loss", "step 1")
        pytest.fail("a NaN loss must raise")


class _BrightnessGenerator(nn.Module):
    """Stands in for G: noise-free strokes at a learned brightness (a snapshot = one brightness)."""

    def __init__(self, strokes):
        super().__init__()
        self.strokes, self.level = strokes, nn.Parameter(torch.tensor(1.0))

    def forward(self, z):
        return (self.strokes[torch.arange(len(z)) % len(self.strokes)] * self.level).clamp(0, 1)


def test_g2d_keeps_only_snapshots_that_match_the_inliers_ink_and_edges(easy):
    """The filter behind session 30's default (``match_band=0.2``): snapshots whose samples differ from the
    inliers in ink or edge energy alone (here: too bright, as the early grey G) give no negatives, so
    the pooled negatives are not separable on those cues (each 1-D AUROC in [0.3, 0.7]);
    ``match_band=None`` (the paper's plan) keeps every snapshot, and its negatives are."""
    train = easy[0]
    plans = {}
    for band in (0.2, None):
        method = get_method("g2d", match_band=band)
        method.device_, method.gen_ = torch.device("cpu"), _BrightnessGenerator(train.flip(0))
        levels = {10: 3.0, 20: 2.0, 30: 1.0, 40: 1.0}  # iteration -> brightness: early snapshots too bright, as G starts grey
        snapshots = {it: {"level": torch.tensor(v)} for it, v in levels.items()}
        with pinned_threads(1):
            seed_everything(0)
            plans[band] = method._kept_snapshots(snapshots, train, 40)
        negatives = []
        for it, n in plans[band].items():
            method.gen_.load_state_dict(snapshots[it])
            negatives.append(method._generate(n))
        negatives = torch.cat(negatives)
        separation = low_level_separation(negatives, train)
        if band is None:
            assert plans[band] == {10: 10, 20: 10, 30: 10, 40: 10} and separation > 0.2
            assert method.snapshot_separation_ == {}
        else:
            assert plans[band] == {30: 20, 40: 20} and separation <= 0.2
            assert method.snapshot_separation_[10] > 0.2 and method.snapshot_separation_[20] > 0.2


def test_g2d_input_blur_filters_every_classifier_input_and_only_those(easy):
    """With ``blur_scope="classifier"`` (session 30's default) ``input_blur`` changes only what the
    classifier sees: the same seed trains the same GAN and draws the same negatives; training and
    scored images pass the same low-pass; both settings separate the easy split."""
    train, test, is_outlier = easy
    raw = fit_test_params("g2d", train, input_blur=None)
    blurred = fit_test_params("g2d", train, input_blur=2.0, blur_scope="classifier")
    assert torch.equal(raw.negatives_, blurred.negatives_)
    with pinned_threads(1):
        scores = blurred.score(test)
        expected = -blurred.clf_(lowpass(test, 2.0)).detach().numpy()
        assert roc_auc_score(is_outlier, raw.score(test)) > 0.9 and roc_auc_score(is_outlier, scores) > 0.9
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    assert get_method("g2d").input_blur == 3.0 and get_method("g2d-paper").input_blur is None


def test_g2d_blur_scope_all_trains_the_gan_on_the_low_passed_images(easy):
    """The default (``blur_scope="all"``): the GAN learns the low-passed inliers, so its negatives
    are smooth like them; scored images pass the low-pass once; the easy split is separated."""
    train, test, is_outlier = easy
    method = fit_test_params("g2d", train, threshold_iter=40, snapshots=2, cue_match=False)
    assert method.blur_scope == "all" and method.input_blur == 3.0
    with pinned_threads(1):
        scores = method.score(test)
        expected = -method.clf_(lowpass(test, 3.0)).detach().numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    assert roc_auc_score(is_outlier, scores) > 0.9
    # the samples of a GAN that learnt sharp bars carry more edge energy than those of one that learnt blurred bars
    raw = fit_test_params("g2d", train, threshold_iter=40, snapshots=2, cue_match=False, blur_scope="classifier")
    assert low_level_cues(method.negatives_)["edges"].mean() < low_level_cues(raw.negatives_)["edges"].mean()


def test_g2d_classifiers_score_with_their_mean_logit(easy):
    """``classifiers`` classifiers, each its own initialisation, are trained on the same images and
    score with the mean of their logits; ``classifiers=1`` trains one (``g2d-paper``'s setting)."""
    train, test, is_outlier = easy
    method = fit_test_params("g2d", train, classifiers=3)
    members = list(method.clf_.members)
    assert len(members) == 3 and len(method.clf_loss_history_) == 3
    assert not torch.equal(members[0].head.weight, members[1].head.weight)
    with pinned_threads(1):
        scores = method.score(test)
        expected = -torch.stack([m(lowpass(test, 3.0)) for m in members]).mean(0).detach().numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    assert roc_auc_score(is_outlier, scores) > 0.9
    assert len(fit_test_params("g2d", train, classifiers=1).clf_.members) == 1
    assert get_method("g2d").classifiers == 3 and get_method("g2d-paper").classifiers == 1


def test_g2d_own_negatives_give_each_classifier_an_equal_share_of_every_snapshot(easy, monkeypatch):
    """``own_negatives`` (the default): the snapshots generate ``classifiers`` times as many negatives
    and each classifier learns against its own share, holding every snapshot's samples in equal
    numbers; ``own_negatives=False``: all of them learn against the same negatives."""
    train, test, is_outlier = easy
    seen = {}
    generated = G2D._generate

    def tagged(self, n):  # each snapshot's samples tagged by a constant pixel, to tell the snapshots apart afterwards
        out = generated(self, n)
        out[:, :, 0, 0] = len(seen.setdefault("snapshots", []))
        seen["snapshots"].append(n)
        return out

    monkeypatch.setattr(G2D, "_generate", tagged)
    monkeypatch.setattr(G2D, "_train_classifiers", lambda self, sets, n_inliers: seen.update(sets=sets, n_inliers=n_inliers))
    monkeypatch.setattr(G2D, "_logits", lambda self, images: torch.arange(float(len(images))))
    params = {**METHODS.get("g2d").test_params, "device": "cpu", "classifiers": 3, "snapshots": 2, "cue_match": False,
              "input_blur": None}
    G2D(**params).fit(train)
    assert seen["n_inliers"] == len(train) and seen["snapshots"] == [3 * len(train) // 2] * 2
    sets = seen["sets"]
    assert len(sets) == 3
    for x in sets:
        assert torch.equal(x[: len(train)], train)
        negatives = x[len(train):]
        assert len(negatives) == len(train)
        assert torch.bincount(negatives[:, 0, 0, 0].long()).tolist() == [len(train) // 2] * 2  # half from each snapshot
    assert not torch.equal(sets[0][len(train):], sets[1][len(train):])
    seen.clear()
    G2D(**{**params, "own_negatives": False}).fit(train)
    assert len(seen["sets"]) == 1 and len(seen["sets"][0]) == 2 * len(train) and seen["snapshots"] == [len(train) // 2] * 2
    assert get_method("g2d").own_negatives is True
    monkeypatch.undo()
    # the real thing separates the easy split with shared negatives too (own ones: the conformance tests, test_params)
    method = fit_test_params("g2d", train, own_negatives=False)
    assert len(method.clf_.members) == 2
    with pinned_threads(1):
        assert roc_auc_score(is_outlier, method.score(test)) > 0.9


def test_match_cues_gives_each_negative_an_inliers_ink_and_edges():
    """Bright, noisy negatives (separable from the inliers by ink and by edges alone) come out of
    ``match_cues`` within 0.1 of chance on both cues; their ink and edges lie within the inliers' range."""
    torch.manual_seed(0)
    strokes = torch.zeros(200, 1, 16, 16)
    for i in range(200):
        r = 3 + i % 9
        strokes[i, 0, r:r + 2 + i % 3, 2:14] = 0.6 + 0.4 * (i % 5) / 4
    inliers = lowpass(strokes, 1.0)
    negatives = (0.3 + 0.5 * torch.rand(300, 1, 16, 16)).clamp(0, 1)
    assert low_level_separation(negatives, inliers) > 0.45
    with torch.random.fork_rng():
        matched = match_cues(negatives, inliers)
    assert matched.shape == negatives.shape and matched.min() >= 0 and matched.max() <= 1
    assert low_level_separation(matched, inliers) < 0.1
    for cue, values in low_level_cues(matched).items():
        ref = low_level_cues(inliers)[cue]
        assert np.quantile(values, 0.05) >= 0.8 * ref.min() and np.quantile(values, 0.95) <= 1.2 * ref.max()


def test_g2d_default_negatives_are_not_separable_by_ink_or_edges(easy):
    """Issue 19: the default's negatives cannot be told from the training inliers the GAN learnt
    by mean intensity or by edge energy alone, on a small split (a GAN this short still draws grey
    noise); without cue matching they can. The negatives stay distinct images, not copies of inliers."""
    train = easy[0]
    matched = fit_test_params("g2d", train, threshold_iter=20, snapshots=2)
    unmatched = fit_test_params("g2d", train, threshold_iter=20, snapshots=2, cue_match=False)
    seen = matched.learnt_images(train)
    assert low_level_separation(unmatched.negatives_, seen) > 0.2
    assert low_level_separation(matched.negatives_, seen) <= 0.1
    nearest = torch.cdist(matched.negatives_.flatten(1), seen.flatten(1)).min(1).values
    assert (nearest > 0.1).all()
    assert get_method("g2d").cue_match and get_method("g2d").match_band is None and not get_method("g2d-paper").cue_match


def test_lowpass_keeps_ink_and_removes_edges():
    torch.manual_seed(0)
    x = (torch.rand(20, 1, 28, 28) > 0.7).float()
    y = lowpass(x, 2.0)
    cues_x, cues_y = low_level_cues(x), low_level_cues(y)
    np.testing.assert_allclose(cues_y["ink"], cues_x["ink"], rtol=0.05)
    assert (cues_y["edges"] < 0.3 * cues_x["edges"]).all()
    assert lowpass(x, None) is x


def test_low_level_separation_reads_ink_and_edges():
    torch.manual_seed(0)
    dark = torch.rand(50, 1, 8, 8) * 0.2
    assert low_level_separation(dark + 0.5, dark) == pytest.approx(0.5)  # more ink: perfectly separable
    flat = 0.1 + 0.01 * torch.randn(50, 1, 8, 8)
    checker = 0.2 * ((torch.arange(8).view(8, 1) + torch.arange(8)) % 2) + 0.01 * torch.randn(50, 1, 8, 8)
    assert low_level_separation(checker, flat) == pytest.approx(0.5)  # the same ink, far more edge energy
    assert low_level_separation(dark[:25], dark[25:]) < 0.2
