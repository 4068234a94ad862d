"""What a protocol hands a trial: training inliers, one scored test pool, and the test mixes
(index sets into that pool) derived from it; plus an optional validation pool for the
`validation` threshold policy. A model is trained once per (positive set, seed) and the pool
scored once; every outlier percentage is then an index sample of those scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch

from sklearn.utils._param_validation import Interval, InvalidParameterError, validate_parameter_constraints

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


# constraints options share (scikit-learn's constraint objects)
PERCENT = [Interval(Real, 0, 100, closed="neither")]
SHARE = [Interval(Real, 0, 1, closed="left")]
OPEN_SHARE = [Interval(Real, 0, 1, closed="neither")]
POSITIVE_SHARE = [Interval(Real, 0, 1, closed="right")]
POSITIVE = [Interval(Integral, 1, None, closed="left")]
NON_NEGATIVE = [Interval(Integral, 0, None, closed="left")]


@dataclass(frozen=True)
class Option:
    """One option of a protocol; the CLI derives ``--name-with-dashes`` from it.

    ``kind``: ``int``, ``float``, ``bool``, ``str``, or a comma list ``ints``, ``floats``, ``strs``.
    ``constraint``: scikit-learn constraints each value (each element of a list) must meet.
    ``selects``: the option only selects which trials run (not part of a trial's identity).
    """

    name: str
    kind: str
    default: Any
    help: str
    constraint: list | None = None
    selects: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """Parse CLI text into the option's type (lists from comma text) and check it."""
        if value is None:
            return None
        scalar = {"ints": "int", "floats": "float", "strs": "str"}.get(self.kind, self.kind)
        items = value if isinstance(value, (list, tuple)) else (str(value).split(",") if self.kind != scalar else [value])
        out = []
        for item in items:
            if isinstance(item, str):
                item = item.strip()
                if not item:
                    continue
            try:
                item = {"int": int, "float": float, "str": str, "bool": _to_bool}[scalar](item)
            except (TypeError, ValueError):
                raise NovelbenchError(f"{self.flag} must be {_KIND_WORDS[self.kind]}, got {value!r}") from None
            if self.constraint:
                try:
                    validate_parameter_constraints({self.flag: self.constraint}, {self.flag: item}, caller_name="the protocol")
                except InvalidParameterError as exc:
                    raise NovelbenchError(str(exc).replace("parameter of the protocol", "option")) from None
            out.append(item)
        if self.kind != scalar:
            if not out:
                raise NovelbenchError(f"{self.flag} needs at least one value")
            if len(set(out)) != len(out):
                raise NovelbenchError(f"{self.flag} lists a value twice: {value!r}")
            return out
        return out[0]


_KIND_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "text",
               "ints": "a comma list of integers", "floats": "a comma list of numbers", "strs": "a comma list of names"}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(value)


@dataclass(frozen=True)
class ReportLayout:
    """How reports lay out a protocol's results (asked by `bench table` / `bench figure`).

    ``columns="outlier_pct"``: one F1 column per outlier percentage (and the one-vs-rest AUROC of
    ``auroc_mix``), plus an F1-vs-outlier-% figure. ``columns="group"``: per group of settings
    (e.g. n=1, 3, 5 positive classes) an AUROC and an F1 column, on the mix ``mix``.
    """

    columns: str
    title: str
    mix: str | None = None  # "group" tables: the test mix they use (None: every non-pool mix)
    auroc_mix: str | None = None  # "outlier_pct" tables: the mix of the extra AUROC column
    figure: bool = False


class Protocol:
    """A protocol declares its options; the base class fills, converts and checks them."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    default_dataset: ClassVar[str] = "mnist"
    options: ClassVar[tuple[Option, ...]] = ()
    layout: ClassVar[ReportLayout]

    def __init__(self, **values: Any):
        known = {o.name: o for o in self.options}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise NovelbenchError(f"the {self.name} protocol has no option {unknown[0]!r}; it has: "
                                  f"{', '.join(o.flag for o in self.options)}")
        for option in self.options:
            value = values.get(option.name)
            setattr(self, option.name, option.convert(value) if value is not None else option.default)
        self.check()

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        return {o.name: o.default for o in cls.options}

    def check(self) -> None:
        """Cross-option checks (override); single options are checked by their constraints."""

    def identity(self) -> dict[str, Any]:
        """The protocol class and every option that decides its numbers (goes into trial ids)."""
        cls = type(self)
        return {"protocol": f"{cls.__module__}:{cls.__qualname__}",
                **{o.name: getattr(self, o.name) for o in self.options if not o.selects}}

    def settings(self, data: LoadedDataset) -> list[Setting]:
        raise NotImplementedError

    def split(self, data: LoadedDataset, setting: Setting, seed: int) -> Split:
        raise NotImplementedError


def hold_out(index: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Randomly split ``index`` into (kept, held out) with round(share * n) held out."""
    perm = rng.permutation(index)
    k = int(round(share * len(index)))
    return np.sort(perm[k:]), np.sort(perm[:k])
