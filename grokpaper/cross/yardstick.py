"""One yardstick: a run judged by the three definitions of grokking the book's studies use.

- Carvalho et al. 2025, Definition 3.1 (:func:`grokpaper.core.metrics.definition31`): a low
  test plateau after training converged, then a lasting rise into the high region.
- Li & Sakib: the grokking delay, "steps from train to test first reaching 95%"
  (:func:`grokpaper.core.metrics.grokking_delay`); a run groks when the delay is at least
  :data:`grokpaper.lisakib.experiments.DELAY_GAP` steps (their chapter's rule).
- Liu et al. 2022, the phase rule (:func:`grokpaper.core.phases.phase`): both accuracies reach
  90% and the test curve gets there at least 1e3 steps after the training curve.

Each is read on the stored curves (the evaluation steps), as its authors state it: the two
step gaps are absolute, whatever the run's budget. Every number here is a pure function of the
curves, so that the hand-built cases of ``tests/test_cross_yardstick.py`` pin it down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from grokpaper.core import phases
from grokpaper.core.metrics import definition31, first_crossing, grokking_delay
from grokpaper.lisakib.experiments import DELAY_GAP

#: The three definitions, in the book's order, as the tables name them.
DEFINITIONS = ("Def. 3.1", "95 % delay", "phase rule")
#: Li & Sakib's accuracy threshold for the delay (their Sec. 3).
LI_THRESHOLD = 0.95
#: Liu et al.'s "high (90%) training/validation accuracy" (App. A).
LIU_THRESHOLD = 0.9


@dataclass(frozen=True)
class Judgement:
    """What each definition says of one run."""

    def31: bool  # Definition 3.1: grokked
    delay: float | None  # Li & Sakib's delay in steps (None: a curve never reached 95%)
    li: bool  # delay >= DELAY_GAP
    phase: str  # Liu's phase (grokking / comprehension / memorization / confusion)
    liu: bool  # phase == "grokking"
    converged: bool = True  # Definition 3.1 found the training curve converged (its step 1)

    @property
    def calls(self) -> tuple[bool, bool, bool]:
        """Grokked or not, by each of :data:`DEFINITIONS`."""
        return self.def31, self.li, self.liu

    @property
    def agree(self) -> bool:
        return len(set(self.calls)) == 1

    @property
    def pattern(self) -> str:
        """Which definitions call the run grokking: ``"all three"``, ``"none"``, or their
        names joined with ``" + "`` (e.g. ``"Def. 3.1 only"``)."""
        names = [d for d, c in zip(DEFINITIONS, self.calls, strict=True) if c]
        if len(names) == len(DEFINITIONS):
            return "all three"
        if not names:
            return "none"
        return f"{names[0]} only" if len(names) == 1 else " + ".join(names)


def judge(steps: Any, train: Any, test: Any) -> Judgement:
    """The three definitions on one run's accuracy curves (in [0, 1], at increasing steps; the
    last step is the budget: a threshold first reached there still counts)."""
    s = np.asarray(steps, dtype=float)
    budget = int(s[-1]) + 1
    stats = definition31(s, train, test)
    delay = grokking_delay(s, train, test, threshold=LI_THRESHOLD)
    t_train = first_crossing(s, train, LIU_THRESHOLD)
    t_test = first_crossing(s, test, LIU_THRESHOLD)
    phase = phases.phase(t_train, t_test, budget=budget)
    return Judgement(bool(stats.grokked), delay, delay is not None and delay >= DELAY_GAP,
                     phase, phase == "grokking", stats.t_converged is not None)


def judge_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` (one per row, with ``steps``, ``train_acc``, ``test_acc`` arrays) with each
    definition's call: columns ``def31``, ``li``, ``liu`` (bool), ``delay``, ``phase``,
    ``agree``, ``pattern`` and ``converged`` (Definition 3.1's convergence test)."""
    js = [judge(r.steps, r.train_acc, r.test_acc) for r in runs.itertuples()]
    return runs.assign(def31=[j.def31 for j in js], li=[j.li for j in js],
                       liu=[j.liu for j in js],
                       delay=[np.nan if j.delay is None else j.delay for j in js],
                       phase=[j.phase for j in js], agree=[j.agree for j in js],
                       pattern=[j.pattern for j in js], converged=[j.converged for j in js])


def agreement(judged: pd.DataFrame, by: str = "family") -> pd.DataFrame:
    """Per group of ``judged`` (:func:`judge_runs`): runs, runs each definition calls
    grokking, runs whose training curve Definition 3.1 finds not converged (its final stretch
    must lie within 2% of its limit: a noisy curve does not), runs all three agree on, runs
    *any* calls grokking (contested) and how many of those *all three* call grokking;
    ``agree_share`` and ``all_share`` (NaN without runs)."""
    rows = []
    for name, g in judged.groupby(by, sort=False):
        anyg = g["def31"] | g["li"] | g["liu"]
        allg = g["def31"] & g["li"] & g["liu"]
        n, n_any = len(g), int(anyg.sum())
        rows.append({by: name, "runs": n, **{d: int(g[c].sum()) for d, c in zip(
            DEFINITIONS, ("def31", "li", "liu"), strict=True)},
                     "Def. 3.1: train not converged": int((~g["converged"]).sum()),
                     "agree": int(g["agree"].sum()), "any grokking": n_any,
                     "all three": int(allg.sum()),
                     "agree_share": g["agree"].mean() if n else np.nan,
                     "all_share": allg.sum() / n_any if n_any else np.nan})
    return pd.DataFrame(rows)


def patterns(judged: pd.DataFrame, by: str = "family") -> pd.DataFrame:
    """How many runs of each group fall into each :attr:`Judgement.pattern` (a cross table)."""
    return pd.crosstab(judged[by], judged["pattern"])
