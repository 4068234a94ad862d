"""The executor interface: a trial in, its rows out; the driver alone writes the store.

An executor runs ``execution.run_trial`` somewhere (this process, local worker processes, a
cluster) through ``compute.run_recorded``, which adds the running machine's compute identity
to the rows, and yields ``(trial, rows)`` as each trial finishes, in any order. A trial whose
worker dies yields failed rows for that trial only. Adding an executor is one file here with
``@register_executor``; its options are declared like a protocol's (``Option``), and the CLI
derives ``--flags`` and `bench list` entries from them.
"""

from __future__ import annotations

import time
from typing import Any, Callable, ClassVar, Iterable, Iterator

from novelbench.benchmark.identity import Trial
from novelbench.benchmark.protocols.base import Option
from novelbench.errors import NovelbenchError

Rows = list[dict]


class Executor:
    name: ClassVar[str]
    summary: ClassVar[str] = ""
    #: the executor's own options (the CLI derives ``--name`` from each); values become attributes
    options: ClassVar[tuple[Option, ...]] = ()
    #: time.monotonic() after which no new trial starts (the run's time budget); None: no limit
    deadline: float | None = None

    def __init__(self, jobs: int | None = None, note: Callable[[str], None] | None = None, **values: Any):
        """``jobs``: trials at once (None: what the executor sizes to the machine); ``note``:
        where to say what the executor set up (workers, dashboard); option values by name."""
        if jobs is not None and jobs < 1:
            raise NovelbenchError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.note = note or (lambda message: None)
        known = {o.name for o in self.options}
        unknown = sorted(set(values) - known)
        if unknown:
            flags = ", ".join(o.flag for o in self.options) or "none"
            raise NovelbenchError(f"the {self.name} executor has no option --{unknown[0].replace('_', '-')}; its options: {flags}")
        for option in self.options:
            value = values.get(option.name)
            setattr(self, option.name, option.convert(value) if value is not None else option.default)

    def check(self, first: Trial) -> None:
        """Check the options against the run (e.g. GPUs for a CPU run) before anything is
        written; ``first`` is the run's first trial (all share device and threads). Override."""

    def launching(self) -> bool:
        """Whether a new trial may start: False once the deadline has passed (the trials already
        running finish and are kept; the rest wait for the next run)."""
        return self.deadline is None or time.monotonic() < self.deadline

    def run(self, trials: Iterable[Trial]) -> Iterator[tuple[Trial, Rows]]:
        """Yield (trial, rows) as trials finish; start a trial only while ``launching()``."""
        raise NotImplementedError

    def running(self) -> list[Trial]:
        """The trials running (or handed to workers) now, for the progress display. Override."""
        return []

    def close(self) -> None:
        """Release workers; called on normal end, on errors and on Ctrl-C."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
