"""Verdicts of the Carvalho et al. chapters, one function per reproduced figure.

Thresholds are fixed here and in :mod:`grokpaper.carvalho.rules`, before looking at a run, and
printed on the page with the numbers. Each verdict's ``measured`` is one short line; ``detail``
holds the per-condition numbers; ``decide`` says why a verdict is *inconclusive* and what would
decide it.

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
from scipy.stats import spearmanr

from grokpaper.carvalho import rules
from grokpaper.carvalho.rules import conditions, grokking_counts, grokking_verdict
from grokpaper.core.divergence import excluding
from grokpaper.core.report import final_value, value_at_convergence
from grokpaper.core.studies import CARVALHO
from grokpaper.core.verdicts import (
    ALL,
    INCONCLUSIVE,
    MAJORITY,
    PARTLY,
    SUPPORTED,
    Verdict,
    combined,
    judged,
    ladder,
)

#: f = 0 is on a "sub-optimal plateau" if its mean final test accuracy ends at least this far
#: below the best 0 < f < 1 of the same training size.
SUBOPTIMAL_GAP = 0.05
#: "already starts at a very high accuracy" (Fig. 4b): the mean test accuracy when training
#: converged, where the paper's test curves start (Fig. 3 caption), is at least this (4 classes:
#: chance is 0.25). Not 0.9: the caption also says the curve groks from there, and from a
#: start >= 0.9 Definition 3.1 cannot see grokking (sigma_E <= 1 - high_tol = 0.98, so
#: Delta_S < min_delta_s = 0.1).
VERY_HIGH = 0.8


def _verdict(figure: str, claim: str, verdict: str, measured: str, *, page: str,
             detail: str = "", decide: str = "") -> Verdict:
    return judged(CARVALHO.name, figure, claim, verdict, measured, page, detail=detail,
                  decide=decide)


def _groks(df: pd.DataFrame, by: list[str], figure: str, claim: str, *, page: str,
           prefix: str = "def31_", test: str = "test_acc", what: str = "") -> Verdict:
    """"Grokking occurs in every condition over ``by``" (:func:`rules.grokking_verdict`)."""
    conds = conditions(df, [b for b in by if b in df.columns], prefix=prefix, test=test)
    verdict = grokking_verdict(conds)
    return _verdict(figure, claim, verdict,
                    f"{grokking_counts(conds)}{what}{rules.late_gain_note(conds)}", page=page,
                    detail="; ".join(c.text() for c in conds) + "." if conds else "",
                    decide=rules.no_convergence(df) if conds else
                    "No run of this condition in the profile: run it.")


def _shrinks(df: pd.DataFrame, figure: str, claim: str, *, page: str) -> Verdict:
    table = rules.intensity_by_size(df)
    verdict = rules.shrinks_verdict(table)
    return _verdict(figure, claim, verdict, rules.ends_text(table), page=page,
                    detail="Intensity (Delta_S of grokking runs, 0 otherwise; mean ± s.e. over "
                           "seeds) by size: " + rules.sizes_text(table) + ".",
                    decide=rules.shrinks_decide(table, df))


@excluding
def carvalho_fig3a(df: pd.DataFrame, *, page: str, figure: str = "Fig. 3a") -> list[Verdict]:
    """Fig. 3a (f = 1): grokking at every training size; Delta_S grows as the size shrinks."""
    return [
        _groks(df, ["n_train"], figure, "With balanced sampling (f = 1), grokking occurs at "
               "every training-set size.", page=page),
        _shrinks(df, figure, "Grokking intensity Delta_S increases as the training set "
                 "shrinks.", page=page),
    ]


def _plateau_f0(df: pd.DataFrame, figure: str, *, page: str) -> Verdict:
    """f = 0 ends sub-optimal (below the best 0 < f < 1 of its size) and does not grok.

    A size counts only where both f = 0 and some 0 < f < 1 condition are decidable (at least
    half their seeds could have grokked, :func:`rules.could_grok`): before that, neither is on
    a plateau or past it.
    """
    claim = ("Removing a subclass entirely (f = 0) prevents grokking: the model is stuck on a "
             "sub-optimal plateau.")
    if "n_train" not in df.columns:  # one training size
        df = df.assign(n_train=0)
    rows, sizes = [], 0
    for n, g in df[df["f"] == 0].groupby("n_train", sort=True):
        pos = df[(df["n_train"] == n) & (df["f"] > 0) & (df["f"] < 1)]
        sizes += bool(len(pos))
        (c,) = conditions(g, [])
        done = [f for f, h in pos.groupby("f") if conditions(h, [])[0].decidable]
        pos = pos[pos["f"].isin(done)]
        if not len(pos) or not c.decidable:
            continue
        acc0 = float(final_value(g, "test_acc").mean())
        best_f, best = max(((f, float(final_value(h, "test_acc").mean()))
                            for f, h in pos.groupby("f")), key=lambda x: x[1])
        rows.append((n, acc0, best_f, best, c))
    suboptimal = [acc0 <= best - SUBOPTIMAL_GAP for _, acc0, _, best, _ in rows]
    stuck = [not c.groks for *_, c in rows]
    # A size with both kinds of runs but too short to tell keeps the claim from "supported".
    verdict = ladder(decidable=bool(rows),
                     all_met=len(rows) == sizes and all(suboptimal) and all(stuck),
                     some_met=any(suboptimal))
    measured = (f"f = 0: {sum(c.grokked for *_, c in rows)}/{sum(c.runs for *_, c in rows)} "
                f"runs grok; ends >= {SUBOPTIMAL_GAP} below the best 0 < f < 1 at "
                f"{sum(suboptimal)}/{len(rows)} sizes" if rows
                else "no training size where f = 0 and 0 < f < 1 could both have grokked")
    detail = "; ".join(
        f"n = {n:,}: f = 0 final test accuracy {acc0:.3f} vs {best:.3f} for f = {bf:g} "
        f"(the best 0 < f < 1), {c.grokked}/{c.runs} f = 0 runs grok"
        for n, acc0, bf, best, c in rows)
    if not (df["f"] == 0).any():
        decide = "No f = 0 run in this profile: run f = 0."
    elif not sizes:
        decide = ("No run with 0 < f < 1 at the training sizes of the f = 0 runs, so there is "
                  "nothing to compare with: run fs with 0 < f < 1.")
    else:
        decide = rules.no_convergence(df)
    return _verdict(figure, claim, verdict, measured, page=page,
                    detail=detail + "." if detail else "", decide=decide)


@excluding
def carvalho_fig3b(df: pd.DataFrame, *, page: str, figure: str = "Fig. 3b") -> list[Verdict]:
    """Fig. 3b: f = 0 stays on a sub-optimal plateau; 0 < f < 1 generalizes late (grokking).

    f = 1 (balanced), if present, is a reference and part of neither claim.
    """
    pos = df[(df["f"] > 0) & (df["f"] < 1)]
    return [
        _plateau_f0(df, figure, page=page),
        _groks(pos, ["n_train", "f"], figure, "Keeping a few samples of the subclass "
               "(f = 0.01, 0.05, 0.2) lets the model generalize late, i.e. grok.", page=page),
    ]


@excluding
def carvalho_fig3c(df: pd.DataFrame, *, page: str, figure: str = "Fig. 3c") -> list[Verdict]:
    """Fig. 3c: with 4,000-5,000 samples and an extreme shift (small f), grokking still occurs."""
    return [_groks(df, ["n_train", "f"], figure, "With large training sets (4,000 and 5,000 "
                   "samples) an extreme shift (f = 0.01, 0.05) still produces grokking.",
                   page=page)]


def _starts_high(unbalanced: pd.DataFrame, figure: str, *, page: str) -> Verdict:
    """Fig. 4b: the test accuracy is already very high when training converges."""
    start = unbalanced.assign(start=value_at_convergence(unbalanced, "test_acc"))
    by = start.groupby("n_train")["start"].mean().dropna()
    verdict = ladder(decidable=not by.empty, all_met=bool((by >= VERY_HIGH).all()),
                     some_met=bool((by >= VERY_HIGH).any()))
    return _verdict(
        figure, "On the equivariant dataset with f = 0.2, the grokking curve already starts at "
        "a very high test accuracy.", verdict,
        f"test accuracy when training converged >= {VERY_HIGH} at {int((by >= VERY_HIGH).sum())}"
        f"/{len(by)} sizes" if len(by) else "training never converged", page=page,
        detail="Mean test accuracy when training converged: "
               + ", ".join(f"n = {n:,}: {v:.3f}" for n, v in by.items()) + "." if len(by)
        else "",
        decide=rules.no_convergence(unbalanced) if len(unbalanced)
        else "No run with 0 < f < 1 in this profile: run f = 0.2.")


@excluding
def carvalho_fig4(df: pd.DataFrame, *, page: str, figure: str = "Fig. 4") -> list[Verdict]:
    """Fig. 4 (equivariant): f = 0 groks on the removed subclasses; f = 0.2 groks, starts
    high, and groks more intensely on smaller training sets (the Fig. 4b caption)."""
    zero = df[df["f"] == 0]
    unbalanced = df[(df["f"] > 0) & (df["f"] < 1)]
    return [
        # The claim is about the subclasses removed from training: the whole test set can
        # "grok" through the subclasses that were seen.
        _groks(zero, ["n_train"], figure, "On the equivariant dataset, grokking occurs even on "
               "the subclasses removed from training (f = 0), unlike on the equidistant one.",
               page=page, prefix="sub31_", test="test_acc_subsampled",
               what=" on the removed subclasses' test samples"),
        _groks(unbalanced, ["n_train"], figure, "On the equivariant dataset, unbalanced "
               "sampling (f = 0.2) groks, at every training-set size.", page=page),
        _starts_high(unbalanced, figure, page=page),
        _shrinks(unbalanced, figure, "On the equivariant dataset with f = 0.2, a smaller "
                 "training set groks more intensely (larger Delta_S).", page=page),
    ]


#: A model whose mean final test accuracy trails the MLP's (same data) by more than this has not
#: learned the task at the profile's scale: its grokking verdicts say nothing about the claims.
WEAK_GAP = 0.2


def demote_if_weak(found: list[Verdict], *, final: float, reference: float) -> list[Verdict]:
    """``found`` unchanged, or every verdict made *inconclusive* (with the reason) when the
    model's mean final test accuracy ``final`` is more than :data:`WEAK_GAP` below the
    reference model's on the same data."""
    if not final < reference - WEAK_GAP:
        return found
    why = (f"the model does not learn the task at this scale (mean final test accuracy "
           f"{final:.2f} vs {reference:.2f} for the MLP on the same data)")
    return [dataclasses.replace(
        v, verdict=INCONCLUSIVE, measured=why,
        detail=f"{v.measured}. {v.detail}".strip(),
        decide="The model does not learn the task, so its runs say nothing about the claim: a "
               "larger model or longer training (the paper profile) would decide it.")
        for v in found]


