"""What a protocol hands a trial: training inliers, one scored test pool, and the test mixes
(index sets into that pool) derived from it; plus an optional validation pool for the
`validation` threshold policy. A model is trained once per (positive set, seed) and the pool
scored once; every outlier percentage is then an index sample of those scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from novelbench.datasets.base import ImageSet, LoadedDataset
from novelbench.errors import NovelbenchError


@dataclass(frozen=True)
class Setting:
    """One positive set of a protocol (repeat numbers distinguish repeated random draws)."""

    positives: tuple[str, ...]
    repeat: int = 0
    group: str = ""  # how tables group settings, e.g. "n=3" for three positive classes


@dataclass
class Mix:
    name: str  # "p10" ... or "pool" (the whole pool at its natural outlier share)
    outlier_pct: float  # the nominal share of outliers, in percent
    index: np.ndarray  # indices into the pool


@dataclass
class Pool:
    images: ImageSet
    is_outlier: np.ndarray
    mixes: list[Mix] = field(default_factory=list)

    def mix(self, name: str) -> Mix | None:
        return next((m for m in self.mixes if m.name == name), None)


@dataclass
class Split:
    train: ImageSet  # inliers only
    test: Pool
    validation: Pool | None  # held-out training inliers + labelled outliers (GPND protocol)


def n_outliers_for(n_inliers: int, pct: float) -> int:
    """Outliers to add to n inliers so they make pct % of the mix."""
    return int(round(n_inliers * pct / (100.0 - pct)))


def make_pool(inliers: ImageSet, outliers: ImageSet, pcts: list[float], with_pool_mix: bool) -> Pool:
    """Pool = all inliers + outliers; mix at p keeps every inlier and a seeded sample of outliers.

    ``outliers`` must already be a random sample (callers permute); mixes take prefixes of it,
    so each mix is an exact share and the mixes are nested.
    """
    n_in, n_out = len(inliers), len(outliers)
    images = ImageSet(
        torch.cat([inliers.images, outliers.images]),
        np.concatenate([inliers.labels, outliers.labels]),
        inliers.class_names,
    )
    is_outlier = np.r_[np.zeros(n_in, bool), np.ones(n_out, bool)]
    mixes = []
    for pct in pcts:
        k = n_outliers_for(n_in, pct)
        if k > n_out:
            raise NovelbenchError(f"a {pct:g}% outlier mix needs {k} outliers but only {n_out} are available")
        mixes.append(Mix(f"p{pct:g}", float(pct), np.r_[np.arange(n_in), n_in + np.arange(k)]))
    if with_pool_mix:
        mixes.append(Mix("pool", 100.0 * n_out / max(n_in + n_out, 1), np.arange(n_in + n_out)))
    return Pool(images, is_outlier, mixes)


def resolve_classes(tokens: list[str] | None, class_names: list[str], exclude: set[str]) -> list[str]:
    """Class names from names or label indices; default every class not excluded."""
    allowed = [c for c in class_names if c not in exclude]
    if not tokens:
        return allowed
    out = []
    for token in tokens:
        token = str(token).strip()
        if token in class_names:
            name = token
        elif token.lstrip("-").isdigit() and 0 <= int(token) < len(class_names):
            name = class_names[int(token)]
        else:
            raise NovelbenchError(f"unknown class {token!r}; classes are {', '.join(class_names[:12])}{' ...' if len(class_names) > 12 else ''}")
        if name in exclude:
            raise NovelbenchError(f"class {name!r} is the clutter (outlier) class and can never be an inlier")
        out.append(name)
    return out


def check_pcts(pcts: list[float]) -> list[float]:
    for p in pcts:
        if not 0 < p < 100:
            raise NovelbenchError(f"outlier percentage {p:g} is outside (0, 100)")
    return [float(p) for p in pcts]


class Protocol:
    name: ClassVar[str]
    summary: ClassVar[str] = ""

    def identity(self) -> dict[str, Any]:
        """Every parameter that decides the protocol's numbers (goes into trial ids)."""
        return dict(vars(self))

    def settings(self, data: LoadedDataset) -> list[Setting]:
        raise NotImplementedError

    def split(self, data: LoadedDataset, setting: Setting, seed: int) -> Split:
        raise NotImplementedError


def hold_out(index: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Randomly split ``index`` into (kept, held out) with round(share * n) held out."""
    perm = rng.permutation(index)
    k = int(round(share * len(index)))
    return np.sort(perm[k:]), np.sort(perm[:k])
