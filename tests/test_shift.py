"""MMD: the vectorized, blocked estimator against a plain double loop, and its basic laws."""

import math

import pytest
import torch

from grokpaper.core import shift


def _mmd2_reference(x: torch.Tensor, y: torch.Tensor, bandwidth: float) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012, Eq. 3) with explicit loops over pairs."""
    def k(a: torch.Tensor, b: torch.Tensor) -> float:
        return math.exp(-float(((a - b) ** 2).sum()) / (2 * bandwidth**2))

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


@pytest.mark.parametrize(("m", "n", "shift_by"), [(7, 11, 0.0), (12, 5, 0.7), (2, 2, 2.0)])
def test_fast_mmd_equals_the_loop_reference(m, n, shift_by):
    g = torch.Generator().manual_seed(m * n)
    x = torch.randn(m, 4, generator=g, dtype=torch.float64)
    y = torch.randn(n, 4, generator=g, dtype=torch.float64) + shift_by
    bw = shift.median_bandwidth(torch.cat([x, y]))
    assert shift.mmd2(x, y, bandwidth=bw) == pytest.approx(_mmd2_reference(x, y, bw), abs=1e-10)


def test_blocking_does_not_change_the_result(monkeypatch):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 3, generator=g), torch.randn(40, 3, generator=g) + 0.3
    whole = shift.mmd2(x, y, bandwidth=1.5)
    monkeypatch.setattr(shift, "_CHUNK", 7)
    assert shift.mmd2(x, y, bandwidth=1.5) == pytest.approx(whole, abs=1e-12)


def test_mmd_is_near_zero_for_one_distribution_and_grows_with_the_shift():
    g = torch.Generator().manual_seed(1)
    ref = torch.randn(400, 5, generator=g)
    bw = shift.median_bandwidth(ref)
    values = [shift.mmd2(torch.randn(300, 5, generator=g) + d, ref, bandwidth=bw)
              for d in (0.0, 0.5, 1.0, 2.0)]
    assert abs(values[0]) < 0.01  # unbiased: no shift, no MMD (up to sampling noise)
    assert values == sorted(values) and values[-1] > 0.3


def test_median_bandwidth_of_a_known_configuration():
    # Pairwise distances of the corners of a unit square: 4 sides (1) and 2 diagonals (sqrt 2).
    pts = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert shift.median_bandwidth(pts) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("x", "y", "bw", "match"),
    [(torch.zeros(3), torch.zeros(3, 1), 1.0, "2-D"),
     (torch.zeros(3, 2), torch.zeros(3, 3), 1.0, "width"),
     (torch.zeros(1, 2), torch.zeros(3, 2), 1.0, "at least 2"),
     (torch.zeros(3, 2), torch.zeros(3, 2), 0.0, "bandwidth"),
     (torch.full((3, 2), float("nan")), torch.zeros(3, 2), 1.0, "non-finite")],
)
def test_bad_input(x, y, bw, match):
    with pytest.raises(ValueError, match=match):
        shift.mmd2(x, y, bandwidth=bw)