def carvalho_architectures(mlp: list[Verdict], transformer: list[Verdict], *, page: str,
                           figure: str = "App. A") -> Verdict:
    """The transformer's verdicts against the MLP's, claim by claim (same conditions).

    Matching verdicts only show a shared pattern if the MLP shows one: when the MLP supports
    none of the claims, the comparison is inconclusive.
    """
    if len(mlp) != len(transformer) or not mlp:
        raise ValueError("need the same, non-empty list of claims for both models")
    same = [a.verdict == b.verdict for a, b in zip(mlp, transformer, strict=True)]
    diffs = [f"{a.claim} MLP {a.verdict}, transformer {b.verdict}"
             for a, b, s in zip(mlp, transformer, same, strict=True) if not s]
    share = sum(same) / len(same)
    mlp_shows = any(a.verdict == SUPPORTED for a in mlp)
    verdict = ladder(decidable=mlp_shows and not all(b.verdict == INCONCLUSIVE
                                                       for b in transformer),
                     all_met=share >= ALL, some_met=share >= MAJORITY)
    return _verdict(
        figure, "A 2-layer transformer shows the same patterns as the MLP (late generalization "
        "is largely architecture-independent).", verdict,
        f"{sum(same)}/{len(same)} claims get the same verdict for both models", page=page,
        detail=f"Differences: {'; '.join(diffs)}." if diffs else "",
        decide="The MLP supports none of the claims at this scale, so agreeing with it shows no "
               "shared pattern: longer runs (the paper profile) would decide it." if not mlp_shows
        else "Every transformer verdict is inconclusive: a larger transformer or longer "
             "training would decide it.")


