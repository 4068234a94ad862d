"""The Detector contract every method follows (scikit-learn / pyod style).

``__init__`` only stores keyword arguments (so ``get_params``/``clone``/repr come from
scikit-learn's BaseEstimator); ``fit`` takes inlier images only and returns ``self``;
``score`` returns one number per image, HIGHER = MORE NOVEL; ``predict`` is the method's
own decision (True = inlier) or None when it has none. Learned state ends in ``_``.
The harness seeds torch / numpy / random before ``fit``; methods never seed themselves.

Parameters are declared with scikit-learn's constraint objects in ``_parameter_constraints``
(``Interval``, ``StrOptions``, types, None), and the harness checks every run's parameters
against them when it plans the run, before any work starts.

Optional hooks: ``score_and_predict`` (score and decision in one pass, for methods whose
decision reuses the scoring computation) and ``image_panels`` (the images a method derives
from its input, e.g. a reconstruction, for Figure-4-style grids).
"""

from __future__ import annotations

import inspect
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions, validate_parameter_constraints

from novelbench.errors import NovelbenchError

__all__ = ["Detector", "Interval", "StrOptions", "Integral", "Real", "resolve_device", "POSITIVE_INT", "NON_NEGATIVE_INT",
           "POSITIVE_REAL", "UNIT_INTERVAL", "DEVICE"]

POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
POSITIVE_REAL = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE_REAL = Interval(Real, 0, None, closed="left")
UNIT_INTERVAL = Interval(Real, 0, 1, closed="both")
DEVICE = [str]  # checked by resolve_device, which knows auto / cpu / cuda[:N]


def _constraint_from_default(default: Any) -> list | None:
    """For plugins that declare no constraints: the value must have the default's type family."""
    if default is None:
        return None
    if isinstance(default, bool):
        return ["boolean"]
    if isinstance(default, Integral):
        return [Interval(Integral, None, None, closed="neither")]
    if isinstance(default, Real):
        return [Interval(Real, None, None, closed="neither")]
    if isinstance(default, (tuple, list)):
        return [tuple, list]
    return [type(default)]


class Detector(BaseEstimator):
    name: ClassVar[str] = ""
    #: tiny settings the conformance test (and a quick smoke run) uses
    test_params: ClassVar[dict[str, Any]] = {}
    #: one line shown by `bench list`
    summary: ClassVar[str] = ""
    #: scikit-learn style: parameter name -> list of allowed constraints
    _parameter_constraints: ClassVar[dict[str, list]] = {}

    def fit(self, images: torch.Tensor) -> "Detector":
        raise NotImplementedError

    def score(self, images: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def predict(self, images: torch.Tensor) -> np.ndarray | None:
        return None

    def score_and_predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores and native decisions of the same images. Override to compute both in one pass."""
        return self.score(images), self.predict(images)

    def image_panels(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Images the method derives from ``images`` (same shape), by name, e.g. ``{"reconstruction": ...}``.
        Empty for methods that have none."""
        return {}

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        sig = inspect.signature(cls.__init__)
        return {n: p.default for n, p in sig.parameters.items() if n != "self" and p.kind == p.KEYWORD_ONLY}

    @classmethod
    def check_params(cls, params: dict[str, Any], label: str | None = None) -> None:
        """Raise a one-line NovelbenchError if a parameter is unknown or out of its declared range."""
        label = label or cls.name or cls.__qualname__
        defaults = cls.param_defaults()
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise NovelbenchError(f"{label} has no parameter {unknown[0]!r}; it has: {', '.join(defaults)}")
        constraints = {}
        for name in params:
            declared = cls._parameter_constraints.get(name)
            constraints[name] = declared if declared is not None else _constraint_from_default(defaults[name])
        constraints = {k: v for k, v in constraints.items() if v is not None}
        try:
            validate_parameter_constraints(constraints, {k: params[k] for k in constraints}, caller_name=label)
        except InvalidParameterError as exc:
            raise NovelbenchError(str(exc)) from None


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU. Asking for CUDA without one is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str) or (device != "cpu" and not device.startswith("cuda")):
        raise NovelbenchError(f"unknown device {device!r}; use auto, cpu or cuda[:N]")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NovelbenchError(f"--device {device} asked for, but torch sees no CUDA device here")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise NovelbenchError(f"unknown device {device!r}: {exc}") from None
