"""Verdicts of the cross-examination, with their rules fixed here.

The yardstick question, per family of runs: *do the three definitions of grokking call the
same runs grokking?* Runs that no definition calls grokking agree trivially (a run that never
fits its training set is "no grokking" to all three), so the rule reads the *contested* runs,
those at least one definition calls grokking: the definitions agree on the family when at
least :data:`~grokpaper.core.verdicts.MOST` of them are called grokking by all three
(*supported*), partly when some are, not when none is; with no contested run there is nothing
to decide (*inconclusive*).

The shift question, per family of algorithmic runs: *does a larger train/test shift go with a
longer grokking delay*, as Carvalho et al. argue it goes with more grokking on their data?
Judged exactly as the Carvalho shift page judges its own runs: Spearman's rho between MMD^2
and the delay, *supported* from :data:`~grokpaper.carvalho.claims.STRONG_RHO` (significant),
*partly* for a weaker significant positive rho, else *not supported*; *inconclusive* with
fewer than :data:`MIN_RUNS` runs that have a delay, or none that differ.

The weight-norm question, per family: *has the norm turned down by the time the test curve
arrives* (:mod:`grokpaper.cross.norms`), in at least :data:`~grokpaper.core.verdicts.MOST`
of the grokking runs that record a norm?
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from grokpaper.carvalho.claims import P_VALUE, STRONG_RHO
from grokpaper.core import divergence
from grokpaper.core.studies import CROSS
from grokpaper.core.verdicts import (
    INCONCLUSIVE,
    MOST,
    Verdict,
    judged,
    ladder,
    share_verdict,
)
from grokpaper.cross.norms import PEAK_AFTER_FIT
from grokpaper.cross.yardstick import DEFINITIONS, agreement

YARDSTICK = "One yardstick"
#: A family none of whose chapters has run under the profile: what the rows say.
NO_RUNS = "no stored run of this family"
RUN_CHAPTERS = "run the chapters that train these runs under this profile, then this page"


@divergence.excluding
def yardstick(runs: pd.DataFrame, *, families: list[str], page: str) -> list[Verdict]:
    """One verdict per family in ``families`` (in that order) from the judged ``runs``
    (:func:`grokpaper.cross.yardstick.judge_runs`); a family without stored runs is
    *inconclusive* (its chapters have not run)."""
    table = agreement(runs).set_index("family") if len(runs) else pd.DataFrame()
    out = []
    for family in families:
        claim = (f"{', '.join(DEFINITIONS[:-1])} and {DEFINITIONS[-1]} call the same {family} "
                 f"runs grokking.")
        label = f"{YARDSTICK}: {family}"
        if family not in table.index:
            out.append(Verdict(CROSS.name, label, claim, NO_RUNS, INCONCLUSIVE, page,
                               decide=RUN_CHAPTERS))
            continue
        row = table.loc[family]
        n, n_any, n_all = int(row["runs"]), int(row["any grokking"]), int(row["all three"])
        counts = ", ".join(f"{d} {int(row[d])}" for d in DEFINITIONS)
        agree = f"all three agree on {int(row['agree'])} of {n} runs"
        measured = (f"{n_all} of {n_any} runs called grokking by any are called so by all "
                    f"three; {agree}" if n_any else
                    f"no run is called grokking by any definition; {agree}")
        out.append(judged(
            CROSS.name, label, claim, share_verdict(n_all, n_any, supported_from=MOST),
            measured, page, detail=f"{n} runs; grokking by {counts}",
            decide=f"no run of the {n} grokked by any definition: longer budgets (the paper "
                   f"profile) would give contested runs"))
    return out


SHIFT = "Shift on algorithmic splits"
#: Fewest runs with a delay for a rank correlation (as on the Carvalho shift page).
MIN_RUNS = 4


def _rho(x: pd.Series, y: pd.Series) -> tuple[float, float]:
    if x.nunique() < 2 or y.nunique() < 2:
        return float("nan"), float("nan")
    rho, p = spearmanr(x, y)
    return float(rho), float(p)


@divergence.excluding
def shift_delay(table: pd.DataFrame, *, families: list[str], page: str) -> list[Verdict]:
    """Per family of ``families``: runs whose split has a larger MMD^2 have a longer delay
    (:func:`grokpaper.cross.shift.shift_table`), by the Carvalho shift page's rule
    (:data:`~grokpaper.carvalho.claims.STRONG_RHO`, :data:`~grokpaper.carvalho.claims.P_VALUE`);
    the training fraction's own correlation with the delay is given for comparison."""
    out = []
    for family in families:
        claim = (f"Carvalho et al.'s explanation on the {family} runs: a larger train/test "
                 f"distribution shift (MMD^2) goes with a longer grokking delay.")
        label = f"{SHIFT}: {family}"
        every = table[table["family"] == family]
        d = every.dropna(subset=["delay", "mmd2"])
        rho, p = _rho(d["mmd2"], d["delay"])
        if every.empty:
            out.append(Verdict(CROSS.name, label, claim, NO_RUNS, INCONCLUSIVE, page,
                               decide=RUN_CHAPTERS))
            continue
        if len(d) < MIN_RUNS or not np.isfinite(rho):
            out.append(Verdict(
                CROSS.name, label, claim, f"{len(d)} of {len(every)} runs have a delay"
                + (f" ({d['delay'].nunique()} distinct)" if len(d) else ""), INCONCLUSIVE, page,
                decide=f"a rank correlation needs at least {MIN_RUNS} runs that fit their "
                       f"training set with differing delays: longer budgets, more fractions "
                       f"(the paper profile)"))
            continue
        rho_f, p_f = _rho(d["fraction"], d["delay"])
        verdict = ladder(all_met=rho >= STRONG_RHO and p < P_VALUE,
                         some_met=rho > 0 and p < P_VALUE)
        out.append(Verdict(
            CROSS.name, label, claim,
            f"Spearman rho(MMD^2, delay) = {rho:.2f} (p = {p:.2g}, {len(d)} runs); "
            f"rho(fraction, delay) = {rho_f:.2f}", verdict, page,
            detail=(f"MMD^2 from {d['mmd2'].min():.2g} to {d['mmd2'].max():.2g}; training "
                    f"fraction vs delay: rho = {rho_f:.2f} (p = {p_f:.2g}); "
                    f"{int(d['censored'].sum())} delays are lower bounds (test never reached "
                    f"95%).")))
    return out


