"""The `bench` CLI through typer's CliRunner, good input and bad."""

import json

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
    assert set(info["protocols"]) == {"mnist", "caltech"}
    assert {"mnist", "fashion-mnist", "digits", "caltech256", "caltech101", "folder", "synthetic"} <= set(info["datasets"])


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
    ],
)
def test_bad_input_is_one_clear_line(args, message, tmp_path):
    result = invoke("run", *args, "--out", tmp_path)
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


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
                   "--out", "--jobs", "--device", "--param", "--force", "--json", "--download", "--val-share"]:
        assert option in text


def test_readme_plugin_runs_by_dotted_path_and_separates_easy_split(tmp_path):
    result = invoke("run", "--method", "example_plugin:MeanDistance", "--param", "example_plugin:MeanDistance.power=1",
                    "--dataset", "synthetic", "--classes", "hbar", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    pool = [r for r in json.loads(result.stdout)["summary"] if r["mix"] == "pool"][0]
    assert pool["auroc_mean"] > 0.9


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
