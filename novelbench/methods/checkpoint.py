"""Checkpoints inside one trial: a long fit that is interrupted resumes where it stopped.

A trial of hours (``geom-paper`` on a CPU) must not start over because a laptop slept or a
session ended. Trial-level resume (``bench run`` skips finished trials) cannot help there, so
the runner opens a checkpoint folder around a trial of a method that declares
``resumable = True`` (``open_session``). Inside it, ``training.train_module`` saves its whole
state at most every ``every`` seconds: the module's and optimizer's state, the learning-rate
schedule, where it is (epoch, next batch, that epoch's shuffle order, the loss so far) and every
random number generator. A method may also keep the results of long deterministic steps after
training (``cached``: GEOM's per-transformation Dirichlet fits and score terms). A re-run of
the same trial (same id, so the same code and options) replays ``fit`` from the start: the code
before a training loop is deterministic given the trial's seed, so the k-th training loop of the
replay is the k-th of the interrupted run, and it loads its saved state instead of recomputing
it. The result is bit-identical to an uninterrupted run (``tests/test_checkpoint.py``).

A hand-written loop (G2D's WGAN-GP) keeps its state the same way through ``step_saver``.
A method may declare ``resumable`` when everything its ``fit`` computes outside these loops
is a deterministic function of the seed, the data and the modules' weights.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from novelbench.errors import NovelbenchError


class CheckpointError(NovelbenchError):
    """A checkpoint that cannot be used (unreadable, or written by another training loop)."""


_SESSION: contextvars.ContextVar["Session | None"] = contextvars.ContextVar("novelbench_checkpoint", default=None)


def rng_state() -> dict[str, Any]:
    """Every generator a method may draw from: Python's, numpy's global one, torch's (CPU and CUDA)."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None:
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class Session:
    """The checkpoints of one trial: ``folder`` holds one file per training loop (``train-<k>.pt``)."""

    folder: Path
    every: float  # seconds between saves, at most one save per interval
    recovered_seconds: float = 0.0  # fit time the loaded checkpoints stand for
    broken: bool = False  # a checkpoint could not be used: the runner deletes the folder, the next run starts over
    _loops: int = 0
    _last_save: float = field(default_factory=time.monotonic)
    _opened: float = field(default_factory=time.monotonic)

    def next_key(self) -> str:
        """The name of the next training loop of this fit (``train-0``, ``train-1``, ...)."""
        key = f"train-{self._loops}"
        self._loops += 1
        return key

    def due(self) -> bool:
        return time.monotonic() - self._last_save >= self.every

    def long(self) -> bool:
        """The trial has run ``every`` seconds: from now on results worth keeping are kept."""
        return time.monotonic() - self._opened >= self.every

    def save(self, key: str, state: dict[str, Any], progress: str = "") -> None:
        """Write ``state`` (plus the generators' state now) atomically: a kill mid-write leaves the
        old file. A save that fails (a full disk) is a warning, never the end of a long trial.
        ``progress`` (one line) goes to ``progress.txt`` beside it, for a person watching a long trial."""
        path = self.folder / f"{key}.pt"
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            torch.save({**state, "rng": rng_state()}, tmp)
            os.replace(tmp, path)
            if progress:
                (self.folder / "progress.txt").write_text(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {key}: {progress}\n")
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            warnings.warn(f"could not save checkpoint {path} ({exc}); training goes on without it")
        self._last_save = time.monotonic()

    def load(self, key: str, fingerprint: dict[str, Any], fit_time: bool = True) -> dict[str, Any] | None:
        """The saved state ``key`` (generators restored), or None if there is none. ``fingerprint``
        describes what saved it (a loop's data size, batch, epochs, parameter shapes); a file written
        by something else is an error, never silently mixed in. ``fit_time``: the seconds it stands
        for count toward the trial's fit time."""
        path = self.folder / f"{key}.pt"
        if not path.exists():
            return None
        try:  # our own file in the run's folder; it holds an optimizer's and scheduler's state (not only tensors)
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:
            self.broken = True
            raise CheckpointError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); it is deleted, "
                                  "and the next run starts this trial over") from None
        if not isinstance(state, dict) or state.get("fingerprint") != fingerprint:
            self.broken = True
            raise CheckpointError(f"checkpoint {path} was written by another training loop; it is deleted, and the "
                                  "next run starts this trial over")
        set_rng_state(state["rng"])
        if fit_time:
            self.recovered_seconds += state["seconds"]
        return state


def current() -> Session | None:
    """The checkpoint session of the running trial, if its runner opened one."""
    return _SESSION.get()


def cached(key: str, fingerprint: dict[str, Any], compute: Callable[[], Any], fit_time: bool = True) -> Any:
    """``compute()``, the result of a deterministic step (GEOM's Dirichlet fit or score term of one
    transformation), kept under ``key`` once the trial has run ``every`` seconds and loaded instead
    of recomputed by a re-run. Outside a checkpoint session: just ``compute()``. ``fit_time``: the
    step belongs to ``fit`` (its saved seconds count toward the trial's fit time on a resume)."""
    session = current()
    if session is None:
        return compute()
    saved = session.load(key, fingerprint, fit_time)
    if saved is not None:
        return saved["value"]
    started = time.monotonic()
    value = compute()
    if session.long():
        session.save(key, {"fingerprint": fingerprint, "value": value, "seconds": time.monotonic() - started})
    return value


