"""Bad input, broken outputs, interruptions and dying workers: one clear line (or the right
behaviour), never a traceback, a silent surprise or a stale number."""

import errno
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from novelbench import cli
from novelbench.benchmark import runner as runner_mod
from novelbench.benchmark.executors import inline
from novelbench.benchmark.executors.dask import DaskExecutor
from novelbench.benchmark.executors.inline import InlineExecutor
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.store import ResultStore
from novelbench.datasets.folder import ImageFolder
from novelbench.errors import NovelbenchError

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SYNTH = ["-m", "ocsvm", "--dataset", "synthetic", "--classes", "hbar", "--outlier-pcts", "50"]


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


def one_line(result, message):
    """The command failed with exactly one stderr line holding ``message`` (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    result = invoke("run", *SYNTH, "--out", out)
    assert result.exit_code == 0, result.output
    return out


# -- wrong numbers ------------------------------------------------------------------------------
def _folder_data(root: Path, shade: dict[str, int]):
    """A two-class folder dataset of 8x8 .ppm images (uncompressed: equal byte size whatever the pixels)."""
    for split in ("train", "test"):
        for name, value in shade.items():
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(3):
                Image.new("L", (8, 8), color=value + i).save(root / split / name / f"{i}.ppm")


def test_decode_cache_follows_the_files_content_not_their_size(tmp_path):
    root = tmp_path / "data"
    _folder_data(root, {"a": 10, "b": 200})
    before = ImageFolder(root, image_size=8).load().splits["test"].images
    size = (root / "test" / "a" / "0.ppm").stat().st_size
    replacement = tmp_path / "new.ppm"  # same size, other pixels, a new file in the same place
    Image.new("L", (8, 8), color=123).save(replacement)
    assert replacement.stat().st_size == size
    os.replace(replacement, root / "test" / "a" / "0.ppm")
    after = ImageFolder(root, image_size=8).load().splits["test"].images
    assert int(before[0].float().mean()) == 10 and int(after[0].float().mean()) == 123
    assert ImageFolder(root, image_size=8).load().splits["test"].images.equal(after)  # the cache still serves


# -- crashes ------------------------------------------------------------------------------------
def test_a_worker_dying_while_the_local_cluster_starts_is_replaced(tmp_path, monkeypatch):
    real, calls = DaskExecutor._local_cluster, []

    def flaky(distributed, envs):
        calls.append(len(envs))
        if len(calls) == 1:
            raise RuntimeError("PinnedNanny failed to start")
        return real(distributed, envs)

    monkeypatch.setattr(DaskExecutor, "_local_cluster", staticmethod(flaky))
    notes = []
    trials = plan_trials(["ocsvm"], [], "mnist", {"classes": ["hbar"], "outlier_pcts": [50]}, "synthetic", {}, [0], "cpu")[0]
    result = runner_mod.run_trials(trials, ResultStore(tmp_path), DaskExecutor(jobs=1, note=notes.append))
    assert result.n_failed == 0 and len(calls) == 2
    assert any("starting it again" in n for n in notes)


def test_a_local_cluster_that_never_starts_is_one_clear_error(monkeypatch):
    def broken(distributed, envs):
        raise RuntimeError("PinnedNanny failed to start")

    monkeypatch.setattr(DaskExecutor, "_local_cluster", staticmethod(broken))
    trials = plan_trials(["ocsvm"], [], "mnist", {"classes": ["hbar"], "outlier_pcts": [50]}, "synthetic", {}, [0], "cpu")[0]
    with pytest.raises(NovelbenchError, match="failed to start 3 times"):
        list(DaskExecutor(jobs=1).run(trials))


# -- one line instead of a traceback ------------------------------------------------------------
@pytest.mark.parametrize("command", [
    ["table", "{run}", "--out", "{file}/t.md"],
    ["figure", "{run}", "--out", "{file}/fig"],
    ["report", "{run}", "--out", "{file}/r.html"],
    ["compare", "{run}", "--figure", "{file}/cd"],
    ["samples", *SYNTH[:-2], "--out", "{file}/s"],
])
def test_output_paths_that_cannot_be_written_fail_before_any_work(command, run_dir, tmp_path):
    (tmp_path / "afile").write_text("x")
    args = [a.format(run=run_dir, file=tmp_path / "afile") for a in command]
    result = invoke(*args)
    assert result.exit_code == 1
    one_line(result, "is a file, not a folder")


@pytest.mark.parametrize("command", [
    ["figure", "{run}", "--out", "{long}/fig"],
    ["report", "{run}", "--out", "{long}/r.md"],
    ["page", "{spec}", "--out", "{long}/p.md"],
    ["summary", "{long}"],
])
def test_a_path_the_system_refuses_is_one_line_naming_it(command, run_dir, tmp_path):
    """What the checks before work cannot foresee (here a name longer than the file system allows)
    still ends as one line with the path and the system's reason, not a traceback."""
    spec = tmp_path / "page.toml"
    spec.write_text('[[block]]\nkind = "prose"\ntext = "x"\n')
    long = tmp_path / ("a" * 300)
    result = invoke(*[a.format(run=run_dir, spec=spec, long=long) for a in command])
    assert result.exit_code == 1
    one_line(result, "File name too long")


