"""Name -> class registries for methods, protocols and datasets (timm/benchopt style).

A registry holds in-repo entries (added with its decorator), entries from installed
packages' entry points, and resolves ``package.module:Class`` paths on demand. A plugin
whose import fails is kept as an *unavailable* entry with the reason, so listing never
breaks because of one broken package.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Callable

from novelbench.errors import NovelbenchError


class Registry:
    def __init__(self, kind: str, entry_point_group: str | None = None, builtin_modules: tuple[str, ...] = ()):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._builtin_modules = builtin_modules
        self._entries: dict[str, type] = {}
        self._failed: dict[str, str] = {}
        self._loaded = False

    def register(self, cls: type) -> type:
        """Class decorator; the class's ``name`` attribute is its key. Duplicates are an error."""
        name = getattr(cls, "name", None)
        if not name:
            raise TypeError(f"{cls.__qualname__} needs a non-empty `name` to be registered as a {self.kind}")
        existing = self._entries.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"duplicate {self.kind} name {name!r}: {existing.__module__} and {cls.__module__}")
        self._entries[name] = cls
        return cls

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtin_modules:
            importlib.import_module(module)
        if self.entry_point_group:
            for ep in entry_points(group=self.entry_point_group):
                try:
                    cls = ep.load()
                    if getattr(cls, "name", None) != ep.name:
                        cls.name = ep.name  # the entry point's name is the user-facing key
                    self.register(cls)
                except Exception as exc:  # a broken plugin must not break the harness
                    self._failed[ep.name] = f"{type(exc).__name__}: {exc}"

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def unavailable(self) -> dict[str, str]:
        """Plugins that failed to import, with the reason."""
        self._load()
        return dict(self._failed)

    def get(self, name: str) -> type:
        """A registered name, an entry-point name, or a ``package.module:Class`` path."""
        self._load()
        if name in self._entries:
            return self._entries[name]
        if name in self._failed:
            raise NovelbenchError(f"{self.kind} {name!r} is installed but failed to import: {self._failed[name]}")
        if ":" in name:
            module_name, _, attr = name.partition(":")
            try:
                cls = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError) as exc:
                raise NovelbenchError(f"cannot import {self.kind} {name!r}: {exc}") from exc
            return cls
        known = ", ".join(self.names()) or "none"
        raise NovelbenchError(f"unknown {self.kind} {name!r}; known: {known} (or give package.module:Class)")

    def create(self, name: str, **params: Any) -> Any:
        cls = self.get(name)
        try:
            return cls(**params)
        except TypeError as exc:
            raise NovelbenchError(f"bad parameters for {self.kind} {name!r}: {exc}") from exc


METHODS = Registry(
    "method",
    entry_point_group="novelbench.methods",
    builtin_modules=("novelbench.methods",),
)
PROTOCOLS = Registry("protocol", builtin_modules=("novelbench.benchmark.protocols",))
DATASETS = Registry("dataset", builtin_modules=("novelbench.datasets",))

register_method: Callable[[type], type] = METHODS.register
register_protocol: Callable[[type], type] = PROTOCOLS.register
register_dataset: Callable[[type], type] = DATASETS.register


def get_method(name: str, **params: Any) -> Any:
    """Instantiate a method by registry name, entry-point name or ``package.module:Class``."""
    return METHODS.create(name, **params)
