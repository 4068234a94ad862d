"""Run trials in N local worker processes, one trial per worker at a time.

Each worker is a long-lived spawned process (it loads torch and the dataset once) talking to
the driver over its own pipe, so the driver always knows which trial a worker holds:
- a worker that dies (killed for memory, a segfault, ``os._exit`` in a plugin) fails only the
  trial it held, with the exit code as the reason, and is replaced; the run goes on;
- a worker whose driver dies (SIGKILL, a closed terminal) exits too: a watchdog thread waits on
  the parent's sentinel, so no orphan keeps computing;
- each worker starts with its own environment (``placement.worker_environments``): thread pools
  of the trials' thread count and, on GPUs, ``CUDA_VISIBLE_DEVICES`` naming one device, so
  ``--devices 0,1`` (or every visible GPU with ``--device cuda``) runs one worker per GPU.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Iterable, Iterator

from novelbench.benchmark import placement
from novelbench.benchmark.compute import run_recorded
from novelbench.benchmark.executors.base import Executor, Rows
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.protocols.base import NON_NEGATIVE, Option
from novelbench.benchmark.rows import failed_rows
from novelbench.registry import register_executor


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _worker(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    _exit_with_parent()
    while True:
        try:
            trial = conn.recv()
        except EOFError:
            return
        if trial is None:
            return
        conn.send(run_recorded(trial))


def death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (killed from outside; the kernel does this when memory runs out)" if -exitcode == signal.SIGKILL else ""
        return f"WorkerDied: the worker process running this trial died of {name}{hint}"
    return f"WorkerDied: the worker process running this trial exited with code {exitcode} before returning results"


class _Worker:
    def __init__(self, ctx, env: dict[str, str]) -> None:
        self.env = env
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child,), daemon=True)
        with placement.environment(env):  # the spawned interpreter starts with it (before torch loads)
            self.process.start()
        child.close()
        self.trial: Trial | None = None

    def stop(self, timeout: float = 5.0) -> None:
        try:
            if self.process.is_alive() and self.trial is None:
                self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout)
        self.conn.close()


@register_executor
class ProcessExecutor(Executor):
    name = "processes"
    summary = "local worker processes (--jobs N; one per GPU with --devices); a dead worker fails only its own trial"
    options = (
        Option("devices", "ints", None, "GPUs to run on, one worker process each, as torch numbers them here "
               "(e.g. 0,1). Default with --device cuda: every visible GPU.", NON_NEGATIVE),
    )

    def __init__(self, jobs: int | None = None, **options):
        super().__init__(jobs, **options)
        self._ctx = multiprocessing.get_context("spawn")  # fork + torch threads is unsafe
        self._workers: list[_Worker] = []
        self._pinned = False

    def check(self, first: Trial) -> None:
        placement.gpus_for(self.devices, first.device)

    def _start_workers(self, first: Trial, n_trials: int) -> None:
        gpus = placement.gpus_for(self.devices, first.device)
        self._pinned = bool(gpus)
        n = self.jobs or (len(gpus) if gpus else placement.cpu_slots(first.threads))
        for env in placement.worker_environments(min(n, n_trials), first.threads, gpus):
            self._workers.append(_Worker(self._ctx, env))

    def run(self, trials: Iterable[Trial]) -> Iterator[tuple[Trial, Rows]]:
        todo = deque(trials)
        if todo and not self._workers:
            self._start_workers(todo[0], len(todo))
        while todo or any(w.trial is not None for w in self._workers):
            if not self.launching():
                todo.clear()
            for worker in self._workers:
                if worker.trial is None and todo:
                    worker.trial = todo.popleft()
                    worker.conn.send(placement.on_pinned_worker(worker.trial) if self._pinned else worker.trial)
            busy = [w for w in self._workers if w.trial is not None]
            if not busy:
                return
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for worker in busy:
                if worker.conn in ready:
                    try:
                        rows = worker.conn.recv()
                    except (EOFError, OSError):
                        rows = None
                    if rows is not None:
                        trial, worker.trial = worker.trial, None
                        yield trial, rows
                        continue
                if worker.process.sentinel in ready or not worker.process.is_alive():
                    worker.process.join()
                    trial, worker.trial = worker.trial, None
                    self._replace(worker, needed=bool(todo))
                    yield trial, failed_rows(trial, death_reason(worker.process.exitcode))

    def running(self) -> list[Trial]:
        return [trial for trial in (w.trial for w in list(self._workers)) if trial is not None]

    def _replace(self, dead: _Worker, needed: bool) -> None:
        """A new worker with the dead one's environment (its GPU), if trials are still waiting."""
        dead.conn.close()
        if needed:
            self._workers[self._workers.index(dead)] = _Worker(self._ctx, dead.env)
        else:
            self._workers.remove(dead)

    def close(self) -> None:
        for worker in self._workers:
            if worker.trial is not None:  # interrupted mid-trial: stop it now
                worker.process.terminate()
            worker.stop()
        self._workers = []
