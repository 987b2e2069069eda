"""Verdicts on Liu et al. 2022's phase diagrams: the toy model's (Fig. 6, Sec. 4.1) and the
transformer's (Fig. 7 right, Sec. 4.2), from the majority phase of each cell
(:func:`grokpaper.core.phases.phase_table`).

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.
A grid on which no run fits its training set, or no run generalizes, decides nothing:
*inconclusive*, with what would decide it.

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core.divergence import excluding
from grokpaper.core.phases import (
    PHASES,
    distance_from_grokking,
    grokking_neighbours,
    learned_any,
    sandwiched,
)
from grokpaper.core.studies import LIU
from grokpaper.core.verdicts import (
    INCONCLUSIVE,
    MAJORITY,
    NOT_SUPPORTED,
    PARTLY,
    SUPPORTED,
    Verdict,
    combined,
    ladder,
)
from grokpaper.liu.claims import MORE_STEPS, budget_of, not_generalized


def _panel_verdict(grid: np.ndarray, ok: bool, partly: bool = False) -> str:
    if not learned_any(grid):
        return INCONCLUSIVE
    return SUPPORTED if ok else (PARTLY if partly else NOT_SUPPORTED)


@excluding
def liu_fig6(frames: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], *, page: str
             ) -> list[Verdict]:
    """Fig. 6: four phases, corners, grokking between comprehension and memorization, and
    representation vs decoder speed (panel a). ``tables``: majority phase, y (ascending) x
    decoder lr. Each (b-d) claim is judged per panel and :func:`combined`; a panel on which no
    run fits its training set decides nothing."""
    out = []
    wd_panels = [p for p in ("b", "c", "d") if p in tables]
    budget = max((budget_of(f) for f in frames.values()), default=0)

    def claim(text: str, per_panel: dict[str, str], measured: str, said: dict[str, str]
              ) -> None:
        verdict = combined(per_panel.values())
        idle = not any(learned_any(tables[p].to_numpy()) for p in per_panel)
        out.append(Verdict(
            paper=LIU.name, figure="Fig. 6b-d", claim=text, verdict=verdict, page=page,
            measured=measured,
            detail="; ".join(f"({p}) {said[p]}: {per_panel[p]}" for p in said) + ".",
            decide="" if verdict != INCONCLUSIVE else
            f"No run fits its training set within {budget:,} steps on any panel: {MORE_STEPS}."
            if idle else "The runs at these corners diverged on every panel: a top learning "
                         "rate that does not diverge."))

    if wd_panels:
        grids = {p: tables[p].to_numpy() for p in wd_panels}
        present = {p: [ph for ph in PHASES if (g == ph).any()] for p, g in grids.items()}
        claim("Each phase diagram (addition regression, addition classification, S_3) "
              "contains all four phases: comprehension, grokking, memorization, confusion.",
              {p: _panel_verdict(g, len(present[p]) == 4) for p, g in grids.items()},
              "phases present of 4: " + ", ".join(f"({p}) {len(v)}" for p, v in present.items())
              + ".", {p: ", ".join(v) for p, v in present.items()})
        # (lowest wd, highest wd) at the top lr: "the top right corner (a fast and capable
        # decoder) is the memorization phase; the bottom right corner (a fast and simple
        # decoder) is the confusion phase" (Sec. 4.1).
        corners = {p: (tables[p].iloc[0, -1], tables[p].iloc[-1, -1]) for p in wd_panels}
        hits = {p: (a == "memorization") + (b == "confusion") for p, (a, b) in corners.items()}
        # A corner whose runs diverged has no phase: the panel then tells one corner at most.
        told = {p: sum(c in PHASES for c in pair) for p, pair in corners.items()}
        claim("A fast and capable decoder (highest lr, no weight decay) memorizes; a fast and "
              "simple one (highest lr, largest weight decay) is confused.",
              {p: INCONCLUSIVE if not told[p] else _panel_verdict(
                  grids[p], hits[p] == 2, hits[p] == 1) for p in wd_panels},
              "corners right of 2: " + ", ".join(f"({p}) {n}" for p, n in hits.items()) + ".",
              {p: f"{a} / {b}" for p, (a, b) in corners.items()})
        sand = {p: sandwiched(g) for p, g in grids.items()}
        claim("Grokking is sandwiched between comprehension and memorization.",
              {p: _panel_verdict(grids[p], sand[p][0]) for p in wd_panels},
              f"sandwiched on {sum(ok for ok, _ in sand.values())}/{len(sand)} panels.",
              {p: text for p, (_, text) in sand.items()})
    if "a" in frames:
        out.append(_fig6a(frames["a"], page))
    return out


def _fig6a(f: pd.DataFrame, page: str) -> Verdict:
    learned = f["phase"].isin(["comprehension", "grokking"])
    fast_rep = f["lr_emb"] >= f["lr_dec"]
    s_rep, s_dec = learned[fast_rep].mean(), learned[~fast_rep].mean()
    mem_slow = (f.loc[~fast_rep, "phase"] == "memorization").mean()
    ok = s_rep >= 2 * s_dec and s_rep > 0
    both_sides = bool(fast_rep.any() and (~fast_rep).any())
    decidable = both_sides and learned_any(f["phase"])
    return Verdict(
        paper=LIU.name, figure="Fig. 6a",
        claim="Representation learning needs the representation to learn faster than the "
              "decoder; a fast decoder with slow representation learning memorizes.",
        measured=f"comprehension or grokking in {s_rep:.0%} of cells with representation lr >= "
                 f"decoder lr vs {s_dec:.0%} below; memorization {mem_slow:.0%} below.",
        detail=f"{int(fast_rep.sum())} cells with representation lr >= decoder lr, "
               f"{int((~fast_rep).sum())} below; phases: "
               + ", ".join(f"{n} {p}" for p, n in f["phase"].value_counts().items()) + ".",
        verdict=ladder(decidable=decidable, all_met=ok and mem_slow >= MAJORITY,
                       some_met=ok or s_rep > s_dec),
        page=page,
        decide="" if decidable else
        f"No run fits its training set within {budget_of(f):,} steps: {MORE_STEPS}."
        if both_sides else "No cell on one side of representation lr = decoder lr: a wider "
                           "grid of learning rates.")


@excluding
def liu_fig7_phases(df: pd.DataFrame, table: pd.DataFrame, *, budget: int, page: str
                    ) -> list[Verdict]:
    """Fig. 7 right: weight decay helps the transformer generalize; grokking lies nearer to
    memorization than to comprehension. ``table``: majority phase, wd x decoder lr."""
    wd0 = df["wd_dec"].min()
    base, rest = df[df["wd_dec"] == wd0], df[df["wd_dec"] > wd0]
    gen0 = base["t_test"].notna().mean()
    gen1 = rest.groupby("wd_dec")["t_test"].apply(lambda s: s.notna().mean())
    t0 = base["t_test"].fillna(budget).min()
    t1 = rest.groupby("wd_dec")["t_test"].apply(lambda s: s.fillna(budget).min())
    best_wd = t1.idxmin() if len(t1) else np.nan
    faster = bool(len(t1) and t1.min() <= t0 / 2)
    more = bool(len(gen1) and gen1.max() > gen0)
    verdict = ladder(decidable=not df["t_test"].isna().all(), all_met=faster and more,
                     some_met=faster or more)
    return [
        Verdict(paper=LIU.name, figure="Fig. 7 right",
                claim="Some decoder weight decay helps the transformer generalize and speeds "
                      "generalization up significantly.",
                measured=f"fastest generalization {t0:.0f} steps at weight decay {wd0:g} vs "
                         f"{t1.min() if len(t1) else np.nan:.0f} at {best_wd:g}.",
                detail=f"Share of learning rates that generalize: {gen0:.0%} at {wd0:g}, up to "
                       f"{gen1.max() if len(gen1) else np.nan:.0%} with weight decay; not "
                       "reached counts as the budget.",
                verdict=verdict, page=page,
                decide="" if verdict != INCONCLUSIVE else not_generalized(df, budget)),
        _closer(table, budget, page),
    ]


def _closer(table: pd.DataFrame, budget: int, page: str) -> Verdict:
    """Abstract: "on transformers the grokking phase stays closer to the memorization phase
    (compared to the comprehension phase)", read two ways: grokking cells border more
    memorization than comprehension cells, and lie nearer (mean grid distance) to the nearest
    memorization cell than to the nearest comprehension cell. Both: *supported*, one:
    *partly*. Undecidable without grokking, or without both other phases on the grid."""
    grid = table.to_numpy()
    nb = grokking_neighbours(grid)
    n_grok = int((grid == "grokking").sum())
    d_mem = distance_from_grokking(grid, "memorization")
    d_comp = distance_from_grokking(grid, "comprehension")
    both = bool((grid == "memorization").any() and (grid == "comprehension").any())
    borders, nearer = nb["memorization"] > nb["comprehension"], d_mem < d_comp
    decidable = n_grok > 0 and both
    why = (f"No grokking cell on the grid within {budget:,} steps" if not n_grok else
           "The grid lacks comprehension or memorization, so there is nothing to compare")
    return Verdict(
        paper=LIU.name, figure="Fig. 7 right",
        claim="On the transformer the grokking phase lies closer to memorization than to "
              "comprehension.",
        measured=f"{n_grok} grokking cells; neighbours {nb['memorization']} memorization vs "
                 f"{nb['comprehension']} comprehension; distance {d_mem:.1f} vs {d_comp:.1f}.",
        detail=f"Other neighbours: {nb['confusion']} confusion. Distance: mean over grokking "
               "cells of the grid steps to the nearest cell of each phase.",
        verdict=ladder(decidable=decidable, all_met=borders and nearer,
                       some_met=borders or nearer),
        page=page, decide="" if decidable else f"{why}: a wider or finer grid, {MORE_STEPS}.")
