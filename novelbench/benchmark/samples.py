"""The paper's Figure 4 for any method: test inliers and outliers of one trial, each shown as the
original image, the images the method derives from it (``Detector.image_panels``: crbnd gives
the reconstruction and the connective image, ae the reconstruction) and its score.

The model is the one a run with ``--keep-models`` saved for the same trial (``OUT/models/
<trial_id>.pt``), or is trained here through the same code path as a run trial (same split,
seeding and thread pinning), so the figure shows exactly the model a run measures.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.execution import execute, model_path, to_float
from novelbench.benchmark.identity import Trial
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.rows import describe_exception
from novelbench.benchmark.seeding import pinned_threads
from novelbench.errors import NovelbenchError
from novelbench.registry import PROTOCOLS


def plan_one(method: str, param_specs: list[str], protocol: str, protocol_params: dict[str, Any], dataset: str,
             dataset_params: dict[str, Any], seed: int, device: str, threads: int, repeat: int = 0) -> Trial:
    """The single trial these options select (one setting, one positive set); else a clear error."""
    trials, _ = plan_trials([method], param_specs, protocol, protocol_params, dataset, dataset_params, [seed], device, threads)
    labels = list(dict.fromkeys(t.label for t in trials))
    if len(labels) > 1:
        raise NovelbenchError(f"--param expands to {len(labels)} settings ({', '.join(labels)}); give one value per parameter")
    chosen = [t for t in trials if t.setting.repeat == repeat]
    if len(chosen) != 1:
        sets = ", ".join(f"{'+'.join(t.setting.positives)} (repeat {t.setting.repeat})" for t in (chosen or trials)[:8])
        selecting = ", ".join(o.flag for o in getattr(PROTOCOLS.get(protocol), "options", ()) if o.selects)
        raise NovelbenchError(f"these options select {len(chosen)} positive sets with repeat {repeat}"
                              f"{': ' + sets if sets else ''}; choose one with {selecting or 'the protocol options'}"
                              f"{' and --repeat' if any(t.setting.repeat for t in trials) or repeat else ''}")
    return chosen[0]


def _load(path: Path):
    try:
        model = torch.load(path, map_location=None if torch.cuda.is_available() else "cpu", weights_only=False)
    except Exception as exc:  # truncated, empty, or another kind of file
        raise NovelbenchError(f"{path} is not a readable saved model ({type(exc).__name__}: {str(exc)[:160]}); "
                              f"delete it to train the model here, or re-run the trial with --keep-models") from None
    device = getattr(model, "device_", None)
    if isinstance(device, torch.device) and device.type == "cuda" and not torch.cuda.is_available():
        model.device_ = torch.device("cpu")  # saved on a GPU machine, drawn on a CPU one
    return model


def fitted_model(trial: Trial, models: Path | None) -> tuple[Any, str]:
    """The trial's fitted method and where it came from. Looks in ``models`` (a run folder or its
    ``models/`` folder) for the trial's saved model; trains it otherwise, saving it there."""
    if models is not None:
        for folder in (models / "models", models):
            path = model_path(folder, trial.trial_id)
            if path.exists():
                return _load(path), f"reused {path}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = (models / "models") if models is not None else Path(tmp)
        try:
            execute(dataclasses.replace(trial, model_dir=str(folder)))
        except (Exception, SystemExit) as exc:  # the trial fails here as it would in a run: one line
            raise NovelbenchError(f"training {trial.describe()} failed: {describe_exception(exc)}") from None
        path = model_path(folder, trial.trial_id)
        return _load(path), (f"trained, saved to {path}" if models is not None else "trained")


def _spread(index: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices drawn round-robin over the labels present (shuffled), so outliers cover classes."""
    by_label = [rng.permutation(index[labels[index] == lab]).tolist() for lab in rng.permutation(np.unique(labels[index]))]
    out: list[int] = []
    while len(out) < n and any(by_label):
        for group in by_label:
            if group and len(out) < n:
                out.append(group.pop())
    return np.array(out, dtype=int)


@dataclass
class Samples:
    trial: Trial
    origin: str  # how the model was obtained
    images: torch.Tensor  # (2n, C, H, W) in [0, 1]: inliers first
    is_outlier: np.ndarray
    scores: np.ndarray
    panels: dict[str, torch.Tensor]


def draw_samples(trial: Trial, models: Path | None = None, n: int = 6) -> Samples:
    """Fit (or reuse) the trial's model and score n test inliers and n test outliers of its pool."""
    model, origin = fitted_model(trial, models)
    data = load_dataset(trial.dataset, trial.dataset_params)
    split = PROTOCOLS.create(trial.protocol, **trial.protocol_params).split(data, trial.setting, trial.seed)
    pool = split.test
    rng = np.random.default_rng([trial.seed, 4])
    inliers = np.flatnonzero(~pool.is_outlier)
    outliers = np.flatnonzero(pool.is_outlier)
    pick = np.r_[rng.choice(inliers, min(n, len(inliers)), replace=False), _spread(outliers, pool.images.labels, n, rng)]
    images = to_float(pool.images.images[torch.from_numpy(pick)])
    try:
        with pinned_threads(trial.threads), torch.no_grad():
            scores = np.asarray(model.score(images), dtype=float)
            panels = {k: v.detach().float().cpu() for k, v in model.image_panels(images).items()}
    except (Exception, SystemExit) as exc:
        raise NovelbenchError(f"{trial.describe()}: scoring the sample images failed: {describe_exception(exc)}") from None
    return Samples(trial, origin, images, pool.is_outlier[pick], scores, panels)


def _show(ax, image: torch.Tensor) -> None:
    img = image.clamp(0, 1).numpy()
    if img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.transpose(img[:3], (1, 2, 0)))
    ax.set_xticks([])
    ax.set_yticks([])


def draw_figure(samples: Samples):
    """Two panels side by side, test inliers and test outliers; in each, rows = the original and
    each of the method's image panels, columns = images, the score above each column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("original", samples.images)] + list(samples.panels.items())
    blocks = [("test inliers", np.flatnonzero(~samples.is_outlier), "black"),
              ("test outliers", np.flatnonzero(samples.is_outlier), "#b00020")]
    n_cols = sum(len(idx) for _, idx, _ in blocks)
    t = samples.trial
    fig = plt.figure(figsize=(1.0 * n_cols + 1.6, 1.05 * len(rows) + 1.0), layout="constrained")
    subfigs = fig.subfigures(1, 2, width_ratios=[max(len(idx), 1) for _, idx, _ in blocks], wspace=0.04)
    for sub, (name, idx, colour) in zip(subfigs, blocks):
        sub.suptitle(name, fontsize=9, color=colour)
        axes = sub.subplots(len(rows), max(len(idx), 1), squeeze=False)
        for r, (panel, batch) in enumerate(rows):
            for c, i in enumerate(idx):
                ax = axes[r, c]
                _show(ax, batch[i])
                if c == 0:
                    ax.set_ylabel(panel, fontsize=8)
                if r == 0:
                    ax.set_title(f"{samples.scores[i]:.3g}", fontsize=8, color=colour)
    note = "" if samples.panels else f"; {t.label or t.method} exposes no image panels (original and score only)"
    fig.suptitle(f"{t.label or t.method} on {t.protocol}/{t.dataset}, positives {'+'.join(t.setting.positives)}, repeat "
                 f"{t.setting.repeat}, seed {t.seed}: number above an image = its score (higher = more novel){note}", fontsize=9)
    return fig
