"""Reports: published rows as data, paired comparison (checked against scipy / scikit-posthocs /
statsmodels on the same pairs), Figure-4 samples, and the self-contained HTML / markdown report."""

import json
import re
import sys

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs as sp
from scipy import stats
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from novelbench.benchmark import compare, published, report, report_page
from novelbench.benchmark.metrics import trivial_f1
from novelbench.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_table(methods: dict[str, float], protocol="mnist", dataset="mnist", positives=("0", "1", "2", "3"), seeds=(0, 1, 2),
              groups=("n=1",), noise=0.03, seed=0, failed: str | None = None) -> pd.DataFrame:
    """A small synthetic run table: one row per trial x mix, AUROC = the method's level + noise
    shared by the pair key (so pairing matters) + the method's own noise."""
    rng = np.random.default_rng(seed)
    mixes = [("p10", 10.0), ("p50", 50.0)] + ([("pool", 90.0)] if protocol == "mnist" else [])
    rows = []
    for g in groups:
        for pos in positives:
            for s in seeds:
                shared = rng.normal(0, 0.05)
                for method, level in methods.items():
                    own = rng.normal(0, noise)
                    tid = f"{method}-{g}-{pos}-{s}"
                    for mix, pct in mixes:
                        auc = float(np.clip(level + shared + own, 0, 1))
                        rows.append({"run_id": "r", "trial_id": tid, "config_id": tid, "protocol": protocol, "dataset": dataset,
                                     "method": method, "method_name": method, "positives": pos, "group": g, "repeat": 0,
                                     "seed": s, "mix": mix, "outlier_pct": pct, "n_test": 100, "n_outliers": int(pct),
                                     "auroc": auc, "aupr": auc - 0.05, "f1_quantile": auc - 0.1, "f1_validation": auc - 0.09,
                                     "f1_oracle": auc - 0.08, "f1_native": np.nan, "f1_trivial": trivial_f1(pct / 100),
                                     "n_train": 50, "fit_seconds": 1.5, "score_seconds": 0.1, "device": "cpu", "precision": "fp32",
                                     "threads": 1, "status": "ok", "error": "", "versions": "novelbench=0.1.0",
                                     "timestamp": "2026-01-01T00:00:00+00:00"})
    if failed:
        rows.append({"run_id": "r", "trial_id": "broken-1", "protocol": protocol, "dataset": dataset, "method": "broken",
                     "positives": positives[0], "group": groups[0], "repeat": 0, "seed": 0, "mix": "", "status": "failed",
                     "error": failed, "versions": "novelbench=0.1.0", "timestamp": "2026-01-01T00:00:00+00:00"})
    return pd.DataFrame(rows)


# -- compare ---------------------------------------------------------------------------------
def test_two_methods_match_scipy_on_the_same_pairs():
    table = run_table({"a": 0.9, "b": 0.86}, positives=tuple("0123"), seeds=(0, 1, 2))
    extra = run_table({"a": 0.9}, positives=("9",), seeds=(5,))  # a trial b never ran: not a pair
    table = pd.concat([table.sample(frac=1, random_state=1), extra], ignore_index=True)  # row order must not matter
    [c] = compare.compare(table, "auroc", "pool")
    [pair] = c.pairs
    wide = table[table["mix"] == "pool"].pivot_table(index=["positives", "seed"], columns="method", values="auroc").dropna()
    a, b = wide["a"].to_numpy(), wide["b"].to_numpy()
    assert pair.n == len(a) == 12
    assert pair.p == pytest.approx(stats.wilcoxon(a, b).pvalue, rel=1e-12)
    assert pair.mean_diff == pytest.approx(np.mean(a - b))
    assert (pair.wins, pair.ties, pair.losses) == (int((a > b).sum()), int((a == b).sum()), int((a < b).sum()))
    ci = stats.bootstrap((a - b,), np.mean, confidence_level=0.95, n_resamples=9999, method="BCa",
                         rng=np.random.default_rng(0)).confidence_interval
    assert (pair.ci_low, pair.ci_high) == pytest.approx((ci.low, ci.high))
    assert pair.ci_low < pair.mean_diff < pair.ci_high


def test_too_few_pairs_get_a_message_not_a_p_value():
    table = run_table({"a": 0.9, "b": 0.8}, positives=("0", "1"), seeds=(0, 1))
    [c] = compare.compare(table, "auroc", "pool")
    [pair] = c.pairs
    assert pair.n == 4 and pair.p is None and np.isnan(pair.ci_low)
    assert "no test: 4 untied pairs" in pair.message and "0.125" in pair.message
    assert c.pairs_frame()["Wilcoxon p"].tolist() == ["-"]