@excluding
def carvalho_intensity_map(df: pd.DataFrame, *, page: str,
                           figure: str = "Grokking-intensity map") -> list[Verdict]:
    """Per dataset: Delta_S grows as the training set shrinks, at every f of the grid."""
    verdicts = []
    for dataset, d in df.groupby("dataset", sort=True):
        found = {f: rules.shrinks_verdict(rules.intensity_by_size(g))
                 for f, g in d.groupby("f")}
        n_ok = sum(v == SUPPORTED for v in found.values())
        n_some = sum(v in (SUPPORTED, PARTLY) for v in found.values())
        verdicts.append(_verdict(
            figure, f"On the {dataset} dataset, a smaller training set groks more intensely "
            f"(larger Delta_S), whatever the subsampling factor f.", combined(found.values()),
            f"Delta_S falls with size at {n_ok}/{len(found)} values of f (overall at "
            f"{n_some}/{len(found)})", page=page,
            detail="; ".join(f"f = {f:g}: {v}" for f, v in found.items()) + ".",
            decide=f"At no value of f did a run grok within {rules.budget(d)} at two sizes: "
                   "longer runs (the paper profile) would decide it."))
    return verdicts


#: A rank correlation this strong (and significant at P_VALUE) counts as "goes with".
STRONG_RHO = 0.5
P_VALUE = 0.05


