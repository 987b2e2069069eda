"""The transformer's embeddings: when they become a circle (Fig. 1) and how much of the final
circle the initialization holds (App. K), on embeddings built with known answers."""

import numpy as np
import pandas as pd
import pytest

from grokpaper.liu import embeddings

P, D = 53, 16


def _circle(p: int = P, d: int = D, *, freq: int = 1, seed: int = 0) -> np.ndarray:
    """p points on a circle of radius 3 in a random 2-D plane of R^d, symbol k at angle
    2 pi freq k / p."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, 2)))
    angle = 2 * np.pi * freq * np.arange(p) / p
    return 3 * np.stack([np.cos(angle), np.sin(angle)], 1) @ q.T


def _noise(scale: float, seed: int, p: int = P, d: int = D) -> np.ndarray:
    return scale * np.random.default_rng(seed).normal(size=(p, d))


def test_circle_step_is_where_the_curve_stays_above_the_level():
    steps = np.array([0, 10, 20, 30, 40])
    assert embeddings.circle_step(steps, [0.5, 0.9, 0.6, 0.9, 0.95], 0.85) == 30
    assert embeddings.circle_step(steps, [0.9] * 5, 0.85) == 0
    assert np.isnan(embeddings.circle_step(steps, [0.9, 0.9, 0.9, 0.9, 0.5], 0.85))


def test_circularity_curve_sees_the_circle_form():
    emb = np.stack([_noise(1.0, 1), 0.5 * _circle() + _noise(0.3, 2), _circle()])
    curve = embeddings.circularity_curve(emb)
    assert curve[-1] > 0.99 and curve[0] < 0.8 and curve[0] < curve[1] < curve[2]


def test_alignment_is_one_up_to_a_rotation_and_small_for_unrelated_angles():
    a = np.random.default_rng(0).uniform(0, 2 * np.pi, P)
    assert embeddings.alignment(a, a) == pytest.approx(1.0)
    assert embeddings.alignment(a + 1.3, a) == pytest.approx(1.0)
    b = np.random.default_rng(1).uniform(0, 2 * np.pi, P)
    assert embeddings.alignment(a, b) < 3 / np.sqrt(P)


def _rayleigh(r: float, n: int) -> float:
    """Rayleigh test's p-value for mean resultant length r of n uniform angles (Zar, Eq. 27.4)."""
    z = n * r * r
    return float(np.exp(-z) * (1 + (2 * z - z * z) / (4 * n)
                               - (24 * z - 132 * z**2 + 76 * z**3 - 9 * z**4) / (288 * n * n)))


def test_permutation_p_value_agrees_with_the_rayleigh_test_on_unrelated_angles():
    rng = np.random.default_rng(3)
    for k in range(8):
        init, final = rng.uniform(0, 2 * np.pi, (2, P))
        r, chance, p = embeddings.alignment_test(init, final, n_perm=4999, random_state=k)
        assert abs(p - _rayleigh(r, P)) < 0.04, (r, p, _rayleigh(r, P))
        assert chance == pytest.approx(np.sqrt(np.pi / (4 * P)), rel=0.25)  # Rayleigh median


def test_initialization_holding_the_circle_is_found_on_the_final_axes():
    final = _circle()
    held = np.stack([0.2 * final + _noise(0.25, 4), final])  # part of it there from the start
    fresh = np.stack([_noise(1.0, 5), final])  # unrelated to it
    r, chance, p = embeddings.alignment_test(*embeddings.angles_on_final_axes(held))
    assert r > 0.5 > chance and p == pytest.approx(1 / (1 + embeddings.N_PERM))
    r, chance, p = embeddings.alignment_test(*embeddings.angles_on_final_axes(fresh))
    assert r < 0.4 and p > 0.01


def test_structure_columns_per_run():
    final = _circle()
    runs = pd.DataFrame({
        "seed": [0, 1], "steps": [np.array([0, 100, 1000])] * 2,
        "emb": [np.stack([0.2 * final + _noise(0.25, 6), 0.6 * final + _noise(0.3, 7), final]),
                np.stack([_noise(1.0, 8), _noise(1.0, 9), final])]})
    out = embeddings.structure_columns(runs, level=0.85)
    assert list(out["t_circle"]) == [100.0, 1000.0]
    assert out["init_p"].iloc[0] < 0.01 < out["init_p"].iloc[1]
    again = embeddings.structure_columns(runs, level=0.85)
    assert again["init_p"].tolist() == out["init_p"].tolist()  # seeded: the same every time
