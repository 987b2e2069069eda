"""Verdicts on the claims of Liu et al. 2022 about the toy model's representation and its
effective theory (Figs. 2-5), computed from measured numbers, one function per page; the phase
diagrams' (Figs. 6 and 7 right) are in :mod:`grokpaper.liu.phase_claims`, the transformer's
embeddings and dropout (Figs. 1 and 7, App. K) in :mod:`grokpaper.liu.transformer_claims`.

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.
A run too short for the claim to show gives *inconclusive* (with what would decide it), never
*not supported*.

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core.divergence import excluding
from grokpaper.core.studies import LIU
from grokpaper.core.verdicts import INCONCLUSIVE, MAJORITY, Verdict, ladder

#: Critical training fraction "r_c = 0.4" (Fig. 4); a measured r_c within RC_TOL of it is
#: supported, within RC_TOL_PARTLY partly supported.
RC_PAPER, RC_TOL, RC_TOL_PARTLY = 0.4, 0.1, 0.2
#: Fig. 3: mean |Acc - Acc-hat| over all samples / over test samples for "aligns well".
ACC_MAE, ACC_MAE_TEST = 0.05, 0.15
#: Fig. 3: Acc-hat assumes "the decoder fits every training sample" (App. D); a run counts if
#: its training accuracy ends at least this high, so the assumption is off by at most ACC_MAE.
FITTED = 1 - ACC_MAE
#: A monotone trend: Spearman rank correlation at least this strong (in the claimed direction).
TREND_RHO = 0.5
#: Fig. 4c/d: "about 3 n_h steps": measured / (3 n_h) within [1/3, 3] (partly: [1/10, 10]).
NH_FACTOR, NH_FACTOR_PARTLY = 3.0, 10.0
#: Fig. 5a: "lambda_3 is zero with high probability" below the threshold: this share of the
#: training sets below fraction RC_PAPER - 0.05 (partly: a majority).
HIGH_PROBABILITY = 0.8
#: Fig. 2: a run "generalizes" from this test accuracy; "structured" from these scores.
GENERALIZES, RQI_STRUCTURED, CIRCLE_STRUCTURED = 0.9, 0.95, 0.85
MORE_STEPS = "more steps (the quick or paper profile)"
#: A run has memorized when it fits its training set (FITTED) and its test accuracy moves by
#: less than this over the second half of its budget: more steps at its setting would not
#: bring the generalization a claim waits for.
STALLED_MOVE = 0.05


def budget_of(df: pd.DataFrame) -> int:
    """The longest run's last step (the step budget of a page's runs)."""
    return int(max(s[-1] for s in df["steps"])) if "steps" in df and len(df) else 0


def memorized(steps: np.ndarray, train_acc: np.ndarray, test_acc: np.ndarray) -> bool:
    """Whether a run fits its training set and its test accuracy has stalled (moved by less
    than STALLED_MOVE) over the second half of its budget."""
    steps, test_acc = np.asarray(steps), np.asarray(test_acc, float)
    # From the last evaluation at or before half the budget: log-spaced evaluations may put
    # only one point in the second half.
    late = test_acc[np.flatnonzero(steps <= steps[-1] / 2)[-1]:]
    return bool(np.asarray(train_acc)[-1] >= FITTED and np.ptp(late) < STALLED_MOVE)


def not_generalized(runs: pd.DataFrame, budget: int) -> str:
    """What would decide a claim when no run of ``runs`` (``t_test``: first step with 90% test
    accuracy, NaN if never) generalized within ``budget``; empty when one did."""
    return (f"No run reached 90% test accuracy within the {budget:,}-step budget: {MORE_STEPS}."
            if runs["t_test"].isna().all() else "")


def crossing_fraction(frac: np.ndarray, share: np.ndarray, level: float = 0.5) -> float:
    """First fraction where ``share`` reaches ``level``, linearly interpolated; NaN if never."""
    frac, share = np.asarray(frac, float), np.asarray(share, float)
    above = np.flatnonzero(share >= level)
    if not above.size:
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(frac[0])
    f0, f1, s0, s1 = frac[i - 1], frac[i], share[i - 1], share[i]
    return float(f0 + (level - s0) * (f1 - f0) / (s1 - s0))


def crossing_bounds(frac: np.ndarray, share: np.ndarray, level: float = 0.5
                    ) -> tuple[float, float]:
    """Where the crossing of :func:`crossing_fraction` can lie given the grid: one point when it
    is interpolated, (0, first fraction) when the first fraction is already above ``level``,
    (last fraction, 1) when none is."""
    frac = np.asarray(frac, float)
    x = crossing_fraction(frac, share, level)
    if not np.isfinite(x):
        return float(frac[-1]), 1.0
    return (0.0, x) if x == frac[0] and np.asarray(share, float)[0] > level else (x, x)


def near_verdict(bounds: tuple[float, float], target: float, tol: float,
                 tol_partly: float) -> str:
    """*supported* within ``tol`` of ``target``, *partly* within ``tol_partly``, else *not*,
    for every value in ``bounds``; *inconclusive* when the values there disagree."""
    lo, hi = bounds
    far = max(abs(lo - target), abs(hi - target))
    close = 0.0 if lo <= target <= hi else min(abs(lo - target), abs(hi - target))
    best, worst = (ladder(all_met=g <= tol, some_met=g <= tol_partly) for g in (close, far))
    return best if best == worst else INCONCLUSIVE


def _bounds_text(bounds: tuple[float, float]) -> str:
    """A crossing as :func:`crossing_bounds` gives it: "0.44", "at most 0.20" (the first size
    is already above), "above 0.82" (no size is)."""
    lo, hi = bounds
    return f"{lo:.2f}" if lo == hi else f"at most {hi:.2f}" if lo == 0 else f"above {lo:.2f}"


def _reach_text(bounds: tuple[float, float]) -> str:
    lo, hi = bounds
    if lo == hi or lo == 0:
        return (f"half of the seeds reach RQI > 0.95 within the budget from fraction "
                f"{_bounds_text(bounds)}")
    return f"no fraction up to {lo:.2f} has half of its seeds at RQI > 0.95 within the budget"


def spearman(x: pd.Series | np.ndarray, y: pd.Series | np.ndarray) -> float:
    """Spearman's rank correlation over the pairs where both are known; NaN with fewer than
    three pairs or a constant side (no ranking to correlate)."""
    x, y = pd.Series(np.asarray(x, float)), pd.Series(np.asarray(y, float))
    ok = x.notna() & y.notna()
    if ok.sum() < 3 or x[ok].nunique() < 2 or y[ok].nunique() < 2:
        return float("nan")
    return float(x[ok].corr(y[ok], method="spearman"))


@excluding
def liu_fig2(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 2: generalizing runs have structured embeddings (parallelogram / circle)."""
    parts, n_gen, n_ok, tasks_gen = [], 0, 0, set()
    for _, r in df.iterrows():
        gen = r["test_final"] >= GENERALIZES
        need = RQI_STRUCTURED if r["task"] == "addition" else CIRCLE_STRUCTURED
        ok = r["structure"] >= need
        n_gen += gen
        n_ok += gen and ok
        tasks_gen |= {r["task"]} if gen else set()
        parts.append(f"{r['task']} seed {r['seed']}: test acc {r['test_final']:.2f}, "
                     f"structure {r['structure']:.2f}")
    verdict = ladder(decidable=n_gen > 0, all_met=n_ok == n_gen and tasks_gen == set(df["task"]),
                     some_met=n_ok > 0)
    return [Verdict(
        paper=LIU.name, figure="Fig. 2",
        claim="Generalization comes with structured embeddings: parallelograms for addition, "
              "a circle for modular addition.",
        measured=f"{n_ok}/{n_gen} generalizing runs structured; {len(df) - n_gen} of "
                 f"{len(df)} runs do not generalize.",
        detail="; ".join(parts) + ".", verdict=verdict, page=page,
        decide="" if n_gen else _fig2_decide(df))]


