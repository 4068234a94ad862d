"""Run planned trials in-process or in N local processes, storing each as it finishes.

Finished trials are skipped (resume is the default) unless ``force``; the driver process alone
writes results, so the store stays consistent whichever executor ran the trials.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import torch

from novelbench.benchmark.store import ResultStore
from novelbench.benchmark.trial import Trial, failed_rows, run_trial

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


def run_id_for(trials: list[Trial]) -> str:
    return hashlib.sha256("\n".join(t.trial_id for t in trials).encode()).hexdigest()[:12]


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def run_trials(trials: list[Trial], store: ResultStore, jobs: int = 1, force: bool = False,
               on_trial: Callback | None = None) -> RunSummary:
    todo = []
    n_cached = 0
    for trial in trials:
        if not force and store.is_finished(trial.trial_id):
            n_cached += 1
            if on_trial:
                on_trial(trial, None, True)
        else:
            todo.append(trial)

    n_failed = 0

    def finish(trial: Trial, rows: list[dict]) -> None:
        nonlocal n_failed
        store.write_trial(trial.trial_id, rows)
        n_failed += rows[0]["status"] != "ok"
        if on_trial:
            on_trial(trial, rows, False)

    if jobs <= 1 or len(todo) <= 1:
        for trial in todo:
            finish(trial, run_trial(trial))
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        ctx = multiprocessing.get_context("spawn")  # fork + torch threads is unsafe
        with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(threads,)) as pool:
            pending = {pool.submit(run_trial, t): t for t in todo}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        trial = pending.pop(future)
                        try:
                            rows = future.result()
                        except Exception as exc:  # e.g. a worker killed for memory: record, go on
                            rows = failed_rows(trial, exc)
                        finish(trial, rows)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    run_id = run_id_for(trials)
    table = store.merge([t.trial_id for t in trials], run_id)
    return RunSummary(table, run_id, len(trials), n_cached, len(todo), n_failed)