@excluding
def carvalho_shift(df: pd.DataFrame, *, page: str, figure: str = "Shift vs intensity"
                   ) -> list[Verdict]:
    """Per dataset: runs with a larger train/test MMD^2 grok more intensely (Spearman)."""
    verdicts = []
    for dataset, d in df.groupby("dataset", sort=True):
        claim = (f"Grokking is driven by a train/test distribution shift (Sec. 3): on the "
                 f"{dataset} dataset, a larger shift goes with a larger Delta_S.")
        d = d.assign(intensity=rules.intensity(d)).dropna(subset=["intensity", "mmd2"])
        if len(d) < 4 or d["intensity"].nunique() < 2 or d["mmd2"].nunique() < 2:
            verdicts.append(_verdict(
                figure, claim, INCONCLUSIVE, f"{len(d)} runs could have grokked, "
                f"{int((d['intensity'] > 0).sum())} grok", page=page,
                decide="A rank correlation needs at least 4 runs that could have grokked and "
                       f"some grokking; within {rules.budget(df)} there are not: longer runs "
                       "(the paper profile) would decide it."))
            continue
        rho, p = spearmanr(d["mmd2"], d["intensity"])
        verdicts.append(_verdict(
            figure, claim, ladder(all_met=rho >= STRONG_RHO and p < P_VALUE,
                                  some_met=rho > 0 and p < P_VALUE),
            f"Spearman rho = {rho:.2f} (p = {p:.2g}, {len(d)} runs)", page=page,
            detail=f"Rank correlation between MMD^2 (training vs test set) and the grokking "
                   f"intensity (Delta_S of grokking runs, 0 otherwise) over the {len(d)} runs "
                   f"that could have grokked ({int((d['intensity'] > 0).sum())} grok)."))
    return verdicts

