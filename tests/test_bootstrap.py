"""Bootstrap intervals: checked on data of known correlation and against the textbook
(Fisher z, Wald) intervals, which they should approach for large samples."""

import numpy as np
import pytest

from grokpaper.core import bootstrap

Z975 = 1.959964


def _correlated(rho: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    z = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], n)
    return z[:, 0], z[:, 1]


def test_pearson_is_numpys_corrcoef_row_by_row():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 30)), rng.normal(size=(5, 30))
    y[1] += 2 * x[1]
    want = [np.corrcoef(a, b)[0, 1] for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(bootstrap.pearson(x, y), want, rtol=1e-12)
    assert np.isnan(bootstrap.pearson(np.ones(4), np.arange(4.0)))


@pytest.mark.parametrize("rho", [-0.5, 0.0, 0.3, 0.7])
def test_pearson_interval_matches_fishers_and_covers_the_true_correlation(rho):
    x, y = _correlated(rho, 400, seed=1)
    lo, hi = bootstrap.pearson_ci(x, y, seed=0)
    r = bootstrap.pearson(x, y)
    z, se = np.arctanh(r), 1 / np.sqrt(len(x) - 3)
    f_lo, f_hi = np.tanh(z - Z975 * se), np.tanh(z + Z975 * se)
    assert abs(lo - f_lo) < 0.03 and abs(hi - f_hi) < 0.03
    assert lo < rho < hi
    assert (lo < 0 < hi) == (rho == 0.0)  # only the zero correlation's interval holds 0


def test_small_samples_give_wide_intervals_and_the_seed_fixes_them():
    x, y = _correlated(0.3, 12, seed=2)
    lo, hi = bootstrap.pearson_ci(x, y, seed=5)
    assert hi - lo > 0.5
    assert bootstrap.pearson_ci(x, y, seed=5) == (lo, hi)
    assert bootstrap.pearson_ci(x, y, seed=6) != (lo, hi)
    assert all(np.isnan(bootstrap.pearson_ci(x[:1], y[:1])))
    assert all(np.isnan(bootstrap.pearson_ci(np.ones(10), y[:10])))


def test_share_difference_interval_matches_wald():
    rng = np.random.default_rng(3)
    a = (rng.random(300) < 0.7).astype(float)
    b = (rng.random(200) < 0.4).astype(float)
    lo, hi = bootstrap.share_difference_ci(a, b, seed=0)
    d = a.mean() - b.mean()
    se = np.sqrt(a.mean() * (1 - a.mean()) / len(a) + b.mean() * (1 - b.mean()) / len(b))
    assert abs(lo - (d - Z975 * se)) < 0.02 and abs(hi - (d + Z975 * se)) < 0.02
    assert lo > 0
    same = bootstrap.share_difference_ci(a[:40], a[40:80], seed=0)
    assert same[0] < 0 < same[1]


def test_ci_resamples_the_same_rows_of_every_column():
    x = np.arange(50.0)
    # x - x is 0 on every resample only if both columns take the same rows.
    assert bootstrap.ci(lambda a, b: (a - b).max(-1), x, x) == (0.0, 0.0)
