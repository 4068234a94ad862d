"""Name -> plugin registries for methods, datasets, protocols and executors (timm/benchopt style).

The bottom layer of the package: methods, datasets, protocols and the harness import it, and it
imports nothing from the package but the error type. A registry holds
- built-in entries, found by importing every module of the kind's package (``pkgutil``), so a
  new file with the decorator is the whole change;
- entries from installed packages' entry points (group ``novelbench.<kind>s``);
- ``package.module:Class`` paths, resolved on demand.
A plugin whose import fails (an exception or a syntax error) is kept as an *unavailable* entry
with the reason, so one broken file or package never breaks the listing.

A *preset* is a registered name for a class with other defaults (``register_preset("crbnd-plus",
CRBND, negatives="structural")``): one line, visible to type checkers, and fingerprinted with
its class because it lives in the class's module.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, TypeVar

from novelbench.errors import NovelbenchError

T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class Plugin:
    """What a registered name stands for: a class plus default overrides (empty unless a preset)."""

    name: str
    cls: type
    defaults: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    preset_module: str | None = None  # where a preset was declared (fingerprinted with its class)

    @property
    def module(self) -> str:
        return self.cls.__module__

    @property
    def is_preset(self) -> bool:
        return self.preset_module is not None

    def param_defaults(self) -> dict[str, Any]:
        """Every constructor parameter with its default, the preset's overrides applied."""
        base = self.cls.param_defaults() if hasattr(self.cls, "param_defaults") else {}
        return {**base, **self.defaults}

    def create(self, **params: Any) -> Any:
        """An instance with ``params`` over the defaults. The parameters are checked against the
        class's declared constraints first (as ``--param`` values are), so a misspelt option from
        Python is an error too, never a silent fall-back to another branch."""
        check = getattr(self.cls, "check_params", None)
        try:
            if check is not None:
                check(params, label=self.name)
            return self.cls(**{**self.defaults, **params})
        except (TypeError, NovelbenchError) as exc:
            raise NovelbenchError(f"bad parameters for {self.name!r}: {exc}") from exc


