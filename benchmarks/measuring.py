"""Shared by the measuring subclasses (``alocc_tf_details.py``, ``geom_fill.py``): a method's
remaining difference from its authors' code, put back as a switch of a subclass, so measuring it
does not change the method's file (which would change the id of every committed trial of it)."""

from __future__ import annotations

import contextlib
import inspect
from types import ModuleType
from typing import Any, Iterator
from unittest import mock


def add_switches_to_signature(cls: type) -> type:
    """The harness reads a method's parameters from its ``__init__`` signature: give ``cls``'s
    (``*, switch=default, **params``) the parent's keyword parameters followed by its own switches."""
    parent = inspect.signature(cls.__mro__[1].__init__)
    own = [p for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY]
    cls.__init__.__signature__ = parent.replace(parameters=list(parent.parameters.values()) + own)
    return cls


@contextlib.contextmanager
def names_replaced(module: ModuleType, replacements: dict[str, Any]) -> Iterator[None]:
    """While the block runs, ``module.NAME`` is ``replacements[NAME]`` (the method's own code looks
    its builders up by these names); restored afterwards, also on an error."""
    with contextlib.ExitStack() as stack:
        for name, value in replacements.items():
            stack.enter_context(mock.patch.object(module, name, value))
        yield
