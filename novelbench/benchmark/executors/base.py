"""The executor interface: a trial in, its rows out; the driver alone writes the store.

An executor runs ``execution.run_trial`` somewhere (this process, local worker processes, a
cluster) and yields ``(trial, rows)`` as each trial finishes, in any order. A trial whose
worker dies yields failed rows for that trial only. Adding an executor is one file here with
``@register_executor``.
"""

from __future__ import annotations

from typing import ClassVar, Iterable, Iterator

from novelbench.benchmark.identity import Trial

Rows = list[dict]


class Executor:
    name: ClassVar[str]
    summary: ClassVar[str] = ""

    def __init__(self, jobs: int = 1, **options):
        self.jobs = jobs
        self.options = options

    def run(self, trials: Iterable[Trial]) -> Iterator[tuple[Trial, Rows]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers; called on normal end, on errors and on Ctrl-C."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
