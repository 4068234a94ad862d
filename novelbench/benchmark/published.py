"""Published reference numbers shown beside measured rows (sources as in the project's PUBLISHED.md)."""

from __future__ import annotations

OUTLIER_PCTS = (10, 20, 30, 40, 50)

#: MNIST F1 (inliers positive), mean over 10 digits, at 10..50 % outliers
MNIST_F1 = {
    "ALOCC D(R(X))": (0.97, 0.92, 0.92, 0.91, 0.88),
    "ALOCC D(X)": (0.93, 0.90, 0.87, 0.84, 0.82),
    "LOF": (0.92, 0.83, 0.72, 0.65, 0.55),
    "DRAE": (0.95, 0.91, 0.88, 0.82, 0.73),
    "GPND v1": (0.967, 0.951, 0.941, 0.935, 0.932),
}
MNIST_SOURCE = ("GPND arXiv v1 Table 1 (transcribing ALOCC Fig. 8); ALOCC: no train/test split, threshold unspecified; "
                "GPND: threshold tuned on validation")

#: Caltech-256, 50 % clutter outliers: {method: {n_classes: (AUROC, F1)}}
CALTECH_TABLE1 = {
    "CRBND (paper)": {1: (0.998, 0.984), 3: (0.996, 0.980), 5: (0.994, 0.978)},
    "G2D": {1: (0.957, 0.945), 3: (0.951, 0.900), 5: (0.939, 0.913)},
    "ALOCC D(R(X))": {1: (0.942, 0.928), 3: (0.938, 0.913), 5: (0.923, 0.905)},
    "R-graph": {1: (0.948, 0.914), 3: (0.929, 0.880), 5: (0.913, 0.858)},
}
CALTECH_SOURCE = ("CRBND Table 1 (CRBND, G2D); ALOCC Table 1 (ALOCC D(R(X)), R-graph; R-graph used ImageNet-pretrained "
                  "VGG features); Caltech-256 with 257.clutter")
