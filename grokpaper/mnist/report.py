"""Figures and tables of the MNIST chapters (the notebooks call these and show the result)."""

from __future__ import annotations

import dataclasses
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from grokpaper.core import phases
from grokpaper.core.plots import mean_band


def paper_vs_ours(params: Any, says: dict[str, tuple[str, str]], profile: str) -> str:
    """Markdown "paper says / we use" table: one row per ``says`` entry
    ``name: (what the paper says, why our default)``; the last column is this page's value."""
    paper = type(params)()
    lines = ["| parameter | paper says | we use (paper profile) | this page |",
             "|---|---|---|---|"]
    for name, (said, why) in says.items():
        ours, here = getattr(paper, name), getattr(params, name)
        mark = "" if here == ours else " (scaled down)"
        lines.append(f"| `{name}` | {said} | `{ours}`: {why} | `{here}`{mark} (`{profile}`) |")
    return "\n".join(lines)


def params_markdown(params: Any) -> str:
    """``name = value`` of every field, for the provenance block."""
    return ", ".join(f"{f.name}={getattr(params, f.name)!r}" for f in dataclasses.fields(params))


def curves_with_norm(df: pd.DataFrame, *, title: str = "") -> Figure:
    """Accuracy (train and test) and weight norm over steps, mean and band over seeds."""
    steps = df["steps"].iloc[0]
    fig, (ax, ax_n) = plt.subplots(1, 2, figsize=(9.5, 3.5))
    mean_band(ax, steps, np.stack(df["train_acc"]), label="train", color="C0")
    mean_band(ax, steps, np.stack(df["test_acc"]), label="test", color="C1")
    ax.set(xscale="log", xlabel="optimizer step", ylabel="accuracy", ylim=(0, 1.02),
           title="accuracy")
    ax.legend(loc="upper left")
    mean_band(ax_n, steps, np.stack(df["weight_norm"]), label="weight norm", color="C2")
    ax_n.set(xscale="log", xlabel="optimizer step", ylabel="L2 norm of all parameters",
             title="weight norm")
    for a in (ax, ax_n):
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def phase_diagram(grid: pd.DataFrame, *, title: str = "") -> Figure:
    """Cells coloured by phase: rows are learning rates, columns weight decays (black: every
    seed of the cell diverged)."""
    names = list(phases.PHASES) + [phases.DIVERGED] * bool((grid == phases.DIVERGED).any(
        axis=None))
    codes = grid.map(names.index).to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 * grid.shape[1] + 2.5, 0.8 * grid.shape[0] + 1.5))
    cmap = ListedColormap([phases.COLORS[p] for p in names])
    ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set(xlabel="weight decay", ylabel="learning rate", title=title)
    for (i, j), name in np.ndenumerate(grid.to_numpy(dtype=object)):
        ax.text(j, i, name[:5], ha="center", va="center", fontsize=8, color="white")
    ax.legend(handles=[Patch(color=phases.COLORS[p], label=p) for p in names],
              bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def outcome_grid(df: pd.DataFrame, *, title: str = "") -> Figure:
    """Test-accuracy curves of every Table 3 row (one panel per row, seeds overlaid)."""
    rows = list(dict.fromkeys(df["row"]))
    cols = 6
    n_r = -(-len(rows) // cols)
    fig, axes = plt.subplots(n_r, cols, figsize=(2.6 * cols, 2.2 * n_r), squeeze=False,
                             sharex=True, sharey=True)
    for ax, name in zip(axes.ravel(), rows, strict=False):
        for _, r in df[df["row"] == name].iterrows():
            x = np.maximum(r["steps"], 1)
            ax.plot(x, r["train_acc"], color="C0", lw=1)
            ax.plot(x, r["test_acc"], color="C1", lw=1)
        ax.set(xscale="log", ylim=(0, 1.02), title=name)
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(rows):]:
        ax.axis("off")
    axes[0][0].legend(["train", "test"], fontsize=7, loc="lower right")
    fig.supxlabel("optimizer step")
    fig.supylabel("accuracy")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def cluster_samples(images: np.ndarray, cluster: np.ndarray, k: int, subsampled: np.ndarray,
                    *, per: int = 8, seed: int = 0) -> Figure:
    """``per`` random training-pool images of every cluster as one mosaic: a row per digit, a
    block of ``per`` images per cluster; downsampled clusters are drawn inverted."""
    rng = np.random.default_rng(seed)
    tile, gap = 28, 6
    width = k * per * tile + (k - 1) * gap
    mosaic = np.full((10 * tile, width), np.nan)
    for c in range(10 * k):
        d, j = divmod(c, k)
        idx = np.flatnonzero(cluster == c)
        pick = rng.choice(idx, min(per, len(idx)), replace=False) if len(idx) else []
        for m, i in enumerate(pick):
            img = images[i] / 255.0
            x0 = j * (per * tile + gap) + m * tile
            mosaic[d * tile:(d + 1) * tile, x0:x0 + tile] = 1 - img if subsampled[c] else img
    fig, ax = plt.subplots(figsize=(0.32 * k * per + 1.2, 4.6))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks([d * tile + tile / 2 for d in range(10)], [str(d) for d in range(10)])
    ax.set_xticks([j * (per * tile + gap) + per * tile / 2 for j in range(k)],
                  [f"cluster {j}" + (" (downsampled)" if subsampled[j] else "")
                   for j in range(k)])
    ax.tick_params(length=0)
    ax.set(ylabel="digit", title="training-pool images per cluster (downsampled: inverted)")
    for side in ax.spines.values():
        side.set_visible(False)
    fig.tight_layout()
    return fig


def projection(emb: np.ndarray, labels: np.ndarray, cluster: np.ndarray,
               subsampled: np.ndarray, *, max_points: int = 3000, seed: int = 0) -> Figure:
    """2-D PCA of the embeddings: left coloured by digit, right by downsampled-or-not."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(emb), min(max_points, len(emb)), replace=False)
    xy = PCA(n_components=2, random_state=seed).fit_transform(emb[idx].astype(np.float32))
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2))
    sc = a.scatter(xy[:, 0], xy[:, 1], c=labels[idx], cmap="tab10", s=4)
    a.legend(*sc.legend_elements(), fontsize=7, title="digit", loc="best", markerscale=0.8)
    down = subsampled[cluster[idx]]
    b.scatter(xy[~down, 0], xy[~down, 1], s=4, color="0.7", label="kept clusters")
    b.scatter(xy[down, 0], xy[down, 1], s=4, color="C3", label="downsampled clusters")
    b.legend(fontsize=8, markerscale=3)
    for ax, t in ((a, "by digit"), (b, "by cluster role")):
        ax.set(title=f"ResNet embeddings, PCA ({t})", xticks=[], yticks=[])
    fig.tight_layout()
    return fig
