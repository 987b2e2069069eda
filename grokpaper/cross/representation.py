"""Liu et al.'s representation account on Carvalho et al.'s data: does the hidden layer's
subclass structure jump at the Carvalho transition alpha1, and not before?

No chapter stores hidden activations, so this trains its own small runs (store kind
:data:`KIND`): the Carvalho Fig. 3a runs of the smallest training set (balanced, f = 1) under
the profile, with a probe that scores the last hidden layer at every evaluation. The score is
the nearest-centroid accuracy of the test points' *subclass* labels on their hidden
activations (:func:`subclass_score`), a linear read-out of the structure Carvalho et al.'s
data is built from (Eq. 1), measured on the device with no host sync.

A run's representation *jumps* at the step its score first covers half of its rise from the
step training converged to the end of the run (:func:`jump_step`); a rise under
:data:`MIN_RISE` is no jump. The account holds for a run that groks by Definition 3.1 when
that step lies in ``[alpha0, alpha1]``: after the test curve leaves its plateau, by the time
it arrives, not before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from grokpaper.carvalho import data as syn
from grokpaper.carvalho import experiments as carvalho
from grokpaper.core import profiles, sweep
from grokpaper.core.ensemble_data import EnsembleData
from grokpaper.core.metrics import definition31
from grokpaper.core.models import ACTIVATIONS, EnsembleMLP
from grokpaper.core.store import Store
from grokpaper.core.train import train_ensemble

# "-2": CPU training flushes denormals (grokpaper.core.threads.flush_denormals says why).
KIND = "cross-representation-2"
#: The smallest rise of the score (absolute accuracy) read as a jump.
MIN_RISE = 0.05


@dataclass(frozen=True)
class RepRun:
    """One Carvalho run, probed: the run and how many test points the probe scores."""

    base: carvalho.SyntheticRun
    probe_points: int = 1000  # the first this many test points (the test set is shuffled)


def subclass_score(h: torch.Tensor, labels: torch.Tensor, n_labels: int) -> torch.Tensor:
    """(E,) nearest-centroid accuracy of ``labels`` (N,) on features ``h`` (E, N, d): each
    point is given the label of the nearest label mean (Euclidean), the means taken over all
    ``N`` points."""
    onehot = nn.functional.one_hot(labels, n_labels).to(h.dtype)  # (N, K)
    counts = onehot.sum(0).clamp_min(1)
    centroids = torch.einsum("nk,end->ekd", onehot, h) / counts[None, :, None]
    nearest = torch.cdist(h, centroids).argmin(-1)  # (E, N)
    return (nearest == labels).to(h.dtype).mean(-1)


def hidden(model: EnsembleMLP, x: torch.Tensor) -> torch.Tensor:
    """(E, N, d) activations of the last hidden layer of every member on ``x`` (N, in)."""
    act = ACTIVATIONS[model.config.activation]
    h = x
    for w, b in zip(list(model.weights)[:-1], list(model.biases)[:-1], strict=True):
        h = act(torch.matmul(h, w) + b)
    return h


def train_runs(runs: list[RepRun], device: str) -> list[dict[str, np.ndarray]]:
    """Train ``runs`` (one Carvalho ensemble) with the subclass probe; each run's arrays."""
    base = [r.base for r in runs]
    d0 = base[0].data
    dist = carvalho.base_distributions(d0)
    lay = syn.layout(d0.dataset)
    xs, ys = zip(*(carvalho.training_set(r, dist)[:2] for r in base), strict=True)
    ns = [len(y) for y in ys]
    x_tr = torch.zeros(len(runs), max(ns), syn.N_FEATURES)
    y_tr = torch.zeros(len(runs), max(ns), dtype=torch.long)
    for e, (x, y) in enumerate(zip(xs, ys, strict=True)):
        x_tr[e, : len(y)], y_tr[e, : len(y)] = x, y
    x_te, y_te, sub_te = carvalho.eval_set(d0, dist)
    data = EnsembleData(x_tr, y_tr, torch.tensor(ns), x_te, y_te, lay.n_classes).to(device)
    seeds = [r.seed for r in base]
    model = carvalho.build_ensemble(base[0].model, lay.n_classes, seeds).to(device)
    k = runs[0].probe_points
    x_probe, sub_probe = x_te[:k].to(device), sub_te[:k].to(device)

    def probe(m: nn.Module) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return {"subclass": subclass_score(hidden(m, x_probe), sub_probe,
                                               lay.n_subclasses)}

    hist = train_ensemble(model, data, base[0].train, seeds=seeds, probe=probe)
    return [hist.member(e) for e in range(len(runs))]


