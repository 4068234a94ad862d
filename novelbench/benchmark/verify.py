"""`bench verify`: re-run trials of existing results on this machine and compare every number.

A results row carries what rebuilds its trial: the method and its ``p_*`` overrides, protocol,
dataset, positive set, repeat, seed, device type and threads. Protocol options that decide
numbers (``--transductive``, ``--outlier-pcts`` ...) are not in the row, but its ``config_id``
is the hash of the whole experiment: verify rebuilds the trial with the protocol's defaults and
the values the rows make plausible (each true/false option both ways, the rows' outlier
percentages, ``val_share`` 0 where no row has a validation F1), plus any ``--protocol-option``
given, and keeps the candidate whose config id equals the row's. A row no candidate matches is skipped with that
reason, never re-run as a guess. Today's trial id is compared with the row's: the same id means
the same code computed both numbers; another id means the code changed since, so numbers may
legitimately differ.

Re-runs go to a scratch folder (one per results table, stable, so an interrupted verify
resumes like `bench run`), never into the originals.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from novelbench.benchmark import compute
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.plan import checked_value
from novelbench.benchmark.protocols.base import Setting
from novelbench.benchmark.summary import METRICS  # every per-mix number of a row that verify compares
from novelbench.benchmark.store import ResultStore, check_out_path, read_results
from novelbench.errors import NovelbenchError
from novelbench.registry import DATASETS, METHODS, PROTOCOLS

#: columns that tell machines (and library versions) apart, compared old vs new
IDENTITY_COLUMNS = (*compute.COLUMNS, "versions")
#: columns read as text from a CSV (a p_* value "40" must stay "40", not become 40.0)
TEXT_COLUMNS = ("trial_id", "config_id", "method", "method_name", "positives", "group", "mix", "device", *IDENTITY_COLUMNS)
NOT_RECORDED = "not recorded"


def read_table(path: Path) -> pd.DataFrame:
    """A results table with text columns as text (a CSV's p_* value "40" stays "40", not 40.0)."""
    table = read_results(path)
    path = Path(path)
    if path.suffix == ".csv":
        text = {c: str for c in table.columns if c.startswith("p_") or c in TEXT_COLUMNS}
        table = pd.read_csv(path, dtype=text)  # pandas parses floats exactly as written (round trip)
    return table


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _int(value: Any, default: int = 0) -> int:
    text = _text(value)
    return int(float(text)) if text else default


def scratch_folder(root: Path, source: Path) -> Path:
    """The stable scratch folder of one results table under ``root`` (same table, same folder)."""
    resolved = source.resolve()
    stem = resolved.name if resolved.is_dir() else resolved.stem
    return root / f"{stem}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"


def default_scratch_root() -> Path:
    return Path(tempfile.gettempdir()) / "novelbench-verify"


def check_scratch(scratch: Path, source: Path) -> None:
    """The scratch folder must never be, or hold, the results being verified."""
    scratch, source = scratch.resolve(), source.resolve()
    if scratch == source or scratch in source.parents:
        raise NovelbenchError(f"the scratch folder {scratch} holds the results being verified ({source}); give another --scratch")
    check_out_path(scratch, "--scratch")  # a folder that can be made, --dry-run included


# -- choosing trials ---------------------------------------------------------------------------
def trials_of(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Rows per trial id, in the table's order."""
    return {tid: rows for tid, rows in table.groupby("trial_id", sort=False)}


def pick_spread(trials: dict[str, pd.DataFrame], k: int, seed: int) -> list[str]:
    """``k`` trial ids drawn reproducibly (``seed``), spread over methods, positive sets and seeds:
    each pick is the next in a seeded shuffle among those whose method, positives and seed were
    picked least so far."""
    order = list(np.random.default_rng(seed).permutation(list(trials)))
    counts: dict[tuple[str, str], int] = {}

    def key(tid: str) -> tuple[str, ...]:
        row = trials[tid].iloc[0]
        return (_text(row.get("method")), _text(row.get("positives")), _text(row.get("seed")))

    picked = []
    while order and len(picked) < k:
        best = min(order, key=lambda t: sum(counts.get((i, v), 0) for i, v in enumerate(key(t))))
        order.remove(best)
        picked.append(best)
        for i, v in enumerate(key(best)):
            counts[(i, v)] = counts.get((i, v), 0) + 1
    return picked


def runnable_here(rows: pd.DataFrame, cuda_here: bool) -> bool:
    """A finished trial on a device type this machine has."""
    device = _text(rows.iloc[0].get("device")).split(":")[0] or "cpu"
    return bool((rows["status"] == "ok").all()) and (device != "cuda" or cuda_here)


def select(trials: dict[str, pd.DataFrame], wanted: list[str], sample: int | None, seed: int, cuda_here: bool) -> list[str]:
    """Trial ids to verify: those ``wanted`` names (full ids or prefixes) in this table, plus a
    spread sample of ``sample`` others among the trials this machine can re-run; every trial
    when neither is given."""
    named = [t for t in trials if any(t.startswith(w) for w in wanted)]
    if sample is None:
        return named if wanted else list(trials)
    others = {t: rows for t, rows in trials.items() if t not in named and runnable_here(rows, cuda_here)}
    return named + pick_spread(others, sample, seed)


def check_wanted(wanted: list[str], found: list[str], sources: list[Path]) -> None:
    """Every ``--trial`` must name exactly one trial of the given results (one clear line if not)."""
    for w in wanted:
        hits = [t for t in found if t.startswith(w)]
        if not hits:
            raise NovelbenchError(f"trial {w} is in none of {', '.join(str(s) for s in sources)}")
        if len(set(hits)) > 1:
            raise NovelbenchError(f"trial {w} is ambiguous: it starts {len(set(hits))} trial ids ({', '.join(sorted(set(hits))[:3])} ...)")


def check_protocol_options(given: dict[str, str], trial_rows: list[pd.DataFrame]) -> None:
    """Every ``--protocol-option`` must be an option of a protocol the trials ran (as `bench run`
    rejects an unknown one); not checked if one of those protocols is not installed here (its
    trials are skipped with the reason)."""
    protocols = {p for rows in trial_rows for p in rows["protocol"].unique()}
    known: set[str] = set()
    for name in protocols:
        try:
            known |= {o.name for o in getattr(PROTOCOLS.get(name), "options", ())}
        except NovelbenchError:
            return
    for name in given:
        if name not in known:
            raise NovelbenchError(f"--protocol-option {name}: not an option of the tables' protocols "
                                  f"({', '.join(sorted(protocols))}); they have: {', '.join(sorted(known))}")


# -- rebuilding a trial from its row -----------------------------------------------------------
@dataclass
class Planned:
    """One selected trial of a results table: its old rows and the trial rebuilt here (or why not)."""

    source: Path
    trial_id: str
    rows: pd.DataFrame
    trial: Trial | None = None
    skip: str = ""  # why it is not re-run here
    note: str = ""  # a caveat of the rebuild

    @property
    def same_trial_id(self) -> bool | None:
        return None if self.trial is None else self.trial.trial_id == self.trial_id


def _option_values(option, rows: pd.DataFrame) -> list[Any]:
    """Values of a protocol option that the rows make plausible, the default first: both values
    of a true/false option; the outlier percentages of the rows' mixes; ``val_share`` 0 when no
    row has a validation F1."""
    values = [option.default]
    if option.kind == "bool":
        values.append(not option.default)
    elif option.name == "outlier_pcts" and "outlier_pct" in rows:
        values.append(sorted({float(p) for m, p in zip(rows["mix"], rows["outlier_pct"]) if _text(m) != "pool"}))
    elif option.name == "val_share" and "f1_validation" in rows and rows["f1_validation"].isna().all():
        values.append(0.0)
    return [v for i, v in enumerate(values) if v not in values[:i]]


def _protocol_candidates(protocol: str, given: dict[str, str], rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Full option values of the protocol to try: ``given`` (only options it has), and for every
    identity option not given, the values ``_option_values`` finds plausible."""
    cls = PROTOCOLS.get(protocol)
    options = {o.name: o for o in getattr(cls, "options", ())}
    own = {k: v for k, v in given.items() if k in options}
    free = [o for o in options.values() if not o.selects and o.name not in own]
    out = []
    for combo in itertools.product(*(_option_values(o, rows) for o in free)):
        try:
            proto = PROTOCOLS.create(protocol, **own, **{o.name: v for o, v in zip(free, combo)})
        except NovelbenchError:
            continue  # an inconsistent combination
        out.append({o.name: getattr(proto, o.name) for o in proto.options})
    return out


def rebuild(source: Path, trial_id: str, rows: pd.DataFrame, data_root: str | None, image_size: int | None,
            protocol_options: dict[str, str], cuda_here: bool) -> Planned:
    planned = Planned(source, trial_id, rows)
    row = rows.iloc[0]
    if _text(row.get("status")) != "ok" or (rows["status"] != "ok").any():
        planned.skip = "the trial failed in the original run: no numbers to compare"
        return planned
    device = _text(row.get("device")).split(":")[0] or "cpu"
    if device == "cuda" and not cuda_here:
        planned.skip = "a CUDA trial, and this machine has no CUDA device"
        return planned
    try:
        method = _text(row.get("method_name")) or _text(row.get("method"))
        cls = METHODS.plugin(method).cls
        params = {c[2:]: checked_value(cls, c[2:], _text(v), method) for c, v in row.items() if c.startswith("p_") and _text(v)}
        dataset, protocol = _text(row["dataset"]), _text(row["protocol"])
        dataset_params = {"data_root": data_root, "download": False, "image_size": image_size}
        data_identity = DATASETS.create(dataset, **dataset_params).identity()
        setting = Setting(tuple(_text(row["positives"]).split("|")), _int(row.get("repeat")), _text(row.get("group")))
        threads = _int(row.get("threads"), 1)
        candidates = _protocol_candidates(protocol, protocol_options, rows)
    except (NovelbenchError, KeyError, ValueError) as exc:
        planned.skip = f"cannot rebuild the trial from its row: {exc}"
        return planned
    old_config = _text(row.get("config_id"))
    for proto_params in candidates:
        trial = Trial(method, params, protocol, proto_params, dataset, dataset_params, setting, _int(row.get("seed")), device,
                      threads, _text(row.get("method")), data_identity)
        if not old_config or trial.config_id == old_config:
            planned.trial = trial
            if not old_config:
                planned.note = "the row has no config_id: rebuilt with the protocol's defaults, unchecked"
            return planned
    planned.skip = (f"no rebuilt trial has the row's config_id {old_config}: the run used protocol options other than "
                    f"the defaults (give them with --protocol-option NAME=VALUE) or today's code defines the experiment "
                    f"differently (a parameter default changed)")
    return planned


# -- comparing numbers -------------------------------------------------------------------------
@dataclass
class Outcome:
    """The verdict on one trial (``verdict``: bit-identical, within T, beyond T, failed, skipped)."""

    planned: Planned
    verdict: str
    max_abs_delta: float = float("nan")
    worst: str = ""
    numbers: list[dict[str, Any]] = field(default_factory=list)  # mix, metric, old, new, delta
    compute: list[dict[str, str]] = field(default_factory=list)  # what, old, new (where they differ)
    note: str = ""
    verified_on: str = ""  # the compute identity of the re-run

    @property
    def headline(self) -> dict[str, Any]:
        """The AUROC of the protocol's own mix (pool for mnist, p50 for caltech)."""
        mix = headline_mix(_text(self.planned.rows.iloc[0].get("protocol")), [n["mix"] for n in self.numbers])
        for n in self.numbers:
            if n["mix"] == mix and n["metric"] == "auroc":
                return {"mix": mix, "auroc_old": n["old"], "auroc_new": n["new"], "auroc_delta": n["delta"]}
        return {"mix": "", "auroc_old": float("nan"), "auroc_new": float("nan"), "auroc_delta": float("nan")}

    def summary(self) -> dict[str, Any]:
        p, row = self.planned, self.planned.rows.iloc[0]
        differs = "; ".join(f"{c['what']}: {c['old']} -> {c['new']}" for c in self.compute if c["old"] != NOT_RECORDED)
        if any(c["old"] == NOT_RECORDED for c in self.compute):  # rows older than the compute columns
            differs = "; ".join(filter(None, ["compute identity not recorded in the old row", differs]))
        return {"run": str(p.source), "trial_id": p.trial_id, "trial_id_now": p.trial.trial_id if p.trial else "",
                "same_trial_id": p.same_trial_id, "method": _text(row.get("method")), "positives": _text(row.get("positives")),
                "repeat": _int(row.get("repeat")), "seed": _int(row.get("seed")), "device": _text(row.get("device")),
                "verdict": self.verdict, "max_abs_delta": self.max_abs_delta, "worst": self.worst, **self.headline,
                "compute_differs": differs if self.verdict not in ("skipped",) else "", "verified_on": self.verified_on, "note": "; ".join(filter(None, [p.skip, p.note, self.note]))}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "numbers": self.numbers, "compute": self.compute}


def headline_mix(protocol: str, mixes: list[str]) -> str:
    try:
        layout = PROTOCOLS.get(protocol).layout
        own = layout.auroc_mix or layout.mix
    except (NovelbenchError, AttributeError):
        own = None
    return own if own in mixes else ("pool" if "pool" in mixes else (mixes[0] if mixes else ""))


def _equal(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def compute_differences(old: pd.Series, new: pd.Series) -> list[dict[str, str]]:
    """Compute-identity (and versions) columns whose values differ between the old and new row."""
    out = []
    for col in IDENTITY_COLUMNS:
        before = _text(old.get(col)) if col in old.index else NOT_RECORDED
        before = before or (NOT_RECORDED if col != "compute_gpu" else "")
        after = _text(new.get(col))
        if col == "compute_gpu" and not after and before in ("", NOT_RECORDED):
            continue  # a CPU trial: no GPU either side
        if before != after:
            out.append({"what": col, "old": before, "new": after})
    return out


def compare(planned: Planned, new_rows: pd.DataFrame | None, tolerance: float) -> Outcome:
    if planned.trial is None:
        return Outcome(planned, "skipped")
    if new_rows is None or new_rows.empty:
        return Outcome(planned, "failed", note="the re-run left no rows")
    if (new_rows["status"] != "ok").any():
        return Outcome(planned, "failed", note=_text(new_rows.iloc[0].get("error")))
    old = planned.rows.set_index("mix")
    new = new_rows.set_index("mix")
    numbers, worst, max_delta, identical = [], "", 0.0, True
    for mix in old.index:
        for metric in METRICS:
            a = float(old.at[mix, metric]) if metric in old.columns else float("nan")
            b = float(new.at[mix, metric]) if mix in new.index and metric in new.columns else float("nan")
            same = _equal(a, b)
            delta = 0.0 if same else (b - a if not (math.isnan(a) or math.isnan(b)) else float("inf"))
            numbers.append({"mix": mix, "metric": metric, "old": a, "new": b, "delta": delta})
            identical &= same
            if abs(delta) > max_delta:
                max_delta, worst = abs(delta), f"{metric} {mix}"
    missing = [m for m in new.index if m not in old.index]
    if identical:
        verdict = "bit-identical"
    else:
        verdict = f"within {tolerance:g}" if max_delta <= tolerance else f"beyond {tolerance:g}"
    note = f"mixes only in the re-run: {', '.join(missing)}" if missing else ""
    machine = "; ".join(filter(None, (_text(new_rows.iloc[0].get(c)) for c in compute.COLUMNS)))
    return Outcome(planned, verdict, max_delta, worst, numbers, compute_differences(planned.rows.iloc[0], new_rows.iloc[0]), note,
                   machine)


def is_beyond(outcome: Outcome) -> bool:
    return outcome.verdict.startswith("beyond")


# -- running -----------------------------------------------------------------------------------
def rerun(planned: list[Planned], scratch: Path, executor, on_trial=None) -> dict[str, pd.DataFrame | None]:
    """Re-run the rebuilt trials into ``scratch`` (finished ones there are reused); new rows per
    old trial id."""
    from novelbench.benchmark.runner import run_trials

    todo, seen = [], {}
    for p in planned:
        if p.trial is None:
            continue
        if p.trial.trial_id in seen:  # two rows of one experiment: compute it once
            continue
        seen[p.trial.trial_id] = p
        todo.append(p.trial)
    store = ResultStore(scratch)
    store.prepare()
    if todo:
        run_trials(todo, store, executor, on_trial=on_trial)
    return {p.trial_id: store.read_trial(p.trial.trial_id) for p in planned if p.trial is not None}


def numbers_frame(outcome: Outcome) -> pd.DataFrame:
    """Every metric of every mix of one trial, old / new / delta (for people: 6 decimals)."""
    return pd.DataFrame([{"mix": n["mix"], "metric": n["metric"], "old": _number(n["old"], ".6f"), "new": _number(n["new"], ".6f"),
                          "delta": _number(n["delta"], "+.3g")} for n in outcome.numbers])


def table_frame(outcomes: list[Outcome]) -> pd.DataFrame:
    return pd.DataFrame([o.summary() for o in outcomes])


def by_method(table: pd.DataFrame) -> pd.DataFrame:
    """One row per method of a verification table (``table_frame`` or its CSV): how many of its
    trials reproduced bit for bit, within T or beyond T, and how far they moved (|delta| of the
    headline AUROC: median and max; and the largest |delta| of any metric of any mix)."""
    rows = []
    for method, part in table.groupby("method", sort=False):
        verdicts = part["verdict"].astype(str)
        not_run = verdicts.isin(["skipped", "failed"])
        ran = part[~not_run]
        auroc = ran["auroc_delta"].abs()
        rows.append({"method": method, "trials": len(part), "bit-identical": int((verdicts == "bit-identical").sum()),
                     "within T": int(verdicts.str.startswith("within").sum()),
                     "beyond T": int(verdicts.str.startswith("beyond").sum()),
                     "failed or skipped": int(not_run.sum()),
                     "median abs Δ AUROC": auroc.median() if len(auroc) else float("nan"),
                     "max abs Δ AUROC": auroc.max() if len(auroc) else float("nan"),
                     "max abs Δ any metric": ran["max_abs_delta"].max() if len(ran) else float("nan")})
    return pd.DataFrame(rows)


def _number(value: Any, spec: str) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def display_frame(outcomes: list[Outcome], with_run: bool = False) -> pd.DataFrame:
    """The per-trial table for people: AUROC at 6 decimals, deltas in 3 digits (``with_run``: a
    first column naming each trial's results table)."""
    rows = []
    for o in outcomes:
        s = o.summary()
        same = {True: "yes", False: "no", None: ""}[s["same_trial_id"]]
        rows.append({"trial": s["trial_id"], "method": s["method"], "positives": s["positives"],
                     "rep": s["repeat"], "seed": s["seed"], "same id": same, "mix": s["mix"],
                     "AUROC old": _number(s["auroc_old"], ".6f"), "AUROC new": _number(s["auroc_new"], ".6f"),
                     "max abs delta": _number(s["max_abs_delta"], ".3g"), "worst": s["worst"], "verdict": s["verdict"],
                     "compute differs": s["compute_differs"], "note": s["note"]})
        if with_run:
            rows[-1] = {"run": Path(s["run"]).name, **rows[-1]}
    return pd.DataFrame(rows)


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and inf (a number missing on one side) become null."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(outcomes: list[Outcome], indent: int | None = None) -> str:
    return json.dumps(_plain([o.to_dict() for o in outcomes]), indent=indent)


def write_table(outcomes: list[Outcome], path: Path) -> None:
    """The verification table: .csv / .md (one row per trial) or .json (every number)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(to_json(outcomes, indent=1) + "\n")
    elif path.suffix == ".md":
        from novelbench.benchmark.report import render

        cells = display_frame(outcomes, with_run=True).map(lambda v: str(v).replace("|", "\\|"))  # positives "a|b"
        machines = dict.fromkeys(o.verified_on for o in outcomes if o.verified_on)
        path.write_text(render(cells, "markdown", [f"re-run on: {m}" for m in machines]) + "\n")
    else:
        table_frame(outcomes).to_csv(path, index=False)
