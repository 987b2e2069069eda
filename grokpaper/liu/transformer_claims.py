"""Verdicts on Liu et al. 2022's claims about the transformer's embeddings and dropout
(Sec. 4.2: Figs. 1, 7 left and centre, App. K); its phase diagram (Fig. 7 right) is judged in
:mod:`grokpaper.liu.phase_claims`, the toy model in :mod:`grokpaper.liu.claims`.

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.
A transformer that does not generalize within the budget gives *inconclusive* (with what would
decide it), never *not supported*: it says nothing about what speeds generalization up.

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binom

from grokpaper.core.divergence import excluding
from grokpaper.core.studies import LIU
from grokpaper.core.verdicts import INCONCLUSIVE, MAJORITY, Verdict, combined, ladder
from grokpaper.liu.claims import (
    CIRCLE_STRUCTURED,
    MORE_STEPS,
    TREND_RHO,
    not_generalized,
    spearman,
)

#: Fig. 1: circle in the top-2 PCA plane at the end, gained over training by at least this.
CIRCLE_GAIN = 0.15
#: Fig. 1 and Fig. 7 left: "coincides with" / "up to generalization time": within this factor
#: of the first step with 90% test accuracy. Fig. 7 left: the effective dimension ends at most
#: EFFDIM_DROP of its peak ("decreases drastically afterwards").
PEAK_FACTOR, EFFDIM_DROP = 3.0, 0.8
#: App. K: the initialization's angles on the final axes agree with the final ones beyond
#: chance at this level (permutation test, :mod:`grokpaper.liu.embeddings`); *partly* needs
#: more such seeds than chance alone would give at this level too.
ALIGN_ALPHA = 0.05


def _effdim_peaks(pca: pd.DataFrame) -> tuple[int, int]:
    """(seeds whose effective dimension peaks near generalization then drops, generalizing
    seeds whose run lasts long enough after generalization to show a drop)."""
    n_ok = n = 0
    for _, r in pca[pca["t_test"].notna()].iterrows():
        curve, steps = np.asarray(r["eff_dim"]), np.asarray(r["steps"], float)
        if steps[-1] < r["t_test"] * PEAK_FACTOR:
            continue  # a peak within the window could not be seen to drop
        n += 1
        peak = steps[int(np.argmax(curve))]
        near = r["t_test"] / PEAK_FACTOR <= max(peak, 1) <= r["t_test"] * PEAK_FACTOR
        n_ok += bool(near and curve[-1] <= EFFDIM_DROP * curve.max())
    return n_ok, n


@excluding
def liu_fig7(pca: pd.DataFrame, drop: pd.DataFrame, *, budget: int, page: str
             ) -> list[Verdict]:
    """Figs. 1 and 7 (left, centre) on the transformer runs. ``pca`` has ``circularity`` and
    ``circularity_init`` (:func:`grokpaper.liu.analysis.circularity_columns`) and ``t_circle``
    (:func:`grokpaper.liu.embeddings.structure_columns`)."""
    gen = pca[pca["t_test"].notna()]
    circle = ((gen["circularity"] >= CIRCLE_STRUCTURED)
              & (gen["circularity"] >= gen["circularity_init"] + CIRCLE_GAIN))
    t_circle = np.maximum(gen["t_circle"].astype(float), 1)
    coincide = circle & (t_circle >= gen["t_test"] / PEAK_FACTOR) & (
        t_circle <= gen["t_test"] * PEAK_FACTOR)
    n_gen = len(gen)
    v1 = ladder(decidable=n_gen > 0, all_met=n_gen > 0 and coincide.mean() >= MAJORITY,
                some_met=bool(circle.any()))
    n_peak, n = _effdim_peaks(pca)
    v2 = ladder(decidable=n > 0, all_met=n > 0 and n_peak / n >= MAJORITY, some_met=n_peak > 0)
    return [
        Verdict(paper=LIU.name, figure="Fig. 1",
                claim="Generalization coincides with the embeddings' top-2 PCA projection "
                      "becoming a circle.",
                measured=f"{int(coincide.sum())}/{n_gen} generalizing seeds become a circle "
                         f"within {PEAK_FACTOR:g}x of generalizing; {int(circle.sum())} end "
                         "on one.",
                detail=f"Circularity at the end {gen['circularity'].median():.2f} vs "
                       f"{gen['circularity_init'].median():.2f} at initialization (medians over "
                       f"generalizing seeds); step it stays a circle / generalization step "
                       f"(median): {(t_circle / gen['t_test']).median():.2f}; "
                       f"{len(pca) - n_gen} of {len(pca)} seeds do not generalize.",
                verdict=v1, page=page, decide=not_generalized(pca, budget)),
        Verdict(paper=LIU.name, figure="Fig. 7 left",
                claim="The effective dimension of the embeddings rises until generalization "
                      "and drops sharply afterwards.",
                measured=f"{n_peak}/{n} generalizing seeds peak within {PEAK_FACTOR:g}x of "
                         f"generalization and end at most {EFFDIM_DROP:.0%} of the peak.",
                detail=f"Seeds count when their run lasts at least {PEAK_FACTOR:g}x their "
                       f"generalization step ({n} of {n_gen} generalizing seeds).",
                verdict=v2, page=page,
                decide="" if n else not_generalized(pca, budget) or
                f"No seed generalizes early enough to be followed {PEAK_FACTOR:g}x as long "
                f"afterwards within {budget:,} steps: {MORE_STEPS}."),
        _dropout(drop, budget, page),
    ]


def _dropout(drop: pd.DataFrame, budget: int, page: str) -> Verdict:
    """Fig. 7 centre: steps to 90% test accuracy fall with the dropout rate (Spearman), and
    the largest rate leaves no grokking (only decidable where the smallest rate groks)."""
    t_test = drop["t_test"].fillna(budget)
    rho = spearman(drop["dropout"], t_test)
    top = drop[drop["dropout"] == drop["dropout"].max()]
    base = drop[drop["dropout"] == drop["dropout"].min()]
    comp = (top["phase"] == "comprehension").mean()
    grokked = bool((base["phase"] == "grokking").any())
    med = drop.assign(t=t_test).groupby("dropout")["t"].median()
    generalized = not drop["t_test"].isna().all()
    # A correlation needs three runs with two rates: with fewer, rho is NaN and says nothing.
    falls = ladder(decidable=generalized and np.isfinite(rho), all_met=rho <= -TREND_RHO,
                   some_met=False)
    # "the grokking phenomenon vanishes": only where there was grokking without dropout.
    vanishes = ladder(decidable=generalized and grokked, all_met=comp >= MAJORITY,
                      some_met=False)
    verdict = combined([falls, vanishes])
    return Verdict(
        paper=LIU.name, figure="Fig. 7 centre",
        claim="A significant dropout rate shortens generalization (under 1e3 steps in the "
              "paper) and removes grokking.",
        measured=f"Spearman rho(dropout, steps to 90% test) = {rho:.2f}; comprehension at the "
                 f"largest rate in {comp:.0%} of seeds.",
        detail="Median steps to 90% test accuracy by dropout rate (not reached: the budget): "
               + ", ".join(f"{k:.2f}: {v:.0f}" for k, v in med.items())
               + f"; grokking at the smallest rate: {'yes' if grokked else 'no'}, so whether "
                 f"dropout removes it {'can' if grokked else 'cannot'} be told.",
        verdict=verdict, page=page,
        decide="" if verdict != INCONCLUSIVE else not_generalized(drop, budget) or
        "Too few dropout runs for a rank correlation (three with two rates): more rates or "
        "seeds (-p dropouts=... / dropout_seeds=...).")


@excluding
def liu_appendix_k(pca: pd.DataFrame, *, budget: int, page: str) -> list[Verdict]:
    """App. K: on the final principal axes, the initial embeddings already hold some of the
    final structure. ``pca`` has ``init_p``, ``init_alignment`` and ``init_chance``
    (:func:`grokpaper.liu.embeddings.structure_columns`); judged on generalizing seeds."""
    gen = pca[pca["t_test"].notna()]
    n, n_ok = len(gen), int((gen["init_p"] < ALIGN_ALPHA).sum())
    # More aligned seeds than chance gives (a binomial test at the same level).
    beyond_chance = bool(n and binom.sf(n_ok - 1, n, ALIGN_ALPHA) < ALIGN_ALPHA)
    verdict = ladder(decidable=n > 0, all_met=n > 0 and n_ok / n >= MAJORITY,
                     some_met=beyond_chance)
    return [Verdict(
        paper=LIU.name, figure="App. K",
        claim="Projected on the principal axes at the end of training, the embeddings at "
              "initialization already hold some of the structure needed to generalize.",
        measured=f"{n_ok}/{n} generalizing seeds: initial angles on the final axes match the "
                 f"final ones beyond chance (p < {ALIGN_ALPHA}).",
        detail=f"Alignment |mean exp(i(angle at init - angle at the end))| over symbols: median "
               f"{gen['init_alignment'].median():.2f} vs {gen['init_chance'].median():.2f} "
               f"with shuffled symbols; {len(pca) - n} of {len(pca)} seeds do not generalize.",
        verdict=verdict, page=page, decide=not_generalized(pca, budget))]
