"""Screen G2D variants on MNIST's *training* split only (no test labels): fit on 4,000 images of a
digit, score 1,000 held-out images of that digit + 1,000 of the other digits; one-vs-rest AUROC.

Issue 19's screen of ways to lift the ``g2d`` default off chance (seed 0, one CPU thread):
``blur`` shows the classifier every inlier also blurred (sigma 0.5-1.5, still labelled inlier), so
that sharpness alone cannot separate inliers from the GAN's blurred samples; ``all`` uses every
snapshot (``match_band=None``); ``T1000`` trains the GAN to 1,000 generator iterations with 20
snapshots. One JSON line per (variant, digit):

    python benchmarks/g2d_variants_screen.py VARIANT DIGITS --data-root DATA   # e.g. blur 3,8
"""
import argparse, json, time
import numpy as np, torch, torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.seeding import seed_everything, pinned_threads
from novelbench.methods.g2d import G2D, low_level_cues
from novelbench.methods.dcgan import DCGANCritic
from novelbench.methods.training import train_module

def blur(x, sigma):
    k = 5; r = torch.arange(k) - k // 2
    g = torch.exp(-(r.float() ** 2)[None, :] / (2 * sigma[:, None] ** 2)); g = g / g.sum(1, keepdim=True)  # (n, k)
    n, c, h, w = x.shape
    xp = F.pad(x, (2, 2, 2, 2), mode="replicate")
    out = torch.stack([F.conv2d(F.conv2d(xp[i:i+1], g[i].view(1, 1, 1, k)), g[i].view(1, 1, k, 1)) for i in range(n)])[:, 0]
    return out

class BlurAug(G2D):
    """Inliers shown twice to the classifier: as they are and blurred (sigma 0.5-1.5), both labelled inlier."""
    def fit(self, images):
        from novelbench.methods.base import resolve_device
        self.device_ = dev = resolve_device(self.device)
        images = images.float()
        negatives = self._train_gan(images.to(dev), self.n_negatives or len(images))
        sig = 0.5 + torch.rand(len(images))
        pos = torch.cat([images, blur(images, sig)])
        neg = torch.cat([negatives, negatives])
        self.clf_ = DCGANCritic(images.shape[1], images.shape[-1], tuple(self.clf_widths))
        x = torch.cat([pos, neg]); y = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))])
        train_module(self.clf_, (x, y), lambda xb, yb: F.binary_cross_entropy_with_logits(self.clf_(xb).float(), yb),
                     epochs=self.clf_epochs, lr=self.clf_lr, batch_size=self.batch_size, device=dev, min_steps=self.min_steps)
        return self

VARIANTS = {
    "default": (G2D, {}),
    "blur": (BlurAug, {}),
    "blur-all": (BlurAug, {"match_band": None}),
    "all": (G2D, {"match_band": None}),
    "T1000": (G2D, {"threshold_iter": 1000, "snapshots": 20}),
    "blur-T1000": (BlurAug, {"threshold_iter": 1000, "snapshots": 20}),
}

def main(variant, digits, data_root, seed=0):
    data = load_dataset("mnist", {"data_root": data_root, "download": False, "image_size": None})
    tr = data.splits["train"]
    imgs, labels = tr.images.float() / 255, np.asarray(tr.labels)
    cls, params = VARIANTS[variant]
    for d in digits:
        rng = np.random.default_rng(100 + d)
        own = rng.permutation(np.flatnonzero(labels == d)); other = rng.permutation(np.flatnonzero(labels != d))[:1000]
        fit_idx, held = own[:4000], own[4000:5000]
        with pinned_threads(1):
            seed_everything(seed)
            t = time.time()
            m = cls(device="cpu", **params).fit(imgs[fit_idx])
            ev = torch.cat([imgs[held], imgs[other]]); y = np.r_[np.zeros(len(held)), np.ones(len(other))]
            s = m.score(ev)
        auc = roc_auc_score(y, s)
        ink = roc_auc_score(y, low_level_cues(ev)["ink"])
        print(json.dumps({"variant": variant, "digit": d, "seed": seed, "auroc": round(auc, 4), "ink_auroc": round(ink, 4),
                          "kept": sorted(getattr(m, "snapshot_separation_", {}).items()), "seconds": round(time.time() - t, 1)}), flush=True)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("digits", help="comma list, e.g. 3,8")
    parser.add_argument("--data-root", required=True)
    args = parser.parse_args()
    main(args.variant, [int(x) for x in args.digits.split(",")], args.data_root)
