"""Batched image augmentations and losses for CRBND (paper section 3.1) and its variants.

Every function works on a whole batch ``(N, C, H, W)`` with tensor ops only (no per-sample
Python loops), so it runs at full speed on a GPU. Randomness comes from torch's global
generator (seeded by the harness).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gaussian_noise(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Eq. (1): ``x_g = x + eta``, ``eta ~ N(0, sigma^2)`` per pixel (no clipping, as in the paper)."""
    return x + sigma * torch.randn_like(x)


def coarse_dropout(x: torch.Tensor, p: float, mask_size: int, per_channel: bool = False) -> torch.Tensor:
    """Eq. (2): ``x_c = x_g - beta * x_g`` with imgaug ``CoarseDropout`` semantics.

    ``beta`` is Bernoulli(p) on a low-resolution ``mask_size x mask_size`` grid, upsampled
    nearest to the image size, so whole rectangles (``H/mask_size x W/mask_size`` pixels) are set
    to zero. ``per_channel=False``: one grid per image, shared by its channels; ``True``: one grid
    per channel (the paper's beta "with the same number of channels" as the image).
    """
    n, c, h, w = x.shape
    low = (torch.rand(n, c if per_channel else 1, mask_size, mask_size, device=x.device) < p).to(x.dtype)
    beta = F.interpolate(low, size=(h, w), mode="nearest")
    return x - beta * x


def motion_blur_kernels(n: int, kernel_size: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """``n`` line kernels (k x k) through the centre at uniform random angles; each sums to 1."""
    k = kernel_size
    c = (k - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(k, device=device, dtype=dtype) - c, torch.arange(k, device=device, dtype=dtype) - c, indexing="ij")
    theta = torch.rand(n, 1, 1, device=device, dtype=dtype) * math.pi
    cos, sin = torch.cos(theta), torch.sin(theta)
    dist = (xs * sin - ys * cos).abs()  # distance of each tap from the line
    along = (xs * cos + ys * sin).abs()  # position along the line
    kern = (1 - dist).clamp(min=0) * (along <= c + 0.5).to(dtype)
    return kern / kern.sum(dim=(1, 2), keepdim=True)


def motion_blur(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Motion blur (a negative-sample operator ``d`` of eq. 5) at a random angle per image.

    One depthwise (grouped) convolution for the whole batch; kernels sum to 1 so mass away from
    the borders is preserved.
    """
    n, c, h, w = x.shape
    kern = motion_blur_kernels(n, kernel_size, x.device, x.dtype)
    weight = kern.repeat_interleave(c, dim=0).unsqueeze(1)  # (n*c, 1, k, k)
    out = F.conv2d(x.reshape(1, n * c, h, w), weight, padding=kernel_size // 2, groups=n * c)
    return out.reshape(n, c, h, w)


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Eq. (3): mean of ``sqrt((x - x')^2 + eps^2)`` (L2 near 0, L1 far from it)."""
    return torch.sqrt((pred - target) ** 2 + eps**2).mean()


def connective(x: torch.Tensor, recon: torch.Tensor, lam: float) -> torch.Tensor:
    """Eqs. (4)-(6): connective sample ``lam * x + (1 - lam) * recon``."""
    return lam * x + (1 - lam) * recon


def blur_or_noise(x: torch.Tensor, kernel_size: int, sigma: float, kinds: str = "both") -> torch.Tensor:
    """The paper's ``d``: motion blur or Gaussian noise, chosen at random per image (``kinds``:
    ``both`` | ``blur`` | ``noise``)."""
    if kinds == "blur":
        return motion_blur(x, kernel_size)
    if kinds == "noise":
        return gaussian_noise(x, sigma)
    pick = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5
    return torch.where(pick, motion_blur(x, kernel_size), gaussian_noise(x, sigma))


def patch_shuffle(x: torch.Tensor, grid: int = 2) -> torch.Tensor:
    """Cut each image into ``grid x grid`` tiles and permute them at random (per image)."""
    n, c, h, w = x.shape
    th, tw = h // grid, w // grid
    core = x[..., : th * grid, : tw * grid]
    tiles = core.reshape(n, c, grid, th, grid, tw).permute(0, 2, 4, 1, 3, 5).reshape(n, grid * grid, c, th, tw)
    perm = torch.rand(n, grid * grid, device=x.device).argsort(dim=1)
    tiles = tiles[torch.arange(n, device=x.device)[:, None], perm]
    out = tiles.reshape(n, grid, grid, c, th, tw).permute(0, 3, 1, 4, 2, 5).reshape(n, c, th * grid, tw * grid)
    return F.pad(out, (0, w - tw * grid, 0, h - th * grid))


def random_affine(x: torch.Tensor, min_angle: float = 45.0, shear: float = 0.4, scale: tuple[float, float] = (0.75, 1.25)) -> torch.Tensor:
    """Strong random affine warp per image: rotation |angle| in [min_angle, 180] degrees, a random
    flip, shear and anisotropic scale (pseudo-outliers that keep the stroke statistics)."""
    n = x.shape[0]
    dev = x.device
    ang = torch.deg2rad(min_angle + torch.rand(n, device=dev) * (180 - min_angle)) * torch.where(torch.rand(n, device=dev) < 0.5, -1.0, 1.0)
    flip = torch.where(torch.rand(n, device=dev) < 0.5, -1.0, 1.0)
    sx = scale[0] + torch.rand(n, device=dev) * (scale[1] - scale[0])
    sy = scale[0] + torch.rand(n, device=dev) * (scale[1] - scale[0])
    sh = (torch.rand(n, device=dev) * 2 - 1) * shear
    cos, sin = torch.cos(ang), torch.sin(ang)
    a = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)  # rotation
    m = torch.stack([torch.stack([sx * flip, sh], 1), torch.stack([torch.zeros_like(sh), sy], 1)], 1)
    theta = torch.cat([a @ m, torch.zeros(n, 2, 1, device=dev)], dim=2).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def structural_negative(x: torch.Tensor, shuffle_grid: int = 2) -> torch.Tensor:
    """Per image, at random: a strong affine warp (rotation/flip/shear/scale) or a patch shuffle."""
    pick = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5
    return torch.where(pick, random_affine(x), patch_shuffle(x, shuffle_grid))
