"""Run trials one after another in this process."""

from __future__ import annotations

import contextlib
import os
from typing import Iterable, Iterator

from novelbench.benchmark.compute import run_recorded
from novelbench.benchmark.executors.base import Executor, Rows
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.rows import failed_rows
from novelbench.errors import NovelbenchError
from novelbench.registry import register_executor


@contextlib.contextmanager
def _no_hard_exit():
    """While a trial runs, ``os._exit`` in its code ends only the trial: in the driver process it
    would end the whole run without a word. Yields the exit codes asked for."""
    asked: list[int] = []

    def refuse(code: int) -> None:
        asked.append(code)
        raise SystemExit(code)  # run_trial turns it into a failed row

    hard_exit, os._exit = os._exit, refuse
    try:
        yield asked
    finally:
        os._exit = hard_exit


@register_executor
class InlineExecutor(Executor):
    name = "inline"
    summary = "one trial at a time in the driver process"

    def __init__(self, jobs: int | None = None, **options) -> None:
        super().__init__(jobs, **options)
        if jobs is not None and jobs > 1:
            raise NovelbenchError(f"--executor inline runs one trial at a time, so --jobs {jobs} would be ignored; "
                                  f"use --executor processes (or dask) to run {jobs} at once, or drop --jobs")
        self._current: Trial | None = None

    def run(self, trials: Iterable[Trial]) -> Iterator[tuple[Trial, Rows]]:
        for trial in trials:
            if not self.launching():
                return
            self._current = trial
            with _no_hard_exit() as asked:
                rows = run_recorded(trial)
            if asked:
                rows = failed_rows(trial, f"HardExit: the method called os._exit({asked[0]}) inside the trial; in the driver "
                                          f"process that would end the run, so only this trial failed")
            self._current = None
            yield trial, rows

    def running(self) -> list[Trial]:
        current = self._current
        return [current] if current is not None else []
