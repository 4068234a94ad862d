"""One file per plugin, for every kind: the README's example method, dataset and protocol, each a
single file in a third-party package, found through entry points (or a dotted path) and run end
to end through `bench run` with no other edit; the README shows exactly these files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import PLUGINS_DIR

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = {"method": "mean_distance.py", "dataset": "npz_arrays.py", "protocol": "leave_one_out.py"}
ENTRY_POINTS = """[novelbench.methods]
mean-distance = nbplugins.mean_distance:MeanDistance

[novelbench.datasets]
npz-arrays = nbplugins.npz_arrays:NpzArrays

[novelbench.protocols]
leave-one-out = nbplugins.leave_one_out:LeaveOneOut
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The example package as if pip-installed: the code plus a dist-info with entry points."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(PLUGINS_DIR / "nbplugins", site / "nbplugins")
    info = site / "nbplugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nbplugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    data = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    # three classes of 12x12 images: a bright top half, a bright left half, noise
    def images(n, kind):
        x = rng.integers(0, 40, (n, 12, 12))
        if kind == 0:
            x[:, :6] += 200
        elif kind == 1:
            x[:, :, :6] += 200
        else:
            x = rng.integers(0, 255, (n, 12, 12))
        return x.astype(np.uint8)

    arrays = {}
    for split, n in (("train", 30), ("test", 15)):
        arrays[f"x_{split}"] = np.concatenate([images(n, k) for k in range(3)])
        arrays[f"y_{split}"] = np.repeat(np.arange(3), n)
    np.savez(data / "arrays.npz", **arrays)
    return site, data


def bench(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    # the package on PYTHONPATH only: exactly what `pip install` of a third-party package gives
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    return subprocess.run([sys.executable, "-m", "novelbench", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_list_shows_each_plugin_kind_with_its_options(installed, tmp_path):
    site, _ = installed
    result = bench(site, "list", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["methods"]["mean-distance"]["params"] == {"power": "2.0"}
    assert "npz-arrays" in info["datasets"]
    protocol = info["protocols"]["leave-one-out"]
    assert protocol["default_dataset"] == "digits"
    assert protocol["options"]["--train-share"]["default"] == "1.0"


def test_plugins_run_end_to_end_through_bench_run(installed, tmp_path):
    site, data = installed
    args = ["run", "-m", "mean-distance", "--param", "mean-distance.power=1", "--protocol", "leave-one-out",
            "--dataset", "npz-arrays", "--data-root", str(data), "--train-share", "0.5", "--out", str(tmp_path / "out"), "--json"]
    result = bench(site, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert {r["group"] for r in summary} == {"out=0", "out=1", "out=2"}
    assert all(r["mix"] == "pool" for r in summary)
    by_group = {r["group"]: r["auroc_mean"] for r in summary}
    assert by_group["out=2"] > 0.9  # noise is far from both structured classes
    # the protocol's option reached it: half the inlier training images
    table = __import__("pandas").read_parquet(tmp_path / "out" / "results.parquet")
    assert set(table["n_train"]) == {30}
    # and its layout drives `bench table`, with no report code knowing the protocol
    shown = bench(site, "table", str(tmp_path / "out"), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "AUROC and F1 per left-out class" in shown.stdout and "out=1 AUROC" in shown.stdout
    # a protocol option the protocol does not declare is one clear line
    wrong = bench(site, *args[:-1], "--repeats", "3", cwd=tmp_path)
    assert wrong.returncode == 1 and "--repeats belongs to the caltech protocol, not leave-one-out" in " ".join(wrong.stderr.split())


def test_a_method_file_also_runs_by_dotted_path(tmp_path):
    from typer.testing import CliRunner

    from novelbench.cli import app

    result = CliRunner().invoke(app, ["run", "--method", "nbplugins.mean_distance:MeanDistance", "--param",
                                      "nbplugins.mean_distance:MeanDistance.power=1", "--dataset", "synthetic",
                                      "--classes", "hbar", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    pool = [r for r in json.loads(result.stdout)["summary"] if r["mix"] == "pool"][0]
    assert pool["auroc_mean"] > 0.9


def test_a_method_file_in_the_current_folder_runs_by_path_from_the_bench_script(tmp_path):
    """The `bench` script's import path holds its own folder, not the current one; a path whose
    module is not found is looked up in the current folder too, and spawned workers inherit that."""
    here, launcher = tmp_path / "project", tmp_path / "bin"
    here.mkdir(), launcher.mkdir()
    shutil.copy(PLUGINS_DIR / "nbplugins" / EXAMPLES["method"], here / "my_method.py")
    (launcher / "bench.py").write_text("import sys\nfrom novelbench.__main__ import main\n\n"
                                       "if __name__ == '__main__':\n    sys.exit(main())\n")  # as pip writes it
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["run", "--method", "my_method:MeanDistance", "--dataset", "synthetic", "--classes", "hbar,ring",
            "--jobs", "2", "--out", str(tmp_path / "out"), "--json"]
    done = subprocess.run([sys.executable, str(launcher / "bench.py"), *args], env=env, cwd=here, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert {r["mix"] for r in json.loads(done.stdout)["summary"]} >= {"pool"}
    missing = subprocess.run([sys.executable, str(launcher / "bench.py"), *args[:2], "no_such_file:Thing", *args[3:]],
                             env=env, cwd=here, capture_output=True, text=True, timeout=600)
    assert missing.returncode == 1 and "cannot import method 'no_such_file:Thing'" in missing.stderr


def test_builtin_plugins_are_found_by_walking_their_packages():
    """No import list to edit: the packages' __init__ files import nothing."""
    for package in ("methods", "datasets", "benchmark/protocols", "benchmark/executors"):
        init = (REPO / "novelbench" / package / "__init__.py").read_text()
        assert "import" not in init, f"{package}/__init__.py should not list plugins"


def test_readme_shows_the_tested_example_files_verbatim():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    for kind, filename in EXAMPLES.items():
        source = (PLUGINS_DIR / "nbplugins" / filename).read_text()
        assert source in blocks, f"README's {kind} example differs from tests/plugins/nbplugins/{filename}"
        assert len(source.splitlines()) <= 30


def test_no_subpackage_imports_up_into_the_harness():
    """The registry is the bottom layer: methods and datasets never import novelbench.benchmark or
    the CLI, and the registry imports nothing of the package but the error type."""
    for package in ("methods", "datasets"):
        for path in (REPO / "novelbench" / package).glob("*.py"):
            text = path.read_text()
            assert "novelbench.benchmark" not in text and "novelbench.cli" not in text, path
    registry = (REPO / "novelbench" / "registry.py").read_text()
    assert re.findall(r"^from novelbench[.\w]* import .*$", registry, flags=re.M) == ["from novelbench.errors import NovelbenchError"]