def test_a_run_file_that_is_not_utf8_is_one_line(tmp_path):
    (tmp_path / "runs.toml").write_bytes(b"\xff\xfe[[run]]\n")
    result = invoke("run", "--config", tmp_path / "runs.toml")
    assert result.exit_code == 1
    one_line(result, "runs.toml is not UTF-8 text")


def test_collect_into_a_file_names_the_into_option(run_dir, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = invoke("collect", run_dir, "--into", tmp_path / "afile")
    assert result.exit_code == 1
    one_line(result, "--into")


def test_report_table_to_an_existing_folder_is_one_line(run_dir, tmp_path):
    for command in (["table", run_dir, "--out", tmp_path], ["report", run_dir, "--out", tmp_path / "x.txt"]):
        result = invoke(*command)
        assert result.exit_code == 1 and "Traceback" not in result.output
    one_line(invoke("table", run_dir, "--out", tmp_path), "is an existing folder")
    one_line(invoke("report", run_dir, "--out", tmp_path / "x.txt"), "use .html or .md")


def test_samples_with_a_failing_method_or_a_truncated_model_is_one_line(tmp_path):
    failing = invoke("samples", "-m", "example_plugin:ExitInFit", "--dataset", "synthetic", "--classes", "hbar", "--out", tmp_path / "s")
    assert failing.exit_code == 1
    assert "training example_plugin:ExitInFit | hbar | seed 0 failed: SystemExit" in failing.stderr
    assert "Traceback" not in failing.output
    assert invoke("run", *SYNTH, "--keep-models", "--out", tmp_path / "run").exit_code == 0
    model = next((tmp_path / "run" / "models").glob("*.pt"))
    model.write_bytes(model.read_bytes()[:100])
    truncated = invoke("samples", *SYNTH, "--models", tmp_path / "run", "--out", tmp_path / "s")
    assert truncated.exit_code == 1
    assert f"{model} is not a readable saved model" in truncated.stderr and "Traceback" not in truncated.output


def test_a_full_disk_is_one_line_naming_the_path_and_finished_trials_stay(tmp_path, monkeypatch):
    real, writes = pd.DataFrame.to_parquet, []

    def to_parquet(self, path, *args, **kwargs):
        writes.append(path)
        if len(writes) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)
    result = invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "hbar,ring", "--outlier-pcts", "50", "--out", tmp_path)
    assert result.exit_code == 1
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "the disk is full" in error[0] and "MiB free there" in error[0] and str(tmp_path / "trials") in error[0]
    assert "Traceback" not in result.output
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    store = ResultStore(tmp_path)
    finished = [p.stem for p in (tmp_path / "trials").glob("*.parquet")]
    assert len(finished) == 1 and store.is_finished(finished[0])  # the trial done before stays readable
    assert not list((tmp_path / "trials").glob(".*.tmp"))


