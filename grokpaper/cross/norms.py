"""The weight-norm account (Omnigrok; Li & Sakib Figs. 6-8) on every family: has the weight
norm turned down by the time the test curve arrives?

Read on the total weight norm every trainer of the core records (Omnigrok's quantity; Liu's
toy loop records none), up to the test curve's arrival. The norm has *turned* when it stands
at least :data:`~grokpaper.lisakib.claims_weights.PEAK_FALL` times below a peak at the
arrival. A turn is one of two shapes: the norm rose after the training set was fitted and
peaked before the arrival (Li & Sakib's pattern,
:func:`grokpaper.lisakib.claims_weights.in_pre_grokking`), or it has been falling since the
fit or before, e.g. from its initialization under weight decay (Omnigrok's large-norm
start). A norm that has not turned is still rising, or flat, at the arrival. The fit and the
arrival come from the definition that calls the run grokking: Definition 3.1's convergence
step and alpha1 first, else the 95% crossings (Li & Sakib), else the 90% crossings (Liu).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from grokpaper.core.metrics import definition31, first_crossing
from grokpaper.cross.yardstick import LI_THRESHOLD, LIU_THRESHOLD
from grokpaper.lisakib.claims_weights import PEAK_FALL


def fit_and_arrival(steps: Any, train: Any, test: Any, *, def31: bool, li: bool, liu: bool
                    ) -> tuple[float, float] | None:
    """``(step the training set is fitted, step the test curve arrives)`` by the first of the
    definitions that calls the run grokking (see the module docstring); None if none does."""
    if def31:
        st = definition31(steps, train, test)
        return float(st.t_converged), float(st.alpha1)
    for calls, level in ((li, LI_THRESHOLD), (liu, LIU_THRESHOLD)):
        if calls:
            return (float(first_crossing(steps, train, level)),
                    float(first_crossing(steps, test, level)))
    return None


#: The shapes of a norm up to the test curve's arrival (see the module docstring).
PEAK_AFTER_FIT, FALLS_FROM_FIT, NO_TURN = ("peaks after the fit, then falls",
                                           "falls from the fit or before", "no turn")
TURNED = (PEAK_AFTER_FIT, FALLS_FROM_FIT)


def norm_shape(steps: Any, norm: Any, t_fit: float, t_arrive: float) -> tuple[str, float]:
    """``(shape, peak step)`` of the norm up to ``t_arrive`` (module docstring): a peak after
    the fit counts when the norm rose after the fit (above its value there) and stands
    ``PEAK_FALL`` below that peak at the arrival, even if it started higher (a norm that
    falls from its initialization, rises while the training set is fitted, then falls)."""
    s, w = np.asarray(steps, float), np.asarray(norm, float)
    upto = np.flatnonzero(s <= t_arrive)
    at = w[upto[-1]]
    after = upto[s[upto] > t_fit]
    if after.size:
        i = int(after[np.argmax(w[after])])
        at_fit = w[upto[s[upto] <= t_fit][-1]] if (s[upto] <= t_fit).any() else -np.inf
        if w[i] > at_fit and w[i] > PEAK_FALL * at:
            return PEAK_AFTER_FIT, float(s[i])
    i = int(upto[np.argmax(w[upto])])
    return (FALLS_FROM_FIT if w[i] > PEAK_FALL * at else NO_TURN), float(s[i])


def norm_table(judged: pd.DataFrame) -> pd.DataFrame:
    """One row per judged run (:func:`grokpaper.cross.yardstick.judge_runs`) that any
    definition calls grokking: ``family``, ``has_norm``, ``t_fit``, ``t_arrive``,
    ``peak_step``, ``shape`` (:func:`norm_shape`; empty without a recorded norm), ``turns``
    and ``diverged``."""
    rows = []
    for r in judged.itertuples():
        steps = fit_and_arrival(r.steps, r.train_acc, r.test_acc, def31=r.def31, li=r.li,
                                liu=r.liu)
        if steps is None:
            continue
        has = r.weight_norm is not None and np.isfinite(np.asarray(r.weight_norm)).all()
        shape, peak = norm_shape(r.steps, r.weight_norm, *steps) if has else ("", np.nan)
        rows.append({"family": r.family, "has_norm": has, "t_fit": steps[0],
                     "t_arrive": steps[1], "peak_step": peak, "shape": shape,
                     "turns": shape in TURNED, "diverged": bool(r.diverged)})
    return pd.DataFrame(rows, columns=["family", "has_norm", "t_fit", "t_arrive", "peak_step",
                                       "shape", "turns", "diverged"])
