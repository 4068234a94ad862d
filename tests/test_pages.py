"""`bench page`: the committed results pages re-render from their specs and committed run tables
(golden test), verdicts are computed both ways, and bad specs fail with one clear line."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from novelbench.benchmark import page
from novelbench.errors import NovelbenchError

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "reference"
SPECS = sorted(REFERENCE.glob("*.toml"))
#: absolute paths of the machine rendering the pages: this checkout, the home and temp folders
MACHINE_PATHS = {str(REFERENCE.parents[1]), str(Path.home()), tempfile.gettempdir()}


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_committed_page_renders_from_its_spec(spec):
    """Every committed page is what its spec renders from the committed run tables (figures are
    not redrawn here: the files the page links must exist beside it)."""
    text = page.render_markdown(page.load(spec), None)
    assert text == spec.with_suffix(".md").read_text(encoding="utf-8")
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (REFERENCE / link).is_file(), link
    for machine_path in MACHINE_PATHS:  # pages show paths relative to the spec or as DATA_ROOT
        assert machine_path not in text


def run_table(folder: Path, name: str, auroc: dict[str, list[float]]) -> Path:
    """A tiny run table: methods x 8 trials on the pool mix and a p50 mix (F1 = AUROC here)."""
    rows = []
    for method, values in auroc.items():
        for i, v in enumerate(values):
            for mix, pct in (("pool", np.nan), ("p50", 50.0)):
                rows.append({"trial_id": f"{method}-{i}", "protocol": "mnist", "dataset": "mnist", "method": method,
                             "positives": f"{i % 4} - d", "group": "n=1", "repeat": 0, "seed": i // 4, "mix": mix,
                             "outlier_pct": pct, "auroc": v, "aupr": v, "f1_quantile": v, "f1_validation": v,
                             "f1_oracle": v, "f1_native": np.nan, "f1_trivial": 2 / 3, "n_train": 10,
                             "fit_seconds": 2.0, "score_seconds": 1.0, "device": "cpu", "precision": "fp32",
                             "status": "ok"})
    path = folder / f"{name}.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def write_spec(folder: Path, body: str) -> Path:
    spec = folder / "page.toml"
    spec.write_text(body)
    return spec


#: a verdict block over runs.csv; its rows follow
VERDICT = '[[block]]\nkind = "verdict"\nruns = ["runs.csv"]\n'
GOOD = [0.90, 0.92, 0.95, 0.91, 0.93, 0.96, 0.94, 0.97]
BAD = [0.60, 0.55, 0.70, 0.52, 0.66, 0.58, 0.61, 0.63]


def test_verdict_met_and_not_met_are_computed(tmp_path):
    run_table(tmp_path, "runs", {"good": GOOD, "bad": BAD})
    spec = write_spec(tmp_path, VERDICT + """
[[block.rows]]
target = "good above 0.9"
method = "good"
check = ">"
than = 0.9
[[block.rows]]
target = "bad above 0.9"
method = "bad"
check = ">"
than = 0.9
[[block.rows]]
target = "every method beats the trivial F1"
metric = "f1_quantile"
check = ">"
than = "trivial"
[[block.rows]]
target = "good ahead of bad"
pair = ["good", "bad"]
check = "greater"
[[block.rows]]
target = "bad ahead of good"
pair = ["bad", "good"]
check = "greater"
""")
    lines = page.render_markdown(page.load(spec), tmp_path).splitlines()[2:]
    met = [line.rsplit("|", 2)[1].strip() for line in lines]
    assert met[0] == "**met**" and met[1] == "**not met**"
    assert met[2].startswith("**not met**") and "`bad`" in met[2]  # bad's F1 0.616 < 0.667
    assert met[3] == "**met**" and met[4] == "**not met**"
    assert f"{np.mean(GOOD):.3f}" in lines[0]


@pytest.mark.parametrize("tolerance, met", [(0.03, "**not met**"), (0.06, "**met**")])  # |0.935 - 0.880| = 0.055
def test_verdict_against_a_published_number(tmp_path, tolerance, met):
    run_table(tmp_path, "runs", {"good": GOOD})
    spec = write_spec(tmp_path, VERDICT + f"""
[[block.rows]]
target = "good within {tolerance} of ALOCC D(R(X))'s published F1 at 50 %"
metric = "f1_quantile"
check = "within"
tolerance = {tolerance}
than = {{published = "ALOCC D(R(X))"}}
""")
    row = page.render_markdown(page.load(spec), tmp_path).splitlines()[2]
    assert row.endswith(f"| {met} |") and "0.880 (published: ALOCC D(R(X)))" in row


def test_verdict_against_a_published_per_class_number(tmp_path):
    """`positives` picks the source's value for one class: GEOM's digit 1 (0.916), not its mean (0.980)."""
    run_table(tmp_path, "runs", {"good": GOOD})
    table = pd.read_csv(tmp_path / "runs.csv")
    table.assign(positives="1 - one").to_csv(tmp_path / "runs.csv", index=False)
    spec = write_spec(tmp_path, VERDICT + """
