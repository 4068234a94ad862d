"""GEOM's transformation set and its Dirichlet normality score."""

import itertools

import numpy as np
import pytest
import torch

from novelbench.benchmark.execution import to_float
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.errors import NovelbenchError
from novelbench.methods.geom import GEOM, fit_dirichlet
from novelbench.methods.wrn import PreActBlock, WideResNet
from novelbench.registry import METHODS
from novelbench.methods.geometric import (SET_NAMES, GeoTransform, apply_indexed, apply_transform, index_maps,
                                          invert_transform, transformation_set)


def test_the_paper_set_is_72_flips_shifts_and_quarter_turns():
    paper = transformation_set("flip-shift-rot", 8)
    assert len(paper) == 72 and len(set(paper)) == 72
    assert {t.flip for t in paper} == {False, True}
    assert {t.tx for t in paper} == {t.ty for t in paper} == {0, -8, 8}
    assert {t.rot for t in paper} == {0, 1, 2, 3}
    assert paper[0] == GeoTransform()  # the identity comes first
    sizes = {name: len(transformation_set(name, 8)) for name in SET_NAMES}
    assert sizes == {"flip-shift-rot": 72, "flip-shift": 18, "flip-rot": 8, "shift-rot": 36, "flip": 2, "shift": 9, "rot": 4}
    with pytest.raises(ValueError, match="unknown transformation set"):
        transformation_set("rot-flip", 8)


@pytest.mark.parametrize("channels, size", [(1, 28), (3, 32)])
def test_every_transformation_gives_a_distinct_image(channels, size):
    x = torch.rand(2, channels, size, size, generator=torch.Generator().manual_seed(0))
    outs = [apply_transform(x, t) for t in transformation_set("flip-shift-rot", size // 4)]
    assert all(o.shape == x.shape for o in outs)
    for a, b in itertools.combinations(range(len(outs)), 2):
        assert not torch.equal(outs[a], outs[b]), (a, b)


def test_flips_and_rotations_are_exactly_invertible_and_translations_are_not():
    x = torch.rand(3, 2, 12, 12, generator=torch.Generator().manual_seed(1))
    transforms = transformation_set("flip-shift-rot", 3)
    invertible = [t for t in transforms if t.invertible]
    assert len(invertible) == 8  # the flip x rotation subgroup
    for t in invertible:
        assert torch.equal(invert_transform(apply_transform(x, t), t), x)
    for t in transforms:
        if not t.invertible:
            with pytest.raises(ValueError, match="no exact inverse"):
                invert_transform(x, t)


def test_a_translation_shifts_and_fills_the_border_by_reflection():
    x = torch.arange(36.0).reshape(1, 1, 6, 6)
    right = apply_transform(x, GeoTransform(tx=2))
    assert torch.equal(right[..., 2:], x[..., :-2])  # moved right by 2
    assert torch.equal(right[..., :2], x[..., 1:3].flip(-1))  # the uncovered border mirrors the image
    down = apply_transform(x, GeoTransform(ty=-2))
    assert torch.equal(down[..., :-2, :], x[..., 2:, :])  # ty < 0 moves up
    assert torch.equal(apply_transform(x, GeoTransform(rot=1)), torch.rot90(x, 1, dims=(-2, -1)))
    assert torch.equal(apply_transform(x, GeoTransform(flip=True)), x.flip(-1))
    with pytest.raises(ValueError, match="larger"):
        apply_transform(x, GeoTransform(tx=6))


def test_index_maps_apply_the_same_transformations_in_one_gather():
    x = torch.rand(5, 3, 10, 10, generator=torch.Generator().manual_seed(2))
    transforms = transformation_set("flip-shift-rot", 2)
    maps = index_maps(transforms, 10, 10)
    which = torch.tensor([0, 17, 35, 52, 71])
    mixed = apply_indexed(x, maps, which)
    for i, j in enumerate(which.tolist()):
        assert torch.equal(mixed[i], apply_transform(x[i : i + 1], transforms[j])[0])
    with pytest.raises(ValueError, match="square"):
        index_maps(transforms, 10, 12)


def test_dirichlet_fit_recovers_known_parameters():
    alpha = np.array([2.0, 5.0, 0.5, 1.0])
    samples = np.random.default_rng(0).dirichlet(alpha, size=20000)
    fitted = fit_dirichlet(np.log(samples))
    np.testing.assert_allclose(fitted, alpha, rtol=0.05)


def _fit(synthetic, **params):
    data = synthetic.splits["train"]
    train = to_float(data.images[data.labels == data.label_of("hbar")])
    with pinned_threads(1):
        seed_everything(0)
        return GEOM(**{**GEOM.test_params, "device": "cpu", **params}).fit(train)


def test_geom_scores_with_dirichlet_or_simple_score(synthetic):
    test = synthetic.splits["test"]
    images = to_float(test.images)
    inlier = test.labels == test.label_of("hbar")
    dirichlet = _fit(synthetic)
    simple = _fit(synthetic, score_mode="simple")
    assert dirichlet.alphas_.shape == (4, 4) and (dirichlet.alphas_ > 0).all()
    assert not hasattr(simple, "alphas_")
    np.testing.assert_array_equal(dirichlet.net_.head.weight.detach(), simple.net_.head.weight.detach())  # same training
    for method in (dirichlet, simple):
        scores = method.score(images)
        assert np.isfinite(scores).all()
        assert scores[inlier].mean() < scores[test.labels == test.label_of("ring")].mean()
    # simple: minus the summed log-probability of the correct transformation, recomputed by hand
    log_p = torch.stack([simple._log_probs(images[:3], j)[:, j] for j in range(4)], 1).sum(1).double().numpy()
    np.testing.assert_allclose(simple.score(images[:3]), -log_p, rtol=1e-6)


def test_geom_flatten_head_keeps_the_feature_map(synthetic):
    method = _fit(synthetic, head="flatten", epochs=1)
    assert method.net_.head.in_features == 16 * 4 * 4  # widths (8, 16): 16 channels, 16 -> 8 -> 4 pixels a side
    assert np.isfinite(method.score(to_float(synthetic.splits["test"].images[:5]))).all()


def test_geom_default_shift_is_a_quarter_of_the_side(synthetic):
    method = _fit(synthetic, transforms="shift", epochs=1)
    assert {t.tx for t in method.transforms_} == {0, -4, 4}  # 16 x 16 images


def test_wrn_10_4_has_the_authors_shape():
    net = WideResNet(1, 72, depth=10, widen=4)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs if c.kernel_size == (3, 3)] == [16, 64, 64, 128, 128, 256, 256]
    assert sum(p.numel() for p in net.parameters()) == 1_214_456
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 72) and net(torch.randn(2, 3, 28, 28)[:, :1]).shape == (2, 72)
    assert len([m for m in WideResNet(1, 4, depth=16, widen=1).modules() if isinstance(m, PreActBlock)]) == 6
    with pytest.raises(ValueError, match="6n \\+ 4"):
        WideResNet(1, 4, depth=12)


