"""The rules the Carvalho et al. verdicts share: per-condition grokking, late gain, intensity.

Every threshold is fixed here, before looking at a run, and printed on the pages. A run's
Definition 3.1 numbers are the ``def31_*`` columns of a run table (whole test set) or the
``sub31_*`` columns (the subsampled subclasses' test samples alone); see
:func:`grokpaper.carvalho.experiments.run`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grokpaper.core.metrics import Def31Options
from grokpaper.core.report import final_value, value_at_convergence
from grokpaper.core.verdicts import INCONCLUSIVE, MAJORITY, ladder

#: A curve "improves after convergence" if test accuracy gains at least this much after
#: training converged (a late rise short of some clause of Definition 3.1 counts as partial).
LATE_GAIN = 0.05


def budget(df: pd.DataFrame) -> str:
    """The runs' step budget, for the pages' "what would decide it" lines."""
    return f"{int(max(s[-1] for s in df['steps'])):,} steps" if len(df) else "no run"


def could_grok(df: pd.DataFrame, prefix: str = "def31_") -> np.ndarray:
    """Per run: Definition 3.1 could have said "grokked": training converged, and the run went
    on past ``plateau_ratio`` times the step it converged at (a plateau must last that long).
    A run that did not is no evidence either way: its budget was too short."""
    t = pd.to_numeric(df[f"{prefix}t_converged"], errors="coerce").to_numpy(dtype=float)
    end = np.array([float(s[-1]) for s in df["steps"]]) if len(df) else np.zeros(0)
    return np.isfinite(t) & (end > Def31Options().plateau_ratio * np.nan_to_num(t))


def late_gain(df: pd.DataFrame, test: str = "test_acc") -> np.ndarray:
    """Accuracy on curve ``test`` gained after training converged (final minus the value at
    Definition 3.1's ``t_converged``), per run; NaN where training never converged."""
    return final_value(df, test).astype(float) - value_at_convergence(df, test)


def intensity(df: pd.DataFrame, prefix: str = "def31_") -> np.ndarray:
    """Grokking intensity per run: Delta_S of a run that groks, 0 for a run that does not (no
    grokking happened), NaN where it could not have (:func:`could_grok`).

    Definition 3.1's Delta_S is also defined for runs that do not grok (e.g. a test curve that
    rose with training has a large gap but no plateau); "how much grokking happened" (Fig. 2)
    is none for them.
    """
    judged = could_grok(df, prefix)
    delta = pd.to_numeric(df[f"{prefix}delta_S"], errors="coerce").to_numpy(dtype=float)
    grokked = df[f"{prefix}grokked"].astype(bool).to_numpy()
    return np.where(~judged, np.nan, np.where(grokked, delta, 0.0))


def label(key: object, by: list[str]) -> str:
    """``"n = 500, f = 0.2"`` for a groupby key over ``by``."""
    names = {"n_train": "n", "f": "f", "dataset": "", "model": ""}
    key = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{names.get(b, b)} = {v:g}" if isinstance(v, numbers.Number)
                     else str(v) for b, v in zip(by, key, strict=True))


@dataclass(frozen=True)
class Condition:
    """One condition's seeds under Definition 3.1."""

    label: str
    runs: int
    judged: int  # seeds that could have grokked (:func:`could_grok`)
    grokked: int
    gain: float  # mean late gain of the seeds whose training converged (NaN if none)

    @property
    def decidable(self) -> bool:
        """At least half of the seeds could have grokked: else the budget was too short."""
        return self.judged > 0 and self.judged >= MAJORITY * self.runs

    @property
    def groks(self) -> bool:
        """At least half of the seeds meet every clause of Definition 3.1."""
        return self.grokked >= MAJORITY * self.runs

    def text(self) -> str:
        late = (f"{self.gain:+.3f} after convergence" if np.isfinite(self.gain)
                else "training never converged")
        short = self.runs - self.judged if np.isfinite(self.gain) else 0
        return (f"{self.label}: {self.grokked}/{self.runs} grok, {late}"
                + (f" ({short} too short after convergence to grok)" if short else ""))


def conditions(df: pd.DataFrame, by: list[str], *, prefix: str = "def31_",
               test: str = "test_acc") -> list[Condition]:
    """One :class:`Condition` per group of ``df`` over ``by`` (all of ``df`` if ``by`` is
    empty), read from the ``prefix`` columns and curve ``test``."""
    groups = df.groupby(by, sort=True) if by else ([((), df)] if len(df) else [])
    out = []
    for key, g in groups:
        gains = late_gain(g, test)
        out.append(Condition(
            label=label(key, by) if by else "all runs", runs=len(g),
            judged=int(could_grok(g, prefix).sum()),
            grokked=int(g[f"{prefix}grokked"].astype(bool).sum()),
            gain=float(np.nanmean(gains)) if np.isfinite(gains).any() else np.nan))
    return out


