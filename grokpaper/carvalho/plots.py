"""Pictures for the Carvalho et al. chapters: dataset structure, intensity maps, shift scatter,
weight sparsity over training."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb

from grokpaper.carvalho import data as syn
from grokpaper.core.plots import OKABE_ITO, mean_band

#: Blue, orange, bluish green, reddish purple: no red-green pair; a marker per class as well, so
#: that a scatter reads without its colours.
CLASS_COLORS = (OKABE_ITO[4], OKABE_ITO[0], OKABE_ITO[2], OKABE_ITO[6])
CLASS_MARKERS = ("o", "s", "^", "D")


def centroid_distances(layout: syn.Layout, base: syn.BaseDistributions
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(Hamming distance of the codes, Euclidean distance of the centroids), subclass by subclass.

    With unit gaps between the two means of every block and one block per bit, the Euclidean
    distance is the square root of the Hamming distance.
    """
    codes = layout.codes()
    ham = np.array([[syn.hamming(int(a), int(b)) for b in codes] for a in codes])
    c = base.centroids(codes).double()
    return ham, torch.cdist(c, c).numpy()


def subclass_colors(layout: syn.Layout) -> list[tuple[float, float, float]]:
    """One colour per subclass: its class's hue, lighter for later subclasses of the class."""
    out = []
    for ci, cls in enumerate(layout.classes):
        base = np.array(to_rgb(CLASS_COLORS[ci % len(CLASS_COLORS)]))
        for k in range(len(cls)):
            mix = 0.6 * k / max(len(cls) - 1, 1)  # 0 (class colour) .. 0.6 towards white
            out.append(tuple(base + (1 - base) * mix))
    return out


def plot_distance_matrix(ax: Axes, d: np.ndarray, layout: syn.Layout, *, title: str,
                         annotate: bool = False, fmt: str = "{:.2f}") -> None:
    """Subclass-by-subclass matrix with lines between classes (class-major order)."""
    im = ax.imshow(d, cmap="viridis")
    edges = np.cumsum([len(c) for c in layout.classes])[:-1] - 0.5
    for e in edges:
        ax.axhline(e, color="white", lw=1.5)
        ax.axvline(e, color="white", lw=1.5)
    if annotate:
        for (i, j), v in np.ndenumerate(d):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7,
                    color="white" if im.norm(v) < 0.6 else "black")
    ticks = np.concatenate([[-0.5], edges, [len(d) - 0.5]])
    mids = (ticks[:-1] + ticks[1:]) / 2
    ax.set_xticks(mids, [f"C{i + 1}" for i in range(layout.n_classes)])
    ax.set_yticks(mids, [f"C{i + 1}" for i in range(layout.n_classes)])
    ax.set_title(title, fontsize=10)
    plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)


def pca_2d(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Projection of the rows of ``x`` on their first two principal components."""
    a = np.asarray(x, dtype=np.float64)
    a = a - a.mean(0)
    _, _, vt = np.linalg.svd(a, full_matrices=False)
    return a @ vt[:2].T


def plot_pca(ax: Axes, xy: np.ndarray, sub: np.ndarray, layout: syn.Layout, *, title: str,
             subsampled: list[bool] | None = None) -> None:
    """Scatter coloured by subclass (hue = class); subsampled subclasses drawn hollow."""
    colors = subclass_colors(layout)
    labels = layout.subclass_labels().tolist()
    for s in range(layout.n_subclasses):
        pts = xy[sub == s]
        hollow = subsampled is not None and subsampled[s]
        ax.scatter(pts[:, 0], pts[:, 1], s=6, linewidths=0.6,
                   marker=CLASS_MARKERS[labels[s] % len(CLASS_MARKERS)],
                   facecolors="none" if hollow else [colors[s]], edgecolors=[colors[s]],
                   label=f"C{labels[s] + 1}" if s == 0 or labels[s] != labels[s - 1] else None)
    ax.set(xlabel="PC 1", ylabel="PC 2", title=title)
    ax.legend(fontsize=7, markerscale=2, loc="best")


def heatmap(ax: Axes, table: pd.DataFrame, *, title: str, vmin: float | None = None,
            vmax: float | None = None, fmt: str = "{:.2f}") -> None:
    """``table`` (rows x columns of numbers, NaN allowed) as an annotated colour map."""
    values = table.to_numpy(dtype=float)
    im = ax.imshow(values, cmap="magma", vmin=vmin, vmax=vmax, aspect="auto", origin="lower")
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                    color="white" if im.norm(v) < 0.6 else "black")
    ax.set_xticks(range(values.shape[1]), [f"{c:g}" for c in table.columns])
    ax.set_yticks(range(values.shape[0]), [f"{r:g}" for r in table.index])
    ax.set(xlabel=table.columns.name or "", ylabel=table.index.name or "", title=title)
    plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)


#: The sparsity probe's curves (:mod:`grokpaper.core.sparsity`) and their axis labels.
SPARSITY_PANELS = (("extra_l1_l2", "L1/L2 ratio (lower: sparser)"),
                   ("extra_small_frac", "share of near-zero weights"))


def sparsity_curves(df: pd.DataFrame, *, by: str, label_fmt: str = "{}",
                    title: str = "") -> plt.Figure:
    """Weight sparsity against the step, mean over seeds with a ±1 sd band, one curve per
    value of ``by``; dotted lines: the median alpha0 and alpha1 of the runs that grokked."""
    fig, axes = plt.subplots(1, len(SPARSITY_PANELS), figsize=(4.4 * len(SPARSITY_PANELS), 3.4))
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, max(df[by].nunique(), 1)))
    for (value, g), color in zip(df.groupby(by, sort=True), colors, strict=False):
        steps = g["steps"].iloc[0]
        grok = g[g["def31_grokked"].astype(bool)]
        for ax, (col, name) in zip(axes, SPARSITY_PANELS, strict=True):
            mean_band(ax, steps, np.stack(g[col].to_list()), label=label_fmt.format(value),
                      color=color)
            for at in ("def31_alpha0", "def31_alpha1"):
                step = pd.to_numeric(grok[at], errors="coerce").median()
                if np.isfinite(step):
                    ax.axvline(max(step, 1), color=color, ls=":", lw=1)
            ax.set(xscale="log", xlabel="optimizer step", ylabel=name)
            ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
