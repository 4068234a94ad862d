"""Geometric transformations for self-labelled novelty detection (GEOM, Golan & El-Yaniv 2018).

A transformation is ``(flip, tx, ty, rot)``: an optional horizontal flip, then a translation by
``(tx, ty)`` pixels whose uncovered border is filled by reflection, then ``rot`` quarter turns
counter-clockwise. The paper's set is every combination of flip in {no, yes}, tx and ty in
{0, -s, +s} and rot in {0, 1, 2, 3}: 2 x 3 x 3 x 4 = 72. Smaller sets keep some of the factors
(``flip-rot`` = 8, ``rot`` = 4, ...).

Every transformation here is a pixel gather (each output pixel copies one input pixel), so a
whole set compiles to one index map per transformation (``index_maps``) and a batch whose images
each get a different transformation is one ``gather`` (``apply_indexed``), on any device.
``apply_transform`` is the readable definition the index maps are derived from.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

FACTORS = ("flip", "shift", "rot")
#: every non-empty subset of the factors, in a fixed order: "flip-shift-rot" (the paper's 72), ...
SET_NAMES = tuple("-".join(f for f, keep in zip(FACTORS, mask) if keep)
                  for mask in ((1, 1, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1)))


@dataclass(frozen=True)
class GeoTransform:
    flip: bool = False
    tx: int = 0  # pixels to the right
    ty: int = 0  # pixels down
    rot: int = 0  # quarter turns, counter-clockwise

    @property
    def invertible(self) -> bool:
        """Flips and rotations lose nothing; a translation overwrites a border with a reflection."""
        return self.tx == 0 and self.ty == 0


def transformation_set(name: str, shift: int) -> list[GeoTransform]:
    """The transformations of a named set (see ``SET_NAMES``), in the paper's order."""
    if name not in SET_NAMES:
        raise ValueError(f"unknown transformation set {name!r}; use one of {', '.join(SET_NAMES)}")
    parts = name.split("-")
    flips = (False, True) if "flip" in parts else (False,)
    shifts = (0, -shift, shift) if "shift" in parts else (0,)
    rots = (0, 1, 2, 3) if "rot" in parts else (0,)
    return [GeoTransform(f, tx, ty, k) for f in flips for tx in shifts for ty in shifts for k in rots]


def apply_transform(images: torch.Tensor, t: GeoTransform) -> torch.Tensor:
    """``t`` applied to a batch (N, C, H, W); a translation needs |tx| < W and |ty| < H."""
    x = images.flip(-1) if t.flip else images
    if t.tx or t.ty:
        h, w = x.shape[-2:]
        px, py = abs(t.tx), abs(t.ty)
        if px >= w or py >= h:
            raise ValueError(f"a shift of ({t.tx}, {t.ty}) pixels needs images larger than {h}x{w}")
        padded = F.pad(x, (px, px, py, py), mode="reflect")  # reflection without repeating the edge pixel
        x = padded[..., py - t.ty : py - t.ty + h, px - t.tx : px - t.tx + w]
    return torch.rot90(x, t.rot, dims=(-2, -1)) if t.rot else x


def invert_transform(images: torch.Tensor, t: GeoTransform) -> torch.Tensor:
    """The exact inverse of an invertible ``t`` (no translation)."""
    if not t.invertible:
        raise ValueError(f"{t} translates, which overwrites a border: it has no exact inverse")
    x = torch.rot90(images, -t.rot, dims=(-2, -1)) if t.rot else images
    return x.flip(-1) if t.flip else x


def index_maps(transforms: list[GeoTransform], height: int, width: int) -> torch.Tensor:
    """(T, H*W) long tensor: output pixel p of transformation i copies input pixel ``maps[i, p]``."""
    if any(t.rot for t in transforms) and height != width:
        raise ValueError(f"quarter-turn rotations need square images, got {height}x{width}")
    grid = torch.arange(height * width, dtype=torch.float64).reshape(1, 1, height, width)  # exact up to 2**53
    return torch.stack([apply_transform(grid, t).reshape(-1) for t in transforms]).long()


def apply_indexed(images: torch.Tensor, maps: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """Image i transformed by transformation ``which[i]`` (maps from ``index_maps``), in one gather."""
    n, c, h, w = images.shape
    index = maps[which].unsqueeze(1).expand(n, c, h * w)
    return images.reshape(n, c, h * w).gather(2, index).reshape(n, c, h, w)
