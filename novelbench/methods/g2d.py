"""G2D: Generate to Detect Anomaly (Pourreza et al., WACV 2021; arXiv 2006.11629).

0. With ``input_blur`` (a number, the default 3.0, chosen on MNIST's training split; ours;
   ``None``: the paper's raw images) every image passes a Gaussian low-pass of that sigma in
   pixels (torchvision's ``gaussian_blur``, kernel ``2 * ceil(2 * sigma) + 1``): with
   ``blur_scope="all"`` (the default) before anything else, so the GAN learns the low-passed
   inliers and the classifier and scores see them too; with ``"classifier"`` (session 30's
   default) only what the classifier sees (inliers, the GAN's negatives, scored images). Stroke
   sharpness and the GAN's pixel texture then no longer tell inliers from negatives, and the
   classifier must use shape.
1. A WGAN-GP (Gulrajani et al. 2017) is trained on the inliers, as in the authors' public code
   (``masoudpz/G2D_generate_to_detect_anomaly``): a DCGAN generator G (latent ``z_dim=100``,
   z ~ N(0, I); ``adversarial.ConvGenerator`` with ``gen_widths``) and the authors' critic shape
   (``dcgan.DCGANCritic``: 4 x 4 stride-2 convolutions with instance norm, ``critic_widths``),
   ``critic_steps=5`` critic updates per generator update, gradient penalty weight
   ``gp_weight=10``, Adam betas (0.5, 0.999); the authors' lr 1e-4 and batch 64 are ``g2d-paper``'s,
   the default's ``gan_lr=1e-3`` and ``gan_batch_size=32`` are sized to the CPU budget.
2. Before G converges its samples are "irregular": near the inliers but wrong. G is trained only
   up to the threshold ``T = threshold_iter`` generator iterations (the paper calls them epochs;
   the authors' code counts one generator update as an "epoch"). ``snapshots`` copies of G are
   kept, evenly spaced over iterations (0, T]; the kept ones each generate an equal share of
   ``n_negatives`` irregular samples (``None``: as many as there are inliers, a balanced problem).
   Which are kept: with ``match_band=None`` (the default) all of them (the paper's plan); with a
   number (session 30's 0.2) only those whose samples cannot be told from the inliers the GAN
   learnt by mean intensity or by edge energy alone (each cue's 1-D AUROC, samples vs inliers,
   within ``match_band`` of 0.5; if none qualifies, the one closest to it). Early snapshots are
   grey noise with more ink and edges than any digit, and a classifier trained against them
   ranks test images by ink (the failure the baselines page measured: per-digit AUROC vs ink
   r = +0.88). So with ``cue_match=True`` (the default; ours) each negative is then given the ink
   and edge energy of a random inlier the GAN learnt (``match_cues``): neither cue alone separates
   negatives from inliers, whichever snapshot they come from.
3. A binary classifier of the critic's shape (``DCGANCritic`` with ``clf_widths``: strided
   convolutions, a linear map of the whole final feature map to one logit) is trained on inliers
   (label 1) vs the irregular samples (label 0) with binary cross-entropy (Adam, ``clf_epochs``
   epochs, at least ``min_steps`` steps). The default ``clf_widths=(16, 32, 64)`` has the depth of
   the authors' critic (three stride-2 layers, 256-512-1024) at a sixteenth of its width; it was
   chosen on MNIST's training split in session 33 (``benchmarks/g2d_variants_screen.py``), where
   the two-layer classifier of the earlier defaults, ``(16, 32)``, and wider, narrower, longer- or
   shorter-trained ones were screened too. ``classifiers`` (default 3; ours, session 34) such
   classifiers are trained one after another on the same inliers, each with its own
   initialisation and batch order, and score as one with their mean logit (``MeanLogit``): on the
   training-split screen three of them were a little better than one and varied less from seed to
   seed, the point being to damp the chance in a single classifier's fit. With ``own_negatives``
   (default ``True``; ours, session 35) each classifier learns against negatives of its own: the
   snapshots generate ``classifiers`` times ``n_negatives`` samples and each classifier gets an
   equal share of every snapshot's; ``False`` (session 34's default) trains all of them against
   the same negatives. On the same screen own negatives were +0.012 over shared ones (6 of 9
   digit-seed lines up) and their AUROC moved less from seed to seed.
4. Score = the (mean) novelty logit, ``-logit(inlier)`` (higher = more novel); ``predict``
   is sigmoid(logit) > 0.5 (True = inlier).

How to choose T: G's samples must have stopped being noise (else the negatives are trivial) but
not yet be regular (else the classifier must call inliers novel). T counts generator updates,
not passes over the data, so it depends on the generator's learning speed and not on the data
set size: one value serves MNIST's 5,400 and Caltech's 30-150 images. The generator is not
trained past T: later iterations could not contribute negatives. The default T = 400 with 8
snapshots (every 50 iterations) comes from one screening run (digit 8 of MNIST's training split,
``results/reference/runs/screen-issue19/g2d-snapshot-cues.txt``): at lr 1e-4 G was still grey
noise at iteration 400 (every snapshot's ink and edges separable at AUROC 1.00: the old default
T = 300 fed the classifier nothing but noise), at lr 1e-3 its ink and edges matched the digit's
from iteration 100 on (AUROCs 0.30-0.55) while the samples stayed blurred. ``g2d-paper``
(``g2d_paper.py``) is the authors' generator and critic (GPU-sized).

Not followed, because it could not be read here: the paper's own description of its classifier
and of how it picks T (only its abstract and introduction were reachable); the classifier's
shape is therefore the authors' critic, their only published network.

Failure is never a number: a non-finite critic/generator loss or weight, non-finite negatives or
a non-finite classifier loss raise ``GANDiverged``; so does a collapsed classifier whose logit is
the same on every training image or every scored image. On CUDA, training passes run under the
harness's bfloat16 autocast (the gradient norm of the penalty in float32); scores are float32.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from novelbench.methods import checkpoint
from novelbench.methods.adversarial import (
    ConvGenerator, GANDiverged, ShuffledBatches, check_finite, check_not_constant, check_parameters, discriminator_logits,
    gradient_penalty,
)
from novelbench.methods.dcgan import DCGANCritic
from novelbench.methods.base import (
    DEVICE, NON_NEGATIVE_INT, POSITIVE_INT, POSITIVE_REAL, Detector, Interval, Real, StrOptions, resolve_device,
)
from novelbench.methods.training import autocast, train_module
from novelbench.registry import register_method

SCORE_BATCH = 512
CHECK_IMAGES = 512
PANEL_KEEP = 256  # irregular negatives kept (evenly over the snapshots) for image_panels
MATCH_IMAGES = 512  # samples per snapshot, and inliers, compared for ``match_band``


class MeanLogit(torch.nn.Module):
    """Classifiers that score as one: the mean of their logits."""

    def __init__(self, members: list[torch.nn.Module]):
        super().__init__()
        self.members = torch.nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(0)


def lowpass(images: torch.Tensor, sigma: float | None) -> torch.Tensor:
    """A Gaussian low-pass of ``sigma`` pixels over each image (``None``: the images as they are)."""
    if sigma is None:
        return images
    k = 2 * math.ceil(2 * sigma) + 1
    return TF.gaussian_blur(images, [k, k], [sigma, sigma])


def low_level_cues(images: torch.Tensor) -> dict[str, np.ndarray]:
    """Per image: mean intensity ("ink") and edge energy (mean absolute horizontal + vertical difference)."""
    x = images.double()
    edges = x.diff(dim=-1).abs().mean(dim=(1, 2, 3)) + x.diff(dim=-2).abs().mean(dim=(1, 2, 3))
    return {"ink": x.mean(dim=(1, 2, 3)).numpy(), "edges": edges.numpy()}


def match_cues(negatives: torch.Tensor, inliers: torch.Tensor, steps: int = 26) -> torch.Tensor:
    """Each negative given the ink and the edge energy of an inlier drawn at random: blended with its
    sigma-1 low-pass (alpha over [-1.5, 1], sharpening .. blurring; ink stays) until its edges/ink
    ratio is nearest that inlier's, then scaled to the inlier's ink, clamped to [0, 1]."""
    def edges_per_ink(cues):
        return torch.as_tensor(cues["edges"] / np.maximum(cues["ink"], 1e-8))

    target = low_level_cues(inliers[torch.randint(len(inliers), (len(negatives),))].cpu())
    x, smooth = negatives.cpu().double(), lowpass(negatives.cpu(), 1.0).double()
    detail = smooth - x
    alphas = torch.linspace(-1.5, 1.0, steps, dtype=torch.double)
    ratios = torch.stack([edges_per_ink(low_level_cues(x + a * detail)) for a in alphas], 1)
    best = alphas[(ratios - edges_per_ink(target)[:, None]).abs().argmin(1)].view(-1, 1, 1, 1)
    y = x + best * detail
    y = y * torch.as_tensor(target["ink"]).view(-1, 1, 1, 1) / y.mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)
    return y.clamp(0, 1).float()


def low_level_separation(negatives: torch.Tensor, inliers: torch.Tensor) -> float:
    """How well ink or edge energy alone separates ``negatives`` from ``inliers``: the larger
    |AUROC - 0.5| of the two 1-D rankings (0 = not at all, 0.5 = perfectly)."""
    neg, inl = low_level_cues(negatives), low_level_cues(inliers)
    y = np.r_[np.zeros(len(inliers)), np.ones(len(negatives))]
    return max(abs(roc_auc_score(y, np.r_[inl[k], neg[k]]) - 0.5) for k in neg)


@register_method
class G2D(Detector):
    name = "g2d"
    resumable = True  # the WGAN-GP loop (checkpoint.step_saver) and the classifier's train_module resume from checkpoints
    summary = "generate to detect: early WGAN-GP generator snapshots as irregular negatives + binary CNN classifier"
    test_params = {"gen_widths": (16, 8), "critic_widths": (8, 16), "clf_widths": (8, 16, 32), "classifiers": 2,
                   "threshold_iter": 10, "snapshots": 2, "gan_batch_size": 16, "clf_epochs": 1, "min_steps": 30, "batch_size": 32}
    _parameter_constraints = {
        "z_dim": [POSITIVE_INT], "gen_widths": [tuple, list], "critic_widths": [tuple, list], "clf_widths": [tuple, list],
        "classifiers": [POSITIVE_INT], "own_negatives": ["boolean"], "threshold_iter": [POSITIVE_INT], "snapshots": [POSITIVE_INT],
        "n_negatives": [POSITIVE_INT, None],
        "match_band": [Interval(Real, 0, 0.5, closed="both"), None], "input_blur": [POSITIVE_REAL, None],
        "blur_scope": [StrOptions({"all", "classifier"})], "cue_match": ["boolean"],
        "critic_steps": [POSITIVE_INT], "gp_weight": [Interval(Real, 0, None, closed="left")], "gan_lr": [POSITIVE_REAL],
        "gan_batch_size": [POSITIVE_INT], "clf_epochs": [POSITIVE_INT], "min_steps": [NON_NEGATIVE_INT], "clf_lr": [POSITIVE_REAL],
        "batch_size": [POSITIVE_INT], "device": DEVICE,
    }

    def __init__(
        self,
        *,
        z_dim: int = 100,
        gen_widths: tuple[int, ...] = (32, 16),
        critic_widths: tuple[int, ...] = (16, 32),
        clf_widths: tuple[int, ...] = (16, 32, 64),
        classifiers: int = 3,
        own_negatives: bool = True,
        threshold_iter: int = 400,
        snapshots: int = 8,
        n_negatives: int | None = None,
        match_band: float | None = None,
        input_blur: float | None = 3.0,
        blur_scope: str = "all",
        cue_match: bool = True,
        critic_steps: int = 5,
        gp_weight: float = 10.0,
        gan_lr: float = 1e-3,
        gan_batch_size: int = 32,
        clf_epochs: int = 3,
        min_steps: int = 200,
        clf_lr: float = 1e-3,
        batch_size: int = 128,
        device: str = "auto",
    ):
        self.z_dim = z_dim
        self.gen_widths = gen_widths
        self.critic_widths = critic_widths
        self.clf_widths = clf_widths
        self.classifiers = classifiers
        self.own_negatives = own_negatives
        self.threshold_iter = threshold_iter
        self.snapshots = snapshots
        self.n_negatives = n_negatives
        self.match_band = match_band
        self.input_blur = input_blur
        self.blur_scope = blur_scope
        self.cue_match = cue_match
        self.critic_steps = critic_steps
        self.gp_weight = gp_weight
        self.gan_lr = gan_lr
        self.gan_batch_size = gan_batch_size
        self.clf_epochs = clf_epochs
        self.min_steps = min_steps
        self.clf_lr = clf_lr
        self.batch_size = batch_size
        self.device = device

    # -- step 1-2: WGAN-GP up to T, irregular samples from the snapshots -----------------------
    def _snapshot_plan(self, n_negatives: int) -> dict[int, int]:
        """Generator iteration -> how many negatives its snapshot generates (evenly spaced over (0, T])."""
        k = min(self.snapshots, self.threshold_iter)
        iters = [max(1, round(self.threshold_iter * (i + 1) / k)) for i in range(k)]
        counts = [n_negatives // k + (i < n_negatives % k) for i in range(k)]
        plan: dict[int, int] = {}
        for it, cnt in zip(iters, counts):
            if cnt:
                plan[it] = plan.get(it, 0) + cnt
        return plan

    @torch.no_grad()
    def _generate(self, n: int) -> torch.Tensor:
        """``n`` samples of G in training mode (batch statistics: the samples the critic saw)."""
        out = []
        for start in range(0, n, SCORE_BATCH):
            k = min(SCORE_BATCH, n - start)
            z = torch.randn(max(k, 2), self.z_dim, device=self.device_)  # batch norm needs two samples
            out.append(self.gen_(z)[:k].float().cpu())
        return torch.cat(out)

    def _train_gan(self, data: torch.Tensor, n_negatives: int) -> torch.Tensor:
        dev = self.device_
        c, size = data.shape[1], data.shape[-1]
        self.gen_ = G = ConvGenerator(self.z_dim, c, size, tuple(self.gen_widths)).to(dev)
        self.critic_ = D = DCGANCritic(c, size, tuple(self.critic_widths)).to(dev)
        opt_g = torch.optim.Adam(G.parameters(), lr=self.gan_lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(D.parameters(), lr=self.gan_lr, betas=(0.5, 0.999))
        batches = ShuffledBatches(len(data), self.gan_batch_size, dev)
        plan = self._snapshot_plan(n_negatives)
        self.history_ = {"critic_loss": [], "wasserstein": [], "gen_loss": []}
        snapshots: dict[int, dict] = {}
        saver = checkpoint.step_saver({"generator": G, "critic": D}, {"generator": opt_g, "critic": opt_d}, max(plan),
                                      "generator iteration", {"n": len(data), "batch_size": self.gan_batch_size})
        done, extra = saver.restore() if saver else (0, None)
        if extra is not None:
            batches.load_state_dict(extra["batches"])
            self.history_, snapshots = extra["history"], extra["snapshots"]
        G.train(), D.train()
        for it in range(done + 1, max(plan) + 1):
            where = f"generator iteration {it}"
            for _ in range(self.critic_steps):
                real = data[next(batches)]
                z = torch.randn(len(real), self.z_dim, device=dev)
                with autocast(dev):
                    fake = G(z).detach()
                    w_dist = D(real).float().mean() - D(fake).float().mean()
                    loss = -w_dist + self.gp_weight * gradient_penalty(D, real, fake)
                opt_d.zero_grad(set_to_none=True)
                loss.backward()
                opt_d.step()
            self.history_["critic_loss"].append(check_finite(loss.item(), "the critic loss", where))
            self.history_["wasserstein"].append(w_dist.item())
            with autocast(dev):
                g_loss = -D(G(torch.randn(self.gan_batch_size, self.z_dim, device=dev))).float().mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            self.history_["gen_loss"].append(check_finite(g_loss.item(), "the generator loss", where))
            if it in plan:
                check_parameters(G, "the generator")
                snapshots[it] = {k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
            if saver and saver.due():
                saver.save(it, {"batches": batches.state_dict(), "history": self.history_, "snapshots": snapshots})
        negatives = []
        for it, count in self._kept_snapshots(snapshots, data, n_negatives).items():
            G.load_state_dict(snapshots[it])
            negatives.append(self._generate(count))
        negatives = torch.cat(negatives)
        if not torch.isfinite(negatives).all():
            raise GANDiverged("training diverged: the generator's irregular samples hold non-finite values")
        return negatives

    def _kept_snapshots(self, snapshots: dict[int, dict], data: torch.Tensor, n_negatives: int) -> dict[int, int]:
        """Snapshot iteration -> negatives it generates: all snapshots evenly (``match_band=None``),
        else only those whose samples' ink and edge energy are within ``match_band`` of chance
        (1-D AUROC against the inliers), evenly; if none is, the closest one alone."""
        its = sorted(snapshots)
        self.snapshot_separation_ = {}
        if self.match_band is not None:
            inliers = data[torch.linspace(0, len(data) - 1, min(len(data), MATCH_IMAGES)).round().long()].float().cpu()
            for it in its:
                self.gen_.load_state_dict(snapshots[it])
                self.snapshot_separation_[it] = low_level_separation(self._generate(MATCH_IMAGES), inliers)
            close = [it for it in its if self.snapshot_separation_[it] <= self.match_band]
            its = close or [min(its, key=self.snapshot_separation_.get)]
        k = len(its)
        counts = [n_negatives // k + (i < n_negatives % k) for i in range(k)]
        return {it: cnt for it, cnt in zip(its, counts) if cnt}

    # -- step 3: the classifier -----------------------------------------------------------------
    def _train_classifiers(self, sets: list[torch.Tensor], n_inliers: int) -> None:
        """``clf_``: ``classifiers`` classifiers trained in turn, the k-th on ``sets[k % len(sets)]``
        (images as the classifier sees them: ``n_inliers`` inliers, label 1, then negatives, label
        0), scoring with their mean logit."""
        members, self.clf_loss_history_ = [], []
        for k in range(1, self.classifiers + 1):
            x = sets[(k - 1) % len(sets)]
            y = torch.cat([torch.ones(n_inliers), torch.zeros(len(x) - n_inliers)])
            clf = DCGANCritic(x.shape[1], x.shape[-1], tuple(self.clf_widths))
            history = train_module(
                clf, (x, y), lambda xb, yb: F.binary_cross_entropy_with_logits(clf(xb).float(), yb),
                epochs=self.clf_epochs, lr=self.clf_lr, batch_size=self.batch_size, device=self.device_, min_steps=self.min_steps,
            )
            for epoch, loss in enumerate(history, 1):
                check_finite(loss, "the classifier loss", f"classifier {k}, epoch {epoch}")
            members.append(clf)
            self.clf_loss_history_.append(history)
        self.clf_ = MeanLogit(members)

    # -- contract -----------------------------------------------------------------------------
    def _blur_stages(self) -> tuple[float | None, float | None]:
        """The low-pass sigma applied before the GAN learns the images, and the one applied only to
        what the classifier sees (``None``: none), per ``blur_scope``."""
        return (self.input_blur, None) if self.blur_scope == "all" else (None, self.input_blur)

    def learnt_images(self, images: torch.Tensor) -> torch.Tensor:
        """The images as the GAN learns them: low-passed with ``blur_scope="all"``, else as they are."""
        return lowpass(images, self._blur_stages()[0])

    def fit(self, images: torch.Tensor) -> "G2D":
        self.device_ = dev = resolve_device(self.device)
        images = images.float()
        seen = self.learnt_images(images)
        shares = self.classifiers if self.own_negatives else 1
        negatives = self._train_gan(seen.to(dev), shares * (self.n_negatives or len(images)))
        if self.cue_match:
            negatives = match_cues(negatives, seen)
        self.negatives_ = negatives[torch.linspace(0, len(negatives) - 1, min(PANEL_KEEP, len(negatives))).round().long()]
        # The negatives come snapshot by snapshot, so every shares-th one gives each share an equal part
        # of every snapshot's. The classifier sees each image through the low-pass once: with
        # blur_scope "all" the learnt images and the GAN's samples already passed it.
        clf_blur = self._blur_stages()[1]
        self._train_classifiers([lowpass(torch.cat([seen, negatives[i::shares]]), clf_blur) for i in range(shares)], len(images))
        check_not_constant(self._logits(images[:CHECK_IMAGES]), "the classifier logit on the training images")
        return self

    def _logits(self, images: torch.Tensor) -> torch.Tensor:
        return discriminator_logits(self.clf_, lowpass(images.float(), self.input_blur), SCORE_BATCH, self.device_)

    def score_and_predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "clf_")
        logits = self._logits(images)
        check_not_constant(logits, "the classifier logit on the scored images")
        return (-logits).numpy(), (logits > 0).numpy()

    def score(self, images: torch.Tensor) -> np.ndarray:
        return self.score_and_predict(images)[0]

    def predict(self, images: torch.Tensor) -> np.ndarray:
        return self.score_and_predict(images)[1]

    def image_panels(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Irregular training negatives (G's snapshots up to T, early to late), as many as ``images``."""
        check_is_fitted(self, "negatives_")
        idx = torch.linspace(0, len(self.negatives_) - 1, len(images)).round().long()
        return {"irregular negative": self.negatives_[idx]}
