"""Figures and tables of the MNIST chapters (the notebooks call these and show the result)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from grokpaper.core import phases
from grokpaper.core.plots import (
    OKABE_ITO,
    PHASE_CODES,
    PHASE_COLORS,
    hatch_phases,
    mean_band,
    phase_handles,
)
from grokpaper.mnist.experiments import TABLE3

#: "Paper says / we use" notes per figure (its name in ``mnist.profiles``): parameter ->
#: (what the paper, or the Omnigrok code it follows, says; why our paper-profile value).
NOTES: dict[str, dict[str, tuple[str, str]]] = {
    "mnist.omnigrok": {
        "n_train": ("1,000 images (`train_points = 1000`)", "as the code"),
        "hidden": ("depth 3, width 200, ReLU", "as the code"),
        "alpha": ("`initialization_scale = 8.0`", "as the code (every parameter scaled)"),
        "lr": ("`lr = 1e-3` (AdamW)", "as the code"),
        "weight_decay": ("`weight_decay = 0.01`", "as the code"),
        "batch_size": ("`batch_size = 200`", "as the code"),
        "steps": ("`optimization_steps = 100000`", "as the code"),
        "seeds": ("one run (`seed = 0`)", "three, for a band"),
        "n_evals": ("every `steps / 150` steps, linear", "log-spaced, for a log x-axis"),
    },
    "mnist.phases": {
        "lrs": ("a learning-rate axis, values not given", "decades around Omnigrok's 1e-3"),
        "weight_decays": ("a weight-decay axis, values not given (the Omnigrok lr x wd sweep "
                          "config spans 1e-5..1e2)", "decades around Omnigrok's 0.01"),
        "seeds": ("not given", "one per cell"),
        "n_train": ("not given (Omnigrok: 1,000 images)", "as Omnigrok"),
        "steps": ("not given (Omnigrok: 1e5)", "1e5"),
        "n_evals": ("not given (Omnigrok logs every steps / 150)", "evenly spaced, to resolve "
                    "the 1,000-step gap"),
        "hidden": ("Omnigrok's MLP", "784-200-200-10, ReLU, init scale 8, MSE, AdamW, batch 200"),
    },
    "mnist.lisakib": {
        "rows": ("the 17 rows of Table 3, one change to the Omnigrok setup each", "every row"),
        "seeds": ("one run per row (Table 3)", "as the report"),
        "hidden": ("'the same MLP' as Omnigrok (Sec. 4): depth 3, width 200 (Sec. 5.3)",
                   "as the report"),
        "steps": ("not given", "1e5, the Omnigrok budget"),
        "n_evals": ("not given", "log-spaced, for a log x-axis"),
    },
    "mnist.cluster_shift": {
        "arch": ("\"a ResNet classifier\"", "torchvision ResNet-18, stem adapted to 1x28x28"),
        "resnet_epochs": ("not given", "5 epochs of Adam (lr 1e-3, batch 64)"),
        "max_pool": ("not applicable", "the whole pools; only smoke tests cut them"),
        "k": ("\"a clustering algorithm\", k not given", "trimmed k-means, 2 per digit (below)"),
        "n_subsampled": ("not given for MNIST", "1 cluster per digit, as 1 of the 2 subclasses "
                         "per class of the equidistant dataset"),
        "n_train": ("not given", "1,000, the Omnigrok / Liu et al. MNIST size"),
        "fs": ("not given for MNIST", "0, 0.05, 0.2 as in the synthetic figures"),
        "random_baseline": ("not given", "a class-balanced random subsample of the same size, "
                            "the no-shift reference"),
        "seeds": ("10 runs (Sec. 5)", "as the paper"),
        "hidden": ("MLP, size not given", "784-200-200-10 (Omnigrok's MNIST MLP)"),
        "alpha": ("init scale 8 (Sec. 5.1)", "as the paper"),
        "lr": ("1e-3 (Sec. 5.1)", "as the paper"),
        "weight_decay": ("1e-4 (Sec. 5.1)", "as the paper"),
        "optimizer": ("not given", "Adam with L2 weight decay, as the synthetic chapters"),
        "loss": ("not given", "cross-entropy"),
        "batch_size": ("not given", "200, Omnigrok's MNIST batch"),
        "steps": ("not given", "5e4"),
        "n_evals": ("not given", "log-spaced, for a log x-axis"),
    },
}


def _number(v: object, digits: int = 0) -> str:
    return "–" if v is None or pd.isna(v) else f"{v:,.{digits}f}"


def table3_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """Li & Sakib's Table 3 next to our runs (``claims.outcomes`` columns): per run, the
    report's "grokked?" and comment, our outcome, delay, t_mem and test accuracy at t_mem and
    at the end ("–": undefined)."""
    theirs = {name: ("yes" if groks else "no", comment) for name, _, groks, comment in TABLE3}
    return pd.DataFrame({
        "row": df["row"],
        "theirs: grokked?": [theirs[r][0] for r in df["row"]],
        "their comment": [theirs[r][1] for r in df["row"]],
        "ours: outcome": df["outcome"],
        "delay (steps)": df["delay"].map(_number),
        "t_mem": df["t_mem"].map(_number),
        "test at t_mem": df["test_at_mem"].map(lambda v: _number(v, 3)),
        "final test": df["test_end"].map(lambda v: f"{v:.3f}"),
    }).reset_index(drop=True)


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
    diverged = bool((grid == phases.DIVERGED).any(axis=None))
    names = PHASE_CODES[: len(phases.PHASES) + diverged]
    codes = grid.map(names.index).to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 * grid.shape[1] + 2.5, 0.8 * grid.shape[0] + 1.5))
    cmap = ListedColormap([PHASE_COLORS[p] for p in names])
    ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, aspect="auto")
    hatch_phases(ax, codes)
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set(xlabel="weight decay", ylabel="learning rate", title=title)
    for (i, j), name in np.ndenumerate(grid.to_numpy(dtype=object)):
        ax.text(j, i, name[:5], ha="center", va="center", fontsize=8, color="white")
    ax.legend(handles=phase_handles(diverged=diverged), bbox_to_anchor=(1.02, 1),
              loc="upper left", fontsize=8)
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
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(emb), min(max_points, len(emb)), replace=False)
    xy = PCA(n_components=2, random_state=seed).fit_transform(emb[idx].astype(np.float32))
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2))
    sc = a.scatter(xy[:, 0], xy[:, 1], c=labels[idx], cmap="tab10", s=4)
    a.legend(*sc.legend_elements(), fontsize=7, title="digit", loc="best", markerscale=0.8)
    for d in np.unique(labels[idx]):  # tab10 pairs red with green: name each digit in place
        a.annotate(str(d), np.median(xy[labels[idx] == d], axis=0), fontsize=9, ha="center",
                   va="center", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "lw": 0.5})
    down = subsampled[cluster[idx]]
    b.scatter(xy[~down, 0], xy[~down, 1], s=4, color="0.7", label="kept clusters")
    b.scatter(xy[down, 0], xy[down, 1], s=6, color=OKABE_ITO[5], marker="x", lw=0.6,
              label="downsampled clusters")
    b.legend(fontsize=8, markerscale=3)
    for ax, t in ((a, "by digit"), (b, "by cluster role")):
        ax.set(title=f"ResNet embeddings, PCA ({t})", xticks=[], yticks=[])
    fig.tight_layout()
    return fig