NORM = "Weight norm turns first"


@divergence.excluding
def norm_turns(table: pd.DataFrame, *, families: list[str], page: str) -> list[Verdict]:
    """Per family: the weight norm has turned down (either shape of
    :func:`grokpaper.cross.norms.norm_shape`) by the test curve's arrival in at least
    :data:`~grokpaper.core.verdicts.MOST` of the grokking runs that record a norm
    (:func:`grokpaper.cross.norms.norm_table`); *inconclusive* without such a run."""
    out = []
    for family in families:
        claim = (f"Omnigrok's and Li & Sakib's account on the {family} runs: the weight norm "
                 f"has turned down by the time the test accuracy arrives.")
        label = f"{NORM}: {family}"
        d = table[table["family"] == family]
        with_norm = d[d["has_norm"].astype(bool)]
        n, n_ok = len(with_norm), int(with_norm["turns"].sum())
        if n == 0:
            why = (f"{len(d)} grokking runs, none records a weight norm" if len(d)
                   else "no run of this family groks by any definition")
            out.append(Verdict(CROSS.name, label, claim, why, INCONCLUSIVE, page,
                               decide=("grokking runs that record their weight norm: longer "
                                       "budgets (the paper profile)") if not len(d) else
                               "a trainer that records the weight norm for this family"))
            continue
        shapes = with_norm["shape"].value_counts()
        out.append(Verdict(
            CROSS.name, label, claim,
            f"the norm has turned by the test curve's arrival in {n_ok} of {n} grokking runs "
            f"({int(shapes.get(PEAK_AFTER_FIT, 0))} peak after the fit)",
            share_verdict(n_ok, n, supported_from=MOST), page,
            detail="; ".join(f"{k}: {v}" for k, v in shapes.items())
                   + f"; median peak step {with_norm['peak_step'].median():.0f}, median "
                     f"arrival step {with_norm['t_arrive'].median():.0f}."))
    return out


REPRESENTATION = "Representations at alpha1"


@divergence.excluding
def representation_jump(runs: pd.DataFrame, *, page: str, n_train: int) -> list[Verdict]:
    """The hidden layer's subclass score jumps within Definition 3.1's transition window
    ``[alpha0, alpha1]`` in at least :data:`~grokpaper.core.verdicts.MOST` of the probed runs
    that grok (:func:`grokpaper.cross.representation.transitions`); *inconclusive* when none
    groks."""
    claim = ("Liu et al.'s account on Carvalho et al.'s data: the hidden layer's subclass "
             "structure jumps at the transition alpha1, and not before.")
    grok = runs[runs["grokked"].astype(bool)]
    n, n_at = len(grok), int(grok["at_transition"].sum())
    early = int((grok["jump"] < grok["alpha0"]).sum())
    none = int(grok["jump"].isna().sum())
    return [judged(
        CROSS.name, REPRESENTATION, claim, share_verdict(n_at, n, supported_from=MOST),
        (f"the score jumps in [alpha0, alpha1] in {n_at} of {n} grokking runs ({early} before "
         f"alpha0, {none} without a jump); {len(runs)} runs of {n_train} samples") if n else
        f"none of the {len(runs)} probed runs ({n_train} samples) groks by Definition 3.1",
        page, detail="; ".join(
            f"seed {r.seed}: jump at {r.jump:g}, alpha0 {r.alpha0:g}, alpha1 {r.alpha1:g}, "
            f"score {r.score_start:.2f} -> {r.score_end:.2f}" for r in grok.itertuples()),
        decide=f"none of the {len(runs)} probed runs groks by Definition 3.1 within its "
               f"budget: the quick or paper profile")]
