"""The yardstick page's tables and figure: what the store held, the agreement per family,
and the curves of the runs the definitions disagree on."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from grokpaper.core import phases
from grokpaper.core.plots import OKABE_ITO
from grokpaper.cross import norms
from grokpaper.cross.stored import Found
from grokpaper.cross.yardstick import (
    DEFINITIONS,
    LI_THRESHOLD,
    LIU_THRESHOLD,
    agreement,
)
from grokpaper.lisakib.experiments import DELAY_GAP

#: Disagreeing runs drawn per family (the first ones, in store order).
SHOWN = 3



def _step_panel(ax: Axes, title: str, *, xlabel: bool = True) -> None:
    """A small panel over training steps: log step axis, small title and tick labels."""
    ax.set_xscale("log")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=7)
    if xlabel:
        ax.set_xlabel("step", fontsize=8)

def coverage_table(found: Found) -> pd.DataFrame:
    """One row per figure: its runs with curves in the store out of those it trains, and
    whether its chapter has run (all, part or none of them); figures that could not be listed
    say why."""
    rows = [{"figure": f, "stored runs": have, "planned runs": n,
             "status": "read" if have == n else ("not run" if have == 0 else "partly run")}
            for f, (have, n) in sorted(found.figures.items())]
    rows += [{"figure": f, "stored runs": 0, "planned runs": np.nan, "status": why}
             for f, why in sorted(found.skipped.items())]
    return pd.DataFrame(rows, columns=["figure", "stored runs", "planned runs", "status"]
                        ).astype({"planned runs": "Int64"})


def agreement_table(judged: pd.DataFrame) -> pd.DataFrame:
    """:func:`grokpaper.cross.yardstick.agreement` per study and family, for readers."""
    table = agreement(judged)
    study = judged.groupby("family", sort=False)["study"].first()
    table.insert(0, "study", table["family"].map(study))
    return table.rename(columns={"agree_share": "share agreeing",
                                 "all_share": "share of contested called grokking by all"})


def disagreement_figure(judged: pd.DataFrame, *, shown: int = SHOWN) -> Figure | None:
    """Accuracy curves of up to ``shown`` disagreeing runs per family (training dashed, test
    solid), each titled with which definitions call it grokking; None when all agree."""
    bad = judged[~judged["agree"]]
    picked = [g.head(shown) for _, g in bad.groupby("family", sort=False)]
    if not picked:
        return None
    runs = pd.concat(picked)
    families = list(dict.fromkeys(runs["family"]))
    fig, axes = plt.subplots(len(families), shown, figsize=(3.6 * shown, 2.6 * len(families)),
                             squeeze=False, sharey=True, layout="constrained")
    for ax in axes.ravel():
        ax.set_visible(False)
    for i, family in enumerate(families):
        for j, r in enumerate(runs[runs["family"] == family].itertuples()):
            ax = axes[i, j]
            ax.set_visible(True)
            x = np.maximum(r.steps, 1)  # step 0 on a log axis
            ax.plot(x, r.train_acc, "--", color=OKABE_ITO[4], label="training")
            ax.plot(x, r.test_acc, color=OKABE_ITO[5], label="test")
            for level in (LIU_THRESHOLD, LI_THRESHOLD):
                ax.axhline(level, color="0.6", lw=0.6, ls=":")
            ax.set_ylim(-0.02, 1.02)
            _step_panel(ax, f"{family}: {r.pattern}\n(Liu: {r.phase})",
                        xlabel=i == len(families) - 1)
            if j == 0:
                ax.set_ylabel("accuracy", fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    return fig


def definitions_markdown() -> str:
    """The three definitions as the page applies them, one line each."""
    return "\n".join([
        f"- **{DEFINITIONS[0]}** (Carvalho et al.): a low test plateau after training "
        "converged, then a lasting rise into the high region (`core/metrics.definition31`).",
        f"- **{DEFINITIONS[1]}** (Li & Sakib): test accuracy first reaches "
        f"{LI_THRESHOLD:.0%} at least {DELAY_GAP:,} steps after training accuracy does.",
        f"- **{DEFINITIONS[2]}** (Liu et al.): both reach {LIU_THRESHOLD:.0%}, the test curve "
        f"at least {phases.GAP:,} steps later (the *grokking* phase; `core/phases.phase`)."])


def shift_figure(shifts: pd.DataFrame) -> Figure:
    """Delay against MMD^2 (left) and against the training fraction (right), one colour per
    family; open markers: censored delays (lower bounds)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True, layout="constrained")
    kept = shifts[~shifts["diverged"].astype(bool)].dropna(subset=["delay"])
    for i, (family, g) in enumerate(kept.groupby("family", sort=False)):
        color = OKABE_ITO[i % len(OKABE_ITO)]
        for ax, x in zip(axes, ("mmd2", "fraction"), strict=True):
            for censored in (False, True):
                part = g[g["censored"] == censored]
                ax.scatter(part[x], part["delay"], s=22,
                           facecolors="none" if censored else color, edgecolors=color,
                           label=family if (x == "mmd2" and not censored) else None)
    axes[0].set_xlabel("MMD$^2$ (training vs held-out pairs)")
    axes[1].set_xlabel("training fraction")
    axes[0].set_ylabel("delay (steps, 95%)")
    if len(kept):
        axes[0].legend(fontsize=8)
    else:
        axes[0].text(0.5, 0.5, "no run with a delay", ha="center", transform=axes[0].transAxes)
    return fig


