"""`bench run --config RUNS.toml`: entries run one after the other, resume, keep to their time
budget, and a bad file is one clear line before any work."""

import json

from typer.testing import CliRunner

from novelbench.benchmark.executors.inline import InlineExecutor
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.runner import run_trials
from novelbench.benchmark.store import ResultStore
from novelbench.cli import app

runner = CliRunner()

TWO_ENTRIES = """
[[run]]
name = "one digit"
method = ["ocsvm"]
classes = "0"
out = "{tmp}/a"

[[run]]
method = "ocsvm"
param = ["ocsvm.nu=0.1,0.3"]
classes = [1]
seeds = [0]
out = "{tmp}/b"
"""


def write(tmp_path, text):
    path = tmp_path / "runs.toml"
    path.write_text(text.format(tmp=tmp_path))
    return path


def run_config(path, *flags):
    result = runner.invoke(app, ["run", "--config", str(path), "--dataset", "digits", "--device", "cpu", "--json", *flags])
    return result, (json.loads(result.stdout) if result.exit_code == 0 else None)


def test_entries_run_in_order_and_a_second_invocation_computes_nothing(tmp_path):
    path = write(tmp_path, TWO_ENTRIES)
    result, first = run_config(path, "--seeds", "0,1")  # a flag beside --config applies where an entry does not set it
    assert result.exit_code == 0, result.output
    assert [(r["out"], r["trials"], r["ran"]) for r in first] == [(f"{tmp_path}/a", 2, 2), (f"{tmp_path}/b", 2, 2)]
    assert {r["method"] for r in first[1]["summary"]} == {"ocsvm[nu=0.1]", "ocsvm[nu=0.3]"}
    recorded = json.loads((tmp_path / "a" / "runs.jsonl").read_text().splitlines()[0])["command"]
    assert recorded.startswith("bench run --method ocsvm --classes 0 --out") and "--seeds 0,1" in recorded
    _, again = run_config(path, "--seeds", "0,1")
    assert [(r["ran"], r["cached"]) for r in again] == [(0, 2), (0, 2)]


def test_an_entry_stops_starting_trials_when_its_budget_is_spent(tmp_path):
    path = write(tmp_path, TWO_ENTRIES.replace('seeds = [0]', 'seeds = [0]\nbudget = 0'))
    result, payload = run_config(path)
    assert result.exit_code == 0, result.output
    assert [(r["ran"], r["not_started"]) for r in payload] == [(1, 0), (0, 2)]
    assert "budget of 0 s spent: 2 trial(s) not started" in " ".join(result.stderr.split())


def test_a_budget_keeps_the_finished_trials_and_the_next_run_resumes(tmp_path):
    trials, _ = plan_trials(["ocsvm"], [], "mnist", {"classes": "0,1,2"}, "digits", {}, [0], "cpu", 1)
    store = ResultStore(tmp_path)
    store.prepare()
    executor = InlineExecutor()

    def spend_budget_after_first(trial, rows, cached):
        executor.deadline = 0.0  # the clock has passed it: no further trial starts

    first = run_trials(trials, store, executor, on_trial=spend_budget_after_first, budget=3600)
    assert (first.n_ran, first.n_not_started) == (1, 2)
    rest = run_trials(trials, store, InlineExecutor())
    assert (rest.n_cached, rest.n_ran, rest.n_not_started) == (1, 2, 0)


def test_bad_run_files_are_one_clear_line_before_any_work(tmp_path):
    for bad, message in [
        (TWO_ENTRIES + 'colour = "red"\n', "run 2: unknown key 'colour'; an entry's keys are name and the options of bench run"),
        (TWO_ENTRIES.replace('method = "ocsvm"', 'method = "nope"'), "run 2: unknown method 'nope'"),
        (TWO_ENTRIES.replace("seeds = [0]", 'seeds = [0]\nthreads = "two"'), "run 2: Invalid value for '--threads'"),
        (TWO_ENTRIES.replace("classes = [1]", "classes = [1]\nforce = 1"), "force takes true or false"),
        ("[run]\nmethod = 'ocsvm'\n", "holds no [[run]] tables"),
        ("[[run]\n", "is not valid TOML"),
    ]:
        result, _ = run_config(write(tmp_path, bad))
        assert result.exit_code == 1
        text = " ".join(result.output.split())
        assert text.startswith("error:") and message in text and "Traceback" not in text, text
        assert not (tmp_path / "a").exists()  # the good first entry did not run either


def test_collect_gathers_run_folders_without_recomputing(tmp_path):
    path = write(tmp_path, TWO_ENTRIES)
    run_config(path)
    result = runner.invoke(app, ["collect", str(tmp_path / "a"), str(tmp_path / "b"), "--into", str(tmp_path / "all"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"into": str(tmp_path / "all"), "copied": 3, "trials": 3}
    assert len((tmp_path / "all" / "runs.jsonl").read_text().splitlines()) == 2  # both runs' command lines
    again = runner.invoke(app, ["collect", str(tmp_path / "a"), "--into", str(tmp_path / "all"), "--json"])
    assert json.loads(again.stdout)["copied"] == 0
    # the gathered folder is a run folder like any: running an entry's trials into it computes nothing
    rerun = runner.invoke(app, ["run", "-m", "ocsvm", "--dataset", "digits", "--classes", "0", "--device", "cpu",
                                "--out", str(tmp_path / "all"), "--json"])
    assert json.loads(rerun.stdout)["ran"] == 0
    bad = runner.invoke(app, ["collect", str(tmp_path), "--into", str(tmp_path / "all")])
    assert bad.exit_code == 1 and "is not a run folder" in " ".join(bad.output.split())
