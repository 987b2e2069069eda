"""Plotting helpers: mean curves with a band over seeds, one colour per condition."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def mean_band(ax: Axes, steps: np.ndarray, curves: np.ndarray, *, label: str,
              color: str | None = None, start: float | None = None) -> None:
    """Mean over seeds (rows of ``curves``) with a +-1 std band, from step ``start`` on."""
    keep = steps >= (start or 0)
    mean, std = curves.mean(0)[keep], curves.std(0)[keep]
    x = np.maximum(steps[keep], 1)  # step 0 on a log axis
    (line,) = ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)


def curves_by_condition(df: pd.DataFrame, *, by: str, panels: list[tuple[str, str]],
                        from_convergence: tuple[bool, ...] | None = None,
                        label_fmt: str = "{}", title: str = "") -> Figure:
    """One panel per ``(column, title)``; one mean curve with a band per value of ``by``.

    Panels flagged in ``from_convergence`` start at the median Definition 3.1 alpha0 of their
    condition (the paper plots test curves "after the training loss has converged").
    """
    flags = from_convergence or (False,) * len(panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, df[by].nunique()))
    for (value, group), color in zip(df.groupby(by, sort=True), colors, strict=True):
        steps = group["steps"].iloc[0]
        alpha0 = pd.to_numeric(group["def31_alpha0"], errors="coerce").median()
        for ax, (col, _), flag in zip(axes[0], panels, flags, strict=True):
            start = alpha0 if flag and np.isfinite(alpha0) else None
            mean_band(ax, steps, np.stack(group[col].to_list()), label=label_fmt.format(value),
                      color=color, start=start)
    for ax, (_, name) in zip(axes[0], panels, strict=True):
        ax.set(xscale="log", xlabel="optimizer step", ylabel="accuracy", title=name,
               ylim=(0, 1.02))
        ax.grid(alpha=0.3)
    axes[0][-1].legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


#: Carvalho's three panels: training curve, then test curves from convergence, on all test
#: samples and on the subsampled subclasses alone.
SHIFT_PANELS = [("train_acc", "training set"), ("test_acc", "test set"),
                ("test_acc_subsampled", "test: subsampled subclasses")]


def shift_curves(df: pd.DataFrame, *, rows: str, by: str, label_fmt: str,
                 title_fmt: str) -> None:
    """One :func:`curves_by_condition` figure with :data:`SHIFT_PANELS` per value of ``rows``
    (titled ``title_fmt.format(value)``), one curve per value of ``by``; shown at once."""
    for value, group in df.groupby(rows):
        curves_by_condition(group, by=by, label_fmt=label_fmt, title=title_fmt.format(value),
                            panels=SHIFT_PANELS, from_convergence=(False, True, True))
        plt.show()