def test_three_methods_give_ranks_friedman_nemenyi_holm_and_a_cd_diagram(tmp_path):
    table = run_table({"good": 0.95, "mid": 0.9, "bad": 0.8}, positives=tuple("01234"), seeds=(0, 1))
    [c] = compare.compare(table, "auroc", "pool")
    wide = table[table["mix"] == "pool"].pivot_table(index=["positives", "seed"], columns="method", values="auroc")[c.methods]
    assert c.blocks == 10
    assert list(c.ranks.index) == ["good", "mid", "bad"]  # 1 = best
    assert c.ranks.to_dict() == pytest.approx(wide.rank(axis=1, ascending=False).mean().to_dict())
    res = stats.friedmanchisquare(*(wide[m] for m in c.methods))
    assert (c.friedman_stat, c.friedman_p) == pytest.approx((res.statistic, res.pvalue))
    expected = sp.posthoc_nemenyi_friedman(wide)
    assert np.allclose(c.nemenyi.loc[c.methods, c.methods].to_numpy(), expected.loc[c.methods, c.methods].to_numpy())
    raw = [stats.wilcoxon(wide[p.a], wide[p.b]).pvalue for p in c.pairs]
    assert [p.p_holm for p in c.pairs] == pytest.approx(list(multipletests(raw, method="holm")[1]))
    fig = c.cd_figure()
    assert fig is not None
    paths = report.save_figure(fig, tmp_path / "cd")
    assert paths[0].stat().st_size > 5_000
    table.to_csv(tmp_path / "t.csv", index=False)
    result = invoke("compare", tmp_path / "t.csv", "--figure", tmp_path / "cli-cd", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload[0]["ranks"]["good"] == pytest.approx(c.ranks["good"])
    assert (tmp_path / "cli-cd.png").exists() and (tmp_path / "cli-cd.pdf").exists()


def test_compare_pairs_within_groups_and_names_the_f1_policy():
    table = run_table({"a": 0.9, "b": 0.85}, protocol="caltech", dataset="caltech101", positives=tuple("0123"),
                      seeds=(0, 1), groups=("n=1", "n=3"))
    comps = compare.compare(table, "f1_quantile")
    assert [c.scope for c in comps] == ["all positive sets", "n=1", "n=3"]
    assert {c.mix for c in comps} == {"p50"}  # the caltech table's own mix
    assert [c.pairs[0].n for c in comps] == [16, 8, 8]
    assert "F1 takes inliers as the positive class; threshold policy 'quantile'" in comps[0].note
    with pytest.raises(Exception, match="unknown metric"):
        compare.compare(table, "accuracy")


# -- published rows --------------------------------------------------------------------------
def test_published_file_carries_both_tables_with_sources():
    data = published.table()
    crbnd = data[data["source"].str.startswith("CRBND paper")]
    assert set(crbnd["method"]) == {"ALOCC D(R(X))", "G2D", "R-graph", "REAPER", "OutlierPursuit", "LRR", "CRBND"}
    assert len(crbnd) == 7 * 3 * 2  # every AUC and F1 at 1, 3, 5 classes
    alocc = data[data["source"].str.startswith("ALOCC")]
    assert {"CoP", "REAPER", "OutlierPursuit", "LRR", "DPCP", "R-graph", "ALOCC D(X)", "ALOCC D(R(X))"} == set(alocc["method"])
    assert (data["source"] != "").all() and data["value"].between(0, 1).all()
    refs = published.references("caltech", ["caltech256"])
    alocc5 = sorted(r.value("n=5", "auroc") for r in refs if r.method == "ALOCC D(R(X))")
    assert alocc5 == [0.895, 0.923]  # CRBND's table and ALOCC's own disagree: both rows are kept
    reaper = [r for r in refs if r.method == "REAPER"]
    assert len(reaper) == 1 and len(reaper[0].citations) == 2  # the same numbers in both: one row, two sources


def test_per_class_published_values_agree_with_their_mean_and_stay_out_of_tables():
    data = published.table()
    geom = data[(data["method"] == "GEOM") & (data["dataset"] == "mnist")]
    per_digit = geom[geom["positives"] != ""]
    assert list(per_digit["positives"]) == [f"{d} - {n}" for d, n in enumerate(
        "zero one two three four five six seven eight nine".split())]  # the names the MNIST run tables use
    assert per_digit["value"].mean() == pytest.approx(geom.loc[geom["positives"] == "", "value"].item(), abs=1e-3)  # both rounded
    refs = [r for r in published.references("mnist", ["mnist"]) if r.method == "GEOM" and r.dataset == "mnist"]
    assert len(refs) == 1 and refs[0].values == {("pool", "auroc"): 0.980}  # tables and figures show the mean


def test_published_rows_appear_only_where_they_belong(tmp_path):
    digits = run_table({"m": 0.9}, dataset="digits")
    table = report.protocol_table(digits, "mnist")
    labels = table.frame["method"].tolist()
    assert any(lab.startswith("GPND v1 (published on mnist: another dataset)") for lab in labels)
    assert not any("(published, mnist)" in lab for lab in labels)
    assert any("not on these runs' dataset (digits)" in n for n in table.notes)
    only = report.protocol_table(digits, "mnist", which="matching").frame["method"].tolist()
    assert not any("published" in lab for lab in only)

    mnist = report.protocol_table(run_table({"m": 0.9}), "mnist")
    assert any(lab.startswith("GPND v1 (published, mnist)") for lab in mnist.frame["method"])
    assert any(lab.startswith("GPND v1 (published on fashion-mnist: another dataset)") for lab in mnist.frame["method"])
    assert any(n.startswith("[") and "threshold" in n for n in mnist.notes)  # sources and their thresholds

    c101 = run_table({"m": 0.7}, protocol="caltech", dataset="caltech101", groups=("n=1", "n=3", "n=5"))
    frame = report.protocol_table(c101, "caltech").frame
    published_rows = [lab for lab in frame["method"] if "published" in lab]
    assert published_rows and all("published on caltech256: another dataset" in lab for lab in published_rows)
    c256 = report.protocol_table(c101.assign(dataset="caltech256"), "caltech").frame
    assert any(lab.startswith("CRBND (published, caltech256)") for lab in c256["method"])
    fig_matching = report.draw_outlier_pct_figure(digits, "mnist", which="matching")
    assert not any("published" in t.get_text() for t in fig_matching.axes[0].get_legend().get_texts())
    fig_all = report.draw_outlier_pct_figure(digits, "mnist")
    assert any("published on mnist" in t.get_text() for t in fig_all.axes[0].get_legend().get_texts())


def test_every_table_names_its_f1_policy():
    t = run_table({"m": 0.9})
    for policy in ("quantile", "validation", "oracle", "native"):
        made = report.protocol_table(t, "mnist", policy)
        assert f"F1 takes inliers as the positive class; threshold policy '{policy}'" in made.notes[0]
        assert made.notes[0] in made.render("markdown") and f"# {made.notes[0]}" in made.render("csv")
        assert f"{policy} threshold" in made.caption


# -- report ----------------------------------------------------------------------------------
def test_report_has_every_section_and_needs_no_network(tmp_path):
    mnist = run_table({"a": 0.9, "b": 0.86, "c": 0.8}, positives=tuple("01234"), seeds=(0, 1), failed="RuntimeError: loss is NaN")
    caltech = run_table({"a": 0.7, "b": 0.65}, protocol="caltech", dataset="caltech101", groups=("n=1", "n=3"))
    mnist.to_csv(tmp_path / "m.csv", index=False)
    caltech.to_csv(tmp_path / "c.csv", index=False)
    result = invoke("report", tmp_path / "m.csv", tmp_path / "c.csv", "--out", tmp_path / "r.html", "--out", tmp_path / "r.md")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text()
    for anchor in ("summary", "tables", "compare", "timings", "failed", "provenance"):
        assert f'<section id="{anchor}">' in html
    assert "F1 takes inliers as the positive class" in html and "threshold policy &#39;quantile&#39;" in html
    assert "Table 1: AUROC and F1 per number of positive classes" in html and "F1 vs outlier %" in html
    assert "RuntimeError: loss is NaN" in html  # the failed trial with its error
    assert "Friedman test" in html and "Wilcoxon p" in html
    assert html.count('src="data:image/png;base64,') == 2  # Figure 3 and the CD diagram, inline
    assert "torch" in html and "sklearn" in html and "report" in html  # provenance, incl. the command line
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I)  # no network reference of any kind
    assert "<script" not in html and "@import" not in html and "<link" not in html
    md = (tmp_path / "r.md").read_text()
    assert "## Paired comparison" in md and "## Failed trials (1)" in md
    assert "(r_files/figure-mnist.png)" in md and (tmp_path / "r_files" / "figure-mnist.png").exists()


