"""Tables and plots for the Liu et al. 2022 chapter: "paper says / we use" notes, phase
diagrams."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from grokpaper.core.phases import PHASES
from grokpaper.core.plots import PHASE_CODES, PHASE_COLORS, hatch_phases, phase_handles

#: (what the paper or the authors' code says, why our paper-profile value) per parameter.
FRACTION_NOTES = {
    "p": ("addition with p = 10 (Figs. 3-5)", "as the paper"),
    "sizes": ("training fractions 0.1-1 (Figs. 3-5)", "the authors' train_nums"),
    "seeds": ("'multiple random seeds' (Fig. 4b)", "the authors' 3 seeds"),
    "steps": ("not given (authors: 5e3 for Fig. 3, 1e4 for Fig. 4)", "1e4 for all three"),
    "width": ("decoder MLP, 200 wide (authors' code)", "as the authors"),
    "lr_emb": ("eta = 1e-3 for the embeddings (Fig. 5)", "as the paper"),
    "lr_dec": ("not given (authors: 1e-4)", "as the authors"),
    "n_evals": ("not given", "100 log-spaced evaluations (the curves use a log x-axis)"),
    "theory_sizes": ("not given (authors: 3, 6, ..., 54 training samples)", "as the authors"),
    "theory_sets": ("not given (authors: 100 training sets per size)", "as the authors"),
}
REPR_NOTES = {
    "p": ("p = 11 (Fig. 2)", "as the paper"),
    "tasks": ("addition (a, b) and modular addition (c, d) (Fig. 2)", "as the paper"),
    "seeds": ("two panels per task", "two seeds"),
    "frac": ("not given", "80% of the pairs"),
    "steps": ("not given", "2e4"),
    "width": ("200 (authors' code)", "as the authors"),
    "loss": ("colour: 'the highest probability class' (Fig. 2)", "cross-entropy"),
    "mean_inputs": ("decoder trained on (E_i + E_j)/2 'for visualization purposes' (Fig. 2)",
                    "as the paper"),
    "resolution": ("not given", "80 x 80 points of the decoder's map"),
}
PHASE_NOTES = {
    "panels": ("(a) representation lr against decoder lr, addition, regression; (b) addition, "
               "regression; (c) addition, classification; (d) S₃, regression (Fig. 6)",
               "as the paper"),
    "lrs": ("decoder lr in [1e-5, 1e-2] (Sec. 4.1)", "16 log-spaced values"),
    "emb_lrs": ("representation lr in [1e-5, 1e-2] (Fig. 6a)", "16 log-spaced values"),
    "wds_reg": ("decoder wd in [0, 10] (regression)", "11 values"),
    "wds_cls": ("decoder wd in [0, 20] (classification)", "11 values"),
    "seeds": ("not given", "1 per cell"),
    "steps": ("not given (authors: 'steps=1e5' in the paper)", "budget 1e5"),
    "width": ("200 (authors' code)", "as the authors"),
    "n_evals": ("not given", "80 log-spaced evaluations"),
}
TRANSFORMER_NOTES = {
    "p": ("p = 53 (Sec. 4.2)", "as the paper"),
    "d_model": ("256-D embeddings", "as the paper"),
    "d_ff": ("not given (authors: 256)", "as the authors"),
    "n_layers": ("not given (authors: decoder_depth 2)", "as the authors"),
    "steps": ("not given (Fig. 7 axes reach 1e4)", "1e4"),
    "wd": ("not given for Fig. 1", "1 (Power et al.)"),
    "seeds": ("100 seeds (Fig. 7 left)", "as the paper"),
    "dropouts": ("'a significant dropout rate' (authors: 0-0.5)", "10 rates in [0, 0.5]"),
    "dropout_seeds": ("not given (authors: 3)", "as the authors"),
    "dropout_wd": ("not given (authors: the dropout runs keep the default, no weight decay)",
                   "as the authors"),
    "frac": ("not given (authors: split_ratio 0.8)", "as the authors"),
    "batch_size": ("not given (authors: full batch)", "as the authors"),
    "lr": ("not given (authors: 1e-3 for embeddings and decoder)", "as the authors"),
    "n_evals": ("not given", "60 log-spaced evaluations"),
}
TRANSFORMER_PHASE_NOTES = {
    "p": ("p = 53", "as the paper"),
    "d_model": ("256", "as the paper"),
    "d_ff": ("not given (authors: 256)", "as the authors"),
    "steps": ("not given", "1e4"),
    "lrs": ("decoder lr (authors: 10^-9..10^-1, 15 values)", "as the authors"),
    "wds": ("decoder wd (authors: e^-4..e^3, 19 values)", "as the authors"),
    "wd_emb": ("embeddings: 'zero weight decay' (Fig. 7); authors' code: AdamW default 0.01",
               "0, as the paper"),
    "lr_emb": ("embeddings: 'kept fixed at 10^-3' (Fig. 7)", "as the paper"),
    "n_layers": ("not given (authors: decoder_depth 2)", "as the authors"),
    "frac": ("not given (authors: split_ratio 0.8)", "as the authors"),
    "batch_size": ("not given (authors: full batch)", "as the authors"),
    "seeds": ("not given", "1 per cell"),
    "n_evals": ("not given", "40 log-spaced evaluations"),
}
#: The notes of each figure's table (its name in ``liu.profiles``), for
#: :func:`grokpaper.core.report.paper_says_table`.
NOTES = {"liu.fraction": FRACTION_NOTES, "liu.fig2": REPR_NOTES, "liu.fig6": PHASE_NOTES,
         "liu.fig7": TRANSFORMER_NOTES, "liu.fig7_phases": TRANSFORMER_PHASE_NOTES}


def phase_legend(ax: Axes, **kw: Any) -> None:
    ax.legend(handles=phase_handles(), **kw)


def plot_phase_grid(ax: Axes, table: pd.DataFrame, *, xlabel: str, ylabel: str, title: str,
                    marks: pd.DataFrame | None = None, log_y: bool = False) -> None:
    """Phases of a (y x lr) table as coloured cells; ``marks`` (same shape, numbers or NaN)
    are written in the cells, e.g. Definition 3.1's Delta_S where it says "grokked"."""
    codes = table.map(PHASE_CODES.index).to_numpy(float)  # black: every seed diverged
    cmap = ListedColormap([PHASE_COLORS[p] for p in PHASE_CODES])
    ax.imshow(codes, origin="lower", cmap=cmap, vmin=-0.5, vmax=len(PHASE_CODES) - 0.5,
              aspect="auto")
    hatch_phases(ax, codes)
    xs, ys = table.columns.to_numpy(float), table.index.to_numpy(float)
    step_x = max(1, len(xs) // 6)
    ax.set_xticks(range(0, len(xs), step_x), [f"{x:.0e}" for x in xs[::step_x]], fontsize=7)
    step_y = max(1, len(ys) // 6)
    fmt = "{:.0e}" if log_y else "{:g}"
    ax.set_yticks(range(0, len(ys), step_y), [fmt.format(y) for y in ys[::step_y]], fontsize=7)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if marks is not None:
        m = marks.reindex(index=table.index, columns=table.columns).to_numpy(float)
        for r, c in zip(*np.nonzero(np.isfinite(m)), strict=True):
            ax.text(c, r, f"{m[r, c]:.1f}", ha="center", va="center", fontsize=6, color="w")


def cell_table(df: pd.DataFrame, y: str, value: str, agg: str = "median") -> pd.DataFrame:
    """A numeric column aggregated per (y, lr_dec) cell, as a y x lr grid."""
    # groupby keeps all-NaN cells (pivot_table would drop them)
    return df.groupby([y, "lr_dec"])[value].agg(agg).unstack("lr_dec").sort_index()


def steps_table(df: pd.DataFrame, y: str) -> pd.DataFrame:
    """"t_train / t_test" per (y, lr_dec) cell (median over seeds; "–": not within budget)."""
    def fmt(v: float) -> str:
        return f"{v:.0f}" if np.isfinite(v) else "–"

    out = cell_table(df, y, "t_train").map(fmt) + " / " + cell_table(df, y, "t_test").map(fmt)
    out.columns = [f"{c:.1e}" for c in out.columns]
    return out


def contingency(df: pd.DataFrame) -> pd.DataFrame:
    """Runs per (Liu phase, Definition 3.1 verdict): does Liu's grokking match Carvalho's?"""
    d31 = df["def31_grokked"].map({True: "Def. 3.1: grokked", False: "Def. 3.1: not grokked"})
    tab = pd.crosstab(df["phase"], d31)
    return tab.reindex([p for p in PHASES if p in tab.index])


def step_scatter(ax: Axes, x: np.ndarray, t: np.ndarray, budget: int, *, label: str,
                 color: str = "C0") -> None:
    """Steps per run against x; runs that never got there are drawn at the budget as 'x'."""
    t = np.asarray(t, float)
    hit = np.isfinite(t)
    ax.scatter(x[hit], t[hit], s=14, color=color, label=label, alpha=0.8)
    if (~hit).any():
        ax.scatter(x[~hit], np.full((~hit).sum(), budget), marker="x", color=color, s=18,
                   label=f"{label}: not within {budget:g} steps")


def close(fig: plt.Figure) -> None:
    fig.tight_layout()
    plt.show()
