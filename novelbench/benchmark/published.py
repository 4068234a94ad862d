"""Published reference numbers shown beside measured rows.

The numbers are data, not code: ``data/published.csv`` (package data) holds one published value
per line with its method, the dataset it was published on (a ``--dataset`` name), the protocol
whose layout it fits, the setting (a group such as ``n=3`` or a test mix such as ``p10`` /
``pool``), the metric (``auroc`` or ``f1``), the source, how the F1 threshold was chosen,
protocol notes, and two optional last columns: the features the method ran on where they were not
the images themselves (the robust-subspace baselines' pretrained-network features; the label says
so), and the positive set a value belongs to where a source gives one value per class (empty: the
mean over the classes). Per-class values serve verdict rows only; tables and figures show the
means. Adding a published number is one line there.

A table row here (``Reference``) is one method from one source on one dataset. Where two
sources report the same numbers for a method they share one row; where they disagree (CRBND's
Table 1 and ALOCC's own Table 1 on ALOCC at five classes) each keeps its own row. A reference is
*comparable* only to runs on the dataset it was published on; others are labelled as such.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterable

import pandas as pd

from novelbench.errors import NovelbenchError

COLUMNS = ["method", "dataset", "protocol", "setting", "metric", "value", "source", "threshold", "note"]
# may be left off a line; features empty: the method ran on the images; positives empty: the mean over classes
OPTIONAL = ["features", "positives"]
METRICS = {"auroc", "f1"}
#: which published rows a table or figure shows: all (other datasets labelled), matching, none
CHOICES = ("all", "matching", "none")


@functools.lru_cache(maxsize=1)
def table() -> pd.DataFrame:
    """Every published value (checked once: columns, metrics, values in [0, 1], no duplicates)."""
    with resources.files("novelbench.benchmark").joinpath("data/published.csv").open() as f:
        frame = pd.read_csv(f, comment="#", dtype=str, keep_default_na=False)
    missing = set(COLUMNS) - set(frame.columns)
    if missing:
        raise NovelbenchError(f"published.csv lacks column(s) {', '.join(sorted(missing))}")
    for column in OPTIONAL:
        frame[column] = frame[column].fillna("") if column in frame else ""
    frame["value"] = pd.to_numeric(frame["value"], errors="raise")
    bad = frame[~frame["metric"].isin(METRICS) | ~frame["value"].between(0, 1) | (frame["source"] == "")]
    if not bad.empty:
        raise NovelbenchError(f"published.csv line for {bad.iloc[0]['method']!r}: metric must be auroc or f1, "
                              f"value a fraction in [0, 1], source given")
    dup = frame.duplicated(["method", "dataset", "protocol", "setting", "metric", "source", "positives"])
    if dup.any():
        raise NovelbenchError(f"published.csv repeats a value: {frame[dup].iloc[0].to_dict()}")
    return frame


@dataclass
class Reference:
    """One published row: a method on one dataset, from one source (or several that agree)."""

    method: str
    dataset: str
    protocol: str
    values: dict[tuple[str, str], float]  # (setting, metric) -> value
    citations: list[tuple[str, str, str]]  # (source, threshold, note), one per source
    comparable: bool = True
    marks: list[int] = field(default_factory=list)  # footnote numbers, set by ``footnotes``
    features: str = ""  # what it ran on when not the images (e.g. a pretrained network's features)

    def value(self, setting: str, metric: str) -> float:
        return self.values.get((setting, metric), math.nan)

    def has(self, metric: str) -> bool:
        return any(m == metric for _, m in self.values)

    def _mark(self) -> str:
        return f" [{', '.join(map(str, sorted(self.marks)))}]" if self.marks else ""

    def _on(self) -> str:
        return f"; on {self.features}: another feature space" if self.features else ""

    def label(self) -> str:
        """Table label, e.g. "GPND v1 (published, mnist) [2]"; another dataset's rows say so, and rows
        computed on other features than the images say which."""
        if self.comparable:
            return f"{self.method} (published, {self.dataset}{self._on()}){self._mark()}"
        return f"{self.method} (published on {self.dataset}: another dataset{self._on()}){self._mark()}"

    def short_label(self) -> str:
        """Legend label, e.g. "GPND v1 [2] published" or "GPND v1 [2] published on fashion-mnist"."""
        where = "" if self.comparable else f" on {self.dataset}"
        on = f", {self.features}" if self.features else ""
        return f"{self.method}{self._mark()} published{where}{on}"


def _merge(rows: list[Reference]) -> list[Reference]:
    """Fold a source whose values all equal another source's values (same method and dataset)
    into that row; keep disagreeing sources as rows of their own."""
    out: list[Reference] = []
    for row in sorted(rows, key=lambda r: -len(r.values)):
        host = next((o for o in out if all(k in o.values and abs(o.values[k] - v) < 1e-9 for k, v in row.values.items())), None)
        if host is None:
            out.append(row)
        else:
            host.citations.extend(row.citations)
    order = {id(r): i for i, r in enumerate(rows)}
    return sorted(out, key=lambda r: order[id(r)])


def references(protocol: str, datasets: Iterable[str], which: str = "all", metric: str | None = None) -> list[Reference]:
    """Published rows for a protocol's table or figure of runs on ``datasets``.

    ``which``: ``all`` (rows of other datasets too, marked not comparable), ``matching`` (only
    rows published on one of ``datasets``) or ``none``. ``metric`` keeps rows that report it.
    """
    if which not in CHOICES:
        raise NovelbenchError(f"--published must be one of {', '.join(CHOICES)}, got {which!r}")
    datasets = set(datasets)
    frame = table()
    frame = frame[(frame["protocol"] == protocol) & (frame["positives"] == "")]  # per-class values: verdicts only
    if which == "none" or frame.empty:
        return []
    rows: list[Reference] = []
    for (method, dataset, source), part in frame.groupby(["method", "dataset", "source"], sort=False):
        values = {(s, m): float(v) for s, m, v in zip(part["setting"], part["metric"], part["value"])}
        threshold = next((t for t in part["threshold"] if t), "")
        features = next((f for f in part["features"] if f), "")
        rows.append(Reference(method, dataset, protocol, values, [(source, threshold, part["note"].iloc[0])],
                              comparable=dataset in datasets, features=features))
    merged = []
    for key in dict.fromkeys((r.method, r.dataset) for r in rows):
        merged += _merge([r for r in rows if (r.method, r.dataset) == key])
    if which == "matching":
        merged = [r for r in merged if r.comparable]
    if metric:
        merged = [r for r in merged if r.has(metric)]
    # comparable rows first, each group in file order
    return sorted(merged, key=lambda r: not r.comparable)


def footnotes(refs: list[Reference]) -> list[str]:
    """Number each distinct (source, threshold, note) and set every reference's marks; returns
    the footnote lines, e.g. "[1] CRBND paper ..., Table 1. F1 threshold: not stated. ..."."""
    keys: dict[tuple[str, str, str], int] = {}
    for ref in refs:
        ref.marks = []
        for cite in ref.citations:
            ref.marks.append(keys.setdefault(cite, len(keys) + 1))
    lines = []
    for (source, threshold, note), k in keys.items():
        text = f"[{k}] {source}."
        if threshold:
            text += f" F1 threshold: {threshold}."
        if note:
            text += f" {note[0].upper()}{note[1:]}."
        lines.append(text)
    return lines


def other_dataset_warning(refs: list[Reference], run_datasets: Iterable[str]) -> str | None:
    others = sorted({r.dataset for r in refs if not r.comparable})
    if not others:
        return None
    runs = ", ".join(sorted(set(run_datasets)))
    return (f"Published rows marked with another dataset ({', '.join(others)}) were measured there, not on these runs' "
            f"dataset ({runs}): context only, not a like-for-like comparison.")