def _time_to_go(seconds: float, done: float) -> str:
    """"after N min, about M min to go" for a loop ``done`` (0-1) of the way after ``seconds``."""
    return f"after {seconds / 60:.0f} min, about {seconds * (1 - done) / max(done, 1e-9) / 60:.0f} min to go"


@dataclass
class LoopSaver:
    """Saves and restores one ``train_module`` loop: its module, optimizer, schedule and position."""

    session: Session
    key: str
    module: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any  # an lr scheduler, or None
    fingerprint: dict[str, Any]
    started: float = field(default_factory=time.monotonic)  # when the loop started, counting the saved time

    def restore(self, device: torch.device) -> tuple[int, int, torch.Tensor | None, float, list[float]]:
        """(epoch, next batch start, that epoch's order, its loss so far, past epochs' losses): the
        saved position with the saved weights, optimizer, schedule and generators in place, or the
        start of the loop when nothing was saved."""
        saved = self.session.load(self.key, self.fingerprint)
        if saved is None:
            return 0, 0, None, 0.0, []
        self.started -= saved["seconds"]
        self.module.load_state_dict(saved["module"])
        self.optimizer.load_state_dict(saved["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(saved["scheduler"])
        order = None if saved["order"] is None else saved["order"].to(device)
        return saved["epoch"], saved["start"], order, saved["total"], saved["history"]

    def due(self) -> bool:
        return self.session.due()

    def save(self, epoch: int, start: int, order: torch.Tensor | None, total: float, history: list[float]) -> None:
        seconds = time.monotonic() - self.started
        n, epochs = self.fingerprint["n"], self.fingerprint["epochs"]
        done = min(1.0, (epoch + min(start, n) / n) / epochs)
        progress = (f"epoch {epoch + 1} of {epochs}, {min(start, n):,} of {n:,} samples; "
                    f"{done:.1%} of training {_time_to_go(seconds, done)}"
                    if epoch < epochs else f"training done ({epochs} epochs) after {seconds / 60:.0f} min")
        self.session.save(self.key, {
            "fingerprint": self.fingerprint, "module": self.module.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None, "epoch": epoch,
            "start": start, "order": order, "total": total, "history": list(history), "seconds": seconds}, progress)


def loop_saver(module: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
               fingerprint: dict[str, Any]) -> LoopSaver | None:
    """The saver of the next training loop of the running trial (None outside a checkpoint
    session). ``fingerprint`` (data size, batch, epochs ...; the parameter shapes are added)
    must match the saved loop's."""
    session = current()
    if session is None:
        return None
    fingerprint = {**fingerprint, "shapes": [tuple(p.shape) for p in module.parameters()]}
    return LoopSaver(session, session.next_key(), module, optimizer, scheduler, fingerprint)


@dataclass
class StepSaver:
    """Saves and restores a hand-written training loop that counts steps (G2D's WGAN-GP: critic and
    generator updates in turn): its modules, their optimizers, the steps done and whatever else
    the loop carries from step to step (``extra``: its batch order, kept snapshots, loss history)."""

    session: Session
    key: str
    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    fingerprint: dict[str, Any]
    steps: int  # the loop's length
    unit: str  # what one step is, for the progress line ("generator iteration")
    started: float = field(default_factory=time.monotonic)  # when the loop started, counting the saved time

    def restore(self) -> tuple[int, Any]:
        """(steps done, ``extra``) with the saved weights, optimizers and generators in place, or
        (0, None) when nothing was saved."""
        saved = self.session.load(self.key, self.fingerprint)
        if saved is None:
            return 0, None
        self.started -= saved["seconds"]
        for name, module in self.modules.items():
            module.load_state_dict(saved["modules"][name])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(saved["optimizers"][name])
        return saved["step"], saved["extra"]

    def due(self) -> bool:
        return self.session.due()

    def save(self, step: int, extra: Any) -> None:
        seconds = time.monotonic() - self.started
        done = step / self.steps
        progress = f"{self.unit} {step:,} of {self.steps:,}; {done:.1%} of this loop {_time_to_go(seconds, done)}"
        self.session.save(self.key, {
            "fingerprint": self.fingerprint, "step": step, "extra": extra, "seconds": seconds,
            "modules": {name: m.state_dict() for name, m in self.modules.items()},
            "optimizers": {name: o.state_dict() for name, o in self.optimizers.items()}}, progress)


def step_saver(modules: dict[str, torch.nn.Module], optimizers: dict[str, torch.optim.Optimizer], steps: int, unit: str,
               fingerprint: dict[str, Any]) -> StepSaver | None:
    """The saver of the next training loop of the running trial when that loop is hand-written
    (None outside a checkpoint session). The modules' parameter shapes join ``fingerprint``."""
    session = current()
    if session is None:
        return None
    shapes = {name: [tuple(p.shape) for p in m.parameters()] for name, m in modules.items()}
    fingerprint = {**fingerprint, "steps": steps, "shapes": shapes}
    return StepSaver(session, session.next_key(), modules, optimizers, fingerprint, steps, unit)


@contextlib.contextmanager
def open_session(folder: str | Path, every: float) -> Iterator[Session]:
    """Checkpoints for the trial run inside the block, in ``folder`` (saved at most every ``every`` seconds)."""
    session = Session(Path(folder), every)
    token = _SESSION.set(session)
    try:
        yield session
    finally:
        _SESSION.reset(token)
