"""The one training loop and batched inference every deep method shares (pyod-style template).

Randomness (shuffling, augmentations) comes from torch's global generator, which the harness
seeds before ``fit``. On CUDA, training forward passes run under bfloat16 autocast (mixed
precision); inference (``apply_batched``) always runs in float32, so final scores of a large
test pool never collapse into bfloat16 ties. ``precision`` names this for trial identity.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Callable

import numpy as np
import torch
from torch import nn

from novelbench.methods import checkpoint


def autocast(device: torch.device):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def precision(device: torch.device | str) -> str:
    """The numeric precision trials on ``device`` train with (part of a trial's identity)."""
    return "bf16-autocast" if torch.device(device).type == "cuda" else "fp32"


def train_module(
    module: nn.Module,
    tensors: tuple[torch.Tensor, ...],
    loss_fn: Callable[..., torch.Tensor],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    device: torch.device,
    weight_decay: float = 0.0,
    min_steps: int = 0,
    lr_milestones: tuple[int, ...] = (),
    lr_gamma: float = 0.1,
) -> list[float]:
    """Adam over shuffled mini-batches of ``tensors`` (same first dimension); ``loss_fn(*batch)``.

    Trains ``epochs`` epochs, or more if that is needed for ``min_steps`` optimizer steps: on a
    small training set (a Caltech category has 30-150 images) a few epochs are only a handful of
    steps, far too few to fit anything. The learning rate is multiplied by ``lr_gamma`` at each
    epoch in ``lr_milestones``. Returns the mean loss of each epoch. Inside a trial's checkpoint
    session (``checkpoint.py``) the loop saves its state now and then and resumes from it.
    """
    module.to(device).train()
    data = tuple(t.to(device) for t in tensors)
    n = data[0].shape[0]
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(lr_milestones), lr_gamma) if lr_milestones else None
    steps_per_epoch = math.ceil(n / batch_size)
    n_epochs = max(epochs, math.ceil(min_steps / steps_per_epoch))
    # where the loop is: epoch, next batch start, that epoch's order (None: draw it), its loss so far, losses of past epochs
    saver = checkpoint.loop_saver(module, optimizer, scheduler, {"n": n, "batch_size": batch_size, "epochs": n_epochs, "lr": lr})
    epoch0, start0, order, total, history = saver.restore(device) if saver else (0, 0, None, 0.0, [])
    for epoch in range(epoch0, n_epochs):
        if order is None:
            order, total, start0 = torch.randperm(n).to(device), 0.0, 0
        for start in range(start0, n, batch_size):
            idx = order[start : start + batch_size]
            with autocast(device):
                loss = loss_fn(*(t[idx] for t in data))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            if saver and saver.due():
                saver.save(epoch, start + batch_size, order, total, history)
        history.append(total / n)
        if scheduler is not None:
            with warnings.catch_warnings():  # a loop resumed at an epoch's end steps the schedule before its first optimizer step
                warnings.filterwarnings("ignore", message=re.escape("Detected call of `lr_scheduler.step()` before"))
                scheduler.step()
        order = None
    if saver and saver.due():
        saver.save(n_epochs, 0, None, 0.0, history)
    module.eval()
    return history


@torch.no_grad()
def apply_batched(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch_size: int, device: torch.device) -> torch.Tensor:
    """``fn`` over ``images`` in batches on ``device``, in float32 (no autocast: these are the
    numbers scores are made of); results concatenated on the CPU."""
    out = []
    for start in range(0, images.shape[0], batch_size):
        out.append(fn(images[start : start + batch_size].to(device).float()).float().cpu())
    return torch.cat(out) if out else torch.zeros(0)


def reconstruction_error(autoencoder: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device) -> np.ndarray:
    """Per-image mean squared error between images and their reconstructions (float32)."""
    return apply_batched(lambda x: (autoencoder(x) - x).pow(2).flatten(1).mean(1), images, batch_size, device).numpy()
