"""Numbers the Carvalho et al. pages quote and judge, derived from the run tables of
:func:`grokpaper.carvalho.experiments.run` (no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.carvalho.experiments import SyntheticRun
from grokpaper.carvalho.shift import train_test_mmd
from grokpaper.core.report import final_value


def convergence_steps(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """Median Definition 3.1 steps per ``by``: ``def31_alpha0`` (training converged) and
    ``def31_alpha1`` (test accuracy at its final level); runs where they are undefined are
    left out."""
    cols = ["def31_alpha0", "def31_alpha1"]
    numeric = {c: pd.to_numeric(df[c], errors="coerce") for c in cols}
    return df.assign(**numeric).groupby(by)[cols].median()


def final_by_f(df: pd.DataFrame) -> pd.DataFrame:
    """Mean final test accuracy per f of the runs with the largest training set: on all test
    samples (``final_test``) and on the subsampled subclasses alone (``final_sub``)."""
    largest = df[df["n_train"] == df["n_train"].max()]
    return largest.assign(final_test=final_value(largest, "test_acc"),
                          final_sub=final_value(largest, "test_acc_subsampled")
                          ).groupby("f")[["final_test", "final_sub"]].mean()


def mean_final_test(df: pd.DataFrame, by: str) -> dict[object, float]:
    """Mean final test accuracy per value of ``by`` (e.g. per model)."""
    return {k: float(np.mean(final_value(g, "test_acc"))) for k, g in df.groupby(by)}


def with_train_test_mmd(df: pd.DataFrame, runs: list[SyntheticRun]) -> pd.DataFrame:
    """``df`` (the runs of ``runs``) plus ``mmd2``, the shift between each run's training set
    and the test set, and ``delta_S``, Definition 3.1's intensity as a number (NaN where it is
    undefined)."""
    mmd = train_test_mmd(runs)
    out = df.merge(mmd, on=["dataset", "n_train", "f", "seed"], validate="one_to_one")
    return out.assign(delta_S=pd.to_numeric(out["def31_delta_S"], errors="coerce"))
