"""Executors: the same rows wherever trials run; a dead worker fails (or retries) only its own trial;
the driver stores every row under the id it planned; workers get their own GPU and thread pools."""

import dataclasses
import json
import os
import signal
import threading
import time
from pathlib import Path

import dask
import distributed
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from novelbench.benchmark import placement, runner
from novelbench.benchmark.executors.base import Executor
from novelbench.benchmark.executors.dask import NO_MALLOC_TRIM, DaskExecutor, WorkerSetupError, run_on_worker
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.store import ResultStore
from novelbench.errors import NovelbenchError

#: columns that differ between two runs of the same trials by nature (timings, clock, run)
VOLATILE = ["timestamp", "fit_seconds", "score_seconds", "run_id"]


def _plan(methods=("ocsvm",), params=(), classes=("hbar", "ring"), seeds=(0,), dataset="synthetic", data_root=None):
    return plan_trials(list(methods), list(params), "mnist", {"classes": list(classes), "outlier_pcts": [10, 50]}, dataset,
                       {"data_root": data_root, "download": False, "image_size": None}, list(seeds), "cpu")[0]


def _signals(ready_dir, sleep=0.0, classes=("hbar",), seeds=(0,)):
    return _plan(["example_plugin:Signals"], [f"ready_dir={ready_dir}", f"sleep={sleep}"], classes, seeds)


def _reports(ready_dir):
    return [json.loads(p.read_text()) for p in sorted(Path(ready_dir).glob("*.json"))]


def _kill_first_signaller(ready_dir, timeout=120.0):
    """Background: SIGKILL the first process that reports it is inside ``fit``; returns the thread."""
    killed = []

    def watch():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reports = _reports(ready_dir)
            if reports:
                killed.append(reports[0]["pid"])
                os.kill(reports[0]["pid"], signal.SIGKILL)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    thread.killed = killed
    return thread


def _frame(table):
    return table.drop(columns=[c for c in VOLATILE if c in table]).sort_values(["trial_id", "mix"]).reset_index(drop=True)


# -- the interface ----------------------------------------------------------------------------
class _WrongIds(Executor):
    """Returns rows labelled with another trial's id (as a worker on other code would)."""

    name = "wrong-ids"

    def run(self, trials):
        for trial in trials:
            rows = runner.EXECUTORS.create("inline").run([trial])
            _, computed = next(rows)
            yield trial, [{**r, "trial_id": "not-the-planned-id"} for r in computed]


def test_rows_carry_the_trial_id_the_driver_planned(tmp_path):
    trials = _plan()
    store = ResultStore(tmp_path)
    result = runner.run_trials(trials, store, _WrongIds())
    planned = [t.trial_id for t in trials]
    assert sorted(p.stem for p in store.trials_dir.glob("*.parquet")) == sorted(planned)
    for trial_id in planned:
        assert set(store.read_trial(trial_id)["trial_id"]) == {trial_id}
    assert set(result.table["trial_id"]) == set(planned)


def test_executor_options_are_declared_converted_and_checked():
    ex = runner.make_executor("dask", max_in_flight="3", devices="0,1")
    assert ex.max_in_flight == 3 and ex.devices == [0, 1] and ex.scheduler is None
    with pytest.raises(NovelbenchError, match="no option --bogus"):
        runner.make_executor("processes", bogus=1)
    with pytest.raises(NovelbenchError, match="max-in-flight"):
        runner.make_executor("dask", max_in_flight="0")
    assert runner.default_executor(None) == "inline" and runner.default_executor(2) == "processes"
    assert runner.default_executor(None, devices=[0]) == "processes"


