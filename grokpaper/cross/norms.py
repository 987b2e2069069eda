"""The weight-norm account (Omnigrok; Li & Sakib Figs. 6-8) on every family: does the weight
norm peak, and turn down, before the test curve arrives?

Li & Sakib's rule (:func:`grokpaper.lisakib.claims_weights.in_pre_grokking`), read on the
total weight norm every trainer of the core records (Omnigrok's quantity; Liu's toy loop
records none): the norm's peak lies after the training set is fitted and no later than the
test curve's arrival, and the norm ends at least
:data:`~grokpaper.lisakib.claims_weights.PEAK_FALL` times below its peak. A norm that only
decays from its initial value peaks at step 0 and does not count. The two steps come from the
definition that calls the run grokking: Definition 3.1's convergence step and alpha1 first,
else the 95% crossings (Li & Sakib), else the 90% crossings (Liu).
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


def turns_before(steps: Any, norm: Any, t_fit: float, t_arrive: float) -> tuple[bool, float]:
    """``(the norm peaks in (t_fit, t_arrive] and ends PEAK_FALL below its peak, peak step)``."""
    s, w = np.asarray(steps, float), np.asarray(norm, float)
    i = int(np.argmax(w))
    ok = t_fit < s[i] <= t_arrive and w[i] > PEAK_FALL * w[-1]
    return bool(ok), float(s[i])


def norm_table(judged: pd.DataFrame) -> pd.DataFrame:
    """One row per judged run (:func:`grokpaper.cross.yardstick.judge_runs`) that any
    definition calls grokking: ``family``, ``has_norm``, ``t_fit``, ``t_arrive``,
    ``peak_step`` and ``turns`` (False without a recorded norm), ``diverged``."""
    rows = []
    for r in judged.itertuples():
        steps = fit_and_arrival(r.steps, r.train_acc, r.test_acc, def31=r.def31, li=r.li,
                                liu=r.liu)
        if steps is None:
            continue
        has = r.weight_norm is not None and np.isfinite(np.asarray(r.weight_norm)).all()
        ok, peak = turns_before(r.steps, r.weight_norm, *steps) if has else (False, np.nan)
        rows.append({"family": r.family, "has_norm": has, "t_fit": steps[0],
                     "t_arrive": steps[1], "peak_step": peak, "turns": ok,
                     "diverged": bool(r.diverged)})
    return pd.DataFrame(rows, columns=["family", "has_norm", "t_fit", "t_arrive", "peak_step",
                                       "turns", "diverged"])
