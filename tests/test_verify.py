"""`bench verify` and the compute identity of rows: re-running trials of existing results."""

import hashlib
import json

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from novelbench.benchmark import compute, verify
from novelbench.benchmark.identity import module_closure
from novelbench.benchmark.plan import plan_trials
from novelbench.cli import app

runner = CliRunner()
RUN = ("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "0,ring", "--outlier-pcts", "20", "--device", "cpu")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def digests(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("verify") / "run"
    result = invoke(*RUN, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def verify_json(*args):
    result = invoke("verify", *args, "--json")
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def test_rows_record_the_compute_identity_outside_the_trial_id(fresh_run):
    table = pd.read_parquet(fresh_run / "results.parquet")
    for col in compute.COLUMNS:
        assert col in table.columns
    row = table.iloc[0]
    assert row["compute_isa"] == torch.backends.cpu.get_cpu_capability()
    assert row["compute_libs"].startswith(f"torch {torch.__version__}")
    assert row["compute_gpu"] == ""  # a CPU trial
    trials, _ = plan_trials(["ocsvm"], [], "mnist", {}, "synthetic", {}, [0], "cpu")
    fingerprinted = module_closure(trials[0].code_roots())
    assert "novelbench.benchmark.compute" not in fingerprinted
    assert not any(m.startswith("novelbench.benchmark.executors") for m in fingerprinted)


def test_verify_of_a_fresh_run_is_bit_identical_and_leaves_the_originals_alone(fresh_run, tmp_path):
    before = digests(fresh_run)
    result, outcomes = verify_json(fresh_run, "--scratch", tmp_path / "scratch", "--out", tmp_path / "v.csv", "--out", tmp_path / "v.md")
    assert result.exit_code == 0, result.output
    assert len(outcomes) == 2
    for o in outcomes:
        assert o["verdict"] == "bit-identical" and o["same_trial_id"] is True and o["max_abs_delta"] == 0.0
        assert o["compute_differs"] == "" and o["compute"] == []
        assert {(n["mix"], n["metric"]) for n in o["numbers"]} == {(m, k) for m in ("p20", "pool") for k in verify.METRICS}
        assert o["mix"] == "pool" and o["auroc_old"] == o["auroc_new"]
    assert digests(fresh_run) == before
    assert len(list((tmp_path / "scratch").glob("run-*/trials/*.parquet"))) == 2
    written = pd.read_csv(tmp_path / "v.csv")
    assert list(written["verdict"]) == ["bit-identical"] * 2
    assert "| run | trial |" in (tmp_path / "v.md").read_text()
    assert f"- re-run on: {written['verified_on'][0]}" in (tmp_path / "v.md").read_text()
    assert torch.backends.cpu.get_cpu_capability() in written["verified_on"][0]
    shown = invoke("verify", fresh_run, "--scratch", tmp_path / "scratch", "--details")  # reuses the re-runs
    assert shown.exit_code == 0 and "f1_validation" in shown.stdout and "bit-identical" in shown.stdout


def test_a_changed_number_is_beyond_tolerance_with_a_non_zero_exit(fresh_run, tmp_path):
    table = pd.read_csv(fresh_run / "results.csv")
    first = table["trial_id"].iloc[0]
    table.loc[(table["trial_id"] == first) & (table["mix"] == "p20"), "auroc"] -= 0.01
    tampered = tmp_path / "tampered.csv"
    table.to_csv(tampered, index=False)
    scratch = tmp_path / "scratch"
    result, outcomes = verify_json(tampered, "--scratch", scratch)
    assert result.exit_code == 1
    verdicts = {o["trial_id"]: o for o in outcomes}
    assert verdicts[first]["verdict"] == "beyond 0.001" and verdicts[first]["worst"] == "auroc p20"
    assert verdicts[first]["max_abs_delta"] == pytest.approx(0.01)
    assert [o["verdict"] for o in outcomes if o["trial_id"] != first] == ["bit-identical"]
    # a wider tolerance accepts it; the second verify reuses the scratch re-runs (same folder)
    stamps = {p: p.stat().st_mtime_ns for p in scratch.rglob("trials/*.parquet")}
    result, outcomes = verify_json(tampered, "--scratch", scratch, "--tolerance", "0.05")
    assert result.exit_code == 0
    assert verdicts[first]["trial_id"] in [o["trial_id"] for o in outcomes if o["verdict"] == "within 0.05"]
    assert {p: p.stat().st_mtime_ns for p in scratch.rglob("trials/*.parquet")} == stamps


def test_old_rows_without_compute_columns_are_verified_and_said_so(fresh_run, tmp_path):
    old = pd.read_csv(fresh_run / "results.csv").drop(columns=list(compute.COLUMNS))
    path = tmp_path / "old.csv"
    old.to_csv(path, index=False)
    result, outcomes = verify_json(path, "--scratch", tmp_path / "s", "--sample", "1")
    assert result.exit_code == 0, result.output
    assert len(outcomes) == 1 and outcomes[0]["verdict"] == "bit-identical"
    assert outcomes[0]["compute_differs"] == "compute identity not recorded in the old row"
    assert invoke("summary", path).exit_code == 0
    assert invoke("table", path, fresh_run).exit_code == 0


def test_protocol_options_rebuild_the_row_or_the_trial_is_skipped_with_the_reason(tmp_path):
    out = tmp_path / "run"
    assert invoke(*RUN[:-2], "--classes", "0", "--val-share", "0.2", "--device", "cpu", "--out", out).exit_code == 0
    result, outcomes = verify_json(out, "--scratch", tmp_path / "s")
    assert result.exit_code == 1  # nothing could be re-run
    assert outcomes[0]["verdict"] == "skipped" and "config_id" in outcomes[0]["note"]
    result, outcomes = verify_json(out, "--scratch", tmp_path / "s", "--protocol-option", "val_share=0.2")
    assert result.exit_code == 0 and outcomes[0]["verdict"] == "bit-identical"


def test_true_false_protocol_options_are_found_without_being_given(tmp_path):
    out = tmp_path / "run"
    assert invoke("run", "-m", "ocsvm", "--protocol", "caltech", "--dataset", "synthetic", "--n-classes", "1", "--repeats", "1",
                  "--transductive", "--device", "cpu", "--out", out).exit_code == 0
    result, outcomes = verify_json(out, "--scratch", tmp_path / "s", "--dry-run")
    assert result.exit_code == 0 and outcomes[0]["verdict"] == "would re-run" and outcomes[0]["same_trial_id"] is True


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without CUDA")
def test_a_cuda_row_is_skipped_on_a_machine_without_cuda(fresh_run, tmp_path):
    table = pd.read_csv(fresh_run / "results.csv")
    table["device"] = "cuda:0"
    path = tmp_path / "gpu.csv"
    table.to_csv(path, index=False)
    result, outcomes = verify_json(path, "--scratch", tmp_path / "s")
    assert result.exit_code == 1
    assert {o["verdict"] for o in outcomes} == {"skipped"} and "no CUDA device" in outcomes[0]["note"]
    assert "no chosen trial could be re-run" in result.stderr
    # --sample draws among the trials this machine can re-run
    mixed = pd.concat([table, pd.read_csv(fresh_run / "results.csv").assign(trial_id=lambda f: "c" + f["trial_id"])])
    mixed.to_csv(path, index=False)
    result, outcomes = verify_json(path, "--scratch", tmp_path / "s", "--sample", "5")
    assert result.exit_code == 0 and len(outcomes) == 2 and {o["device"] for o in outcomes} == {"cpu"}


@pytest.mark.parametrize("args, message", [
    (["--trial", "deadbeef"], "trial deadbeef is in none of"),
    (["--out", "v.txt"], "written as .csv, .md or .json"),
    (["--protocol-option", "val_share"], "must look like NAME=VALUE"),
    (["--protocol-option", "foo=1"], "--protocol-option foo: not an option of the tables' protocols"),
])
def test_mistakes_are_one_clear_line(fresh_run, tmp_path, args, message):
    result = invoke("verify", fresh_run, "--scratch", tmp_path / "s", *args)
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.output
    assert not (tmp_path / "s").exists()


def test_a_scratch_folder_under_a_file_is_one_line_even_in_a_dry_run(fresh_run, tmp_path):
    (tmp_path / "afile").write_text("x")
    for dry in ([], ["--dry-run"]):
        result = invoke("verify", fresh_run, "--scratch", tmp_path / "afile", *dry)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "afile is a file, not a folder" in " ".join(result.stderr.split())


def test_the_scratch_folder_never_holds_the_originals(fresh_run):
    folder = verify.scratch_folder(fresh_run.parent, fresh_run)
    assert folder != fresh_run and folder.parent == fresh_run.parent
    with pytest.raises(Exception, match="holds the results being verified"):
        verify.check_scratch(fresh_run, fresh_run / "results.csv")


def test_a_sample_is_reproducible_and_spread_over_methods_and_positives():
    frames = {f"t{m}{p}{s}": pd.DataFrame({"method": [m], "positives": [p], "seed": [s], "status": ["ok"]})
              for m in "ab" for p in "xyz" for s in (0, 1)}
    picked = verify.pick_spread(frames, 3, seed=4)
    assert picked == verify.pick_spread(frames, 3, seed=4)
    chosen = [frames[t].iloc[0] for t in picked]
    assert len({c["positives"] for c in chosen}) == 3 and len({c["method"] for c in chosen}) == 2
    assert len(verify.pick_spread(frames, 50, seed=0)) == len(frames)


def test_named_trials_join_the_sample_and_prefixes_name_them(fresh_run, tmp_path):
    ids = list(dict.fromkeys(pd.read_csv(fresh_run / "results.csv")["trial_id"]))
    result, outcomes = verify_json(fresh_run, "--scratch", tmp_path / "s", "--dry-run", "--trial", ids[1][:8], "--sample", "1")
    assert result.exit_code == 0, result.output
    assert [o["trial_id"] for o in outcomes] == [ids[1], ids[0]]
    assert {o["verdict"] for o in outcomes} == {"would re-run"}


def test_unreadable_data_is_one_clear_line_before_any_rerun(tmp_path):
    table = pd.DataFrame({"trial_id": ["t1"], "config_id": [""], "protocol": ["mnist"], "dataset": ["mnist"], "method": ["ocsvm"],
                          "method_name": ["ocsvm"], "positives": ["0 - zero"], "repeat": [0], "seed": [0], "mix": ["pool"],
                          "auroc": [0.9], "device": ["cpu"], "threads": [1], "status": ["ok"]})
    table.to_csv(tmp_path / "t.csv", index=False)
    result = invoke("verify", tmp_path / "t.csv", "--data-root", tmp_path / "nowhere", "--scratch", tmp_path / "s")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "nowhere" in " ".join(result.stderr.split())
    assert not (tmp_path / "s").exists()


def test_by_method_counts_verdicts_and_measures_the_moves():
    table = pd.DataFrame({"method": ["ae", "ae", "ae", "ocsvm"],
                          "verdict": ["bit-identical", "within 0.001", "beyond 0.001", "skipped"],
                          "auroc_delta": [0.0, -0.0005, 0.02, float("nan")],
                          "max_abs_delta": [0.0, 0.0008, 0.3, float("nan")]})
    summary = verify.by_method(table).set_index("method")
    ae = summary.loc["ae"]
    assert (ae["trials"], ae["bit-identical"], ae["within T"], ae["beyond T"], ae["failed or skipped"]) == (3, 1, 1, 1, 0)
    assert ae["median abs Δ AUROC"] == pytest.approx(0.0005) and ae["max abs Δ AUROC"] == pytest.approx(0.02)
    assert ae["max abs Δ any metric"] == pytest.approx(0.3)
    assert summary.loc["ocsvm", "failed or skipped"] == 1 and pd.isna(summary.loc["ocsvm", "max abs Δ AUROC"])


def test_several_tables_end_with_one_line_per_method_and_a_page_sums_the_csv_up(fresh_run, tmp_path):
    from novelbench.benchmark import page

    copy = tmp_path / "copy.csv"
    pd.read_csv(fresh_run / "results.csv").to_csv(copy, index=False)
    result = invoke("verify", fresh_run, copy, "--scratch", tmp_path / "scratch", "--out", tmp_path / "v.csv")
    assert result.exit_code == 0, result.output
    assert "verify: per method" in result.stdout and "ocsvm" in result.stdout
    spec = tmp_path / "page.toml"
    spec.write_text('title = "t"\n[[block]]\nkind = "verify-summary"\nfile = "v.csv"\n')
    text = page.render_markdown(page.load(spec), None)
    assert "| ocsvm | 4 | 4 | 0 | 0 | 0 | 0.0000 | 0.0000 | 0.0000 |" in text


def test_a_row_with_an_option_named_none_is_rebuilt_with_that_option(tmp_path):
    """A `p_*` column holding "none" for a string option (alocc.weight_average) rebuilds as the
    string, as --param reads it, not as None (which the option refuses)."""
    row = {"status": "ok", "device": "cpu", "method_name": "alocc", "method": "alocc[weight_average=none]",
           "p_weight_average": "none", "dataset": "synthetic", "protocol": "mnist", "positives": "0", "repeat": 0,
           "group": "n=1", "seed": 0, "threads": 1, "config_id": ""}
    planned = verify.rebuild(tmp_path / "r.csv", "t", pd.DataFrame([row]), None, None, {}, False)
    assert not planned.skip and planned.trial.method_params == {"weight_average": "none"}
