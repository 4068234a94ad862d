"""Numbers you can trust: the same trial gives the same number however it runs, stale results are
never reused and fresh ones never recomputed, and faults fail only the trial they hit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from novelbench.benchmark import runner
from novelbench.benchmark.identity import Trial, clear_code_cache, module_closure
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.store import FILE_MODE, ResultStore
from novelbench.methods import training

VOLATILE = ["timestamp", "fit_seconds", "score_seconds", "run_id"]
SYNTHETIC = {"data_root": None, "download": False, "image_size": None}


def _plan(methods=("ae",), params=("ae.epochs=1", "ae.min_steps=20", "ae.widths=(4,8)", "ae.latent_dim=4"),
          protocol="mnist", protocol_params=None, seeds=(0, 1), **kw):
    return plan_trials(list(methods), list(params), protocol, protocol_params or {"outlier_pcts": [20, 50]}, "synthetic",
                       SYNTHETIC, list(seeds), "cpu", **kw)[0]


def _rows(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in VOLATILE if c in table]).sort_values(["trial_id", "mix"]).reset_index(drop=True)


# -- same trial, same number ---------------------------------------------------------------------
def test_ae_trials_are_identical_inline_and_in_worker_processes(tmp_path):
    """torch on CPU gives other numbers with other thread counts; trials pin theirs, so a serial run,
    a 2-process run and a resume that runs the last trial serially all agree bit for bit."""
    trials = _plan()
    torch.set_num_threads(2)  # the driver's own setting must not leak into trials
    inline = runner.run_trials(trials, ResultStore(tmp_path / "inline")).table
    pool = runner.run_trials(trials, ResultStore(tmp_path / "pool"), runner.make_executor(None, 2)).table
    pd.testing.assert_frame_equal(_rows(inline), _rows(pool))
    assert (inline["threads"] == 1).all()


def test_device_type_precision_and_threads_are_part_of_the_identity():
    trial = _plan(seeds=(0,))[0]
    cuda = _clone(trial, device="cuda")
    assert cuda.runtime() == {"device": "cuda", "precision": "bf16-autocast", "threads": 1}
    assert trial.runtime() == {"device": "cpu", "precision": "fp32", "threads": 1}
    assert cuda.trial_id != trial.trial_id
    assert _clone(trial, threads=2).trial_id != trial.trial_id
    assert _clone(trial, device="cuda:1").trial_id == cuda.trial_id  # which GPU does not change numbers
    ocsvm = _plan(methods=("ocsvm",), params=(), seeds=(0,))[0]  # no device parameter: always a CPU trial
    assert _clone(ocsvm, device="cuda").trial_id == ocsvm.trial_id


def _clone(trial: Trial, **changes) -> Trial:
    fields = {f: getattr(trial, f) for f in trial.__dataclass_fields__}
    return Trial(**{**fields, **changes})


def test_scores_are_computed_in_float32_without_autocast(monkeypatch):
    def no_autocast(device):
        raise AssertionError("inference must not run under autocast")

    monkeypatch.setattr(training, "autocast", no_autocast)
    net = torch.nn.Conv2d(1, 1, 3, padding=1)
    out = training.apply_batched(net, torch.rand(5, 1, 8, 8, dtype=torch.float64), 2, torch.device("cpu"))
    assert out.dtype == torch.float32 and out.shape == (5, 1, 8, 8)


# -- stale results never reused, fresh ones never recomputed -----------------------------------
PLUGIN_BASE = '''
from novelbench.methods.base import Detector

class Base(Detector):
    def fit(self, images):
        self.mean_ = images.mean(0)
        return self
'''
PLUGIN_HELPER = "def distance(a, b):\n    return (a - b).pow(2).flatten(1).mean(1).numpy()\n"
PLUGIN_METHOD = '''
from fp_pkg.base import Base
from fp_pkg.helper import distance

class Method(Base):
    name = "fp-method"
    def score(self, images):
        return distance(images, self.mean_)
'''


def test_editing_a_base_class_or_an_imported_helper_changes_the_trial_id(tmp_path, monkeypatch):
    pkg = tmp_path / "fp_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "base.py").write_text(PLUGIN_BASE)
    (pkg / "helper.py").write_text(PLUGIN_HELPER)
    (pkg / "method.py").write_text(PLUGIN_METHOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    trial = _plan(methods=("fp_pkg.method:Method",), params=(), seeds=(0,))[0]
    assert {"fp_pkg.method", "fp_pkg.base", "fp_pkg.helper", "novelbench.methods.base",
            "novelbench.benchmark.execution", "novelbench.benchmark.metrics"} <= set(module_closure(trial.code_roots()))
    ids = [trial.trial_id]
    for edit in (pkg / "helper.py", pkg / "base.py"):
        edit.write_text(edit.read_text() + "\n# an edit\n")
        clear_code_cache()
        ids.append(_clone(trial).trial_id)
    clear_code_cache()
    assert len(set(ids)) == 3


def test_fingerprint_covers_the_preset_its_class_the_protocol_loader_and_trial_code():
    plus = _plan(methods=("crbnd-plus",), params=(), seeds=(0,), protocol="caltech",
                 protocol_params={"n_classes": [1], "repeats": 1, "max_per_class": 20})[0]
    closure = set(module_closure(plus.code_roots()))
    assert {"novelbench.methods.crbnd_plus", "novelbench.methods.crbnd", "novelbench.methods.nets",
            "novelbench.benchmark.protocols.caltech", "novelbench.datasets.synthetic", "novelbench.benchmark.execution",
            "novelbench.benchmark.rows", "novelbench.benchmark.metrics"} <= closure
    crbnd = _plan(methods=("crbnd",), params=(), seeds=(0,))[0]
    assert "novelbench.methods.crbnd" in module_closure(crbnd.code_roots())
    assert "novelbench.methods.crbnd_plus" not in module_closure(crbnd.code_roots())  # other presets don't matter
    assert "novelbench.methods.ae" not in module_closure(crbnd.code_roots())  # no method imports another


def test_selection_options_are_not_part_of_the_identity_so_extending_a_run_reuses_it(tmp_path):
    store = ResultStore(tmp_path)
    caltech = {"n_classes": [1], "repeats": 1, "max_per_class": 20}
    small = _plan(methods=("ocsvm",), params=(), protocol="caltech", protocol_params=caltech, seeds=(0,))
    runner.run_trials(small, store)
    bigger = _plan(methods=("ocsvm",), params=(), protocol="caltech", seeds=(0,),
                   protocol_params={**caltech, "repeats": 3, "n_classes": [1, 2]})
    result = runner.run_trials(bigger, store)
    assert result.n_cached == 1 and result.n_ran == 5
    mnist = _plan(methods=("ocsvm",), params=(), protocol_params={"classes": ["hbar"]}, seeds=(0,))
    runner.run_trials(mnist, store)
    more = runner.run_trials(_plan(methods=("ocsvm",), params=(), protocol_params={"classes": ["hbar", "ring"]}, seeds=(0,)), store)
    assert more.n_cached == 1 and more.n_ran == 1
    # an option that decides numbers is part of it
    other = _plan(methods=("ocsvm",), params=(), protocol="caltech", seeds=(0,), protocol_params={**caltech, "max_per_class": 10})
    assert other[0].trial_id != small[0].trial_id


# -- faults -------------------------------------------------------------------------------------
def test_a_dead_worker_fails_only_its_own_trial(tmp_path):
    trials = _plan(methods=("example_plugin:CrashOnFit", "ocsvm"), params=(), seeds=(0,))
    result = runner.run_trials(trials, ResultStore(tmp_path), runner.make_executor(None, 2))
    by_method = result.table.groupby("method_name")["status"].agg(set)
    assert by_method["example_plugin:CrashOnFit"] == {"failed"} and by_method["ocsvm"] == {"ok"}
    assert result.table.loc[result.table["status"] == "failed", "error"].str.contains("WorkerDied").all()
    assert result.n_failed == 4 and result.n_ran == 8


def test_a_worker_killed_from_outside_fails_only_its_trial(tmp_path, monkeypatch):
    monkeypatch.setenv("NB_TEST_PID_DIR", str(tmp_path))
    sleepy = _plan(methods=("example_plugin:SleepInFit",), params=(), protocol_params={"classes": ["hbar"]}, seeds=(0,))
    quick = _plan(methods=("ocsvm",), params=(), seeds=(0,))
    import threading

    def kill_the_sleeper():
        deadline = time.time() + 60
        while time.time() < deadline:
            pids = [p for p in tmp_path.iterdir() if p.name.isdigit()]
            if pids:
                os.kill(int(pids[0].name), signal.SIGKILL)
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_the_sleeper)
    killer.start()
    result = runner.run_trials(sleepy + quick, ResultStore(tmp_path / "out"), runner.make_executor(None, 2))
    killer.join()
    failed = result.table[result.table["status"] == "failed"]
    assert failed["method_name"].tolist() == ["example_plugin:SleepInFit"]
    assert "SIGKILL" in failed["error"].iloc[0]
    assert (result.table.loc[result.table["method_name"] == "ocsvm", "status"] == "ok").all()


DRIVER = '''
import sys
from novelbench.benchmark import runner
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.store import ResultStore
trials = plan_trials(["example_plugin:SleepInFit"], [], "mnist", {{}}, "synthetic",
                     {{"data_root": None, "download": False, "image_size": None}}, [0], "cpu")[0][:2]
runner.run_trials(trials, ResultStore(sys.argv[1]), runner.make_executor(None, 2))
'''


def test_killing_the_driver_leaves_no_worker_running(tmp_path):
    env = {**os.environ, "NB_TEST_PID_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    driver = subprocess.Popen([sys.executable, "-c", DRIVER.format(), str(tmp_path / "out")], env=env, cwd=tmp_path)
    deadline = time.time() + 90
    while len([p for p in tmp_path.iterdir() if p.name.isdigit()]) < 2 and time.time() < deadline:
        time.sleep(0.2)
    workers = [int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()]
    assert len(workers) == 2, "both workers should have started their trial"
    driver.kill()
    driver.wait()
    deadline = time.time() + 15
    alive = workers
    while alive and time.time() < deadline:
        alive = [pid for pid in workers if _alive(pid)]
        time.sleep(0.2)
    assert not alive, f"worker processes {alive} outlived the driver"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return True


def test_a_truncated_trial_file_is_moved_aside_and_recomputed(tmp_path):
    trials = _plan(methods=("ocsvm",), params=(), seeds=(0,))[:2]
    warnings = []
    store = ResultStore(tmp_path, on_warning=warnings.append)
    runner.run_trials(trials, store)
    path = tmp_path / "trials" / f"{trials[0].trial_id}.parquet"
    path.write_bytes(path.read_bytes()[:100])  # truncated
    (tmp_path / "trials" / f"{trials[1].trial_id}.parquet").write_bytes(b"")  # empty
    result = runner.run_trials(trials, store)
    assert result.n_ran == 2 and result.n_failed == 0
    assert len(list((tmp_path / "trials" / "corrupt").iterdir())) == 2
    assert any("unreadable trial file" in w for w in warnings)


def test_runs_of_different_methods_into_one_folder_keep_every_trial(tmp_path):
    store = ResultStore(tmp_path)
    runner.run_trials(_plan(methods=("ocsvm",), params=(), seeds=(0,)), store)
    runner.run_trials(_plan(methods=("example_plugin:NaNOnValidation",), params=(), seeds=(0,), protocol_params={"val_share": 0.0}), store)
    folder = pd.read_parquet(tmp_path / "results.parquet")
    assert set(folder["method"]) == {"ocsvm", "example_plugin:NaNOnValidation"}
    assert folder["trial_id"].nunique() == 8


def test_sys_exit_in_a_plugin_is_a_failed_trial_with_a_reason(tmp_path):
    trials = _plan(methods=("example_plugin:ExitInFit",), params=(), seeds=(0,))[:2]
    for executor in (None, runner.make_executor(None, 2)):
        result = runner.run_trials(trials, ResultStore(tmp_path / str(executor)), executor, force=True)
        assert result.n_failed == 2
        assert result.table["error"].str.contains("called sys.exit").all()


def test_nan_validation_scores_fail_the_trial(tmp_path):
    trials = _plan(methods=("example_plugin:NaNOnValidation",), params=(), seeds=(0,))[:1]
    result = runner.run_trials(trials, ResultStore(tmp_path))
    assert result.n_failed == 1
    assert "validation scores hold" in result.table["error"].iloc[0]


def test_result_files_follow_the_umask(tmp_path):
    runner.run_trials(_plan(methods=("ocsvm",), params=(), seeds=(0,))[:1], ResultStore(tmp_path))
    for path in [tmp_path / "results.parquet", tmp_path / "results.csv", *(tmp_path / "trials").glob("*.parquet")]:
        assert path.stat().st_mode & 0o777 == FILE_MODE
    assert FILE_MODE == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_resumed_multi_process_run_equals_an_uninterrupted_one(tmp_path):
    trials = _plan(methods=("ocsvm",), params=("ocsvm.nu=0.1,0.3",))
    full = runner.run_trials(trials, ResultStore(tmp_path / "full")).table  # inline: the same numbers (tested above)
    store = ResultStore(tmp_path / "resumed")
    runner.run_trials(trials[:5], store, runner.make_executor(None, 2))  # as if stopped after 5 trials
    (tmp_path / "resumed" / "trials" / f"{trials[2].trial_id}.parquet").unlink()  # and one lost in flight
    result = runner.run_trials(trials, store, runner.make_executor(None, 2))
    assert result.n_cached == 4 and result.n_ran == len(trials) - 4
    pd.testing.assert_frame_equal(_rows(result.table), _rows(full))