[[block.rows]]
target = "good within 2 points of GEOM on digit 1"
check = "within"
tolerance = 0.02
than = {published = "GEOM", positives = "1 - one"}
[[block.rows]]
target = "good within 2 points of GEOM's mean"
check = "within"
tolerance = 0.02
than = {published = "GEOM"}
""")
    rows = page.render_markdown(page.load(spec), tmp_path).splitlines()[2:]
    assert "within ±0.02 of 0.916 (published: GEOM, positive set 1 - one)" in rows[0]  # |0.935 - 0.916| <= 0.02
    assert rows[0].endswith("| **met** |")
    assert "0.980 (published: GEOM)" in rows[1] and rows[1].endswith("| **not met** |")
    spec = write_spec(tmp_path, VERDICT + """
[[block.rows]]
target = "a class the source does not give"
check = "within"
tolerance = 0.02
than = {published = "GEOM", positives = "10 - ten"}
""")
    with pytest.raises(NovelbenchError, match="0 values of GEOM on mnist, pool, auroc, positive set '10 - ten'"):
        page.render_markdown(page.load(spec), tmp_path)


def test_markdown_and_html_written(tmp_path):
    run_table(tmp_path, "runs", {"good": GOOD, "bad": BAD})
    spec = write_spec(tmp_path, """
