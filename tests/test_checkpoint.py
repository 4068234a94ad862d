"""Checkpoints inside a trial: an interrupted long fit resumes to exactly the uninterrupted result."""

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from novelbench.benchmark import runner
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.store import ResultStore
from novelbench.errors import NovelbenchError
from novelbench.methods import checkpoint
from novelbench.methods.training import train_module
from novelbench.registry import METHODS

VOLATILE = ["timestamp", "fit_seconds", "score_seconds", "run_id"]


class Killed(BaseException):
    """Stands in for the process being killed right after a checkpoint was written."""


def kill_after(monkeypatch, saves: int) -> list[int]:
    """Make the ``saves``-th checkpoint save (counted over the test) kill the run once it is written."""
    count = [0]
    real_save = checkpoint.Session.save

    def save(self, key, state, progress=""):
        real_save(self, key, state, progress)
        count[0] += 1
        if count[0] == saves:
            raise Killed

    monkeypatch.setattr(checkpoint.Session, "save", save)
    return count


def record_loads(monkeypatch) -> list[tuple[str, dict | None]]:
    """Every (key, loaded state or None) of ``Session.load`` from now on."""
    loaded, real_load = [], checkpoint.Session.load

    def load(self, key, *args):
        loaded.append((key, real_load(self, key, *args)))
        return loaded[-1][1]

    monkeypatch.setattr(checkpoint.Session, "load", load)
    return loaded


def fit_tiny(folder=None, every=0.0):
    """Two training loops in one fit (as crbnd's and deep-svdd's), with dropout (draws from torch's
    generator inside the loss), an lr milestone and a last batch shorter than the others."""
    torch.manual_seed(0)
    x = torch.randn(50, 6)
    y = (x[:, 0] > 0).float()
    first = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))
    second = nn.Linear(6, 1)
    kw = dict(epochs=3, lr=1e-2, batch_size=16, device=torch.device("cpu"), lr_milestones=(2,))

    def run():
        h1 = train_module(first, (x, y), lambda a, b: F.binary_cross_entropy_with_logits(first(a).squeeze(1), b), **kw)
        noise = torch.rand(())  # the generator between two loops must be where the uninterrupted run had it
        h2 = train_module(second, (x + noise, y), lambda a, b: F.mse_loss(second(a).squeeze(1), b), **kw)
        return h1 + h2, [p.detach().clone() for p in [*first.parameters(), *second.parameters()]], torch.rand(3)

    if folder is None:
        return run()
    with checkpoint.open_session(folder, every) as session:
        return (*run(), session)


@pytest.mark.parametrize("kill_at", [1, 3, 4, 8, 9, 16])  # mid-epoch, an epoch's last batch, the end of loop 1, loop 2
def test_resumed_training_is_bit_identical_to_uninterrupted(tmp_path, monkeypatch, kill_at):
    history, weights, after = fit_tiny()
    kill_after(monkeypatch, kill_at)
    with pytest.raises(Killed):
        fit_tiny(tmp_path)
    assert list(tmp_path.glob("train-*.pt"))
    assert "of training after" in (tmp_path / "progress.txt").read_text()
    monkeypatch.undo()
    resumed_history, resumed_weights, resumed_after, session = fit_tiny(tmp_path)
    assert resumed_history == history
    assert all(torch.equal(a, b) for a, b in zip(resumed_weights, weights))
    assert torch.equal(resumed_after, after)  # the generators too
    assert session.recovered_seconds > 0


def test_no_session_no_files_and_due_limits_saves(tmp_path):
    history, _, _ = fit_tiny()
    assert fit_tiny(tmp_path, every=3600)[0] == history  # never due: nothing saved, same numbers
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


def test_a_checkpoint_of_another_loop_is_an_error_not_mixed_in(tmp_path):
    fit_tiny(tmp_path)
    torch.manual_seed(0)
    with checkpoint.open_session(tmp_path, 0.0), pytest.raises(NovelbenchError, match="another training loop"):
        other = nn.Linear(6, 2)  # other parameter shapes than the saved loop's
        train_module(other, (torch.randn(50, 6),), lambda a: other(a).pow(2).mean(), epochs=3, lr=1e-2, batch_size=16,
                     device=torch.device("cpu"))


