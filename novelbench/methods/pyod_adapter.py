"""``pyod:<Name>``: any installed pyod detector on flattened pixels (optionally after PCA).

pyod is an optional extra (``pip install -e ".[pyod]"``). The ``pyod`` method family resolves
``pyod:KNN``, ``pyod:IForest``, ``pyod:ECOD``, ... on demand: ``resolve("KNN")`` builds a Detector
subclass whose parameters are the pyod detector's own constructor parameters (with pyod's
defaults) plus ``pca_components`` and ``score_batch``, so ``--param pyod:KNN.n_neighbors=5,10``
works and is checked like any method's parameter. Score = pyod's ``decision_function`` (higher = more anomalous, as
here); native decision = pyod's ``predict`` (its threshold at the ``contamination`` quantile of
the training scores), inverted to True = inlier.

The detectors listed are found by reading pyod's model sources (no import, so `bench list` stays
fast): every public class derived from pyod's BaseDetector whose ``fit`` takes no required
labels, outside the modules for graphs (``pyg_*``), time series (``ts_*``), audio and text or
image encoders (``embedding``). Pixels go in as they are, in [0, 1].

Transductive detectors: pyod's ECOD, COPOD and RGraph re-estimate their model on the training
data *plus the images being scored* in every ``decision_function`` call, so an image's score
depends on the others scored with it. Here a whole test pool is one call; on the ``mnist``
protocol's pool (90 % outliers) that model is mostly outliers, and their AUROC can fall below
0.5. ``score_batch=k`` scores k images per call (closer to scoring each image against the
training data alone, at one call's cost per batch: about 2 s for ECOD on an MNIST digit);
for every other detector it changes nothing. See results/reference/baselines.md.

Seeds: pyod detectors with ``random_state=None`` draw from numpy's global generator, which the
harness seeds before ``fit``.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from novelbench.errors import NovelbenchError
from novelbench.methods.base import POSITIVE_INT, Detector
from novelbench.registry import METHODS, Plugin

PREFIX = "pyod"
INSTALL_HINT = "pyod is not installed; it is an optional extra: pip install -e \".[pyod]\" (or pip install pyod)"
OTHER_MODALITIES = ("pyg_", "ts_", "audio_", "embedding")
OWN_PARAMS = {"pca_components": None, "score_batch": None}
OWN_CONSTRAINTS = {"pca_components": [POSITIVE_INT, None], "score_batch": [POSITIVE_INT, None]}


def _pyod_models_dir() -> Path | None:
    spec = importlib.util.find_spec("pyod")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def _needs_labels(node: ast.ClassDef) -> bool:
    """``def fit(self, X, y)`` with no default for ``y``: a supervised detector."""
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "fit":
            args = item.args.args
            return len(args) >= 3 and len(item.args.defaults) < len(args) - 2
    return False


@functools.lru_cache(maxsize=1)
def detector_modules() -> dict[str, str]:
    """Detector class name -> pyod module, read from pyod's sources; empty without pyod."""
    models = _pyod_models_dir()
    if models is None:
        return {}
    bases: dict[str, tuple[str, list[str], bool]] = {}  # class -> (module, base names, needs labels)
    for path in sorted(models.glob("*.py")):
        if path.stem.startswith(("_", *OTHER_MODALITIES)):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                names = [b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, (ast.Name, ast.Attribute))]
                bases.setdefault(node.name, (path.stem, names, _needs_labels(node)))

    @functools.lru_cache(maxsize=None)
    def is_detector(name: str, depth: int = 0) -> bool:
        if name == "BaseDetector":
            return True
        return depth < 10 and name in bases and any(is_detector(b, depth + 1) for b in bases[name][1])

    return {name: module for name, (module, _, supervised) in sorted(bases.items())
            if not name.startswith(("_", "Base")) and not supervised and is_detector(name)}


def available() -> list[str]:
    return sorted(detector_modules())


def _constraint(default: Any) -> Any:
    """Loose checks from pyod's defaults (pyod declares none): a number where a number is expected,
    a string option or a number where the default is a string (``max_samples="auto"`` or 256)."""
    if isinstance(default, bool):
        return ["boolean"]
    if isinstance(default, Real):
        return [Real]
    if isinstance(default, str):
        return [str, Real]
    return "no_validation"


