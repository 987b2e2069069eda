"""How far each synthetic run's training set is from the test set (kernel MMD, RBF).

The bandwidth is the median heuristic on the dataset's test set, one per dataset, so that
every training set of a dataset is measured with the same kernel. MMD^2 is computed on the
117 input features only: class proportions are balanced for every f, so the shift Eq. (1)
creates is a shift of p(x) within classes.
"""

from __future__ import annotations

import pandas as pd
import torch

from grokpaper.carvalho.experiments import (
    SyntheticRun,
    base_distributions,
    eval_set,
    training_set,
)
from grokpaper.core import shift


def train_test_mmd(runs: list[SyntheticRun], *, max_test: int = 2000, seed: int = 0
                   ) -> pd.DataFrame:
    """One row per run: dataset, n_train, f, seed and ``mmd2`` (unbiased MMD^2 to the test set).

    The test set is subsampled (deterministically) to ``max_test`` rows to bound the cost.
    """
    rows, cache = [], {}
    for r in runs:
        d = r.data
        key = (d.dataset, d.noise, d.geometry_seed, d.test_seed, d.n_test)
        if key not in cache:
            base = base_distributions(d)
            x_test = eval_set(d, base)[0]
            if len(x_test) > max_test:
                g = torch.Generator().manual_seed(seed)
                x_test = x_test[torch.randperm(len(x_test), generator=g)[:max_test]]
            cache[key] = (base, x_test, shift.median_bandwidth(x_test, seed=seed))
        base, x_test, bandwidth = cache[key]
        x_train = training_set(r, base)[0]
        rows.append({"dataset": d.dataset, "n_train": d.n_train, "f": d.f, "seed": r.seed,
                     "mmd2": shift.mmd2(x_train, x_test, bandwidth=bandwidth),
                     "bandwidth": bandwidth})
    return pd.DataFrame(rows)
