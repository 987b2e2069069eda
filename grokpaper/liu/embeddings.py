"""The transformer's embeddings over training (Liu et al. Fig. 1 and App. K): when their top-2
PCA projection becomes a circle, and how much of the final circle the initialization holds.

App. K: "we project the embeddings at initialization onto the principal axes at the end of
training. Some of the structure required for generalization exists before training" (Sec. 4.2).
We measure that structure as the agreement of each symbol's angle on the final top-2 principal
axes at initialization with its angle at the end, against chance: the same agreement with the
symbols shuffled (a permutation test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.liu.rqi import circularity
from grokpaper.liu.transformer_experiments import pca_frames

#: Permutations of the symbols behind each App. K p-value (resolution 1 / (N_PERM + 1)).
N_PERM = 999


def circularity_curve(emb: np.ndarray) -> np.ndarray:
    """(T,) :func:`~grokpaper.liu.rqi.circularity` of each frame of ``emb`` (T, p, d) in its
    own top-2 PCA plane (Fig. 1's view)."""
    return np.array([circularity(f) for f in pca_frames(emb)])


def circle_step(steps: np.ndarray, curve: np.ndarray, level: float) -> float:
    """First of ``steps`` from which ``curve`` stays at or above ``level`` to the end (the step
    the embeddings become, and remain, a circle); NaN if the last value is below it."""
    below = np.flatnonzero(np.asarray(curve, float) < level)
    if not below.size:
        return float(steps[0])
    i = int(below[-1]) + 1
    return float(steps[i]) if i < len(steps) else float("nan")


def angles_on_final_axes(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(initial, final) angle of each symbol, (p,) each, with the first and the last frame of
    ``emb`` (T, p, d) both projected on the last frame's top-2 principal axes (App. K)."""
    z = pca_frames(emb[[0, -1]], basis="final")
    return np.arctan2(z[0, :, 1], z[0, :, 0]), np.arctan2(z[1, :, 1], z[1, :, 0])


def alignment(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|mean_k exp(i (a_k - b_k))| over the last axis: 1 when the two sets of angles differ by
    one rotation, about 1/sqrt(p) when they are unrelated."""
    return np.abs(np.exp(1j * (np.asarray(a) - np.asarray(b))).mean(-1))


def alignment_test(initial: np.ndarray, final: np.ndarray, *, n_perm: int = N_PERM,
                   random_state: int = 0) -> tuple[float, float, float]:
    """(alignment, its median under shuffled symbols, permutation p-value) of two sets of
    angles (p,); the p-value is (1 + #shuffles at least as aligned) / (1 + ``n_perm``)."""
    rng = np.random.default_rng(random_state)
    observed = float(alignment(initial, final))
    shuffled = np.argsort(rng.random((n_perm, len(initial))), axis=1)
    null = alignment(np.asarray(initial)[shuffled], final)
    return observed, float(np.median(null)), float((1 + (null >= observed).sum()) / (1 + n_perm))


def structure_columns(pca: pd.DataFrame, *, level: float, random_state: int = 0
                      ) -> pd.DataFrame:
    """``pca`` (runs with ``steps``, ``emb`` (T, p, d) and ``seed``) plus ``t_circle``
    (:func:`circle_step` at ``level``) and App. K's ``init_alignment``, ``init_chance`` and
    ``init_p`` (:func:`alignment_test`, seeded by ``random_state`` and the run's seed)."""
    t_circle, tests = [], []
    for steps, emb, seed in zip(pca["steps"], pca["emb"], pca["seed"], strict=True):
        t_circle.append(circle_step(steps, circularity_curve(emb), level))
        tests.append(alignment_test(*angles_on_final_axes(emb),
                                    random_state=random_state + int(seed)))
    r, chance, p = (list(x) for x in zip(*tests, strict=True)) if tests else ([], [], [])
    return pca.assign(t_circle=t_circle, init_alignment=r, init_chance=chance, init_p=p)
