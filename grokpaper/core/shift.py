"""Distribution shift between a training set and the test set: kernel MMD (RBF kernel).

``mmd2`` is the unbiased estimator of the squared maximum mean discrepancy (Gretton et al.
2012, Eq. 3): zero in expectation when both samples come from one distribution, so a small
balanced training set does not look "shifted" merely for being small. The kernel is
``k(a, b) = exp(-|a - b|^2 / (2 bandwidth^2))``; :func:`median_bandwidth` is the median
heuristic. To compare many training sets against one test set, fix the bandwidth once (from the
test set) so that every MMD is measured with the same kernel.
"""

from __future__ import annotations

import math

import torch

_CHUNK = 2048  # rows per kernel block: memory is bounded by _CHUNK x len(other sample)


def median_bandwidth(x: torch.Tensor, *, max_points: int = 1000, seed: int = 0) -> float:
    """Median pairwise Euclidean distance of (at most ``max_points`` random) rows of ``x``."""
    x = _check(x, "x")
    if len(x) > max_points:
        g = torch.Generator().manual_seed(seed)
        x = x[torch.randperm(len(x), generator=g)[:max_points]]
    d = torch.pdist(x.double())
    if d.numel() == 0:
        raise ValueError("median_bandwidth needs at least 2 rows")
    return float(d.median())


def _kernel_sum(a: torch.Tensor, b: torch.Tensor, gamma: float) -> torch.Tensor:
    """Sum over all pairs of exp(-gamma |a_i - b_j|^2), in blocks of rows of ``a``."""
    total = torch.zeros((), dtype=torch.float64)
    for i in range(0, len(a), _CHUNK):
        d2 = torch.cdist(a[i : i + _CHUNK], b).pow(2)
        total += torch.exp(-gamma * d2).sum()
    return total


def mmd2(x: torch.Tensor, y: torch.Tensor, *, bandwidth: float) -> float:
    """Unbiased MMD^2 between samples ``x`` (m, d) and ``y`` (n, d) with an RBF kernel.

    ``(sum_{i != j} k(x_i, x_j)) / (m (m - 1)) + (same for y) - 2 mean k(x_i, y_j)``;
    it can be slightly negative when the two distributions are equal.
    """
    x, y = _check(x, "x"), _check(y, "y")
    if len(x) < 2 or len(y) < 2:
        raise ValueError("mmd2 needs at least 2 rows in each sample")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same width, got {x.shape[1]} and {y.shape[1]}")
    if not bandwidth > 0 or not math.isfinite(bandwidth):
        raise ValueError(f"bandwidth must be a positive finite number, got {bandwidth!r}")
    gamma = 1.0 / (2.0 * bandwidth**2)
    x, y = x.double(), y.double()
    m, n = len(x), len(y)
    # The diagonal terms k(x_i, x_i) = 1 are removed from the within-sample sums.
    kxx = (_kernel_sum(x, x, gamma) - m) / (m * (m - 1))
    kyy = (_kernel_sum(y, y, gamma) - n) / (n * (n - 1))
    kxy = _kernel_sum(x, y, gamma) / (m * n)
    return float(kxx + kyy - 2 * kxy)


def _check(x: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (samples, features) array, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains non-finite values")
    return x