def _trials(tmp_path, method="geom", every=0.0):
    params = [f"{method}.{k}={v!r}".replace(" ", "").replace("'", "") for k, v in METHODS.get(method).test_params.items()]
    return plan_trials([method], params, "mnist", {"outlier_pcts": [10, 50]}, "synthetic",
                       {"data_root": None, "download": False, "image_size": None}, [0], "cpu",
                       checkpoint_dir=str(tmp_path / "checkpoints"), checkpoint_every=every)[0][:1]


RESUMABLE = [m for m in METHODS.names() if getattr(METHODS.plugin(m).cls, "resumable", False) and not METHODS.plugin(m).preset_module]


def test_the_resumable_methods_are_the_ones_documented():
    assert RESUMABLE == ["ae", "crbnd", "g2d", "geom"]


@pytest.mark.parametrize("method", RESUMABLE)
def test_an_interrupted_trial_resumes_to_the_uninterrupted_rows(tmp_path, monkeypatch, method):
    """Through the runner: killed after its 5th save, the re-run resumes from the checkpoint (it
    does not start over), gives exactly the uninterrupted rows and removes the checkpoint folder."""
    (trial,) = _trials(tmp_path, method)
    full = runner.run_trials([trial], ResultStore(tmp_path / "full")).table
    assert not (tmp_path / "checkpoints").exists()  # the finished trial's folder is gone

    count = kill_after(monkeypatch, 5)
    store = ResultStore(tmp_path / "resumed")
    with pytest.raises(Killed):
        runner.run_trials([trial], store)
    assert list((tmp_path / "checkpoints" / trial.trial_id).glob("train-*.pt"))
    count[0] = -10**6  # no more kills
    loaded = record_loads(monkeypatch)
    result = runner.run_trials([trial], store)
    assert any(state is not None for _, state in loaded)  # it resumed from the saved state, it did not start over
    pd.testing.assert_frame_equal(result.table.drop(columns=VOLATILE), full.drop(columns=VOLATILE))
    assert not (tmp_path / "checkpoints" / trial.trial_id).exists()


# mid-WGAN-GP, its last generator iteration, the first classifier's loop, the second's
G2D_KILLS = {3: ["train-0"], 10: ["train-0"], 13: ["train-0", "train-1"], 50: ["train-0", "train-1", "train-2"]}


@pytest.mark.parametrize("kill_at", G2D_KILLS)
def test_g2d_killed_anywhere_resumes_to_the_uninterrupted_rows(tmp_path, monkeypatch, kill_at):
    """G2D's hand-written WGAN-GP loop (10 generator iterations in its test parameters, saved at
    each) keeps its batch order, history and generator snapshots; its classifiers (two in its test
    parameters), each a loop of its own, follow it."""
    (trial,) = _trials(tmp_path, "g2d")
    full = runner.run_trials([trial], ResultStore(tmp_path / "full")).table
    count = kill_after(monkeypatch, kill_at)
    store = ResultStore(tmp_path / "resumed")
    with pytest.raises(Killed):
        runner.run_trials([trial], store)
    progress = (tmp_path / "checkpoints" / trial.trial_id / "progress.txt").read_text()
    assert ("generator iteration" in progress) == (kill_at <= 10)
    count[0] = -10**6
    loaded = record_loads(monkeypatch)
    result = runner.run_trials([trial], store)
    assert [key for key, state in loaded if state is not None] == G2D_KILLS[kill_at]
    pd.testing.assert_frame_equal(result.table.drop(columns=VOLATILE), full.drop(columns=VOLATILE))


def test_checkpoints_change_no_trial_id_and_skip_methods_not_resumable(tmp_path):
    (with_checkpoints,) = _trials(tmp_path)
    (without,) = _trials(tmp_path / "elsewhere", every=600.0)
    assert with_checkpoints.trial_id == without.trial_id
    (trial,) = _trials(tmp_path, "deep-svdd")
    runner.run_trials([trial], ResultStore(tmp_path / "svdd"))
    assert not (tmp_path / "checkpoints").exists()  # deep-svdd does not declare itself resumable