title = "Tiny"
[[block]]
kind = "prose"
text = "Some *words*."
[[block]]
kind = "per-class"
runs = ["runs.csv"]
[[block]]
kind = "compare"
runs = ["runs.csv"]
focus = "bad"
""")
    page.write(page.load(spec), [tmp_path / "out" / "p.md", tmp_path / "out" / "p.html"])
    text = (tmp_path / "out" / "p.md").read_text()
    assert text.startswith("# Tiny\n\nSome *words*.") and "| positive set | good | bad |" in text
    assert "| bad | good | 8 |" in text  # focus: bad is A in its pairs
    html = (tmp_path / "out" / "p.html").read_text()
    assert "<em>words</em>" in html and "<table>" in html and str(tmp_path) not in html


@pytest.mark.parametrize("body, message", [
    ('[[block]]\nkind = "pie"\n', "unknown block kind 'pie'"),
    ('[[block]]\nkind = "table"\nruns = ["missing.csv"]\n', "run table missing.csv not found"),
    ('[[block]]\nkind = "table"\nruns = ["runs.csv"]\ncolour = "red"\n', "unknown key(s) colour"),
    (VERDICT + '[[block.rows]]\ntarget = "x"\ncheck = ">"\n', "no `than`"),
    ('[[block]]\nkind = "verdict"\n[[block.rows]]\ntarget = "x"\nruns = ["gone.csv"]\npair = ["a", "b"]\n',
     "row 1: run table gone.csv not found"),
    ('[[block]]\nkind = "csv"\nfile = "gone.csv"\n', "no file gone.csv"),
    # a key of the wrong type: a string where a list is meant would be read letter by letter
    ('[[block]]\nruns = ["runs.csv"]\n', "block 2 (?): no `kind` given"),
    ('[[block]]\nkind = "table"\nruns = 5\n', "`runs` must be a run table, a run set's name or a list of them, not 5"),
    ('[[block]]\nkind = "table"\nruns = ["runs.csv"]\nmethods = "good"\n', "`methods` must be a list of method names, not 'good'"),
    ('[[block]]\nkind = "table"\nruns = ["runs.csv"]\nwhere = "x"\n', "`where` must be a table"),
    ('[[block]]\nkind = "timings"\nruns = ["runs.csv"]\nbudget = "abc"\n', "`budget` must be a number, not 'abc'"),
    ('[[block]]\nkind = "verdict"\nrows = "abc"\n', "`rows` must be [[block.rows]] tables"),
    (VERDICT + '[[block.rows]]\ntarget = "x"\nmethod = "good"\ncheck = "within"\nthan = 0.9\ntolerance = "abc"\n',
     "row 1: `tolerance` must be a number, not 'abc'"),
    ('[[block]]\nkind = "prose"\n', "a prose block needs `text` or `file`"),
])
def test_bad_specs_fail_with_one_line_before_any_work(tmp_path, body, message):
    run_table(tmp_path, "runs", {"good": GOOD, "bad": BAD})
    with pytest.raises(NovelbenchError) as err:
        page.load(write_spec(tmp_path, '[[block]]\nkind = "prose"\ntext = "first"\n' + body))
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("body, message", [
    ('title = 5\n[[block]]\nkind = "prose"\ntext = "x"\n', "page.toml: `title` must be text, not 5"),
    ('block = "oops"\n', "page.toml: `block` must be [[block]] tables, not 'oops'"),
    ('block = [1, 2]\n', "page.toml: `block` must be [[block]] tables, not [1, 2]"),
    ('runs = "runs.csv"\n[[block]]\nkind = "prose"\ntext = "x"\n', "the top-level `runs` must be a table of run sets"),
])
def test_bad_top_level_keys_fail_with_one_line(tmp_path, body, message):
    with pytest.raises(NovelbenchError) as err:
        page.load(write_spec(tmp_path, body))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_spec_that_is_not_utf8_is_one_line(tmp_path):
    spec = tmp_path / "page.toml"
    spec.write_bytes(b"\xff\xfetitle = 1\n")
    with pytest.raises(NovelbenchError, match="page spec .*page.toml is not UTF-8 text"):
        page.load(spec)


def test_an_out_under_a_file_fails_before_the_page_is_computed(tmp_path):
    (tmp_path / "afile").write_text("x")
    spec = page.load(write_spec(tmp_path, '[[block]]\nkind = "prose"\ntext = "x"\n'))
    with pytest.raises(NovelbenchError, match="afile is a file, not a folder"):
        page.write(spec, [tmp_path / "afile" / "p.md"])


def test_an_error_while_a_block_is_computed_names_the_block(tmp_path):
    run_table(tmp_path, "runs", {"a": GOOD})
    body = '[[block]]\nkind = "prose"\ntext = "x"\n[[block]]\nkind = "compare"\nruns = ["runs.csv"]\n'
    with pytest.raises(NovelbenchError, match=r"^page.toml: block 2 \(compare\): nothing to compare"):
        page.render_markdown(page.load(write_spec(tmp_path, body)), None)


def test_cli_page_error_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from novelbench.cli import app

    result = CliRunner().invoke(app, ["page", str(write_spec(tmp_path, '[[block]]\nkind = "pie"\n')), "--out",
                                      str(tmp_path / "p.md")])
    assert result.exit_code == 1 and "unknown block kind 'pie'" in result.output


def thread_tables(folder: Path) -> None:
    """t1.csv and t2.csv: the same trials with --threads 1 and 2; "wobbly" moves by 0.05, "steady" not at all.
    The threads-1 trials are those of ``run_table``'s runs.csv (the same ids), as a stability run makes them."""
    for threads, shift in ((1, 0.0), (2, 0.05)):
        path = run_table(folder, f"t{threads}", {"wobbly": [v + shift for v in BAD], "steady": GOOD})
        rows = pd.read_csv(path).assign(threads=threads)
        if threads == 2:
            rows["trial_id"] += "-t2"
        rows.to_csv(path, index=False)


def test_stability_block_and_unstable_methods_marked_in_tables(tmp_path):
    """A method whose trial moves by more than 0.03 between --threads 1 and 2 is flagged by the
    stability block and marked in the page's other tables; a stable one is not."""
    thread_tables(tmp_path)
    run_table(tmp_path, "runs", {"wobbly": BAD, "steady": GOOD})
    spec = write_spec(tmp_path, """
stability = ["t*.csv"]
[[block]]
kind = "stability"
pairs = true
[[block]]
kind = "per-class"
runs = ["runs.csv"]
[[block]]
kind = "summary"
runs = ["runs.csv"]
""")
    text = page.render_markdown(page.load(spec), None)
    assert "| wobbly | 8 | 0.050 | 0.050 | 8 | **yes** |" in text
    assert "| steady | 8 | 0.000 | 0.000 | 0 | no |" in text
    assert "| positive set | wobbly (unstable) | steady |" in text  # per-class columns
    assert "| wobbly (unstable) |" in text and "| steady (unstable)" not in text
    assert "moved by more than 0.03 between --threads 1 and --threads 2" in text
    with pytest.raises(NovelbenchError, match="names no `stability` runs"):
        page.load(write_spec(tmp_path, '[[block]]\nkind = "stability"\n'))


