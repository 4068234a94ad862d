"""The `bench` CLI through typer's CliRunner, good input and bad."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from novelbench.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_run_writes_tables_and_summary(tmp_path):
    result = invoke("run", "--method", "ocsvm", "--protocol", "mnist", "--dataset", "synthetic",
                    "--classes", "0,ring", "--seeds", "0,1", "--outlier-pcts", "10,20", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["trials"] == 4 and payload["ran"] == 4 and payload["failed"] == 0
    mixes = {(r["mix"], r["n"]) for r in payload["summary"]}
    assert mixes == {("p10", 4), ("p20", 4), ("pool", 4)}
    assert (tmp_path / "results.parquet").exists() and (tmp_path / "results.csv").exists()
    again = json.loads(invoke("run", "--method", "ocsvm", "--protocol", "mnist", "--dataset", "synthetic", "--classes",
                              "0,ring", "--seeds", "0,1", "--outlier-pcts", "10,20", "--out", tmp_path, "--json").stdout)
    assert again["cached"] == 4 and again["ran"] == 0


def test_several_methods_and_param_grid(tmp_path):
    result = invoke("run", "-m", "ocsvm", "-m", "ae", "--dataset", "synthetic", "--classes", "hbar", "--outlier-pcts", "50",
                    "--param", "ocsvm.nu=0.05,0.2", "--param", "ae.epochs=1", "--param", "ae.widths=(4,8)",
                    "--device", "cpu", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    methods = {r["method"] for r in json.loads(result.stdout)["summary"]}
    assert methods == {"ocsvm[nu=0.05]", "ocsvm[nu=0.2]", "ae[epochs=1,widths=(4,8)]"}


def test_caltech_protocol_on_synthetic(tmp_path):
    result = invoke("run", "-m", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--n-classes", "1,2",
                    "--repeats", "2", "--max-per-class", "30", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["summary"]
    assert {(r["group"], r["mix"]) for r in rows} == {("n=1", "p50"), ("n=2", "p50")}
    assert all(abs(r["outlier_pct"] - 50) < 1e-9 for r in rows)


def test_table_output_for_people(tmp_path):
    result = invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "0", "--param", "ocsvm.nu=0.2", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "AUROC" in result.stdout and "p50" in result.stdout
    assert "ocsvm[nu=0.2]" in result.stdout  # labels are not eaten as rich markup
    shown = invoke("summary", tmp_path)
    assert shown.exit_code == 0 and "ocsvm" in shown.stdout


def test_list_shows_methods_params_protocols_datasets():
    result = invoke("list", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert {"ocsvm", "ae"} <= set(info["methods"])
    assert info["methods"]["ocsvm"]["params"]["nu"] == "0.1"
    assert {"mnist", "caltech", "mnist-transductive"} <= set(info["protocols"])
    assert {"mnist", "fashion-mnist", "digits", "caltech256", "caltech101", "folder", "synthetic"} <= set(info["datasets"])


def test_list_shows_a_family_member_that_cannot_be_imported_as_unavailable(monkeypatch):
    """A pyod detector whose own dependency is missing is listed with the reason, not offered."""
    from novelbench.errors import NovelbenchError
    from novelbench.methods.ocsvm import OCSVM
    from novelbench.registry import METHODS, Plugin

    def resolve(name):
        if name == "Broken":
            raise NovelbenchError("fake:Broken cannot be imported: ModuleNotFoundError: No module named 'combo'")
        return Plugin(f"fake:{name}", OCSVM)

    METHODS.families()  # loaded before the fake family is added
    monkeypatch.setitem(METHODS._families, "fake", (resolve, lambda: ["Broken", "Good"]))
    result = invoke("list")
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())
    assert "fake:<NAME>" in shown and "one of: Good" in shown and "Broken, Good" not in shown
    assert "fake:Broken" in shown and "No module named 'combo'" in shown


def test_list_shows_executors_with_the_options_they_declare():
    info = json.loads(invoke("list", "--json").stdout)
    executors = info["executors"]
    assert {"inline", "processes", "dask"} <= set(executors)
    assert {"--scheduler", "--max-in-flight", "--worker-data-root", "--devices"} <= set(executors["dask"]["options"])
    assert set(executors["processes"]["options"]) == {"--devices"} and executors["inline"]["options"] == {}
    shown = " ".join(invoke("list").stdout.split())
    assert "executors" in shown and "--max-in-flight=auto" in shown


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "nope", "--dataset", "synthetic"], "unknown method 'nope'"),
        (["--method", "ocsvm", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["--method", "ocsvm", "--protocol", "nope"], "unknown protocol 'nope'"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--outlier-pcts", "0"], "in the range (0.0, 100.0)"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--outlier-pcts", "100"], "in the range (0.0, 100.0)"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--outlier-pcts", "ten"], "comma list of numbers"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--classes", "zebra"], "unknown class 'zebra'"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--param", "ocsvm.bogus=1"], "no parameter 'bogus'"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--param", "ae.epochs=1"], "not among --method"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--device", "tpu"], "unknown device"),
        (["--method", "ocsvm", "--protocol", "caltech", "--dataset", "digits"], "needs a dataset with a clutter class"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--image-size", "0"], "--image-size must be a positive number"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--image-size", "-3"], "--image-size must be a positive number"),
        (["--method", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--val-share", "-0.5"], "'--val-share' option must be a float in the range [0.0, 1.0)"),
        (["--method", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--val-share", "1.5"], "'--val-share' option must be a float in the range [0.0, 1.0)"),
        (["--method", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--max-per-class", "-5"], "'--max-per-class' option must be an int in the range [0, inf)"),
        (["--method", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--repeats", "0"], "'--repeats' option must be an int in the range [1, inf)"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--n-classes", "2"], "--n-classes belongs to the caltech protocol, not mnist"),
        (["--method", "ae", "--dataset", "synthetic", "--param", "ae.epochs=-3"], "'epochs' parameter of ae must be an int in the range [1, inf). Got -3"),
        (["--method", "ae", "--dataset", "synthetic", "--param", "ae.epochs=abc"], "'epochs' parameter of ae must be an int in the range [1, inf). Got 'abc'"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--seeds", "-1"], "seeds must be non-negative integers, got -1"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--seeds", "0,0"], "--seeds lists a seed twice"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--seeds", "0,,1"], "--seeds '0,,1' has an empty item"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--seeds", "4294967296"], "seeds must be at most 2**32-1"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--param", "ocsvm.nu=0.1,0.1"], "lists nu=0.1 twice"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--classes", "hbar", "--outlier-pcts", "99"], "a 99% outlier mix needs 2970 outliers but only 90"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--executor", "inline", "--jobs", "2"], "--executor inline runs one trial at a time"),
        (["--method", "ocsvm", "--method", "ocsvm", "--dataset", "synthetic"], "--method lists a method twice"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--executor", "slurm"], "unknown executor 'slurm'"),
        (["--method", "no_such_module:Thing", "--dataset", "synthetic"], "cannot import method 'no_such_module:Thing'"),
        (["--method", "broken_plugins:Thing", "--dataset", "synthetic"], "cannot import method 'broken_plugins:Thing': RuntimeError: this plugin is broken"),
        (["--method", "syntax_error_plugin:Thing", "--dataset", "synthetic"], "cannot import method 'syntax_error_plugin:Thing': SyntaxError"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--scheduler", "tcp://h:8786"], "--scheduler belongs to the dask executor, not inline"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--executor", "inline", "--devices", "0"], "--devices belongs to the dask, processes executors, not inline"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--devices", "0"], "this run computes on the CPU"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--executor", "dask", "--max-in-flight", "0"], "--max-in-flight"),
        (["--method", "ocsvm", "--dataset", "synthetic", "--executor", "processes", "--devices", "x"], "--devices must be a comma list of integers"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(args, message, tmp_path, monkeypatch):
    (tmp_path / "broken_plugins.py").write_text("raise RuntimeError('this plugin is broken')\n")
    (tmp_path / "syntax_error_plugin.py").write_text("def oops(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = invoke("run", *args, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # checked before any work: nothing written


def test_an_out_path_that_cannot_be_a_folder_fails_before_any_work(tmp_path):
    (tmp_path / "afile").write_text("x")
    for out, message in ((tmp_path / "afile", "is an existing file, not a folder"), (tmp_path / "afile" / "sub", "is a file, not a folder")):
        result = invoke("run", "--method", "ocsvm", "--dataset", "synthetic", "--out", out)
        assert result.exit_code == 1 and message in " ".join(result.stderr.split())


def test_folder_dataset_mistakes_are_one_clear_line(tmp_path):
    from PIL import Image

    (tmp_path / "empty" / "train").mkdir(parents=True)
    (tmp_path / "empty" / "test").mkdir()
    result = invoke("run", "-m", "ocsvm", "--dataset", "folder", "--data-root", tmp_path / "empty", "--out", tmp_path / "o1")
    assert result.exit_code == 1 and "holds no class folders" in " ".join(result.stderr.split())
    root = tmp_path / "data"
    for split, counts in (("train", {"cat": 3, "dog": 3}), ("test", {"cat": 2, "dog": 0})):
        for name, n in counts.items():
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                Image.new("L", (8, 8), color=40 * i).save(root / split / name / f"{i}.png")
    result = invoke("run", "-m", "ocsvm", "--dataset", "folder", "--data-root", root, "--image-size", "8", "--out", tmp_path / "o2")
    assert result.exit_code == 1
    assert "class 'dog' has no test images in folder" in " ".join(result.stderr.split())
    assert not (tmp_path / "o2").exists()


def test_reports_on_bad_tables_are_one_clear_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "garbage.csv").write_text("a,b\n1,2\n")
    (tmp_path / "truncated").mkdir()
    (tmp_path / "truncated" / "results.parquet").write_bytes(b"PAR1 not really")
    import pandas as pd

    (tmp_path / "empty").mkdir()
    pd.DataFrame({c: pd.Series(dtype=str) for c in ["trial_id", "protocol", "dataset", "method", "status"]}).to_parquet(tmp_path / "empty" / "results.parquet")
    cases = [(tmp_path / "notes.txt", "is not a readable results table"), (tmp_path / "garbage.csv", "is not a novelbench results table"),
             (tmp_path / "truncated", "is not a readable results table"), (tmp_path / "empty", "holds no trials"),
             (tmp_path / "nowhere", "no results at")]
    for command in ("summary", "table", "figure"):
        for path, message in cases:
            result = invoke(command, path)
            assert result.exit_code == 1, (command, path, result.output)
            assert message in " ".join(result.stderr.split()), (command, path)
            assert "Traceback" not in result.output


def test_a_results_table_with_text_in_a_number_column_is_one_clear_line(tmp_path):
    assert invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "hbar", "--out", tmp_path / "run").exit_code == 0
    table = pd.read_csv(tmp_path / "run" / "results.csv")
    for column in ("auroc", "outlier_pct"):
        table.astype({column: object}).assign(**{column: "abc"}).to_csv(tmp_path / f"{column}.csv", index=False)
        for command in ("summary", "table", "figure"):
            result = invoke(command, tmp_path / f"{column}.csv")
            assert result.exit_code == 1 and "Traceback" not in result.output
            assert f"column '{column}' holds 'abc' (row 1), not a number" in " ".join(result.stderr.split())


def test_a_corrupt_mnist_file_is_one_clear_line(tmp_path):
    """A partial download (a short or empty idx file) reaches torchvision's parser; the user gets the folder and a fix."""
    def idx(kind: int, *shape: int) -> bytes:  # an idx header that promises more than follows
        return bytes([0, 0, 8, kind]) + b"".join(n.to_bytes(4, "big") for n in shape) + bytes(100)

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for files in ({"images": b"", "labels": b""}, {"images": b"<html>not an idx file</html>" * 40, "labels": idx(1, 60000)}):
        for split in ("train", "t10k"):
            for part, content in files.items():
                (raw / f"{split}-{part}-idx{3 if part == 'images' else 1}-ubyte").write_bytes(content)
        result = invoke("run", "-m", "ocsvm", "--data-root", tmp_path, "--out", tmp_path / "out")
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert f"dataset mnist could not be read from {tmp_path}" in " ".join(result.stderr.split())
        assert "--download" in result.stderr