def group(run: RepRun) -> tuple:
    return (carvalho.ensemble_key(run.base), run.probe_points)


def seed_of(run: RepRun) -> int:
    return run.base.seed


#: Seeds probed per profile (all of the chapter's elsewhere): three 50k-step runs took ~16
#: CPU-minutes on the 2-core machine, over this page's 5-minute training budget in `quick`.
SEEDS = {"smoke": 2, "quick": 1}


def runs_for(profile: str) -> list[RepRun]:
    """The Carvalho Fig. 3a runs of the smallest training set under ``profile`` (the first
    :data:`SEEDS` of them)."""
    params = profiles.resolve("carvalho.fig3a", profiles.params_class("carvalho.fig3a"),
                              profile)
    base = params.runs()
    small = min(r.data.n_train for r in base)
    chosen = [RepRun(r) for r in base if r.data.n_train == small and r.data.f == 1.0]
    return sorted(chosen, key=lambda r: r.base.seed)[: SEEDS.get(profile)]


def run(runs: list[RepRun], *, store: Store | None = None) -> pd.DataFrame:
    """Train (or load) ``runs``; one row per run: ``n_train``, ``seed``, the curves and the
    ``subclass`` score, ``diverged``."""
    results = sweep.run_cached(KIND, runs, train_runs, group_key=group, seed_of=seed_of,
                               store=store, max_members=carvalho.MAX_MEMBERS)
    rows = []
    for r, res in zip(runs, results, strict=True):
        a = res.arrays
        rows.append({"n_train": r.base.data.n_train, "seed": r.base.seed, "steps": a["steps"],
                     "train_acc": a["train_acc"], "test_acc": a["test_acc"],
                     "subclass": a["extra_subclass"],
                     "diverged": int(np.asarray(a.get("diverged_step", -1))) >= 0})
    return pd.DataFrame(rows)


def jump_step(steps: Any, score: Any, t_from: float) -> float | None:
    """First step at which ``score`` covers half its rise from ``t_from`` to the end; None
    when it rises less than :data:`MIN_RISE`."""
    s, v = np.asarray(steps, float), np.asarray(score, float)
    i0 = int(np.searchsorted(s, t_from))
    start, end = v[min(i0, len(v) - 1)], v[-1]
    if end - start < MIN_RISE:
        return None
    hit = np.flatnonzero((v >= start + (end - start) / 2) & (s >= s[min(i0, len(s) - 1)]))
    return float(s[hit[0]])


def transitions(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (:func:`run`) with Definition 3.1's ``grokked``, ``alpha0``, ``alpha1``, the
    score's ``jump`` step and ``at_transition`` (the jump lies in [alpha0, alpha1])."""
    rows = []
    for r in df.itertuples():
        st = definition31(r.steps, r.train_acc, r.test_acc)
        jump = (jump_step(r.steps, r.subclass, st.t_converged)
                if st.t_converged is not None else None)
        at = (st.grokked and jump is not None and st.alpha0 <= jump <= st.alpha1)
        rows.append({"grokked": st.grokked, "alpha0": st.alpha0, "alpha1": st.alpha1,
                     "score_start": float(np.asarray(r.subclass)[0]),
                     "score_end": float(np.asarray(r.subclass)[-1]),
                     "jump": np.nan if jump is None else jump, "at_transition": bool(at)})
    return pd.concat([df.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


