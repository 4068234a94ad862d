"""Trial identity: what a trial is, and the hash of everything that decides its numbers.

A trial id hashes the method (class, preset, every parameter value after defaults), the
protocol's identity options, the dataset's content identity, the positive set, repeat and seed,
the device type, numeric precision and CPU threads the trial runs with, the package version,
and a fingerprint of the source code that computes it: every novelbench module that the method
class and its bases, the preset, the protocol, the dataset loader and the trial/metrics code
import, followed transitively. Options that only *select* trials (which classes, how many
repeats) are not part of it, so extending a run reuses what is finished.

``config_id`` is the same hash without the code fingerprint and version: two trial files with
one config id are the same experiment computed by different code, and the newer one wins.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import novelbench
from novelbench.benchmark.protocols.base import Setting
from novelbench.registry import DATASETS, METHODS, PROTOCOLS

#: the trial/metrics code every trial runs through
TRIAL_CODE = ("novelbench.benchmark.execution",)
#: bookkeeping only: the registry maps names to classes and this module labels trials; what they
#: resolve to (classes, parameters, the identity payload itself) is hashed directly
NOT_NUMERIC = {"novelbench", "novelbench.registry", "novelbench.errors", "novelbench.benchmark.identity",
               "novelbench.datasets.decodecache",  # the decode cache's keeping (its key is the files' content)
               "novelbench.methods.checkpoint"}  # where a long fit keeps its state; a resumed fit is bit-identical (tests)


def _short_hash(payload: Any, n: int = 20) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()[:n]


def _resolve_import(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """Module names an import statement of ``module`` brings in (submodules of ``from pkg import sub`` too)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative import
        parts = module.split(".")
        is_package = hasattr(sys.modules.get(module), "__path__")
        anchor = parts if is_package else parts[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([base] if base else []))
    names = [base]
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        try:
            if importlib.util.find_spec(candidate) is not None:
                names.append(candidate)
        except (ImportError, ValueError):
            pass
    return names


@functools.lru_cache(maxsize=None)
def _module_source(module: str) -> tuple[str, tuple[str, ...]]:
    """(sha of the module's source, the novelbench-or-plugin modules it imports)."""
    mod = sys.modules.get(module) or importlib.import_module(module)
    path = getattr(mod, "__file__", None)
    if not path:
        return "", ()
    source = Path(path).read_bytes()
    root = module.split(".")[0]
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in _resolve_import(module, node):
                if name.split(".")[0] in {"novelbench", root}:
                    imported.add(name)
    return hashlib.sha256(source).hexdigest(), tuple(sorted(imported - NOT_NUMERIC - {module}))


def module_closure(roots: list[str]) -> list[str]:
    """Every module reachable from ``roots`` by imports within novelbench (and the roots' own
    top-level package, so a plugin's helpers count), minus pure bookkeeping."""
    seen: set[str] = set()
    todo = [m for m in roots if m not in NOT_NUMERIC]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        try:
            todo.extend(_module_source(module)[1])
        except ImportError:
            continue  # a name that is not a module (an attribute imported with `from`)
    return sorted(seen)


def code_fingerprint(roots: list[str]) -> str:
    digests = {m: _module_source(m)[0] for m in module_closure(roots)}
    return _short_hash(digests, 16)


def clear_code_cache() -> None:
    """Forget module digests (tests that edit source files call this)."""
    _module_source.cache_clear()


@dataclass(frozen=True)
class Trial:
    method: str  # registry name, preset, entry-point name or package.module:Class
    method_params: dict[str, Any]  # the user's overrides of the method's defaults
    protocol: str
    protocol_params: dict[str, Any]  # every option value, selection options included
    dataset: str
    dataset_params: dict[str, Any]  # data_root, download, image_size
    setting: Setting
    seed: int
    device: str = "cpu"  # resolved: cpu, cuda or cuda:N
    threads: int = 1  # CPU threads the trial computes with (decides CPU numbers)
    label: str = ""  # e.g. crbnd[lam=0.3]
    data_identity: dict[str, Any] = field(default_factory=dict)  # what decides the data's content
    model_dir: str = ""  # where to save the fitted method (--keep-models); not part of the identity
    checkpoint_dir: str = ""  # where a resumable method's long fit saves checkpoints ("": nowhere); not part of the identity
    checkpoint_every: float = 600.0  # seconds between two checkpoint saves

    # -- identity -----------------------------------------------------------------------------
    def _method_identity(self) -> dict[str, Any]:
        plugin = METHODS.plugin(self.method)
        params = {**plugin.param_defaults(), **self.method_params}
        params.pop("device", None)  # the device is identified by its type and precision below
        return {"class": f"{plugin.cls.__module__}:{plugin.cls.__qualname__}", "params": params}

    def _protocol_identity(self) -> dict[str, Any]:
        return PROTOCOLS.create(self.protocol, **self.protocol_params).identity()

    def runtime(self) -> dict[str, Any]:
        """Device type, precision and threads the trial computes with."""
        from novelbench.methods.training import precision  # torch-heavy; only needed here

        uses_device = "device" in METHODS.plugin(self.method).param_defaults()
        device_type = self.device.split(":")[0] if uses_device else "cpu"
        return {"device": device_type, "precision": precision(device_type), "threads": self.threads}

    def code_roots(self) -> list[str]:
        method = METHODS.plugin(self.method)
        own = {"novelbench", method.cls.__module__.split(".")[0]}
        roots = {c.__module__ for c in method.cls.__mro__ if c.__module__.split(".")[0] in own}
        if method.preset_module:
            roots.add(method.preset_module)
        roots.add(PROTOCOLS.plugin(self.protocol).cls.__module__)
        roots.add(DATASETS.plugin(self.dataset).cls.__module__)
        return sorted(roots | set(TRIAL_CODE))

    def _config(self) -> dict[str, Any]:
        return {
            "method": self._method_identity(), "protocol": self._protocol_identity(), "data": self.data_identity,
            "positives": self.setting.positives, "repeat": self.setting.repeat, "seed": self.seed, "runtime": self.runtime(),
        }

    @functools.cached_property
    def config_id(self) -> str:
        """Hash of the experiment (everything but the code that computes it)."""
        return _short_hash(self._config())

    @functools.cached_property
    def trial_id(self) -> str:
        """Hash of everything that decides the trial's numbers."""
        return _short_hash({**self._config(), "version": novelbench.__version__, "code": code_fingerprint(self.code_roots())})

    def describe(self) -> str:
        pos = "+".join(self.setting.positives)
        rep = f" r{self.setting.repeat}" if self.setting.repeat else ""
        return f"{self.label or self.method} | {pos}{rep} | seed {self.seed}"