def shift_summary(shifts: pd.DataFrame) -> pd.DataFrame:
    """Per family and training fraction: runs, mean MMD^2 and median delay."""
    kept = shifts[~shifts["diverged"].astype(bool)]
    return (kept.groupby(["family", "fraction"], sort=False)
            .agg(runs=("mmd2", "size"), mmd2=("mmd2", "mean"),
                 runs_with_delay=("delay", "count"), median_delay=("delay", "median"))
            .reset_index())


def norm_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per family: grokking runs, those recording a weight norm, how many of those have each
    shape (:func:`grokpaper.cross.norms.norm_shape`), median peak and arrival steps; diverged
    runs left out."""
    kept = table[~table["diverged"].astype(bool)]
    out = (kept.groupby("family", sort=False)
           .agg(grokking_runs=("turns", "size"), with_norm=("has_norm", "sum"),
                median_peak_step=("peak_step", "median"), median_arrival=("t_arrive", "median"))
           .reset_index())
    for shape in (*norms.TURNED, norms.NO_TURN):
        out[shape] = out["family"].map(
            kept[kept["shape"] == shape].groupby("family").size()).fillna(0).astype(int)
    return out


def norm_figure(judged: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """For the first grokking run with a weight norm of each family: its norm (relative to
    its peak) and test accuracy against the step, the test curve's arrival dotted."""
    fams = [f for f in dict.fromkeys(table["family"])
            if table[(table["family"] == f) & table["has_norm"]].size]
    fig, axes = plt.subplots(1, max(len(fams), 1), figsize=(3.4 * max(len(fams), 1), 2.8),
                             squeeze=False, layout="constrained")
    if not fams:
        axes[0, 0].axis("off")
        axes[0, 0].text(0.5, 0.5, "no grokking run records a weight norm", ha="center")
        return fig
    grok = judged[judged["def31"] | judged["li"] | judged["liu"]]
    for ax, fam in zip(axes[0], fams, strict=True):
        row = table[(table["family"] == fam) & table["has_norm"]].iloc[0]
        run = grok[(grok["family"] == fam) & grok["weight_norm"].notna()].iloc[0]
        x = np.maximum(run["steps"], 1)
        ax.plot(x, run["weight_norm"] / np.max(run["weight_norm"]), color=OKABE_ITO[0],
                label="weight norm / peak")
        ax.plot(x, run["test_acc"], color=OKABE_ITO[5], label="test accuracy")
        ax.axvline(max(row["t_arrive"], 1), color="0.5", ls=":", lw=1)
        _step_panel(ax, f"{fam}:\n{row['shape']}")
    axes[0, 0].legend(fontsize=7)
    return fig


def representation_figure(probed: pd.DataFrame) -> Figure:
    """One panel per probed run (:func:`grokpaper.cross.representation.transitions`): test
    accuracy, the subclass score, the transition window of a run that groks, the jump."""
    n = max(len(probed), 1)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 2.8), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, r in zip(axes[0], probed.itertuples(), strict=False):
        x = np.maximum(r.steps, 1)  # step 0 on a log axis
        ax.plot(x, r.test_acc, color=OKABE_ITO[5], label="test accuracy")
        ax.plot(x, r.subclass, "--", color=OKABE_ITO[4], label="subclass score")
        if r.grokked:
            ax.axvspan(max(r.alpha0, 1), max(r.alpha1, 1), color="0.85", lw=0)
        if np.isfinite(r.jump):
            ax.plot(max(r.jump, 1), np.interp(r.jump, r.steps, r.subclass), "o",
                    color=OKABE_ITO[4])
        _step_panel(ax, f"{r.n_train} samples, seed {r.seed}")
    axes[0, 0].legend(fontsize=7)
    return fig