class PyODDetector(Detector):
    """Base of the generated ``pyod:<Name>`` classes; ``detector_cls`` is the pyod class."""

    detector_cls: type
    pyod_params: tuple[str, ...] = ()

    def _features(self, images: torch.Tensor) -> np.ndarray:
        x = images.reshape(images.shape[0], -1).numpy().astype(np.float64)
        return self.pca_.transform(x) if self.pca_ is not None else x

    def fit(self, images: torch.Tensor) -> "PyODDetector":
        flat = images.reshape(images.shape[0], -1).numpy().astype(np.float64)
        self.pca_ = PCA(n_components=self.pca_components, random_state=0).fit(flat) if self.pca_components else None
        self.detector_ = self.detector_cls(**{k: getattr(self, k) for k in self.pyod_params})
        self.detector_.fit(self._features(images))
        return self

    def score_and_predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        check_is_fitted(self, "detector_")
        x = self._features(images)
        step = self.score_batch or max(len(x), 1)
        scores = np.concatenate([np.asarray(self.detector_.decision_function(x[i : i + step]), dtype=np.float64).ravel()
                                 for i in range(0, len(x), step)])
        threshold = getattr(self.detector_, "threshold_", None)
        return scores, (scores <= threshold) if threshold is not None else None  # pyod: outlier if score > threshold_

    def score(self, images: torch.Tensor) -> np.ndarray:
        return self.score_and_predict(images)[0]

    def predict(self, images: torch.Tensor) -> np.ndarray | None:
        return self.score_and_predict(images)[1]


def _make_init(defaults: dict[str, Any]):
    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise TypeError(f"{type(self).name} got an unexpected keyword argument {unknown[0]!r}")
        for key, value in {**defaults, **params}.items():
            setattr(self, key, value)

    # the signature scikit-learn's get_params and the harness read: keyword-only, with defaults
    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in defaults.items()])
    return __init__


def _class_name(name: str) -> str:
    return f"PyOD_{name}"


@functools.lru_cache(maxsize=None)
def resolve(name: str) -> Plugin:
    """The Plugin for ``pyod:<name>``; one clear error line when pyod or the detector is missing."""
    if _pyod_models_dir() is None:
        raise NovelbenchError(f"{PREFIX}:{name} needs pyod: {INSTALL_HINT}")
    modules = detector_modules()
    if name not in modules:
        raise NovelbenchError(f"unknown pyod detector {name!r}; available: {', '.join(available()) or 'none'}")
    try:
        detector_cls = getattr(importlib.import_module(f"pyod.models.{modules[name]}"), name)
    except Exception as exc:  # a detector whose own dependency is missing (torch extras, xgboost, ...)
        raise NovelbenchError(f"{PREFIX}:{name} cannot be imported: {type(exc).__name__}: {exc}") from None
    signature = inspect.signature(detector_cls.__init__)
    theirs = {p.name: p.default for p in signature.parameters.values()
              if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    theirs = {k: (None if v is inspect.Parameter.empty else v) for k, v in theirs.items()}
    clash = set(theirs) & set(OWN_PARAMS)
    if clash:
        raise NovelbenchError(f"{PREFIX}:{name} has parameter(s) {sorted(clash)} that the adapter uses itself")
    defaults = {**theirs, **OWN_PARAMS}
    cls = type(_class_name(name), (PyODDetector,), {
        "__module__": __name__, "__qualname__": _class_name(name), "__init__": _make_init(defaults),
        "__doc__": f"pyod's {name} on flattened pixels (optionally after PCA).",
        "name": f"{PREFIX}:{name}", "summary": f"pyod {name} on flattened pixels (optional PCA)",
        "detector_cls": detector_cls, "pyod_params": tuple(theirs), "test_params": {},
        "_parameter_constraints": {**{k: _constraint(v) for k, v in theirs.items()}, **OWN_CONSTRAINTS},
    })
    return Plugin(f"{PREFIX}:{name}", cls, {}, cls.summary)


def __getattr__(attr: str) -> type:
    """``PyOD_<Name>`` as a module attribute, so fitted detectors pickle by reference (--keep-models)."""
    if attr.startswith("PyOD_"):
        try:
            return resolve(attr.removeprefix("PyOD_")).cls
        except NovelbenchError as exc:
            raise AttributeError(str(exc)) from None
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


METHODS.register_family(PREFIX, resolve, available)
