"""Carvalho et al.'s explanation on the algorithmic tasks: does the train/test distribution
shift predict the grokking delay on Li & Sakib's modular splits and Liu's toy splits?

The shift is measured as on the Carvalho shift page (:mod:`grokpaper.carvalho.shift`): the
unbiased kernel MMD^2 (:func:`grokpaper.core.shift.mmd2`, RBF kernel, median-heuristic
bandwidth fixed per task) between the training inputs and the held-out inputs. An input is a
pair of operands ``(a, b)``, read as the concatenation of their one-hot codes: the only
features the tasks have (the operation and ``=`` tokens are the same in every row). A split
drawn uniformly at random, as both studies draw theirs, has no shift in expectation: the
unbiased MMD^2 is then about zero at every fraction, which is what the test cases pin down.
The delay is Li & Sakib's (95%), read on the stored curves; a run whose test curve never
reaches 95% within its budget counts as delayed to the end of it (a lower bound), a run that
never fits its training set has no delay and is left out.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import torch

from grokpaper.core import shift
from grokpaper.core.metrics import first_crossing
from grokpaper.cross.stored import FAMILIES as STORED_FAMILIES
from grokpaper.cross.yardstick import LI_THRESHOLD
from grokpaper.lisakib import data as modular
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib.experiments import ModRun
from grokpaper.liu import data as toydata
from grokpaper.liu import experiments as liu_toy
from grokpaper.liu.experiments import ToyRun

#: The families whose splits :func:`task_split` reads.
FAMILIES = tuple(STORED_FAMILIES[kind][1] for kind in (lisakib.KIND, liu_toy.KIND))


def pair_features(pairs: Any, n_symbols: int) -> torch.Tensor:
    """(N, 2 n_symbols) float: each operand's one-hot code, side by side."""
    pairs = torch.as_tensor(pairs, dtype=torch.long)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must be (N, 2), got {tuple(pairs.shape)}")
    eye = torch.eye(n_symbols, dtype=torch.float64)
    return torch.cat([eye[pairs[:, 0]], eye[pairs[:, 1]]], dim=1)


def split_mmd(features: torch.Tensor, train: Any, *, bandwidth: float) -> float:
    """Unbiased MMD^2 between the rows of ``features`` in the training mask ``train`` (bool,
    (N,)) and the other rows; NaN when either side has fewer than 2 rows (a split that holds
    out almost nothing, as at a training fraction near 1, has no held-out distribution)."""
    train = torch.as_tensor(np.asarray(train, dtype=bool))
    if min(int(train.sum()), int((~train).sum())) < 2:
        return float("nan")
    return shift.mmd2(features[train], features[~train], bandwidth=bandwidth)


def task_split(run: Any) -> tuple[Hashable, Hashable, torch.Tensor, np.ndarray] | None:
    """``(task key, split key, pair features, training mask)`` of a Li & Sakib or Liu toy
    run; None for any other run (the transformers of Liu's Fig. 7 are left out: their split
    is drawn inside the model's own data code)."""
    if isinstance(run, ModRun):
        seq, _ = modular.table(run.op, run.p)
        tr, _ = modular.split(run.op, run.p, run.train_frac, seed=run.split_seed)
        mask = np.zeros(len(seq), dtype=bool)
        mask[tr.numpy()] = True
        task = ("modular", run.op, run.p)
        return task, (*task, run.train_frac, run.split_seed), pair_features(
            seq[:, [0, 2]], run.p), mask
    if isinstance(run, ToyRun):
        t = run.model.make_task()
        mask = toydata.train_mask(t.n_samples, run.n_train, run.seed)
        task = ("toy", t.name, t.n_symbols)
        return task, (*task, run.n_train, run.seed), pair_features(t.pairs, t.n_symbols), mask
    return None


def delay_to_end(steps: Any, train: Any, test: Any) -> float:
    """Li & Sakib's delay; a test curve that never reaches 95% counts as delayed to the last
    step; NaN when the training curve never does."""
    t_train = first_crossing(steps, train, LI_THRESHOLD)
    if t_train is None:
        return float("nan")
    t_test = first_crossing(steps, test, LI_THRESHOLD)
    return (float(np.asarray(steps)[-1]) if t_test is None else t_test) - t_train


def shift_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run that :func:`task_split` reads: ``family``, ``fraction`` (training
    share), ``mmd2`` (split vs held-out), ``delay`` (:func:`delay_to_end`) and ``censored``.
    The bandwidth is the median heuristic on all of a task's pairs (one kernel per task);
    each split's MMD^2 is computed once."""
    bandwidths: dict[Hashable, float] = {}
    mmds: dict[Hashable, float] = {}
    rows = []
    for r in runs.itertuples():
        found = task_split(r.run)
        if found is None:
            continue
        task, split_key, x, mask = found
        if task not in bandwidths:
            bandwidths[task] = shift.median_bandwidth(x)
        if split_key not in mmds:
            mmds[split_key] = split_mmd(x, mask, bandwidth=bandwidths[task])
        reached = first_crossing(r.steps, r.test_acc, LI_THRESHOLD) is not None
        rows.append({"family": r.family, "fraction": float(mask.mean()),
                     "mmd2": mmds[split_key],
                     "delay": delay_to_end(r.steps, r.train_acc, r.test_acc),
                     "censored": not reached, "diverged": bool(r.diverged)})
    return pd.DataFrame(rows, columns=["family", "fraction", "mmd2", "delay", "censored",
                                       "diverged"])