def test_geom_pads_with_black_to_pad_to_and_shifts_a_quarter_of_the_padded_side(synthetic):
    method = _fit(synthetic, transforms="shift", epochs=1, pad_to=20)
    assert {t.tx for t in method.transforms_} == {0, -5, 5}  # 16 x 16 images padded to 20 x 20
    x = torch.rand(3, 1, 16, 16)
    padded = method._prep(x)
    assert padded.shape == (3, 1, 20, 20)
    assert torch.equal(padded[..., 2:18, 2:18], x * 2 - 1) and (padded[..., :2, :] == -1).all()  # black border in [-1, 1]
    assert np.isfinite(method.score(to_float(synthetic.splits["test"].images[:5]))).all()
    with pytest.raises(NovelbenchError, match="smaller than"):
        _fit(synthetic, pad_to=12)


def test_geom_l2_shrinks_the_weights_and_the_dirichlet_can_use_every_image(synthetic):
    plain, decayed = _fit(synthetic, epochs=2), _fit(synthetic, epochs=2, l2=0.5)
    norm = lambda m: sum(p.detach().pow(2).sum() for p in m.net_.parameters())  # noqa: E731
    assert norm(decayed) < norm(plain)
    every = _fit(synthetic, epochs=1, dirichlet_images=None)
    few = _fit(synthetic, epochs=1, dirichlet_images=3)
    assert not np.allclose(every.alphas_, few.alphas_)


def test_geom_wrn_option_and_the_paper_preset(synthetic):
    paper = METHODS.plugin("geom-paper")
    assert paper.is_preset and issubclass(paper.cls, GEOM)
    defaults = paper.param_defaults()
    assert {k: defaults[k] for k in ("net", "wrn_depth", "wrn_widen", "pad_to", "epochs", "lr", "l2", "batch_size", "dirichlet_images")} == {
        "net": "wrn", "wrn_depth": 10, "wrn_widen": 4, "pad_to": 32, "epochs": 3, "lr": 1e-3, "l2": 2.5e-4, "batch_size": 128,
        "dirichlet_images": None}
    method = _fit(synthetic, net="wrn", wrn_depth=10, wrn_widen=1, epochs=2)
    assert isinstance(method.net_, WideResNet)
    test = synthetic.splits["test"]
    scores = method.score(to_float(test.images))
    inlier = test.labels == test.label_of("hbar")
    assert scores[inlier].mean() < scores[test.labels == test.label_of("ring")].mean()


def test_geom_paper_fits_and_scores_with_denormals_flushed_and_restores_the_default(synthetic, monkeypatch):
    calls = []
    real = torch.set_flush_denormal
    monkeypatch.setattr(torch, "set_flush_denormal", lambda on: calls.append(on) or real(on))
    params = {"epochs": 1, "wrn_widen": 1, "dirichlet_images": 16, "device": "cpu"}
    method = METHODS.create("geom-paper", **params)
    train = to_float(synthetic.splits["train"].images[:64])
    with pinned_threads(1):
        seed_everything(0)
        method.fit(train)
        assert calls == [True, False]  # on for the fit, torch's default after it
        method.score(train[:8])
    assert calls == [True, False, True, False]

