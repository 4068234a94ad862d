"""Drive a run: skip finished trials, hand the rest to an executor, store each as it finishes.

Finished trials are skipped (resume is the default) unless ``force``; the driver process alone
writes results, so the store stays consistent whichever executor ran the trials.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from novelbench.benchmark import placement
from novelbench.benchmark.executors.base import Executor
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.plan import check_unique
from novelbench.benchmark.store import ResultStore
from novelbench.registry import EXECUTORS

#: called after each trial with (trial, rows, was_cached)
Callback = Callable[[Trial, list[dict] | None, bool], None]


@dataclass
class RunSummary:
    table: pd.DataFrame
    run_id: str
    n_trials: int
    n_cached: int
    n_ran: int
    n_failed: int
    n_not_started: int = 0  # left for the next run when the time budget ran out


def run_id_for(trials: list[Trial]) -> str:
    return hashlib.sha256("\n".join(t.trial_id for t in trials).encode()).hexdigest()[:12]


def default_executor(jobs: int | None, device: str = "cpu", devices: list[int] | None = None) -> str:
    """``processes`` when trials run several at a time: ``--jobs`` > 1, ``--devices``, or plain
    ``cuda`` on a machine with several GPUs (one worker each); else ``inline``."""
    if (jobs or 1) > 1 or devices:
        return "processes"
    if device == "cuda" and len(placement.visible_gpus()) > 1:
        return "processes"
    return "inline"


def make_executor(name: str | None, jobs: int | None = None, device: str = "cpu", **options) -> Executor:
    """``name`` from the executor registry (default: ``default_executor``); ``options`` are the
    executor's declared options (``Executor.options``), plus ``note`` for what it sets up."""
    name = name or default_executor(jobs, device, options.get("devices"))
    return EXECUTORS.create(name, jobs=jobs, **options)


def run_trials(trials: list[Trial], store: ResultStore, executor: Executor | None = None, force: bool = False,
               on_trial: Callback | None = None, budget: float | None = None) -> RunSummary:
    """Run the unfinished ``trials`` and store each as it ends. ``budget``: seconds after which
    no new trial starts; the finished ones are stored, and a later run resumes the rest."""
    check_unique(trials)
    run_id = run_id_for(trials)
    todo = []
    for trial in trials:
        if not force and store.is_finished(trial.trial_id):
            if on_trial:
                on_trial(trial, None, True)
        else:
            todo.append(trial)

    n_ran = n_failed = 0
    executor = executor or make_executor(None, 1)
    if budget is not None:
        executor.deadline = time.monotonic() + budget
    with executor:
        for trial, rows in executor.run(todo):
            store.write_trial(trial.trial_id, rows, run_id)
            n_ran += 1
            n_failed += rows[0]["status"] != "ok"
            if on_trial:
                on_trial(trial, rows, False)

    table = store.merge([t.trial_id for t in trials])
    return RunSummary(table, run_id, len(trials), len(trials) - len(todo), n_ran, n_failed, len(todo) - n_ran)
