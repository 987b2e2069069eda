"""Verdicts computed from measured numbers, one function per reproduced figure.

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.report import final_value
from grokpaper.verdicts import Verdict

CARVALHO = "Carvalho et al. 2025"
#: A curve "improves after convergence" if test accuracy gains at least this much after alpha0.
LATE_GAIN = 0.05
#: Majority rule: a condition groks if at least this share of its seeds grok (Definition 3.1).
MAJORITY = 0.5


def late_gain(df: pd.DataFrame) -> np.ndarray:
    """Test accuracy gained after training converged (final minus value at alpha0), per run."""
    out = []
    for steps, test, a0 in zip(df["steps"], df["test_acc"], df["def31_alpha0"], strict=True):
        if a0 is None or not np.isfinite(a0):
            out.append(np.nan)
            continue
        out.append(float(test[-1] - test[np.searchsorted(steps, a0)]))
    return np.array(out)


def carvalho_fig3b(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 3b: f = 0 stays on a plateau; f > 0 generalizes late (grokking)."""
    zero = df[df["f"] == 0]
    pos = df[df["f"] > 0]
    verdicts = []
    if len(zero):
        grok0 = zero["def31_grokked"].mean()
        acc0 = final_value(zero, "test_acc").mean()
        best = max((final_value(g, "test_acc").mean() for _, g in pos.groupby("f")),
                   default=np.nan)
        plateau = grok0 == 0 and (not np.isfinite(best) or acc0 <= best - LATE_GAIN)
        verdicts.append(Verdict(
            paper=CARVALHO, figure="Fig. 3b",
            claim="Removing a subclass entirely (f = 0) prevents grokking: the model is stuck "
                  "on a sub-optimal plateau.",
            measured=f"f = 0: {int(zero['def31_grokked'].sum())}/{len(zero)} runs grok; final "
                     f"test accuracy {acc0:.3f} vs {best:.3f} for the best f > 0.",
            verdict="supported" if plateau else ("not supported" if grok0 >= MAJORITY
                                                else "partly supported"),
            page=page))
    if len(pos):
        parts, shares, gains = [], [], []
        for f, g in pos.groupby("f"):
            share = g["def31_grokked"].mean()
            gain = np.nanmean(late_gain(g))
            shares.append(share)
            gains.append(gain)
            parts.append(f"f = {f:g}: {int(g['def31_grokked'].sum())}/{len(g)} grok, "
                         f"+{gain:.3f} test acc after convergence")
        if all(s >= MAJORITY for s in shares):
            verdict = "supported"
        elif any(s >= MAJORITY for s in shares) or all(x >= LATE_GAIN for x in gains):
            # Late improvement without meeting every clause of Definition 3.1 counts as partial.
            verdict = "partly supported"
        else:
            verdict = "not supported"
        verdicts.append(Verdict(
            paper=CARVALHO, figure="Fig. 3b",
            claim="Keeping a few samples of the subclass (f = 0.01, 0.05, 0.2) lets the model "
                  "generalize late, i.e. grok.",
            measured="; ".join(parts) + ".", verdict=verdict, page=page))
    return verdicts
