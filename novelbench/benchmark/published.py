"""Published reference numbers shown beside measured rows (sources as in the project's PUBLISHED.md),
keyed by the protocol whose layout they fit and the dataset they were published on."""

from __future__ import annotations

#: (method, protocol, dataset, {column: value}); mnist columns are test mixes (p10..p50, F1 with
#: inliers positive), caltech columns are groups (n=1, 3, 5) with (AUROC, F1)
PUBLISHED = [
    ("ALOCC D(R(X))", "mnist", "MNIST", {"p10": 0.97, "p20": 0.92, "p30": 0.92, "p40": 0.91, "p50": 0.88}),
    ("ALOCC D(X)", "mnist", "MNIST", {"p10": 0.93, "p20": 0.90, "p30": 0.87, "p40": 0.84, "p50": 0.82}),
    ("LOF", "mnist", "MNIST", {"p10": 0.92, "p20": 0.83, "p30": 0.72, "p40": 0.65, "p50": 0.55}),
    ("DRAE", "mnist", "MNIST", {"p10": 0.95, "p20": 0.91, "p30": 0.88, "p40": 0.82, "p50": 0.73}),
    ("GPND v1", "mnist", "MNIST", {"p10": 0.967, "p20": 0.951, "p30": 0.941, "p40": 0.935, "p50": 0.932}),
    ("CRBND (paper)", "caltech", "Caltech-256", {"n=1": (0.998, 0.984), "n=3": (0.996, 0.980), "n=5": (0.994, 0.978)}),
    ("G2D", "caltech", "Caltech-256", {"n=1": (0.957, 0.945), "n=3": (0.951, 0.900), "n=5": (0.939, 0.913)}),
    ("ALOCC D(R(X))", "caltech", "Caltech-256", {"n=1": (0.942, 0.928), "n=3": (0.938, 0.913), "n=5": (0.923, 0.905)}),
    ("R-graph", "caltech", "Caltech-256", {"n=1": (0.948, 0.914), "n=3": (0.929, 0.880), "n=5": (0.913, 0.858)}),
]
#: the published curves Figure 3 marks
FIGURE_METHODS = {"ALOCC D(R(X))", "GPND v1"}


def rows(protocol: str, figure_only: bool = False) -> list[tuple[str, str, dict]]:
    """(method, dataset published on, values) for a protocol's table or figure."""
    return [(m, d, v) for m, p, d, v in PUBLISHED if p == protocol and (not figure_only or m in FIGURE_METHODS)]