# -- placement: GPUs and threads per worker, without a GPU --------------------------------------
def test_devices_map_to_the_drivers_visible_gpus(monkeypatch):
    monkeypatch.setattr(placement, "cuda_device_count", lambda: 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,7,9")  # torch counts only what it can use
    assert placement.visible_gpus() == ["4", "7"]
    assert placement.gpu_ids([1]) == ["7"] and placement.gpu_ids(None) == ["4", "7"]
    with pytest.raises(NovelbenchError, match="GPU 2 is not visible"):
        placement.gpu_ids([2])
    assert placement.gpus_for(None, "cuda") == ["4", "7"] and placement.gpus_for(None, "cuda:1") is None
    assert placement.gpus_for(None, "cpu") is None
    with pytest.raises(NovelbenchError, match="computes on the CPU"):
        placement.gpus_for([0], "cpu")
    envs = placement.worker_environments(3, 2, ["4", "7"])
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["4", "7", "4"]
    assert all(e["OMP_NUM_THREADS"] == "2" for e in envs)


def _as_cuda(trials):
    """Trials asking for plain ``cuda``; the test method has no device parameter, so they still
    compute on the CPU (and keep their ids) while the executor pins workers to GPUs."""
    return [dataclasses.replace(t, device="cuda") for t in trials]


# -- the local process pool -------------------------------------------------------------------
def test_pool_starts_one_worker_per_gpu_each_seeing_only_its_own(tmp_path, monkeypatch):
    """(Killing a pool worker mid-trial is tested in test_trust.py.)"""
    monkeypatch.setattr(placement, "cuda_device_count", lambda: 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,7")
    trials = _as_cuda(_signals(tmp_path, sleep=0.3, classes=("hbar", "ring", "vbar", "diag")))
    result = runner.run_trials(trials, ResultStore(tmp_path / "out"), runner.make_executor("processes"))
    assert result.n_failed == 0
    gpu_of = {}
    for report in _reports(tmp_path):
        gpu_of.setdefault(report["pid"], set()).add(report["env"]["CUDA_VISIBLE_DEVICES"])
        assert report["env"]["OMP_NUM_THREADS"] == "1" and report["torch_threads"] == 1
    assert len(gpu_of) == 2 and sorted(g for gpus in gpu_of.values() for g in gpus) == ["4", "7"]  # one GPU per worker


# -- Dask ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A real LocalCluster with 2 worker processes; a task may lose one worker and be retried once."""
    env = {"NOVELBENCH_CACHE_DIR": str(tmp_path_factory.mktemp("worker-cache"))}
    with dask.config.set({"distributed.scheduler.allowed-failures": 1, NO_MALLOC_TRIM: None}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", env=env)
    yield local
    local.close()


def test_dask_gives_the_rows_of_an_inline_run(tmp_path, cluster):
    trials = _plan(["ocsvm", "ae"], ["ae.epochs=1", "ae.widths=(4,8)", "ae.latent_dim=8", "ae.min_steps=20"])
    inline = runner.run_trials(trials, ResultStore(tmp_path / "inline")).table
    on_dask = runner.run_trials(trials, ResultStore(tmp_path / "dask"), DaskExecutor(scheduler=cluster.scheduler_address))
    assert on_dask.n_ran == len(trials) and on_dask.n_failed == 0
    pd.testing.assert_frame_equal(_frame(on_dask.table), _frame(inline))


def test_dask_resume_never_dispatches_finished_trials(tmp_path, cluster, monkeypatch):
    ready = tmp_path / "ready"
    ready.mkdir()
    trials = _signals(ready, classes=("hbar", "ring", "vbar", "diag"))
    store = ResultStore(tmp_path / "out")
    runner.run_trials(trials[:2], store)  # half finished before
    for path in ready.glob("*.json"):
        path.unlink()

    in_flight, real_submit = [], distributed.Client.submit
    executor = DaskExecutor(scheduler=cluster.scheduler_address, max_in_flight=1)

    def counting_submit(self, *args, **kwargs):
        in_flight.append(len(executor._planned) + 1)
        return real_submit(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "submit", counting_submit)
    result = runner.run_trials(trials, store, executor)
    assert result.n_cached == 2 and result.n_ran == 2 and result.n_failed == 0
    assert len(_reports(ready)) == 2  # only the two unfinished trials were fitted anywhere
    assert in_flight == [1, 1]  # one submitted at a time
    assert len(result.table) == 4 * 3


def test_dask_worker_killed_mid_trial_is_retried(tmp_path, cluster):
    trials = _signals(tmp_path, sleep=3)
    watcher = _kill_first_signaller(tmp_path)
    result = runner.run_trials(trials, ResultStore(tmp_path / "out"), DaskExecutor(scheduler=cluster.scheduler_address))
    watcher.join(1)
    assert watcher.killed and result.n_failed == 0
    attempts = {r["pid"] for r in _reports(tmp_path)}
    assert len(attempts) == 2 and watcher.killed[0] in attempts  # killed once, then ran again elsewhere


def _image_folder(root):
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("test", 4)):
        for cls in ("a", "b"):
            (root / split / cls).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / split / cls / f"{i}.png")


def test_dask_worker_without_the_data_stops_the_run_naming_worker_and_path(tmp_path, cluster):
    _image_folder(tmp_path / "data")
    trials = _plan(classes=("a",), dataset="folder", data_root=str(tmp_path / "data"))
    missing = tmp_path / "not-on-the-workers"
    executor = DaskExecutor(scheduler=cluster.scheduler_address, worker_data_root=str(missing))
    with pytest.raises(NovelbenchError) as error:
        runner.run_trials(trials, ResultStore(tmp_path / "out"), executor)
    message = str(error.value)
    assert "dask worker tcp://" in message and "on host" in message and str(missing / "train") in message
    assert "--worker-data-root" in message


def test_a_worker_on_other_code_refuses_the_trial():
    trial = _plan(classes=("hbar",))[0]
    with pytest.raises(WorkerSetupError, match="other novelbench code"):
        run_on_worker(trial, "0" * 20)
    assert run_on_worker(trial, trial.trial_id)[0]["status"] == "ok"


def test_dask_without_scheduler_starts_a_local_cluster_with_one_worker_per_gpu(tmp_path, monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)  # a nanny started by another test may have set it here
    monkeypatch.setattr(placement, "cuda_device_count", lambda: 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,7")
    trials = _as_cuda(_signals(tmp_path, sleep=0.5, classes=("hbar", "ring", "vbar", "diag")))
    result = runner.run_trials(trials, ResultStore(tmp_path / "out"), DaskExecutor())
    assert result.n_failed == 0
    gpu_of = {}
    for report in _reports(tmp_path):
        gpu_of.setdefault(report["pid"], set()).add(report["env"]["CUDA_VISIBLE_DEVICES"])
        assert report["env"]["MALLOC_TRIM_THRESHOLD_"] is None  # Dask's default for it halves torch's speed
    assert len(gpu_of) == 2 and sorted(g for gpus in gpu_of.values() for g in gpus) == ["4", "7"]


def test_dask_trial_whose_workers_keep_dying_is_a_failed_row(tmp_path, cluster):
    crash = _plan(["example_plugin:CrashOnFit"], classes=("hbar",))
    fine = _plan(classes=("ring",))
    result = runner.run_trials(crash + fine, ResultStore(tmp_path), DaskExecutor(scheduler=cluster.scheduler_address))
    status = result.table.groupby("trial_id")["status"].first()
    assert status[crash[0].trial_id] == "failed" and status[fine[0].trial_id] == "ok"
    error = result.table.loc[result.table["trial_id"] == crash[0].trial_id, "error"].iloc[0]
    assert error.startswith("WorkerDied")
