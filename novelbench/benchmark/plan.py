"""Expand a run's request into trials: methods x parameter grid x positive sets x seeds.

Everything a user can get wrong is checked here, before any trial runs: unknown names,
parameters outside their declared ranges, protocol options, seeds, the dataset itself.
"""

from __future__ import annotations

import ast
import itertools
from typing import Any

import torch

from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.protocols.base import Setting
from novelbench.datasets.base import ImageSet, LoadedDataset
from novelbench.errors import NovelbenchError
from novelbench.methods.base import resolve_device
from novelbench.methods.pyod_check import check_pyod_params
from novelbench.registry import DATASETS, METHODS, PROTOCOLS


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets: "(16,32),(32,64)" -> ["(16,32)", "(32,64)"]."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _readable(name: str, params: dict[str, Any], ds) -> LoadedDataset:
    """The dataset loaded; a file that its reader (torchvision's, a decoder) cannot parse is one
    clear error naming the folder, not a parser's traceback. The loaders' own missing-data
    errors pass through as they are."""
    try:
        return load_dataset(name, params)
    except NovelbenchError:
        raise
    except (AssertionError, ValueError, EOFError, RuntimeError, IndexError) as exc:
        root = getattr(ds, "data_root", None)
        raise NovelbenchError(f"dataset {name} could not be read from {root} ({type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:160] or 'a file is shorter or other than expected'}); "
                              "a partial or corrupt download? Delete its folder and run with --download, "
                              "or point --data-root at a complete copy") from None


def parse_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def checked_value(cls, name: str, text: str, label: str) -> Any:
    """``text`` parsed and checked against the parameter's constraints; a word such as "none" or
    "true" that the parameter rejects as None / a bool is tried as the string itself (an option
    named "none", e.g. ``alocc.weight_average=none``). Used for --param and for `bench verify`'s
    rebuilding of a row's ``p_*`` columns alike."""
    value = parse_value(text)
    try:
        cls.check_params({name: value}, label=label)
        return value
    except NovelbenchError as err:
        rejected = err
    if value is None or isinstance(value, bool):
        try:
            cls.check_params({name: text}, label=label)
            return text
        except NovelbenchError:
            pass
    raise rejected  # the error about the parsed value


def parse_param_overrides(specs: list[str], methods: list[str]) -> dict[str, dict[str, list[Any]]]:
    """``crbnd.lam=0.3,0.5`` -> {"crbnd": {"lam": [0.3, 0.5]}}; ``lam=0.3`` applies to every method.
    Every value is checked against the method's declared parameter constraints."""
    grid: dict[str, dict[str, list[Any]]] = {m: {} for m in methods}
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or not values.strip():
            raise NovelbenchError(f"--param {spec!r} must look like METHOD.NAME=V1,V2")
        method, dot, name = key.strip().rpartition(".")
        targets = [method] if dot else methods
        for target in targets:
            if target not in grid:
                raise NovelbenchError(f"--param {spec!r} names method {target!r}, which is not among --method {', '.join(methods)}")
            plugin = METHODS.plugin(target)
            parsed = [checked_value(plugin.cls, name, v, target) for v in _split_top_level(values)]
            repeated = [v for i, v in enumerate(parsed) if v in parsed[:i]]
            if repeated:
                raise NovelbenchError(f"--param {spec!r} lists {name}={repeated[0]!r} twice: that would run the same trials twice")
            grid[target][name] = parsed
    return grid


def setting_label(method: str, params: dict[str, Any]) -> str:
    if not params:
        return method
    inner = ",".join(f"{k}={v}" for k, v in params.items()).replace(" ", "")
    return f"{method}[{inner}]"


#: numpy's and torch's seeds are 32-bit
MAX_SEED = 2**32 - 1


def check_seeds(seeds: list[int]) -> list[int]:
    if not seeds:
        raise NovelbenchError("--seeds needs at least one seed")
    bad = [s for s in seeds if s < 0]
    if bad:
        raise NovelbenchError(f"seeds must be non-negative integers, got {bad[0]}")
    big = [s for s in seeds if s > MAX_SEED]
    if big:
        raise NovelbenchError(f"seeds must be at most 2**32-1 = {MAX_SEED} (numpy's and torch's limit), got {big[0]}")
    if len(set(seeds)) != len(seeds):
        raise NovelbenchError(f"--seeds lists a seed twice ({','.join(map(str, seeds))}): that would run the same trials twice")
    return seeds


def plan_trials(methods: list[str], param_specs: list[str], protocol: str, protocol_params: dict[str, Any],
                dataset: str, dataset_params: dict[str, Any], seeds: list[int], device: str,
                threads: int = 1, model_dir: str = "", checkpoint_dir: str = "",
                checkpoint_every: float = 600.0) -> tuple[list[Trial], list[Setting]]:
    """All trials of a run, method-major. Loads the dataset (once) to resolve the positive sets."""
    if len(set(methods)) != len(methods):
        raise NovelbenchError(f"--method lists a method twice: {', '.join(methods)}")
    for m in methods:
        METHODS.plugin(m)  # unknown names fail here, before any work
    check_seeds(seeds)
    if threads < 1:
        raise NovelbenchError(f"--threads must be at least 1, got {threads}")
    resolved_device = str(resolve_device(device))
    grid = parse_param_overrides(param_specs, methods)
    proto = PROTOCOLS.create(protocol, **protocol_params)
    protocol_params = {o.name: getattr(proto, o.name) for o in proto.options}  # converted and checked
    ds = DATASETS.create(dataset, **dataset_params)
    data = _readable(dataset, dataset_params, ds)
    settings = proto.settings(data)
    check_splits(proto, data, settings, seeds[0])
    trials = []
    for method in methods:
        names = list(grid[method])
        for combo in itertools.product(*(grid[method][n] for n in names)):
            params = dict(zip(names, combo))
            check_pyod_params(METHODS.plugin(method).cls, params, setting_label(method, params))
            for setting in settings:
                for seed in seeds:
                    trials.append(Trial(method, params, protocol, protocol_params, dataset, dataset_params, setting, seed,
                                        resolved_device, threads, setting_label(method, params), ds.identity(), model_dir,
                                        checkpoint_dir, checkpoint_every))
    check_unique(trials)
    return trials, settings


def _labels_only(data: LoadedDataset) -> LoadedDataset:
    """The dataset with every image shrunk to one black pixel: the same labels, so the same
    splits and mixes, at no cost of copying images."""
    splits = {name: ImageSet(torch.zeros((len(s), 1, 1, 1), dtype=torch.uint8), s.labels, s.class_names)
              for name, s in data.splits.items()}
    return LoadedDataset(data.name, splits, data.clutter_class)


def check_splits(proto, data: LoadedDataset, settings: list[Setting], seed: int) -> None:
    """Split every setting once, on the labels only: a test mix the data cannot fill (an outlier
    share above what the other classes hold, a one-class dataset) is one error before any work,
    not a failed trial each. Other exceptions are left to the trials (a split that looks at pixels)."""
    skeleton = _labels_only(data)
    for setting in settings:
        try:
            proto.split(skeleton, setting, seed)
        except NovelbenchError:
            raise
        except Exception:
            pass


def check_unique(trials: list[Trial]) -> None:
    seen: dict[str, Trial] = {}
    for trial in trials:
        if trial.trial_id in seen:
            raise NovelbenchError(f"the run plans the same trial twice ({trial.describe()}); check --seeds, --method and --param for repeats")
        seen[trial.trial_id] = trial
