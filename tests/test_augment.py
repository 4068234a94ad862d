"""Augmentations and losses of CRBND (paper eqs. 1-6)."""

from __future__ import annotations

import math

import pytest
import torch

from novelbench.methods import augment as aug


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_gaussian_noise_has_the_asked_std():
    x = torch.full((64, 1, 28, 28), 0.5)
    out = aug.gaussian_noise(x, 0.2)
    assert abs((out - x).std().item() - 0.2) < 0.005
    assert abs((out - x).mean().item()) < 0.005


def test_coarse_dropout_removes_rectangles_of_the_asked_size_and_rate():
    x = torch.rand(400, 1, 28, 28) * 0.9 + 0.1  # no zeros before dropout
    out = aug.coarse_dropout(x, p=0.3, mask_size=7)
    dropped = out == 0
    assert torch.equal(out[~dropped], x[~dropped])
    # every 4x4 cell of the 7x7 grid is dropped entirely or not at all
    cells = dropped.reshape(400, 1, 7, 4, 7, 4).permute(0, 1, 2, 4, 3, 5).reshape(400, 49, 16)
    frac = cells.float().mean(-1)
    assert torch.all((frac == 0) | (frac == 1))
    assert abs(dropped.float().mean().item() - 0.3) < 0.02
    # per-channel: the same mask for every channel
    rgb = aug.coarse_dropout(torch.rand(8, 3, 28, 28) + 0.1, p=0.5, mask_size=7)
    assert torch.equal(rgb[:, 0] == 0, rgb[:, 2] == 0)


def test_motion_blur_preserves_mass_and_blurs():
    x = torch.zeros(16, 2, 28, 28)
    x[:, :, 10:18, 12:15] = torch.rand(16, 2, 8, 3)
    out = aug.motion_blur(x, 7)
    assert torch.allclose(out.sum(dim=(2, 3)), x.sum(dim=(2, 3)), atol=1e-4)
    assert (out - x).abs().sum(dim=(1, 2, 3)).min() > 0.5  # changed every image
    assert out.max() < x.max()  # spread out, peaks lowered
    kern = aug.motion_blur_kernels(32, 7)
    assert torch.allclose(kern.sum(dim=(1, 2)), torch.ones(32))
    assert (kern > 0).sum(dim=(1, 2)).min() >= 7  # a line, not a point
    assert not torch.allclose(kern[0], kern[1])  # random angle per sample


def test_charbonnier_matches_the_formula():
    pred = torch.tensor([0.0, 0.5, 1.0])
    target = torch.tensor([0.0, 0.2, 0.0])
    eps = 0.1
    expected = (math.sqrt(0 + eps**2) + math.sqrt(0.09 + eps**2) + math.sqrt(1 + eps**2)) / 3
    assert aug.charbonnier(pred, target, eps).item() == pytest.approx(expected, rel=1e-6)


def test_connective_mixing():
    x, r = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    assert torch.allclose(aug.connective(x, r, 0.3), 0.3 * x + 0.7 * r)


def test_blur_or_noise_and_structural_negatives_keep_shapes():
    x = torch.rand(10, 1, 28, 28)
    for kinds in ("both", "blur", "noise"):
        assert aug.blur_or_noise(x, 7, 0.2, kinds).shape == x.shape
    s = aug.patch_shuffle(x, 2)
    assert s.shape == x.shape
    assert torch.allclose(s.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)), atol=1e-4)  # tiles permuted
    assert aug.structural_negative(x).shape == x.shape
