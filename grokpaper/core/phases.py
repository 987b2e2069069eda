"""Liu et al. 2022 Sec. 4 / App. A: the four learning phases and how they sit on a grid.

Phase rule of the authors' code: with a budget of B steps, let ``t_train`` and ``t_test`` be the
first steps at which training and test accuracy reach 90% (never reached = not within B).
*comprehension*: both reached and ``t_test - t_train < gap`` (1e3 steps); *grokking*: both
reached with a larger gap; *memorization*: only training reached; *confusion*: training not
reached (whatever the test set did).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from grokpaper.core import divergence

PHASES = ("comprehension", "grokking", "memorization", "confusion")
#: Not a phase: a run whose loss became infinite (grokpaper.core.divergence), never "confusion".
DIVERGED = divergence.DIVERGED
#: "the gap is under 1e3 steps" (the authors' phase-diagram code)
GAP = 1000
#: Fixed colours so that every diagram reads the same: Okabe & Ito's bluish green, blue and
#: vermillion and a dark grey, apart under every simulated colour blindness (a mid grey sits
#: next to the green for deuteranopes); a hatch per phase so that a grid reads without colour.
COLORS = {"comprehension": "#009E73", "grokking": "#0072B2", "memorization": "#D55E00",
          "confusion": "#404040"}
HATCHES = {"comprehension": "", "grokking": "//", "memorization": "..", "confusion": "xx"}
#: A cell whose every seed diverged (not a phase): black, hatched with stars.
DIVERGED_COLOR, DIVERGED_HATCH = "#000000", "**"


def _reached(step: float | None, budget: int) -> bool:
    return step is not None and np.isfinite(step) and 0 <= step < budget


def phase(t_train: float | None, t_test: float | None, *, budget: int, gap: int = GAP) -> str:
    """The phase of one run from its first steps to 90% train/test accuracy (NaN/None/<0 or
    ``>= budget`` mean never reached)."""
    if budget <= 0 or gap < 0:
        raise ValueError(f"budget must be positive and gap >= 0, got {budget}, {gap}")
    train_ok, test_ok = _reached(t_train, budget), _reached(t_test, budget)
    if train_ok and test_ok:
        return "comprehension" if t_test - t_train < gap else "grokking"
    return "memorization" if train_ok else "confusion"


def phase_grid(t_train: np.ndarray, t_test: np.ndarray, *, budget: int,
               gap: int = GAP) -> np.ndarray:
    """:func:`phase` elementwise on arrays of the same shape; returns an array of names."""
    t_train, t_test = np.asarray(t_train, float), np.asarray(t_test, float)
    if t_train.shape != t_test.shape:
        raise ValueError(f"shapes differ: {t_train.shape} vs {t_test.shape}")
    out = [phase(a, b, budget=budget, gap=gap) for a, b in zip(t_train.ravel(), t_test.ravel(),
                                                                strict=True)]
    return np.array(out, dtype=object).reshape(t_train.shape)


def majority(phases: list[str]) -> str:
    """The most common phase over seeds (ties go to the earlier phase in :data:`PHASES`);
    diverged seeds do not vote, and a cell whose seeds all diverged is :data:`DIVERGED`."""
    counts = Counter(p for p in phases if p != DIVERGED)
    if not counts:
        return DIVERGED
    return max(PHASES, key=lambda ph: (counts[ph], -PHASES.index(ph)))


def phase_table(df: pd.DataFrame, *, rows: str, cols: str,
                descending: bool = False) -> pd.DataFrame:
    """The :func:`majority` phase over seeds of each (``rows``, ``cols``) cell of the runs
    ``df`` (one run per row, a ``phase`` column), as a grid: rows sorted ascending (or
    ``descending``), columns ascending; NaN where a cell has no run."""
    cells = df.groupby([rows, cols])["phase"].agg(lambda s: majority(list(s)))
    return cells.unstack(cols).sort_index(ascending=not descending)


def grokking_neighbours(grid: np.ndarray) -> Counter:
    """Phases of the 4-neighbours of grokking cells that are not grokking themselves.

    "Grokking is sandwiched between comprehension and memorization" (Sec. 4.1) predicts that
    these neighbours are comprehension or memorization, rarely confusion.
    """
    grid = np.asarray(grid, dtype=object)
    out: Counter = Counter()
    rows, cols = grid.shape
    for r in range(rows):
        for c in range(cols):
            if grid[r, c] != "grokking":
                continue
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols and grid[rr, cc] not in (
                        "grokking", DIVERGED):  # a diverged cell is no phase: left out
                    out[grid[rr, cc]] += 1
    return out


def sandwiched(grid: np.ndarray, *, min_share: float = 0.75) -> tuple[bool, str]:
    """Whether grokking lies between comprehension and memorization on ``grid``.

    True iff the grid has grokking cells, both comprehension and memorization border them, and
    at least ``min_share`` of their non-grokking neighbours are one of those two phases.
    Returns the decision and a sentence with the counts.
    """
    nb = grokking_neighbours(grid)
    total = sum(nb.values())
    n_grok = int((np.asarray(grid, dtype=object) == "grokking").sum())
    if n_grok == 0:
        return False, "no grokking cell on the grid"
    if total == 0:
        return False, f"{n_grok} grokking cells and no other phase next to them"
    good = nb["comprehension"] + nb["memorization"]
    ok = nb["comprehension"] > 0 and nb["memorization"] > 0 and good / total >= min_share
    parts = ", ".join(f"{nb[p]} {p}" for p in PHASES if p != "grokking" and nb[p])
    return ok, (f"{n_grok} grokking cells; their other-phase neighbours: {parts} "
                f"({good / total:.0%} comprehension or memorization)")
