"""Run trials on a dask.distributed cluster: any scheduler (``--scheduler ADDRESS`` or a scheduler
file), or a ``LocalCluster`` sized to this machine when none is given. Needs ``pip install
"novelbench[dask]"`` on the driver and on every worker.

- At most ``--max-in-flight`` trials are submitted at a time (default: two per worker process),
  and each is yielded the moment it finishes, so the driver stores it at once: a killed driver
  loses at most the trials in flight. Finished trials never reach the executor (the runner
  skips them), so they are never dispatched.
- A worker lost mid-trial (killed for memory, a preempted node) is retried by Dask on another
  worker, up to the scheduler's ``distributed.scheduler.allowed-failures`` (default 3); past
  that the trial becomes a failed row saying so. Every submitted trial comes back as rows.
- Workers read the data at their own path: ``--worker-data-root``, else ``--data-root`` exactly
  as given (resolved on the worker). A worker that cannot load the data stops the run with one
  error naming the worker, its host and the path it looked at.
- A worker running other novelbench code than the driver would store numbers under a wrong
  trial id: each worker recomputes the trial id from its own code and refuses a mismatch.
- One trial at a time per worker process (torch's thread count is process-wide): start workers
  with ``--nthreads 1`` and as many processes as trials should run at once (``--nworkers``).
- GPUs: on a ``LocalCluster``, ``--devices`` (or every visible GPU with ``--device cuda``) starts
  one worker per GPU, each with its own ``CUDA_VISIBLE_DEVICES``. On a cluster, start one worker
  per GPU yourself (``CUDA_VISIBLE_DEVICES=i dask worker ...``, or dask-cuda's ``dask cuda worker``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import socket
import threading
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator

from novelbench.benchmark import placement
from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.compute import run_recorded
from novelbench.benchmark.executors.base import Executor, Rows
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.protocols.base import NON_NEGATIVE, POSITIVE, Option
from novelbench.benchmark.rows import failed_rows
from novelbench.errors import NovelbenchError
from novelbench.registry import register_executor

INSTALL_HINT = 'the dask executor needs dask.distributed: pip install "novelbench[dask]"'


class WorkerSetupError(Exception):
    """A worker cannot run trials at all (no data, other code): raised there, stops the run here."""


_one_trial_at_a_time = threading.Lock()
#: seconds to wait for a --scheduler's port to answer; times the LocalCluster start is tried
PROBE_SECONDS = 5
START_ATTEMPTS = 3
NO_MALLOC_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def _where() -> str:
    host = socket.gethostname()
    try:
        from distributed import get_worker

        return f"dask worker {get_worker().address} on host {host}"
    except (ImportError, ValueError):
        return f"host {host}"


def run_on_worker(trial: Trial, planned_id: str) -> Rows:
    """The task a worker runs: check it computes what the driver planned and sees the data, then
    run the trial (any failure of the trial itself becomes a failed row, as everywhere)."""
    with _one_trial_at_a_time:
        here = dataclasses.replace(trial).trial_id  # recomputed from this worker's code
        if here != planned_id:
            raise WorkerSetupError(
                f"{_where()} runs other novelbench code than the driver (trial id {here} there, {planned_id} planned): "
                f"install the driver's version of novelbench (and of any method plugin) on every worker")
        try:
            load_dataset(trial.dataset, trial.dataset_params)  # cached per process: the trial reuses it
        except NovelbenchError as exc:
            raise WorkerSetupError(
                f"{_where()} cannot read the data: {exc} Paths are read on the workers: give --worker-data-root "
                f"(or --data-root) as the workers see it") from None
        return run_recorded(trial)


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise NovelbenchError(INSTALL_HINT) from None
    return distributed


@register_executor
class DaskExecutor(Executor):
    name = "dask"
    summary = "a dask.distributed cluster (--scheduler ADDRESS), or a LocalCluster sized to this machine"
    options = (
        Option("scheduler", "str", None, "Dask scheduler address (tcp://host:8786) or scheduler file (JSON) to send "
               "trials to. Default: start a LocalCluster on this machine (--jobs workers, else one per "
               "--threads cores)."),
        Option("max_in_flight", "int", None, "Most trials submitted to Dask at a time (default: two per worker process).", POSITIVE),
        Option("worker_data_root", "str", None, "The data folder as the Dask workers see it (default: --data-root as given)."),
        Option("devices", "ints", None, "GPUs to run on, one worker process each, as torch numbers them here "
               "(e.g. 0,1). Default with --device cuda: every visible GPU.", NON_NEGATIVE),
    )

    def __init__(self, jobs: int | None = None, **options: Any):
        super().__init__(jobs, **options)
        self._client = None
        self._cluster = None
        self._connected = False
        self._pinned = False
        self._planned: dict[Any, Trial] = {}  # future -> the trial the driver planned

    # -- cluster ------------------------------------------------------------------------------
    def check(self, first: Trial) -> None:
        """Options and, with --scheduler, that the scheduler answers: before anything is written."""
        _import_distributed()
        if self.scheduler and self.devices is not None:
            raise NovelbenchError("--devices starts one local worker per GPU; with --scheduler, start one dask worker "
                                  "per GPU instead (CUDA_VISIBLE_DEVICES=i dask worker ADDRESS --nthreads 1)")
        if not self.scheduler:
            placement.gpus_for(self.devices, first.device)
        elif self._client is None:
            self._client = self._scheduler_client(_import_distributed())

    def _scheduler_address(self) -> str:
        """--scheduler as an address: itself, or the address a scheduler file (JSON) holds."""
        path = Path(self.scheduler)
        if not path.is_file():
            return self.scheduler
        try:
            address = json.loads(path.read_text())["address"]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise NovelbenchError(f"--scheduler {self.scheduler} is a file but not a Dask scheduler file (JSON with an "
                                  f"\"address\", as `dask scheduler --scheduler-file` writes): {type(exc).__name__}: {exc}") from None
        if not isinstance(address, str):
            raise NovelbenchError(f"--scheduler {self.scheduler}: its \"address\" is not a string")
        return address

    def _scheduler_client(self, distributed):
        address = self._scheduler_address()
        if address.partition("://")[0] in ("tcp", "tls", address):  # host:port addresses; others (inproc://) as they are
            try:
                host, port = distributed.comm.get_address_host_port(address)
            except ValueError as exc:
                raise NovelbenchError(f"--scheduler {self.scheduler} is neither a scheduler file nor a dask scheduler "
                                      f"address like tcp://host:8786 ({exc})") from None
            try:  # fails at once when nothing listens, instead of Dask's 30 s of retries
                socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
            except OSError as exc:
                raise NovelbenchError(f"cannot reach the dask scheduler at {address}: {exc.strerror or exc}") from None
        try:
            return distributed.Client(address)
        except (OSError, TimeoutError, ValueError) as exc:
            raise NovelbenchError(f"cannot reach the dask scheduler at {address}: {exc}") from None

    def _connect(self, first: Trial) -> None:
        self.check(first)
        self._connected = True
        distributed = _import_distributed()
        if self.scheduler:
            workers = self._client.nthreads()
            if self.jobs is not None:
                self.note("dask: --jobs sizes a LocalCluster only; with --scheduler the cluster's workers decide how many trials run")
            self.note(f"dask: scheduler {self._client.scheduler.address}, {len(workers)} worker(s) now"
                      + ("; trials wait until workers join" if not workers else ""))
            if any(n > 1 for n in workers.values()):
                self.note("dask: some workers have several threads, but a worker process runs one trial at a time; "
                          "start workers with --nthreads 1 and more processes (--nworkers N) to run more at once")
            return
        gpus = placement.gpus_for(self.devices, first.device)
        self._pinned = bool(gpus)
        n = self.jobs or (len(gpus) if gpus else placement.cpu_slots(first.threads))
        envs = placement.worker_environments(n, first.threads, gpus)
        self._cluster = self._start_local_cluster(distributed, envs)
        self._client = distributed.Client(self._cluster)
        dashboard = f", dashboard {self._client.dashboard_link}" if importlib.util.find_spec("bokeh") else ""
        self.note(f"dask: LocalCluster with {n} worker process(es)" + (f" on GPU(s) {','.join(gpus)}" if gpus else "") + dashboard)

    def _start_local_cluster(self, distributed, envs: list[dict[str, str]]):
        """A worker that dies while the cluster starts fails the whole start: start it again (a new
        set of workers) up to ``START_ATTEMPTS`` times, then one clear error."""
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return self._local_cluster(distributed, envs)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                if attempt < START_ATTEMPTS:
                    self.note(f"dask: a worker died while the LocalCluster started ({reason}); starting it again")
        raise NovelbenchError(f"dask: the LocalCluster failed to start {START_ATTEMPTS} times ({reason}); "
                              f"try --executor processes, or fewer --jobs")

    @staticmethod
    def _local_cluster(distributed, envs: list[dict[str, str]]):
        """A LocalCluster of ``len(envs)`` single-threaded worker processes; worker i starts with
        ``envs[i]`` (its thread pools, its GPU), set before its interpreter starts."""

        class PinnedNanny(distributed.Nanny):
            def __init__(self, *args, envs: list[dict[str, str]], name=None, **kwargs):
                slot = name if isinstance(name, int) else 0
                super().__init__(*args, name=name, env=envs[slot % len(envs)], **kwargs)

        import dask

        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in every worker; any explicit value turns off
        # glibc's adaptive mmap threshold, and torch training then ran 1.8-2x slower (ae on digits:
        # 80.6 s against 44.7 s for the same trial). Workers start without it.
        with dask.config.set({NO_MALLOC_TRIM: None}):
            return distributed.LocalCluster(n_workers=len(envs), threads_per_worker=1, processes=True, dashboard_address=":0",
                                            worker_class=PinnedNanny, envs=envs)

    def _limit(self) -> int:
        if self.max_in_flight:
            return self.max_in_flight
        return max(2, 2 * len(self._client.nthreads()))

    def _for_workers(self, trial: Trial) -> Trial:
        if self.worker_data_root is not None:  # not part of the trial id: the data's content is
            trial = dataclasses.replace(trial, dataset_params={**trial.dataset_params, "data_root": self.worker_data_root})
        return placement.on_pinned_worker(trial) if self._pinned else trial

    # -- trials -------------------------------------------------------------------------------
    def run(self, trials: Iterable[Trial]) -> Iterator[tuple[Trial, Rows]]:
        todo = deque(trials)
        if not todo:
            return
        if not self._connected:
            self._connect(todo[0])
        distributed = _import_distributed()
        done = distributed.as_completed()

        def submit_more() -> None:
            limit = self._limit()
            if not self.launching():
                todo.clear()
            while todo and len(self._planned) < limit:
                trial = todo.popleft()
                future = self._client.submit(run_on_worker, self._for_workers(trial), trial.trial_id,
                                             key=f"novelbench-trial-{trial.trial_id}", pure=False)
                self._planned[future] = trial
                done.add(future)

        submit_more()
        for future in done:
            trial = self._planned.pop(future)
            try:
                rows = future.result()
            except WorkerSetupError as exc:
                raise NovelbenchError(str(exc)) from None
            except distributed.KilledWorker as exc:
                rows = failed_rows(trial, f"WorkerDied: the dask workers running this trial died ({exc})")
            except Exception as exc:  # cancelled, lost scheduler, a task that could not be unpickled ...
                rows = failed_rows(trial, f"DaskError: {type(exc).__name__}: {exc}")
            future.release()
            yield trial, rows
            submit_more()

    def running(self) -> list[Trial]:
        return list(self._planned.copy().values())  # submitted: running or queued on the cluster

    def close(self) -> None:
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        self._connected = False
        planned, self._planned = self._planned, {}
        if client is not None:
            try:
                if planned:  # interrupted: drop the trials still queued or running
                    client.cancel(list(planned))
                client.close()
            except Exception:
                pass
        if cluster is not None:
            try:
                cluster.close()
            except Exception:
                pass
