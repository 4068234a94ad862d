"""Store and runner: resume yields exactly the rows of an uninterrupted run, without recomputing."""

import pandas as pd
import pytest

from novelbench.benchmark import runner
from novelbench.benchmark.executors import inline
from novelbench.benchmark.plan import parse_param_overrides, plan_trials, setting_label
from novelbench.benchmark.store import ResultStore
from novelbench.errors import NovelbenchError

VOLATILE = ["timestamp", "fit_seconds", "score_seconds"]


class Killed(BaseException):
    """Stands in for the process being killed (Ctrl-C, SIGTERM) mid-trial."""


def _plan(**overrides):
    kw = dict(methods=["ocsvm"], param_specs=["ocsvm.nu=0.1,0.3"], protocol="mnist",
              protocol_params={"outlier_pcts": [10, 50]}, dataset="synthetic",
              dataset_params={"data_root": None, "download": False, "image_size": None}, seeds=[0, 1], device="cpu")
    kw.update(overrides)
    return plan_trials(**kw)[0]


def test_plan_expands_grid_and_labels_settings():
    trials = _plan()
    assert len(trials) == 2 * 4 * 2  # nu values x positive classes x seeds
    assert {t.label for t in trials} == {"ocsvm[nu=0.1]", "ocsvm[nu=0.3]"}
    assert len({t.trial_id for t in trials}) == len(trials)
    assert _plan()[0].trial_id == trials[0].trial_id  # ids are stable


def test_param_values_parse_with_brackets():
    grid = parse_param_overrides(["ae.widths=(8,16),(16,32)", "ae.latent_dim=none"], ["ae"])
    assert grid == {"ae": {"widths": [(8, 16), (16, 32)], "latent_dim": [None]}}
    assert setting_label("ae", {"widths": (8, 16)}) == "ae[widths=(8,16)]"


def test_a_string_option_named_none_is_the_string_not_none():
    """`alocc.weight_average=none` names the option "none" (None is not allowed there); a
    parameter that takes None still gets None, and a bad word is still one clear error."""
    grid = parse_param_overrides(["alocc.weight_average=none,ema"], ["alocc"])
    assert grid == {"alocc": {"weight_average": ["none", "ema"]}}
    assert parse_param_overrides(["ae.latent_dim=none"], ["ae"])["ae"]["latent_dim"] == [None]
    with pytest.raises(NovelbenchError, match="weight_average"):
        parse_param_overrides(["alocc.weight_average=true"], ["alocc"])


def test_resume_after_interruption_gives_exactly_the_uninterrupted_rows(tmp_path, monkeypatch):
    trials = _plan()
    full = runner.run_trials(trials, ResultStore(tmp_path / "full")).table

    calls, kill_at = [], [5]
    real_run_trial = inline.run_recorded

    def counting(trial):
        calls.append(trial.trial_id)
        if len(calls) == kill_at[0]:
            raise Killed  # killed while the 5th trial runs
        return real_run_trial(trial)

    monkeypatch.setattr(inline, "run_recorded", counting)
    store = ResultStore(tmp_path / "resumed")
    with pytest.raises(Killed):
        runner.run_trials(trials, store)
    assert len(list(store.trials_dir.glob("*.parquet"))) == 4
    mtimes = {p.name: p.stat().st_mtime_ns for p in store.trials_dir.glob("*.parquet")}

    calls.clear()
    kill_at[0] = None
    result = runner.run_trials(trials, store)
    assert result.n_cached == 4 and result.n_ran == len(trials) - 4
    assert len(calls) == len(trials) - 4
    assert not set(calls) & {p.removesuffix(".parquet") for p in mtimes}  # finished trials not recomputed
    assert {p.name: p.stat().st_mtime_ns for p in store.trials_dir.glob("*.parquet") if p.name in mtimes} == mtimes
    pd.testing.assert_frame_equal(result.table.drop(columns=VOLATILE), full.drop(columns=VOLATILE))
    assert not list(store.trials_dir.glob("*.tmp"))


def test_failed_trials_are_recorded_and_retried(tmp_path, monkeypatch):
    trials = _plan(param_specs=[], seeds=[0])[:2]
    store = ResultStore(tmp_path)

    def boom(self, images):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("novelbench.methods.ocsvm.OCSVM.fit", boom)
    result = runner.run_trials(trials, store)
    assert result.n_failed == 2
    assert (result.table["status"] == "failed").all()
    assert result.table["error"].str.contains("out of memory").all()
    monkeypatch.undo()
    again = runner.run_trials(trials, store)
    assert again.n_cached == 0 and again.n_failed == 0
    assert (again.table["status"] == "ok").all()


def test_force_recomputes(tmp_path):
    trials = _plan(param_specs=[], seeds=[0])[:1]
    store = ResultStore(tmp_path)
    runner.run_trials(trials, store)
    assert runner.run_trials(trials, store).n_cached == 1
    assert runner.run_trials(trials, store, force=True).n_ran == 1


def test_rows_are_tidy(tmp_path):
    table = runner.run_trials(_plan(param_specs=[], seeds=[0]), ResultStore(tmp_path)).table
    expected = {"run_id", "trial_id", "protocol", "dataset", "method", "positives", "seed", "outlier_pct", "n_train",
                "n_test", "n_outliers", "auroc", "aupr", "f1_quantile", "f1_validation", "f1_oracle", "f1_native",
                "f1_trivial", "fit_seconds", "score_seconds", "device", "status", "error", "versions", "timestamp"}
    assert expected <= set(table.columns)
    assert sorted(table["mix"].unique()) == ["p10", "p50", "pool"]
    assert (tmp_path / "results.csv").exists()
    assert len(pd.read_csv(tmp_path / "results.csv")) == len(table)
