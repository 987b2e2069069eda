"""Numbers the Liu et al. 2022 pages draw and judge, derived from the run tables of
:func:`grokpaper.liu.experiments.run` and :func:`grokpaper.liu.transformer_experiments.run`.

Each function reads finished runs (no training); the pages plot its output and hand it to
:mod:`grokpaper.liu.claims`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grokpaper.liu import data as toydata
from grokpaper.liu import rqi
from grokpaper.liu.transformer_experiments import pca_frames

#: The paper's default split for the trajectories of Fig. 4c/d: "45 training samples".
REFERENCE_N_TRAIN = 45
#: Labels of the three trajectories of Fig. 4c/d, in panel order.
NETWORK, EQ5, AUTHORS = "network", "Eq. (5)", "authors' code"


def structure(task: str, emb: np.ndarray) -> float:
    """Fig. 2's structure of embeddings ``emb`` (p, d): RQI for addition (parallelograms),
    circularity of the 2-D points for modular addition (a circle)."""
    if task == "addition":
        quads, _ = toydata.parallelograms(toydata.addition(len(emb)))
        return float(rqi.rqi(emb, quads))
    return rqi.circularity(emb)


def with_structure(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` plus ``structure``: :func:`structure` of each run's final embeddings."""
    return df.assign(structure=[structure(t, e[-1])
                                for t, e in zip(df["task"], df["emb"], strict=True)])


def unique_share(theory: pd.DataFrame) -> pd.Series:
    """Fig. 4a: share of random training sets per fraction whose equations have nullity 2."""
    return theory.assign(u=theory["nullity"] == 2).groupby("frac")["u"].mean()


def median_steps(df: pd.DataFrame, column: str, by: str, budget: int) -> pd.Series:
    """Median over runs of ``column`` (steps) per ``by``, runs that never got there counted at
    ``budget``."""
    return df.assign(t=df[column].fillna(budget)).groupby(by)["t"].median()


def n_h(lambda3: float, eta: float) -> float:
    """The effective theory's time scale 1 / (lambda_3 eta); infinite where lambda_3 = 0."""
    return 1.0 / (lambda3 * eta) if lambda3 > 0 else float("inf")


def predicted_steps(df: pd.DataFrame, eta: float) -> pd.DataFrame:
    """Fig. 5b: ``df`` plus ``pred`` and ``pred_sum``, :func:`n_h` of each run's training set
    with Eq. (5)'s mean and with the authors' sum."""
    return df.assign(pred=[n_h(x, eta) for x in df["lambda3"]],
                     pred_sum=[n_h(x, eta) for x in df["lambda3_sum"]])


def first_step_above(steps: np.ndarray, emb: np.ndarray, quads: np.ndarray,
                     threshold: float = rqi.RQI_THRESHOLD) -> float:
    """First of ``steps`` at which embeddings ``emb`` (T, p) or (T, p, d) have RQI above
    ``threshold``; NaN if none."""
    e = np.asarray(emb, float)
    r = rqi.rqi(e[..., None] if e.ndim == 2 else e, quads).numpy()
    hit = np.flatnonzero(r > threshold)
    return float(steps[hit[0]]) if hit.size else float("nan")


def reference_run(df: pd.DataFrame, n_train: int = REFERENCE_N_TRAIN, seed: int = 0
                  ) -> pd.Series:
    """The run of ``seed`` whose training-set size is closest to ``n_train``."""
    n = min(df["n_train"].unique(), key=lambda v: abs(v - n_train))
    return df[(df["n_train"] == n) & (df["seed"] == seed)].iloc[0]


@dataclass(frozen=True)
class Trajectories:
    """Fig. 4c/d: one run's standardized 1-D embeddings next to the effective theory's."""

    n_train: int
    seed: int
    lambda3: float  # Eq. (5)'s mean over P0(D)
    lambda3_sum: float  # the authors' sum
    n_h: float
    n_h_sum: float
    #: label (NETWORK, EQ5, AUTHORS) -> (steps (T,), standardized embeddings (T, p))
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    #: label -> first step with RQI > 0.95 (NaN: never); the network's is tracked every step
    steps_to: dict[str, float]


def trajectories(df: pd.DataFrame, *, p: int, eta: float, budget: int,
                 n_points: int = 120) -> Trajectories:
    """Fig. 4c/d for the :func:`reference_run` of ``df`` (addition of ``p`` symbols, 1-D
    embeddings): gradient descent on the effective loss, Eq. (5)'s mean over P0(D) and the
    authors' sum over P0, from the network's initial embeddings with step size ``eta``, at
    ``n_points`` log-spaced steps up to the budget or 10 n_h (at most 2e5), whichever is later.
    """
    ref = reference_run(df)
    task = toydata.addition(p)
    mask = ref["train_mask"].astype(bool)
    nh, nh_sum = n_h(ref["lambda3"], eta), n_h(ref["lambda3_sum"], eta)
    horizon = int(max(budget, min(10 * nh, 2e5) if np.isfinite(nh) else budget))
    t_eff = np.unique(np.geomspace(1, horizon, n_points).astype(int))
    e0 = ref["emb"][0, :, 0]
    net = ref["emb"][:, :, 0]
    curves = {
        NETWORK: (np.asarray(ref["steps"]),
                  (net - net.mean(1, keepdims=True)) / net.std(1, ddof=1, keepdims=True)),
        EQ5: (t_eff, rqi.effective_trajectory(e0, rqi.train_equations(mask, task), eta=eta,
                                              steps=t_eff)),
        AUTHORS: (t_eff, rqi.effective_trajectory(e0, toydata.equations(task), eta=eta,
                                                  steps=t_eff, mean=False)),
    }
    quads, _ = toydata.parallelograms(task)
    steps_to = {k: first_step_above(t, e, quads) for k, (t, e) in curves.items()}
    steps_to[NETWORK] = float(ref["t_rqi"])  # tracked at every step, not only at the frames
    return Trajectories(int(ref["n_train"]), int(ref["seed"]), float(ref["lambda3"]),
                        float(ref["lambda3_sum"]), nh, nh_sum, curves, steps_to)


def grokked_delta_s(df: pd.DataFrame) -> pd.Series:
    """Definition 3.1's Delta_S of each run where Definition 3.1 says it grokked, else NaN."""
    grokked = df.get("def31_grokked", pd.Series(False, index=df.index)).eq(True)
    delta = pd.to_numeric(df.get("def31_delta_S", pd.Series(np.nan, index=df.index)),
                          errors="coerce")
    return delta.where(grokked)


def circularity_columns(pca: pd.DataFrame) -> pd.DataFrame:
    """Fig. 1: ``pca`` plus ``circularity`` and ``circularity_init``, how well each run's final
    and initial embeddings lie on a circle in their own top-2 PCA plane."""
    return pca.assign(
        circularity=[rqi.circularity(pca_frames(e[-1:])[0]) for e in pca["emb"]],
        circularity_init=[rqi.circularity(pca_frames(e[:1])[0]) for e in pca["emb"]])