def test_report_of_a_real_run_carries_its_command_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["bench", "run", "-m", "ocsvm", "--dataset", "synthetic"])
    assert invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "hbar,ring", "--out", tmp_path / "run").exit_code == 0
    assert json.loads((tmp_path / "run" / "runs.jsonl").read_text().splitlines()[0])["command"] == "bench run -m ocsvm --dataset synthetic"
    context = report_page.build([tmp_path / "run"], [pd.read_parquet(tmp_path / "run" / "results.parquet")])
    html = report_page.render_html(context)
    assert "bench run -m ocsvm --dataset synthetic" in html
    with pytest.raises(Exception, match="use .html or .md"):
        report_page.write(context, tmp_path / "r.txt")


# -- samples (Figure 4) ----------------------------------------------------------------------
def test_samples_reuses_the_model_a_run_kept(tmp_path):
    common = ["--dataset", "synthetic", "--classes", "hbar", "--device", "cpu", "--param", "ae.epochs=1", "--param", "ae.widths=(4,8)"]
    assert invoke("run", "-m", "ae", *common, "--keep-models", "--out", tmp_path / "run").exit_code == 0
    assert len(list((tmp_path / "run" / "models").glob("*.pt"))) == 1
    result = invoke("samples", "-m", "ae", *common, "--models", tmp_path / "run", "--n", "3", "--out", tmp_path / "fig4")
    assert result.exit_code == 0, result.output
    assert "model: reused" in " ".join(result.stderr.split())
    assert (tmp_path / "fig4.png").stat().st_size > 5_000 and (tmp_path / "fig4.pdf").exists()


