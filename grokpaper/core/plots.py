"""Plotting helpers: mean curves with a band over seeds, one colour per condition."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from grokpaper.core import divergence, phases

#: Okabe & Ito's colour-blind-safe palette (black left out), for categories that a legend names.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: What a phase grid's codes index: Liu's phases, then cells whose every seed diverged; the
#: colour and hatch of each.
PHASE_CODES = (*phases.PHASES, phases.DIVERGED)
PHASE_COLORS = {**phases.COLORS, phases.DIVERGED: phases.DIVERGED_COLOR}
PHASE_HATCHES = {**phases.HATCHES, phases.DIVERGED: phases.DIVERGED_HATCH}


def mean_band(ax: Axes, steps: np.ndarray, curves: np.ndarray, *, label: str,
              color: str | None = None, start: float | None = None) -> None:
    """Mean over seeds (rows of ``curves``) with a +-1 std band, from step ``start`` on."""
    keep = steps >= (start or 0)
    mean, std = curves.mean(0)[keep], curves.std(0)[keep]
    x = np.maximum(steps[keep], 1)  # step 0 on a log axis
    (line,) = ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)


def phase_handles(*, diverged: bool = False) -> list[Patch]:
    """Legend entries for Liu's phases (and ``diverged`` cells), coloured and hatched as
    :func:`hatch_phases` draws them."""
    return [Patch(facecolor=PHASE_COLORS[p], edgecolor="white", hatch=PHASE_HATCHES[p],
                  label=p) for p in PHASE_CODES[: len(phases.PHASES) + diverged]]


def hatch_phases(ax: Axes, codes: np.ndarray) -> None:
    """Hatch each cell of an ``imshow`` of phase codes (indices into :data:`PHASE_CODES`; NaN
    stays bare) with its phase's pattern, so that the grid reads without its colours."""
    for (r, c), code in np.ndenumerate(codes):
        hatch = PHASE_HATCHES[PHASE_CODES[int(code)]] if np.isfinite(code) else ""
        if hatch:
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, lw=0, hatch=hatch,
                                   edgecolor="white"))


def _draw_panels(axes: np.ndarray, df: pd.DataFrame, *, by: str,
                 panels: list[tuple[str, str]], flags: tuple[bool, ...], label_fmt: str) -> None:
    """One panel per ``(column, title)`` on ``axes``; one mean curve per value of ``by``.

    Diverged runs (:mod:`grokpaper.core.divergence`) are left out of the means; the legend
    says how many, and an x on the step axis marks where each one diverged."""
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, df[by].nunique()))
    for (value, everyone), color in zip(df.groupby(by, sort=True), colors, strict=True):
        group, gone = divergence.split(everyone)
        label = label_fmt.format(value)
        if len(gone):
            label += (f" (all {len(gone)} {divergence.DIVERGED})" if group.empty else
                      f" ({len(gone)} of {len(everyone)} {divergence.DIVERGED}, left out)")
        for ax in axes:
            _mark_diverged(ax, gone, color, label if group.empty and ax is axes[-1] else None)
        if group.empty:
            continue
        steps = group["steps"].iloc[0]
        alpha0 = pd.to_numeric(group["def31_alpha0"], errors="coerce").median()
        for ax, (col, _), flag in zip(axes, panels, flags, strict=True):
            start = alpha0 if flag and np.isfinite(alpha0) else None
            mean_band(ax, steps, np.stack(group[col].to_list()), label=label, color=color,
                      start=start)
    for ax, (_, name) in zip(axes, panels, strict=True):
        ax.set(xscale="log", xlabel="optimizer step", ylabel="accuracy", title=name,
               ylim=(0, 1.02))
        ax.grid(alpha=0.3)
    axes[-1].legend(loc="lower right", fontsize=8)


def _mark_diverged(ax: Axes, gone: pd.DataFrame, color: object, label: str | None) -> None:
    """An x at the bottom of the panel at each diverged run's divergence step."""
    if gone.empty:
        return
    at = [max(int(np.asarray(s)), 1) for s in gone["diverged_step"]] if (
        "diverged_step" in gone) else [max(int(gone["steps"].iloc[0][-1]), 1)] * len(gone)
    ax.plot(at, [0.0] * len(at), "x", color=color, markersize=8, clip_on=False, label=label)


def curves_by_condition(df: pd.DataFrame, *, by: str, panels: list[tuple[str, str]],
                        from_convergence: tuple[bool, ...] | None = None,
                        label_fmt: str = "{}", title: str = "") -> Figure:
    """One panel per ``(column, title)``; one mean curve with a band per value of ``by``.

    Panels flagged in ``from_convergence`` start at the median Definition 3.1 alpha0 of their
    condition (the paper plots test curves "after the training loss has converged").
    """
    flags = from_convergence or (False,) * len(panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    _draw_panels(axes[0], df, by=by, panels=panels, flags=flags, label_fmt=label_fmt)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def curves_grid(df: pd.DataFrame, *, rows: str, by: str, panels: list[tuple[str, str]],
                from_convergence: tuple[bool, ...] | None = None, label_fmt: str = "{}",
                title_fmt: str = "{}") -> Figure:
    """:func:`curves_by_condition` for each value of ``rows``, stacked in ONE figure (one row
    of panels each, titled ``title_fmt.format(value)``): a book cell then always shows one
    image, so its caption and label hold for any number of sizes or factors."""
    flags = from_convergence or (False,) * len(panels)
    groups = list(df.groupby(rows, sort=True))
    fig = plt.figure(figsize=(4.2 * len(panels), 3.6 * max(len(groups), 1)),
                     layout="constrained")
    subfigs = np.atleast_1d(fig.subfigures(max(len(groups), 1), 1))
    for sub, (value, group) in zip(subfigs, groups, strict=False):
        axes = sub.subplots(1, len(panels), squeeze=False)[0]
        _draw_panels(axes, group, by=by, panels=panels, flags=flags, label_fmt=label_fmt)
        sub.suptitle(title_fmt.format(value))
    return fig


#: Carvalho's three panels: training curve, then test curves from convergence, on all test
#: samples and on the subsampled subclasses alone.
SHIFT_PANELS = [("train_acc", "training set"), ("test_acc", "test set"),
                ("test_acc_subsampled", "test: subsampled subclasses")]


def shift_curves(df: pd.DataFrame, *, rows: str, by: str, label_fmt: str,
                 title_fmt: str) -> None:
    """:data:`SHIFT_PANELS` in one :func:`curves_grid` figure (a row per value of ``rows``,
    a curve per value of ``by``), shown at once."""
    curves_grid(df, rows=rows, by=by, panels=SHIFT_PANELS, from_convergence=(False, True, True),
                label_fmt=label_fmt, title_fmt=title_fmt)
    plt.show()
