"""Expand a run's request into trials: methods x parameter grid x positive sets x seeds."""

from __future__ import annotations

import ast
import itertools
import json
from typing import Any

from novelbench.benchmark.protocols.base import Setting
from novelbench.benchmark.registry import DATASETS, METHODS, PROTOCOLS
from novelbench.benchmark.trial import Trial, load_dataset
from novelbench.errors import NovelbenchError


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


def parse_param_overrides(specs: list[str], methods: list[str]) -> dict[str, dict[str, list[Any]]]:
    """``crbnd.lam=0.3,0.5`` -> {"crbnd": {"lam": [0.3, 0.5]}}; ``lam=0.3`` applies to every method."""
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
            allowed = METHODS.get(target).param_defaults()
            if name not in allowed:
                raise NovelbenchError(f"{target} has no parameter {name!r}; it has: {', '.join(allowed)}")
            grid[target][name] = [parse_value(v) for v in _split_top_level(values)]
    return grid


def setting_label(method: str, params: dict[str, Any]) -> str:
    if not params:
        return method
    inner = ",".join(f"{k}={v}" for k, v in params.items()).replace(" ", "")
    return f"{method}[{inner}]"


def plan_trials(methods: list[str], param_specs: list[str], protocol: str, protocol_params: dict[str, Any],
                dataset: str, dataset_params: dict[str, Any], seeds: list[int], device: str) -> tuple[list[Trial], list[Setting]]:
    """All trials of a run, method-major. Loads the dataset (once) to resolve the positive sets."""
    for m in methods:
        METHODS.get(m)  # unknown names fail here, before any work
    grid = parse_param_overrides(param_specs, methods)
    proto = PROTOCOLS.create(protocol, **protocol_params)
    ds = DATASETS.create(dataset, **dataset_params)
    data = load_dataset(dataset, json.dumps(dataset_params, sort_keys=True, default=str))
    settings = proto.settings(data)
    trials = []
    for method in methods:
        names = list(grid[method])
        for combo in itertools.product(*(grid[method][n] for n in names)):
            params = dict(zip(names, combo))
            for setting in settings:
                for seed in seeds:
                    trials.append(Trial(method, params, protocol, proto.identity(), dataset, dataset_params,
                                        setting, seed, device, setting_label(method, params), ds.identity()))
    return trials, settings