def test_a_scheduler_file_that_is_not_json_is_one_line_before_work(tmp_path):
    (tmp_path / "sched.txt").write_text("not json")
    result = invoke("run", *SYNTH, "--executor", "dask", "--scheduler", tmp_path / "sched.txt", "--out", tmp_path / "out")
    assert result.exit_code == 1
    one_line(result, "is a file but not a Dask scheduler file")
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_fails_at_once_before_work(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    result = invoke("run", *SYNTH, "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", "--out", tmp_path / "out")
    assert result.exit_code == 1 and time.monotonic() - started < 20
    one_line(result, f"cannot reach the dask scheduler at tcp://127.0.0.1:{port}")
    assert not (tmp_path / "out").exists()


def test_os_exit_in_an_inline_plugin_fails_only_its_trial_and_says_so(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    done = subprocess.run([sys.executable, "-m", "novelbench", "run", "-m", "example_plugin:CrashOnFit", "-m", "ocsvm",
                           "--dataset", "synthetic", "--classes", "hbar", "--outlier-pcts", "50", "--executor", "inline",
                           "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "called os._exit(1) inside the trial" in done.stderr
    table = pd.read_parquet(tmp_path / "results.parquet")
    assert sorted(table.groupby("method")["status"].first().tolist()) == ["failed", "ok"]  # the run went on


def test_ctrl_c_at_start_up_or_in_report_is_exit_130_and_one_line(run_dir, tmp_path, monkeypatch):
    from novelbench.benchmark import plan, report_page

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plan, "plan_trials", interrupt)  # bench run imports it when it plans
    started = invoke("run", *SYNTH, "--out", tmp_path / "out")
    assert started.exit_code == 130
    one_line(started, "interrupted")
    monkeypatch.setattr(report_page, "build", interrupt)
    reporting = invoke("report", run_dir, "--out", tmp_path / "r.html")
    assert reporting.exit_code == 130
    one_line(reporting, "interrupted")


def test_ctrl_c_during_a_run_brings_the_results_table_up_to_date(tmp_path, monkeypatch):
    real, calls = inline.run_recorded, []

    def second_interrupted(trial):
        calls.append(trial)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(trial)

    monkeypatch.setattr(inline, "run_recorded", second_interrupted)
    result = invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "hbar,ring", "--outlier-pcts", "50", "--out", tmp_path)
    assert result.exit_code == 130
    assert "results.parquet is up to date" in result.stderr
    table = pd.read_parquet(tmp_path / "results.parquet")
    assert table["trial_id"].nunique() == 1 and calls[0].trial_id in set(table["trial_id"])


def test_a_file_named_trials_corrupt_is_one_line(tmp_path):
    (tmp_path / "trials").mkdir()
    (tmp_path / "trials" / "corrupt").write_text("x")
    (tmp_path / "trials" / "0123.parquet").write_text("junk")
    result = invoke("run", *SYNTH, "--out", tmp_path)
    assert result.exit_code == 1
    one_line(result, "trials/corrupt is a file")
    store = ResultStore(tmp_path)
    with pytest.raises(NovelbenchError, match="could not be moved"):
        store.is_finished("0123")


# -- checked before any work --------------------------------------------------------------------
def test_a_one_class_folder_dataset_is_one_error_before_work(tmp_path):
    root = tmp_path / "data"
    _folder_data(root, {"only": 50})
    result = invoke("run", "-m", "ocsvm", "--dataset", "folder", "--data-root", root, "--image-size", "8", "--out", tmp_path / "out")
    assert result.exit_code == 1
    one_line(result, "outliers but only 0 are available")
    assert not (tmp_path / "out").exists()


# -- no silent surprises ------------------------------------------------------------------------
def test_an_empty_out_is_refused_not_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in (["run", *SYNTH], ["figure", tmp_path], ["table", tmp_path], ["report", tmp_path]):
        result = invoke(*command, "--out", "")
        assert result.exit_code == 2 and "is empty" in result.output, command
    assert list(tmp_path.iterdir()) == []


def test_figure_into_an_existing_folder_writes_inside_it(run_dir, tmp_path):
    result = invoke("figure", run_dir, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "figure3.png").exists() and (tmp_path / "figure3.pdf").exists()
    assert not tmp_path.with_suffix(".png").exists()


def test_report_with_a_mix_the_runs_lack_fails_like_compare(run_dir, tmp_path):
    for command in (["compare", run_dir], ["report", run_dir, "--out", tmp_path / "r.html"]):
        result = invoke(*command, "--mix", "p99")
        assert result.exit_code == 1, command
        assert "'p99'" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_summary_of_several_protocols_names_each_rows_protocol(tmp_path):
    assert invoke("run", *SYNTH, "--out", tmp_path).exit_code == 0
    assert invoke("run", "-m", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--n-classes", "1",
                  "--repeats", "1", "--max-per-class", "30", "--out", tmp_path).exit_code == 0
    shown = invoke("summary", tmp_path)
    assert shown.exit_code == 0, shown.output
    assert "protocol/dataset" in shown.stdout and "mnist/synthetic" in shown.stdout and "caltech/synthetic" in shown.stdout


def test_progress_names_the_trials_running_now(monkeypatch):
    trials = plan_trials(["ocsvm"], [], "mnist", {"classes": ["hbar", "ring"], "outlier_pcts": [50]}, "synthetic", {}, [0], "cpu")[0]
    executor, seen = InlineExecutor(), []
    monkeypatch.setattr(inline, "run_recorded", lambda trial: seen.append(executor.running()) or [{"status": "ok"}])
    assert [t for t, _ in executor.run(trials)] == trials
    assert seen == [[trials[0]], [trials[1]]] and executor.running() == []
    assert cli.running_label(trials) == f"running {trials[0].describe()} (+1 more)"


def test_a_long_error_line_stays_one_line_when_piped(tmp_path):
    result = invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "a_class_name_long_enough_to_pass_eighty_columns",
                    "--out", tmp_path / "out")
    assert result.exit_code == 1
    one_line(result, "unknown class 'a_class_name_long_enough_to_pass_eighty_columns'; classes are hbar")


def test_usage_errors_exit_2_as_the_readme_says():
    result = invoke("run", "--bogus")
    assert result.exit_code == 2
    readme = " ".join((ROOT / "README.md").read_text().lower().split())
    assert "usage errors" in readme and "exit code 2" in readme


@pytest.mark.parametrize("args, taken", [(["run", *SYNTH, "--param", "--seeds", "0"], "--seeds"),
                                         (["samples", "-m", "ocsvm", "-p", "--seeds", "0"], "--seeds"),
                                         (["verify", "x.csv", "--protocol-option", "--dry-run"], "--dry-run")])
def test_an_assignment_option_given_no_value_names_the_option_it_took_instead(args, taken):
    # without the check the parser takes "--seeds" as --param's value and fails on "0" as an extra argument
    result = invoke(*args)
    assert result.exit_code == 2
    message = " ".join(result.stderr.replace("│", " ").split())  # rich boxes the usage error
    assert f"got '{taken}', which is the next option, not a NAME=VALUE" in message, message


def test_collect_of_folders_with_no_readable_trial_fails(tmp_path):
    (tmp_path / "run" / "trials").mkdir(parents=True)
    (tmp_path / "run" / "trials" / "0123.parquet").write_text("junk")
    result = invoke("collect", tmp_path / "run", "--into", tmp_path / "all")
    assert result.exit_code == 1
    assert "no readable finished trial in" in " ".join(result.stderr.split()) and "Traceback" not in result.output
