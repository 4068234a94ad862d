"""Run trials one after another in this process."""

from __future__ import annotations

from typing import Iterable, Iterator

from novelbench.benchmark.compute import run_recorded
from novelbench.benchmark.executors.base import Executor, Rows
from novelbench.benchmark.identity import Trial
from novelbench.registry import register_executor


@register_executor
class InlineExecutor(Executor):
    name = "inline"
    summary = "one trial at a time in the driver process"

    def run(self, trials: Iterable[Trial]) -> Iterator[tuple[Trial, Rows]]:
        for trial in trials:
            if not self.launching():
                return
            yield trial, run_recorded(trial)