def test_samples_without_panels_and_one_clear_error_for_ambiguous_sets(tmp_path):
    from novelbench.benchmark import samples

    trial = samples.plan_one("ocsvm", [], "mnist", {"classes": ["ring"]}, "synthetic", {}, 0, "cpu", 1)
    drawn = samples.draw_samples(trial, None, n=4)
    assert drawn.panels == {} and drawn.is_outlier.tolist() == [False] * 4 + [True] * 4
    assert drawn.scores[4:].mean() > drawn.scores[:4].mean()  # outliers score higher
    fig = samples.draw_figure(drawn)
    assert "no image panels" in fig._suptitle.get_text()
    result = invoke("samples", "-m", "ocsvm", "--dataset", "synthetic", "--out", tmp_path / "x")
    assert result.exit_code == 1 and "choose one with --classes" in " ".join(result.stderr.split())


def test_report_of_only_failed_trials_still_shows_them(tmp_path):
    failed = run_table({}, failed="ValueError: training diverged")
    context = report_page.build([tmp_path / "x.csv"], [failed])
    html = report_page.render_html(context)
    assert "ValueError: training diverged" in html and '<section id="provenance">' in html
    assert '<section id="summary">' not in html


def test_report_opens_with_a_leaderboard_best_rank_first(tmp_path):
    table = run_table({"weak": 0.7, "best": 0.95, "middle": 0.85}, positives=tuple("01234"))
    context = report_page.build([tmp_path / "t.csv"], [table])
    html = report_page.render_html(context)
    assert html.index('<section id="leaderboard">') < html.index('id="how-to-read"') < html.index('<section id="summary">')
    board = context["sections"][0].blocks[0]["table"]
    assert board.columns == ["method", "trials", "AUROC (pool)", "F1 10%", "F1 50%", "mean rank", "s / trial", "device"]
    assert [r[0] for r in board.rows] == ["best", "middle", "weak", "trivial floor (all inliers)"]
    ranks = compare.compare(table)[0].ranks
    assert [r[5] for r in board.rows[:3]] == [f"{ranks[m]:.2f}" for m in ("best", "middle", "weak")]
    assert board.rows[0][2] == f"{table[(table['method'] == 'best') & (table['mix'] == 'pool')]['auroc'].mean():.3f}"
    assert board.rows[-1][3] == "0.947" and board.rows[0][6] == "1.6"  # the floor at 10 %; fit + score seconds


def test_reports_show_no_path_of_the_machine_they_were_made_on(tmp_path, monkeypatch):
    run = tmp_path / "run"
    assert invoke("run", "-m", "ocsvm", "--dataset", "synthetic", "--classes", "hbar,ring", "--out", run).exit_code == 0
    monkeypatch.setattr(sys, "argv", ["bench", "run", "--data-root", str(tmp_path / "data"), "--out", str(run)])
    (run / "runs.jsonl").write_text(json.dumps({"command": f"bench run -m ocsvm --data-root {tmp_path / 'data'} --out {run}"}) + "\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("report", run, "--out", tmp_path / "r.html", "--out", tmp_path / "r.md")
    assert result.exit_code == 0, result.output
    for page in ("r.html", "r.md"):
        text = (tmp_path / page).read_text()
        assert str(tmp_path) not in text
        assert "bench run -m ocsvm --data-root DATA_ROOT --out run" in text
