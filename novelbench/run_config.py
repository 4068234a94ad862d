"""Runs from a file: `bench run --config runs.toml` (benchopt's run files are the model).

The file holds ``[[run]]`` tables; an entry's keys are `bench run`'s own options, spelled as their
flags without the dashes, plus an optional ``name``::

    [[run]]
    name = "mnist-ocsvm"
    method = ["ocsvm"]              # a repeatable option takes a list (or one value)
    seeds = [0, 1, 2]               # a comma option takes a list or "0,1,2"
    param = ["ocsvm.nu=0.1,0.5"]
    transductive = true             # flags take true or false
    out = "results/ref-mnist-ocsvm"
    budget = 600                    # seconds; then no new trial of this entry starts

Each entry becomes the `bench run` command line it stands for, and the CLI's own parser reads
it, so an entry means exactly what that command means. Flags given on the command line next to
``--config`` (``--jobs 8 --device cuda --data-root DIR``) apply to every entry that does not
set the same key itself: entry, then command line, then `bench run`'s default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperOption

from novelbench.errors import NovelbenchError

#: options that belong to the whole invocation, not to an entry
WHOLE_FILE = {"config", "as_json"}


@dataclass(frozen=True)
class Entry:
    label: str  # the entry's name, or "run N"
    argv: list[str]  # the `bench run` command line the entry stands for
    params: dict[str, Any]  # that command line parsed, defaults filled


def read_runs(path: Path) -> list[dict[str, Any]]:
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise NovelbenchError(f"the run file {path} is not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from None
    except OSError as exc:
        raise NovelbenchError(f"cannot read the run file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise NovelbenchError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - {"run"})
    if unknown:
        raise NovelbenchError(f"{path}: unknown top-level key {unknown[0]!r}; runs are [[run]] tables")
    runs = doc.get("run")
    if not isinstance(runs, list) or not runs or not all(isinstance(r, dict) for r in runs):
        raise NovelbenchError(f"{path} holds no [[run]] tables")
    return runs


def _options(command) -> dict[str, TyperOption]:
    """The command's options by long flag without dashes (method, seeds, classes, keep-models ...)."""
    return {opt[2:]: p for p in command.params if isinstance(p, TyperOption) and p.name not in WHOLE_FILE
            for opt in p.opts if opt.startswith("--")}


def tokens(option: TyperOption, value: Any) -> list[str]:
    """The command-line words that give ``option`` the (TOML or parsed) ``value``."""
    flag = next(o for o in option.opts if o.startswith("--"))
    if option.is_flag:
        if not isinstance(value, bool):
            raise NovelbenchError(f"{flag[2:]} takes true or false, got {value!r}")
        if value:
            return [flag]
        return [option.secondary_opts[0]] if option.secondary_opts else []
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if any(isinstance(v, (dict, list)) for v in values):
        raise NovelbenchError(f"{flag[2:]} takes a value or a list of values, got {value!r}")
    if option.multiple:
        return [word for v in values for word in (flag, str(v))]
    return [flag, ",".join(str(v) for v in values)]


def entries(path: Path, ctx: typer.Context) -> list[Entry]:
    """Every entry of the run file as a parsed `bench run` command line; ``ctx`` is the running
    `bench run --config` (its command parses the entries; its command-line flags are shared)."""
    command = ctx.command
    options = _options(command)
    shared = [(p.name, tokens(p, ctx.params[p.name])) for p in command.params
              if isinstance(p, TyperOption) and p.name not in WHOLE_FILE
              and ctx.get_parameter_source(p.name).name in ("COMMANDLINE", "ENVIRONMENT")]
    made = []
    for i, entry in enumerate(read_runs(path), 1):
        entry = dict(entry)
        name = entry.pop("name", None)
        label = str(name) if name is not None else f"run {i}"
        where = f"{path}, {label}" if name is None else f"{path}, run {i} ({label})"
        argv, own = [], set()
        for key, value in entry.items():
            option = options.get(key.replace("_", "-"))
            if option is None:
                raise NovelbenchError(f"{where}: unknown key {key!r}; an entry's keys are name and the options of "
                                      f"bench run: {', '.join(sorted(options))}")
            try:
                argv += tokens(option, value)
            except NovelbenchError as exc:
                raise NovelbenchError(f"{where}: {exc}") from None
            own.add(option.name)
        argv += [word for name_, words in shared if name_ not in own for word in words]
        try:
            parsed = command.make_context(ctx.info_name, list(argv), parent=ctx.parent)
        except typer.TyperException as exc:  # the parser's own errors (a bad number ...)
            raise NovelbenchError(f"{where}: {exc.format_message()}") from None
        made.append(Entry(label, ["bench", "run", *argv], parsed.params))
    return made
