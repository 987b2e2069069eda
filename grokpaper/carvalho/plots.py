"""Pictures for the Carvalho et al. chapters: dataset structure, intensity maps, shift scatter."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb

from grokpaper.carvalho import data as syn
from grokpaper.core.plots import OKABE_ITO

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