def test_an_older_run_under_an_unstable_name_is_not_marked(tmp_path):
    """Rows under an unstable method's name none of whose trials the stability runs measured (an
    earlier default's run: other trial ids) are not marked, beside the measured run's rows."""
    thread_tables(tmp_path)
    run_table(tmp_path, "runs", {"wobbly": BAD})
    older = pd.read_csv(run_table(tmp_path, "older", {"wobbly": GOOD}))
    older.assign(trial_id=older["trial_id"] + "-old").to_csv(tmp_path / "older.csv", index=False)
    spec = write_spec(tmp_path, """
stability = ["t*.csv"]
[[block]]
kind = "per-class"
runs = [{file = "runs.csv", suffix = " (new)"}, {file = "older.csv", suffix = " (old)"}]
[[block]]
kind = "summary"
runs = ["older.csv"]
[[block]]
kind = "compare"
runs = [{file = "runs.csv", suffix = " (new)"}, {file = "older.csv", suffix = " (old)"}]
pairs = [["wobbly (new)", "wobbly (old)"]]
""")
    text = page.render_markdown(page.load(spec), None)
    assert "| positive set | wobbly (new) (unstable) | wobbly (old) |" in text
    assert "| wobbly (new) (unstable) | wobbly (old) | 8 |" in text  # a comparison's A and B columns too
    assert "| wobbly |" in text and "wobbly (unstable) |" not in text.split("| wobbly (old) |")[1]


def test_verdict_rows_on_seed_spread_and_thread_change(tmp_path):
    """`seed_std`: the median over positive sets of the std over seeds; `thread_change`: the
    largest change of a trial between --threads 1 and 2. Both computed, met or not."""
    thread_tables(tmp_path)
    spec = write_spec(tmp_path, """
[[block]]
kind = "verdict"
runs = ["t*.csv"]
[[block.rows]]
target = "steady moves at most 0.03 between thread counts"
method = "steady"
stat = "thread_change"
check = "<="
than = 0.03
[[block.rows]]
target = "wobbly moves at most 0.03 between thread counts"
method = "wobbly"
stat = "thread_change"
check = "<="
than = 0.03
[[block.rows]]
target = "steady's median per-digit std over seeds at most 0.05"
runs = ["t1.csv"]
method = "steady"
stat = "seed_std"
check = "<="
than = 0.05
""")
    lines = page.render_markdown(page.load(spec), None).splitlines()[2:]
    assert lines[0].startswith("| steady moves") and "| 0.000 (8 trial pairs) |" in lines[0] and lines[0].endswith("| **met** |")
    assert "| 0.050 (8 trial pairs) |" in lines[1] and lines[1].endswith("| **not met** |")
    # GOOD by digit: (0.90, 0.93), (0.92, 0.96), (0.95, 0.94), (0.91, 0.97): stds 0.021, 0.028, 0.007, 0.042
    spread = np.median([np.std(p, ddof=1) for p in ((0.90, 0.93), (0.92, 0.96), (0.95, 0.94), (0.91, 0.97))])
    assert f"| {spread:.3f} (8 trials) |" in lines[2] and lines[2].endswith("| **met** |")


def test_verdict_row_correlates_per_class_means_with_a_cue(tmp_path):
    """`cue_r`: Pearson r, across positive sets, of a method's mean metric with a cue file's column
    (joined on `positives`); "within ±0.5 of 0" is met only for a cue the AUROCs do not follow."""
    run_table(tmp_path, "runs", {"good": GOOD})
    means = [np.mean(GOOD[d::4]) for d in range(4)]  # per positive set "d - d", over its 2 seeds
    other = [0.3, 0.9, 0.1, 0.7]
    pd.DataFrame({"positives": [f"{d} - d" for d in range(4)], "ink": [2 * m for m in means],
                  "other": other}).to_csv(tmp_path / "cues.csv", index=False)
    rows = "".join(f"""
[[block.rows]]
target = "{column}"
method = "good"
stat = "cue_r"
cue = {{file = "cues.csv", column = "{column}"}}
check = "within"
than = 0
tolerance = 0.5
""" for column in ("ink", "other"))
    lines = page.render_markdown(page.load(write_spec(tmp_path, VERDICT + rows)), None).splitlines()[2:]
    assert "| +1.00 (4 positive sets) | within ±0.5 of +0.00 |" in lines[0] and lines[0].endswith("| **not met** |")
    r = np.corrcoef(means, other)[0, 1]
    assert abs(r) <= 0.5 and f"| {r:+.2f} (4 positive sets) |" in lines[1] and lines[1].endswith("| **met** |")
    with pytest.raises(NovelbenchError, match="has no 'edges' column"):
        page.load(write_spec(tmp_path, VERDICT + rows.replace('column = "other"', 'column = "edges"')))
    with pytest.raises(NovelbenchError, match='"cue_r" and `cue` go together'):
        page.load(write_spec(tmp_path, VERDICT + rows.replace('stat = "cue_r"\n', "", 1)))