def _import_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} ({exc.filename}, line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


def _prints_to_stderr() -> contextlib.AbstractContextManager:
    """While plugins are imported: what they print goes to stderr, so stdout keeps only the
    product's own output (tables, ``--json``). pyod, for one, prints a line when an optional
    dependency of a detector module is missing. Only around imports: swapping ``sys.stdout``
    is process-wide, so a plain lookup of a registered name never touches it."""
    return contextlib.redirect_stdout(sys.stderr)


def _import_here_too(module_name: str) -> Any:
    """Import ``module_name``; if its top package is not found, look in the current folder too, as
    ``python -m`` would (the ``bench`` script's import path does not hold it). Worker processes
    are spawned with this process's import path, so they find it as well."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        if exc.name != module_name.split(".")[0] or {here, ""} & set(sys.path):
            raise
        sys.path.append(here)  # last: a module found elsewhere keeps winning over a same-named file here
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError:
            sys.path.remove(here)  # not here either: leave the import path as it was
            raise


class Registry:
    def __init__(self, kind: str, package: str | None = None, entry_point_group: str | None = None):
        self.kind = kind
        self.package = package
        self.entry_point_group = entry_point_group
        self._entries: dict[str, Plugin] = {}
        self._failed: dict[str, str] = {}
        self._families: dict[str, tuple[Callable[[str], Plugin], Callable[[], list[str]]]] = {}
        self._loaded = False

    # -- registration -------------------------------------------------------------------------
    def _add(self, plugin: Plugin) -> None:
        existing = self._entries.get(plugin.name)
        if existing is not None and (existing.cls, existing.defaults) != (plugin.cls, plugin.defaults):
            raise ValueError(f"duplicate {self.kind} name {plugin.name!r}: {existing.module} and {plugin.module}")
        self._entries[plugin.name] = plugin

    def register(self, cls: T) -> T:
        """Class decorator; the class's ``name`` attribute is its key. Duplicates are an error."""
        name = getattr(cls, "name", None)
        if not name:
            raise TypeError(f"{cls.__qualname__} needs a non-empty `name` to be registered as a {self.kind}")
        self._add(Plugin(name, cls, {}, getattr(cls, "summary", "")))
        return cls

    def register_preset(self, name: str, cls: type, *, summary: str = "", **defaults: Any) -> None:
        """A registered name for ``cls`` with other defaults. Unknown parameter names are an error."""
        known = cls.param_defaults() if hasattr(cls, "param_defaults") else {}
        unknown = set(defaults) - set(known)
        if unknown:
            raise TypeError(f"preset {name!r}: {cls.__qualname__} has no parameter(s) {sorted(unknown)}")
        caller = sys._getframe(1).f_globals.get("__name__")
        self._add(Plugin(name, cls, dict(defaults), summary or getattr(cls, "summary", ""), caller))

    def register_family(self, prefix: str, resolve: Callable[[str], Plugin], available: Callable[[], list[str]]) -> None:
        """Names ``prefix:NAME`` resolved on demand by ``resolve(NAME)`` (e.g. ``pyod:KNN``, an
        adapter over another library's detectors); ``available()`` lists the NAMEs for `bench list`."""
        self._families[prefix] = (resolve, available)

    def families(self) -> dict[str, list[str]]:
        self._load()
        return {prefix: available() for prefix, (_, available) in self._families.items()}

    # -- discovery ----------------------------------------------------------------------------
    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        with _prints_to_stderr():
            if self.package:
                pkg = importlib.import_module(self.package)
                for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{self.package}."):
                    try:
                        importlib.import_module(info.name)
                    except Exception as exc:  # a broken built-in file is listed, never fatal
                        self._failed[info.name.rpartition(".")[2]] = _import_error(exc)
            if self.entry_point_group:
                for ep in entry_points(group=self.entry_point_group):
                    try:
                        cls = ep.load()
                        self._add(Plugin(ep.name, cls, {}, getattr(cls, "summary", "")))  # the entry point's name is the key
                    except Exception as exc:  # a broken plugin must not break the harness
                        self._failed[ep.name] = _import_error(exc)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def unavailable(self) -> dict[str, str]:
        """Plugins that failed to import, with the reason."""
        self._load()
        return dict(self._failed)

    def plugin(self, name: str) -> Plugin:
        """A registered name, an entry-point name, or a ``package.module:Class`` path."""
        self._load()
        if name in self._entries:
            return self._entries[name]
        if name in self._failed:
            raise NovelbenchError(f"{self.kind} {name!r} is installed but failed to import: {self._failed[name]}")
        prefix, colon, rest = name.partition(":")
        if colon and prefix in self._families:
            with _prints_to_stderr():
                return self._families[prefix][0](rest)
        if ":" in name:
            module_name, _, attr = name.partition(":")
            try:
                with _prints_to_stderr():
                    cls = getattr(_import_here_too(module_name), attr)
            except Exception as exc:  # ImportError, AttributeError, SyntaxError, or the plugin's own error
                raise NovelbenchError(f"cannot import {self.kind} {name!r}: {_import_error(exc)}") from None
            if not isinstance(cls, type):
                raise NovelbenchError(f"{self.kind} {name!r} is not a class")
            return Plugin(name, cls, {}, getattr(cls, "summary", ""))
        known = ", ".join(self.names()) or "none"
        raise NovelbenchError(f"unknown {self.kind} {name!r}; known: {known} (or give package.module:Class)")

    def get(self, name: str) -> type:
        return self.plugin(name).cls

    def create(self, name: str, **params: Any) -> Any:
        return self.plugin(name).create(**params)


METHODS = Registry("method", "novelbench.methods", "novelbench.methods")
DATASETS = Registry("dataset", "novelbench.datasets", "novelbench.datasets")
PROTOCOLS = Registry("protocol", "novelbench.benchmark.protocols", "novelbench.protocols")
EXECUTORS = Registry("executor", "novelbench.benchmark.executors", "novelbench.executors")

register_method: Callable[[T], T] = METHODS.register
register_dataset: Callable[[T], T] = DATASETS.register
register_protocol: Callable[[T], T] = PROTOCOLS.register
register_executor: Callable[[T], T] = EXECUTORS.register
register_preset = METHODS.register_preset


def get_method(name: str, **params: Any) -> Any:
    """Instantiate a method by registry name, preset, entry-point name or ``package.module:Class``."""
    return METHODS.create(name, **params)