def grokking_verdict(conds: list[Condition]) -> str:
    """"Grokking occurs in every condition": *supported* if every condition groks, *partly*
    if some decided condition groks or every decided one gains :data:`LATE_GAIN` after
    convergence, *inconclusive* if no condition is decidable (:attr:`Condition.decidable`). An
    undecided condition keeps the claim from *supported*."""
    decided = [c for c in conds if c.decidable]
    return ladder(decidable=bool(decided),
                  all_met=len(decided) == len(conds) and all(c.groks for c in conds),
                  some_met=any(c.groks for c in decided)
                  or all(c.gain >= LATE_GAIN for c in decided))


def grokking_counts(conds: list[Condition]) -> str:
    """``"5/6 grok (2/2 conditions with at least half their seeds)"``: the short measured
    line of a grokking claim."""
    undecided = sum(not c.decidable for c in conds)
    text = (f"{sum(c.grokked for c in conds)}/{sum(c.runs for c in conds)} grok "
            f"({sum(c.groks for c in conds)}/{len(conds)} conditions with at least half their "
            "seeds")
    return text + (f"; {undecided} too short to tell)" if undecided else ")")


def on_late_gain_alone(conds: list[Condition]) -> bool:
    """Whether :func:`grokking_verdict` says *partly* on late gains alone: some condition is
    decided, none of them groks, and each gains :data:`LATE_GAIN` after convergence."""
    decided = [c for c in conds if c.decidable]
    return (bool(decided) and not any(c.groks for c in decided)
            and all(c.gain >= LATE_GAIN for c in decided))


def late_gain_note(conds: list[Condition]) -> str:
    """The measured line's note when the verdict rests on late gains alone
    (:func:`on_late_gain_alone`), so that "0/12 grok" next to *partly supported* reads as what
    it is; empty otherwise."""
    if not on_late_gain_alone(conds):
        return ""
    least = min(c.gain for c in conds if c.decidable)
    return f"; none groks by Def. 3.1, but each gains >= {LATE_GAIN:g} late (least {least:+.2f})"


def no_convergence(df: pd.DataFrame) -> str:
    return (f"Within {budget(df)}, training did not converge, or not early enough to leave "
            "room for a plateau, in at least half of the seeds of any condition: more steps "
            "(the quick or paper profile) would decide it.")


def intensity_by_size(df: pd.DataFrame, prefix: str = "def31_") -> pd.DataFrame:
    """Per training size: mean, standard error and count of :func:`intensity` (runs whose
    runs that could not have grokked dropped), and how many of the runs grok."""
    d = df.assign(intensity=intensity(df, prefix),
                  groks=df[f"{prefix}grokked"].astype(bool).astype(int))
    out = d.groupby("n_train").agg(mean=("intensity", "mean"), sem=("intensity", "sem"),
                                   count=("intensity", "count"), grokked=("groks", "sum"))
    return out.fillna({"sem": 0.0})


def shrinks_verdict(table: pd.DataFrame) -> str:
    """"Intensity grows as the training set shrinks": the mean intensity falls at every step from
    the smallest to the largest size, by more than 2 standard errors end to end (*partly*: it
    falls end to end); *inconclusive* with fewer than two sizes or no grokking run."""
    t = table.dropna(subset=["mean"])
    if len(t) < 2 or not t["grokked"].sum():
        return INCONCLUSIVE
    means = t["mean"].to_numpy()
    drop = means[0] - means[-1]
    noise = 2 * float(np.hypot(t["sem"].iloc[0], t["sem"].iloc[-1]))
    return ladder(all_met=bool(np.all(np.diff(means) < 0)) and drop > noise, some_met=drop > 0)


def shrinks_decide(table: pd.DataFrame, df: pd.DataFrame) -> str:
    """Why :func:`shrinks_verdict` is inconclusive, and what would decide it."""
    if len(table.dropna(subset=["mean"])) < 2:
        return ("Fewer than two training sizes with runs that could have grokked (training "
                f"converged early enough): more sizes or more steps than {budget(df)} would "
                "decide it.")
    return (f"No run grokked within {budget(df)}, so there is no intensity to compare: longer "
            "runs (the paper profile) would decide it.")


def sizes_text(table: pd.DataFrame) -> str:
    return ", ".join(f"n = {n:g}: {m:.2f} ± {s:.2f} ({g:g}/{c:g} grok)" if np.isfinite(m)
                     else f"n = {n:g}: undefined"
                     for n, (m, s, c, g) in table[["mean", "sem", "count", "grokked"]]
                     .iterrows())


def ends_text(table: pd.DataFrame) -> str:
    """``"mean Delta_S 0.45 (n = 100) -> 0.20 (n = 2,000)"`` for the short measured line."""
    t = table.dropna(subset=["mean"])
    if t.empty:
        return "Delta_S undefined (training never converged)"
    if len(t) == 1:
        return f"mean Delta_S {t['mean'].iloc[0]:.2f} at n = {t.index[0]:,} only"
    first, last = t.index[0], t.index[-1]
    return (f"mean Delta_S {t['mean'].iloc[0]:.2f} (n = {first:,}) -> {t['mean'].iloc[-1]:.2f} "
            f"(n = {last:,})")