def _fig2_decide(df: pd.DataFrame) -> str:
    """What would decide Fig. 2 when no run generalized: more steps, unless every run has
    memorized (then only another setting; the paper gives Fig. 2 none)."""
    curves = {"steps", "train_acc", "test_acc"} <= set(df.columns)
    if curves and all(memorized(r["steps"], r["train_acc"], r["test_acc"])
                      for _, r in df.iterrows()):
        return ("Every run memorized (test accuracy flat after fitting), so more steps would "
                "not decide it; a setting that generalizes would (the paper gives none).")
    return (f"No run reaches test accuracy {GENERALIZES} within {budget_of(df):,} steps: "
            f"{MORE_STEPS}.")


@excluding
def liu_fig3(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 3: Acc-hat from the representation agrees with the measured accuracy Acc, on the
    runs that fit their training set (Acc-hat assumes they do)."""
    fit = df[df["train_final"] >= FITTED]
    full = float((fit["acc_final"] - fit["acc_hat"]).abs().mean()) if len(fit) else np.nan
    test = float((fit["test_final"] - fit["acc_hat_test"]).abs().mean()) if len(fit) else np.nan
    both_vary = len(fit) > 1 and fit["acc_final"].std() > 0 and fit["acc_hat"].std() > 0
    r = float(np.corrcoef(fit["acc_final"], fit["acc_hat"])[0, 1]) if both_vary else np.nan
    verdict = ladder(decidable=len(fit) > 0, all_met=full <= ACC_MAE and test <= ACC_MAE_TEST,
                     some_met=full <= ACC_MAE)
    return [Verdict(
        paper=LIU.name, figure="Fig. 3",
        claim="The accuracy predicted from the parallelograms in the learned representation "
              "(Acc-hat) aligns well with the true accuracy Acc.",
        measured=f"mean |Acc - Acc-hat| = {full:.3f} over all samples, {test:.3f} over test "
                 f"samples ({len(fit)}/{len(df)} runs fit their training set).",
        detail=f"Pearson r(Acc, Acc-hat) = {r:.2f} over the {len(fit)} runs with training "
               f"accuracy at least {FITTED:.2f} at the end; the other {len(df) - len(fit)} are "
               "left out, as Acc-hat counts every training sample as correct.",
        verdict=verdict, page=page,
        decide="" if len(fit) else f"No run fits its training set within {budget_of(df):,} "
                                   f"steps, and Acc-hat assumes it does: {MORE_STEPS}.")]


def _rc_verdict(bounds: tuple[float, float]) -> str:
    return near_verdict(bounds, RC_PAPER, RC_TOL, RC_TOL_PARTLY)


@excluding
def liu_fig4(df: pd.DataFrame, theory: pd.DataFrame, *, steps_net: float, steps_eff: float,
             n_h: float, n_h_sum: float, page: str) -> list[Verdict]:
    """Fig. 4: r_c from the nullity (theory) and from steps to RQI > 0.95 (training); both
    the network and the effective theory take about 3 n_h steps (Eq. 5's n_h)."""
    p_unique = theory.assign(u=theory["nullity"] == 2).groupby("frac")["u"].mean()
    rc_theory = crossing_bounds(p_unique.index, p_unique.to_numpy())
    reach = df.assign(r=df["t_rqi"].notna()).groupby("frac")["r"].mean()
    rc_net = crossing_bounds(reach.index, reach.to_numpy())
    budget = budget_of(df)
    # Never reached by half the seeds even with all the data: if the budget is shorter than
    # the slowest time Fig. 4c/d still calls "about 3 n_h", that is the budget's doing.
    top = df[df["frac"] == df["frac"].max()]
    l3 = float(top["lambda3"].median() * top["lr_emb"].iloc[0]) if "lambda3" in top else 0.0
    slowest = NH_FACTOR * 3 / l3 if l3 > 0 else np.inf
    net_decidable = bool(reach.max() >= 0.5 or budget >= slowest)
    v4a, v4b = _rc_verdict(rc_theory), _rc_verdict(rc_net) if net_decidable else INCONCLUSIVE
    between = "The crossing lies between sizes that give different verdicts: more sizes."
    decide_4b = "" if v4b != INCONCLUSIVE else between if net_decidable else (
        f"No fraction has half its seeds at RQI > 0.95 within {budget:,} steps "
        f"(< {NH_FACTOR * 3:g} n_h): {MORE_STEPS}.")
    out = [
        Verdict(paper=LIU.name, figure="Fig. 4a",
                claim="The effective theory predicts a phase transition in the probability "
                      "that the training set implies a unique linear structure (nullity 2) "
                      "around r_c = 0.4.",
                measured=f"P(nullity = 2) crosses 1/2 at training fraction "
                         f"{_bounds_text(rc_theory)}.",
                detail=f"{theory['set'].nunique()} random training sets per size, fractions "
                       f"{p_unique.index.min():.2f}-{p_unique.index.max():.2f}.",
                verdict=v4a, page=page, decide="" if v4a != INCONCLUSIVE else between),
        Verdict(paper=LIU.name, figure="Fig. 4b",
                claim="The steps to reach RQI > 0.95 in real training show a phase transition "
                      "at r_c = 0.4, agreeing with the effective theory.",
                measured=f"{_reach_text(rc_net)} (theory: r_c {_bounds_text(rc_theory)}).",
                detail="Share of seeds reaching RQI > 0.95 within the budget, by fraction: "
                       + ", ".join(f"{f:.2f}: {s:.0%}" for f, s in reach.items()) + ".",
                verdict=v4b, page=page, decide=decide_4b),
    ]
    out.append(_fig4cd(steps_net, steps_eff, n_h, n_h_sum, budget, page))
    return out


def _fig4cd(steps_net: float, steps_eff: float, n_h: float, n_h_sum: float, budget: int,
            page: str) -> Verdict:
    def ratio(steps: float, nh: float) -> float:
        return steps / (3 * nh) if np.isfinite(nh) and nh > 0 else np.nan

    def within(r: float, factor: float) -> bool:
        return bool(np.isfinite(r) and 1 / factor <= r <= factor)

    r_net, r_sum, r_eff = ratio(steps_net, n_h), ratio(steps_net, n_h_sum), ratio(steps_eff, n_h)
    # Not reached within the budget: the ratio is only known to exceed budget / (3 n_h).
    censored = not np.isfinite(steps_net) and (ratio(budget, n_h) <= NH_FACTOR_PARTLY
                                               or ratio(budget, n_h_sum) <= NH_FACTOR)
    decidable = np.isfinite(n_h) and not censored
    verdict = ladder(decidable=decidable,
                     all_met=within(r_net, NH_FACTOR) and within(r_eff, NH_FACTOR),
                     some_met=within(r_net, NH_FACTOR_PARTLY) or within(r_sum, NH_FACTOR))
    return Verdict(
        paper=LIU.name, figure="Fig. 4c/d",
        claim="Trajectories of the effective theory and of network training agree "
              "qualitatively; both take about 3 n_h steps to reach the linear structure.",
        measured=f"steps to RQI > 0.95 / 3 n_h: network {r_net:.2f}, effective theory "
                 f"{r_eff:.2f} (network with the authors' n_h: {r_sum:.2f}).",
        detail=f"RQI > 0.95 after {steps_net:.0f} steps (network), {steps_eff:.0f} (effective "
               f"theory, Eq. 5); 3 n_h = {3 * n_h:.0f} with Eq. (5)'s mean over P0(D), "
               f"{3 * n_h_sum:.0f} with the authors' code's sum (nan: not reached).",
        verdict=verdict, page=page,
        decide="" if decidable else
        ("lambda_3 = 0 for this training set, so n_h is undefined: a larger training set."
         if not np.isfinite(n_h) else
         f"The network does not reach RQI > 0.95 within {budget:,} steps, too few to rule "
         f"out 3 n_h = {3 * n_h:.0f}: {MORE_STEPS}."))


@excluding
def liu_fig5(df: pd.DataFrame, theory: pd.DataFrame, *, eta: float, page: str
             ) -> list[Verdict]:
    """Fig. 5: lambda_3 vs data; grokking time falls as data grows; theory vs measured steps."""
    below = theory[theory["frac"] < RC_PAPER - 0.05]
    zero_share = float((below["lambda3"] <= 1e-12).mean()) if len(below) else np.nan
    mean_l3 = theory.groupby("frac")["lambda3"].mean()
    above = mean_l3[mean_l3.index >= RC_PAPER]
    rho_l3 = spearman(above.index, above.to_numpy())
    measurable_a = bool(len(below) and np.isfinite(rho_l3))
    v5a = ladder(decidable=measurable_a,
                 all_met=zero_share >= HIGH_PROBABILITY and rho_l3 >= TREND_RHO,
                 some_met=zero_share >= MAJORITY or rho_l3 >= TREND_RHO)
    reached = df[df["t_rqi"].notna()]
    rho_frac = spearman(reached["frac"], reached["t_rqi"])
    rho_pred = spearman(1.0 / (reached["lambda3"] * eta), reached["t_rqi"])
    rho_sum = spearman(1.0 / (reached["lambda3_sum"] * eta), reached["t_rqi"])
    v5b = ladder(decidable=np.isfinite(rho_frac),
                 all_met=rho_frac <= -TREND_RHO and rho_pred >= TREND_RHO,
                 some_met=rho_frac <= -TREND_RHO or rho_pred >= TREND_RHO
                 or rho_sum >= TREND_RHO)
    return [
        Verdict(paper=LIU.name, figure="Fig. 5a",
                claim="Below a data fraction of about 0.4 the grokking rate lambda_3 is zero "
                      "with high probability; above it, lambda_3 increases with data size.",
                measured=f"lambda_3 = 0 for {zero_share:.0%} of sets below {RC_PAPER - 0.05:.2f};"
                         f" Spearman rho(fraction, mean lambda_3) = {rho_l3:.2f} above.",
                detail=f"{len(below)} training sets below fraction {RC_PAPER - 0.05:.2f}; "
                       f"{len(above)} fractions from {RC_PAPER} on.",
                verdict=v5a, page=page,
                decide="" if measurable_a else "The theory's sizes do not reach both sides of "
                                               "0.4 (at least 3 fractions above): more sizes."),
        Verdict(paper=LIU.name, figure="Fig. 5b",
                claim="Grokking time (steps to RQI > 0.95) decreases as the training set grows, "
                      "and follows the theory's 1/(lambda_3 eta) qualitatively.",
                measured=f"Spearman rho(fraction, steps) = {rho_frac:.2f}, rho(1/(lambda_3 eta), "
                         f"steps) = {rho_pred:.2f} ({len(reached)}/{len(df)} runs reach it).",
                detail=f"Over the runs that reach RQI > 0.95; Eq. (5)'s mean over P0(D), "
                       f"rho = {rho_sum:.2f} with the authors' sum.",
                verdict=v5b, page=page,
                decide="" if np.isfinite(rho_frac) else
                f"{len(reached)} runs reach RQI > 0.95 within {budget_of(df):,} steps, too few "
                f"for a trend: {MORE_STEPS}."),
    ]