def test_missing_data_root_says_where_it_looked(tmp_path):
    result = invoke("run", "--method", "ocsvm", "--dataset", "mnist", "--data-root", tmp_path / "empty", "--out", tmp_path)
    assert result.exit_code == 1
    err = " ".join(result.stderr.split())
    assert "mnist not found under" in err and "empty/MNIST/raw" in err and "--download" in err
    result = invoke("run", "--method", "ocsvm", "--protocol", "caltech", "--data-root", tmp_path / "empty", "--out", tmp_path)
    assert result.exit_code == 1
    assert "256_ObjectCategories" in " ".join(result.stderr.split())


def test_help_documents_every_option():
    result = invoke("run", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for option in ["--method", "--protocol", "--dataset", "--data-root", "--classes", "--seeds", "--outlier-pcts",
                   "--out", "--jobs", "--device", "--param", "--force", "--json", "--download", "--val-share",
                   "--executor", "--scheduler", "--max-in-flight", "--worker-data-root", "--devices", "--config", "--budget",
                   "--checkpoint-minutes"]:
        assert option in text


def test_table_and_figure_regenerate_from_runs(tmp_path):
    assert invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--seeds", "0,1", "--out", tmp_path / "m").exit_code == 0
    assert invoke("run", "-m", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--n-classes", "1,2",
                  "--repeats", "2", "--max-per-class", "30", "--out", tmp_path / "c").exit_code == 0
    result = invoke("table", tmp_path / "m", tmp_path / "c", "--out", tmp_path / "t.md")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "| ocsvm (synthetic) |" in text
    # published rows of other datasets are shown only with a label that says so, and a note
    assert "GPND v1 (published on mnist: another dataset)" in text and "CRBND (published on caltech256: another dataset)" in text
    assert "(published, mnist)" not in text and "not on these runs' dataset (synthetic)" in text
    assert "F1 takes inliers as the positive class; threshold policy 'quantile'" in text
    assert "n=1 AUROC" in text and "n=2 F1" in text and "0.947" in text  # the trivial floor at 10 %
    assert (tmp_path / "t.md").read_text().strip() == text.strip()
    latex = invoke("table", tmp_path / "c", "--format", "latex")
    assert latex.exit_code == 0 and "\\begin{tabular}" in latex.stdout
    fig = invoke("figure", tmp_path / "m", "--out", tmp_path / "fig3")
    assert fig.exit_code == 0, fig.output
    assert (tmp_path / "fig3.png").stat().st_size > 10_000 and (tmp_path / "fig3.pdf").exists()
    assert "no trials of a protocol with an F1-vs-outlier-% figure" in " ".join(invoke("figure", tmp_path / "c").stderr.split())
    assert "no results at" in " ".join(invoke("table", tmp_path / "nothing").stderr.split())
    bad_policy = invoke("table", tmp_path / "m", "--policy", "median")
    assert bad_policy.exit_code == 1 and "unknown threshold policy 'median'" in " ".join(bad_policy.stderr.split())


def test_help_and_light_commands_import_no_heavy_library():
    """`bench --help` starts fast: torch, scikit-learn, pandas and matplotlib load only in the commands
    that use them (`run` and `samples` read the protocols' declared options when called)."""
    import subprocess
    import sys

    code = ("import sys\nfrom typer.testing import CliRunner\nfrom novelbench.cli import app\n"
            "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'pandas', 'matplotlib', 'seaborn') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_min_pairs_help_names_the_default_the_comparison_uses():
    from novelbench.benchmark.compare import MIN_PAIRS
    from novelbench.cli import MIN_PAIRS_HELP

    assert f"default {MIN_PAIRS} " in MIN_PAIRS_HELP