def test_cli_checkpoint_minutes(tmp_path):
    from typer.testing import CliRunner

    from novelbench.cli import app

    geom = [a for k, v in METHODS.get("geom").test_params.items() for a in ("-p", f"geom.{k}={v!r}".replace(" ", "").replace("'", ""))]
    base = ["run", "-m", "geom", *geom, "--dataset", "synthetic", "--classes", "ring", "--outlier-pcts", "10"]
    result = CliRunner().invoke(app, [*base, "--checkpoint-minutes", "0.0001", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "results.csv").exists() and not (tmp_path / "run" / "checkpoints").exists()
    bad = CliRunner().invoke(app, [*base, "--checkpoint-minutes", "-1", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "checkpoint-minutes" in bad.output


def test_an_unreadable_checkpoint_fails_the_trial_once_then_it_starts_over(tmp_path, monkeypatch):
    (trial,) = _trials(tmp_path)
    full = runner.run_trials([trial], ResultStore(tmp_path / "full")).table
    kill_after(monkeypatch, 2)
    store = ResultStore(tmp_path / "resumed")
    with pytest.raises(Killed):
        runner.run_trials([trial], store)
    monkeypatch.undo()
    saved = tmp_path / "checkpoints" / trial.trial_id / "train-0.pt"
    saved.write_bytes(saved.read_bytes()[:100])  # truncated
    failed = runner.run_trials([trial], store).table
    assert (failed["status"] == "failed").all() and failed["error"].str.contains("cannot be read").all()
    assert not saved.parent.exists()  # deleted: the retry starts over instead of failing forever
    again = runner.run_trials([trial], store).table
    pd.testing.assert_frame_equal(again.drop(columns=VOLATILE), full.drop(columns=VOLATILE))


def test_a_failed_save_is_a_warning_and_training_goes_on(tmp_path, monkeypatch):
    history, weights, _ = fit_tiny()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", full_disk)
    with pytest.warns(UserWarning, match="No space left on device"):
        got_history, got_weights, _, _ = fit_tiny(tmp_path)
    assert got_history == history and all(torch.equal(a, b) for a, b in zip(got_weights, weights))
    assert not list(tmp_path.glob("**/*.tmp"))


def test_a_failed_trial_keeps_its_checkpoints_for_the_retry(tmp_path, monkeypatch):
    (trial,) = _trials(tmp_path)

    def boom(*args, **kwargs):
        raise MemoryError("out of memory after training")

    monkeypatch.setattr("novelbench.methods.geom.fit_dirichlet", boom)
    failed = runner.run_trials([trial], ResultStore(tmp_path / "run")).table
    assert (failed["status"] == "failed").all()
    assert (tmp_path / "checkpoints" / trial.trial_id / "train-0.pt").exists()
    monkeypatch.undo()
    assert (runner.run_trials([trial], ResultStore(tmp_path / "run")).table["status"] == "ok").all()
    assert not (tmp_path / "checkpoints").exists()


def test_geom_killed_while_scoring_resumes_from_its_kept_score_terms(tmp_path, monkeypatch):
    (trial,) = _trials(tmp_path)
    count = kill_after(monkeypatch, 10**6)  # count the saves of a whole trial
    full = runner.run_trials([trial], ResultStore(tmp_path / "full")).table
    total = count[0]
    monkeypatch.undo()
    kill_after(monkeypatch, total - 3)  # a few transformations before the end of scoring
    store = ResultStore(tmp_path / "resumed")
    with pytest.raises(Killed):
        runner.run_trials([trial], store)
    kept = {p.name for p in (tmp_path / "checkpoints" / trial.trial_id).iterdir()}
    assert any(k.startswith("geom-dirichlet-") for k in kept) and any(k.startswith("geom-normality-") for k in kept)
    monkeypatch.undo()
    loaded = record_loads(monkeypatch)
    result = runner.run_trials([trial], store)
    assert any(key.startswith("geom-normality-") and state is not None for key, state in loaded)
    pd.testing.assert_frame_equal(result.table.drop(columns=VOLATILE), full.drop(columns=VOLATILE))
