"""Tables and figures of the Li & Sakib chapter, from :func:`grokpaper.lisakib.experiments.run`
data frames (one row per run)."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from grokpaper.core import divergence
from grokpaper.core.divergence import DIVERGED
from grokpaper.core.profiles import params_class
from grokpaper.lisakib.data import OP_NAMES
from grokpaper.lisakib.experiments import LI_CLASSES
from grokpaper.lisakib.profiles import PARAMS

#: Table 1 of the report: correlation of each hyperparameter with the grokking delay (epochs).
PAPER_CORRELATIONS = {"batch_size": 0.538, "noise": 0.123, "init_scale": -0.001, "lr": -0.063,
                      "weight_decay": -0.26}
SWEEP_COLUMNS = ("batch_size", "noise", "init_scale", "lr", "weight_decay")
CLASS_COLORS = {"comprehension": "#2ca02c", "grokking": "#1f77b4", "confusion": "#7f7f7f"}


#: "Paper says / we use" notes: parameter -> (what the report, or the code it forked, says; why
#: our paper-profile value). ``FIGURE_SAYS`` overrides them where a figure's parameter of the
#: same name means something else; ``NOTES[figure]`` holds one row per field of its params.
PAPER_SAYS: dict[str, tuple[str, str]] = {
    "op": ("division for Secs. 3.1-3.4; all four operations in Figs. 2, 11, 12", "division"),
    "p": ("97 (the forked code); Table 2: 47 ... 997", "as the code"),
    "train_frac": ("30/70 (Sec. 3.1)", "as the report"),
    "d_model": ("128, feed-forward 4 x 128 (Sec. 3)", "as the report"),
    "steps": ("\"within 10,000 training steps\" (Sec. 3.1)", "as the report"),
    "batch_size": ("512 (the forked code); swept 8 ... 1024 (Table 1)", "as the code"),
    "lr": ("1e-3 (the forked code); swept 1e-4 ... 1e-2", "as the code"),
    "weight_decay": ("1 (the forked code); swept 0.01 ... 1; 2 and more in Fig. 8", "as the code"),
    "init_scale": ("1; swept 0.01 ... 100", "as the report"),
    "noise": ("0; swept 0.01 ... 10", "as the report"),
    "n_evals": ("validation every epoch", "evenly spaced, every 50 steps"),
    "seeds": ("not given", "one run per setting"),
    "ops": ("+, -, *, / (Figs. 2, 11, 12)", "all four"),
    "batch_sizes": ("8, 16, 32, 128, 512, 1024 (Tables 1, 2)", "as the report"),
    "noises": ("0, 0.01, 0.1, 1, 10 (Table 1)", "as the report"),
    "init_scales": ("0.01, 0.1, 1, 10, 100 (Table 1)", "as the report"),
    "lrs": ("1e-4, 1e-3, 1e-2 (Table 1)", "as the report"),
    "weight_decays": ("0.01, 0.1, 1 (Table 1)", "as the report"),
    "sample": ("3,600 runs in all", "None: the whole grid, 1,350 settings"),
    "sample_seed": ("not applicable", "draws the runs when `sample` is set"),
    "ps": ("training sets 0.6K ... 298K = 0.3 p (p - 1) (Table 2)", "as the report"),
    "resolution": ("not given", "21 x 21 points per landscape"),
    "extent": ("not given", "[-1, 1] with filter normalization, as Li et al. 2018"),
    "tensor_extent": ("not given", "[-0.2, 0.2] with tensor normalization: it moves small "
                      "tensors (biases) by far more than their own norm, and the loss leaves "
                      "its basin within ~0.1"),
    "direction_seed": ("not given", "draws the two random directions"),
    "on": ("not given", "the training loss"),
    "train_fracs": ("three ratios, not given (Fig. 6)", "0.3, 0.5 and 0.7"),
    "small_wds": ("below 1, values not given (Fig. 7)", "0.1, 0.3, 0.5 and 1"),
    "large_wds": ("1, 2 and larger (Fig. 8)", "1, 2, 4 and 8"),
}
FIGURE_SAYS: dict[str, dict[str, tuple[str, str]]] = {
    "lisakib.batch": {
        "lrs": ("not given per cell", "1e-3, the code's default"),
        "weight_decays": ("not given per cell", "0.1 and the code's 1"),
    },
    "lisakib.landscape": {
        "ops": ("not given (Secs. 3.1-3.4 train on division)", "division"),
        "batch_sizes": ("not given: landscapes of runs that do and do not grok (Fig. 5)",
                        "8, 32 and 512: small batches comprehend, large ones grok"),
        "seeds": ("not given", "2 per batch size"),
    },
}
#: The notes of each figure's table, for :func:`grokpaper.core.report.paper_says_table`.
NOTES: dict[str, dict[str, tuple[str, str]]] = {
    figure: {f.name: {**PAPER_SAYS, **FIGURE_SAYS.get(figure, {})}[f.name]
             for f in dataclasses.fields(params_class(figure))}
    for figure in PARAMS}


def _vline(ax: plt.Axes, x: float, color: str, label: str | None = None) -> None:
    if np.isfinite(x):
        ax.axvline(x, color=color, ls=":", lw=1, label=label)


def curves_figure(df: pd.DataFrame, *, title: str = "") -> Figure:
    """Accuracy and loss (train dashed, validation solid) per run, one row per operation; the
    dotted lines mark where training and validation accuracy first reach 95%."""
    ops = list(dict.fromkeys(df["op"]))
    fig, axes = plt.subplots(len(ops), 2, figsize=(10, 2.8 * len(ops)), squeeze=False)
    for row, op in zip(axes, ops, strict=True):
        for _, r in df[df["op"] == op].iterrows():
            s = r["steps"]
            (line,) = row[0].plot(s, r["train_acc"], ls="--", lw=1)
            c = line.get_color()
            gone = bool(r.get("diverged", False))
            label = f"seed {r['seed']}" + (
                f" ({DIVERGED} at step {int(r['diverged_step'])})" if gone else "")
            row[0].plot(s, r["test_acc"], color=c, label=label)
            if gone:  # an x where the run diverged: its curves stop there
                row[0].plot(max(int(r["diverged_step"]), 1), 0.0, "x", color=c, clip_on=False)
            row[1].plot(s, r["train_loss"], ls="--", lw=1, color=c)
            row[1].plot(s, r["test_loss"], color=c)
            for ax in row:
                _vline(ax, r["t_train95"], c)
                _vline(ax, r["t_val95"], c)
        mine = df[df["op"] == op]
        delays = ", ".join(DIVERGED if gone else "–" if not np.isfinite(d) else f"{d:.0f}"
                           for d, gone in zip(mine["delay"], divergence.mask(mine),
                                              strict=True))
        row[0].set(ylabel="accuracy", ylim=(0, 1.02),
                   title=f"{OP_NAMES[op]} (x {op} y): delay {delays} steps")
        row[1].set(ylabel="cross-entropy", yscale="log", title="loss (dashed: train)")
        for ax in row:
            ax.set_xlabel("optimizer step")
            ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def correlation_table(df: pd.DataFrame, target: str = "delay_epochs") -> pd.DataFrame:
    """Pearson (as the report's) and Spearman correlation of each swept hyperparameter with the
    delay, over the runs whose delay is defined, next to the report's values."""
    ok = df[np.isfinite(df[target])]
    rows = []
    for col in SWEEP_COLUMNS:
        x, y = ok[col].astype(float), ok[target].astype(float)
        varies = x.nunique() > 1 and y.nunique() > 1
        rows.append({"parameter": col, "values": ", ".join(f"{v:g}" for v in sorted(set(df[col]))),
                     "report (Pearson)": PAPER_CORRELATIONS[col],
                     "ours (Pearson)": x.corr(y) if varies else np.nan,
                     "ours (Spearman)": x.corr(y, method="spearman") if varies else np.nan,
                     "runs with a delay": f"{len(ok)}/{len(df)}"})
    return pd.DataFrame(rows)


def parallel_coordinates(df: pd.DataFrame) -> Figure:
    """Fig. 3: one line per run through epochs to 95% train / validation, the hyperparameters
    and the delay (log axes, scaled to [0, 1]); runs that never reach 95% sit at the top
    ("never") in grey."""
    cols = ["epoch_train95", "epoch_val95", *SWEEP_COLUMNS, "delay_epochs"]
    fig, ax = plt.subplots(figsize=(11, 4.2))
    scaled, labels = [], []
    for c in cols:
        v = df[c].astype(float).to_numpy()
        pos = v[np.isfinite(v) & (v > 0)]
        logv = np.log10(np.where(v > 0, v, np.nan))
        lo, hi = (np.log10(pos.min()), np.log10(pos.max())) if len(pos) else (0.0, 1.0)
        s = (logv - lo) / (hi - lo if hi > lo else 1.0) * 0.9
        s = np.where(np.isfinite(v) & (v <= 0), -0.05, s)  # zero noise / non-positive delay
        scaled.append(np.where(np.isfinite(s), s, 1.0))  # never reached: top
        labels.append(f"{c}\n[{10**lo:.3g}, {10**hi:.3g}]" if len(pos) else c)
    y = np.stack(scaled, axis=1)
    delay = df["delay_epochs"].astype(float).to_numpy()
    ok = np.isfinite(delay)
    norm = plt.Normalize(np.nanmin(delay) if ok.any() else 0, np.nanmax(delay) if ok.any() else 1)
    cmap = plt.get_cmap("plasma")
    for i in np.argsort(ok):  # grey lines first
        ax.plot(range(len(cols)), y[i], lw=0.8, alpha=0.6,
                color=cmap(norm(delay[i])) if ok[i] else "0.7")
    ax.set_xticks(range(len(cols)), labels, fontsize=7)
    ax.set_yticks([-0.05, 0, 0.9, 1.0], ["0", "min", "max", "never"])
    ax.set_ylim(-0.1, 1.05)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="delay (epochs)")
    ax.set_title("every run of the sweep (log scale per axis; grey: delay undefined)")
    fig.tight_layout()
    return fig


def batch_table(df: pd.DataFrame, value: str, digits: int = 1) -> pd.DataFrame:
    """Mean of ``value`` per training-set size (rows) and batch size (columns), over the runs
    where it is defined; '–' where no run of the cell has it."""
    pv = df.pivot_table(index="n_train", columns="batch_size", values=value, aggfunc="mean",
                        dropna=False)
    return pv.sort_index(ascending=False).map(
        lambda v: "–" if not np.isfinite(v) else f"{v:,.{digits}f}")


def class_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Share of each Li & Sakib class per (training-set size, batch size) cell."""
    out = (df.groupby(["n_train", "batch_size"])["li_class"].value_counts(normalize=True)
           .unstack(fill_value=0.0))
    for c in LI_CLASSES:
        if c not in out:
            out[c] = 0.0
    out = out[list(LI_CLASSES)].reset_index()
    out["ratio"] = out["n_train"] / out["batch_size"]
    return out


def class_share_figure(shares: pd.DataFrame) -> Figure:
    """Fig. 4: share of confusion / comprehension / grokking per cell, and the ratio
    training-set size / batch size."""
    panels = [*LI_CLASSES, "ratio"]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    sizes = sorted(shares["n_train"].unique(), reverse=True)
    batches = sorted(shares["batch_size"].unique())
    for ax, col in zip(axes, panels, strict=True):
        grid = np.full((len(sizes), len(batches)), np.nan)
        for _, r in shares.iterrows():
            grid[sizes.index(r["n_train"]), batches.index(r["batch_size"])] = r[col]
        shown = np.log10(grid) if col == "ratio" else grid
        im = ax.imshow(shown, cmap="viridis", vmin=None if col == "ratio" else 0,
                       vmax=None if col == "ratio" else 1, aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0f}" if col == "ratio" else f"{v:.0%}", ha="center",
                        va="center", fontsize=7, color="w")
        ax.set_xticks(range(len(batches)), batches)
        ax.set_yticks(range(len(sizes)), sizes)
        ax.set(xlabel="batch size", ylabel="training-set size",
               title="log10 train size / batch size" if col == "ratio" else f"share {col}")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def landscape_figure(surfaces: list[dict]) -> Figure:
    """Fig. 5: one row per run, one column per normalization (contours of the loss); each
    surface dict holds its grid ``coords``."""
    norms = list(dict.fromkeys(s["normalization"] for s in surfaces))
    runs = list(dict.fromkeys(s["label"] for s in surfaces))
    fig, axes = plt.subplots(len(runs), len(norms), figsize=(4.3 * len(norms), 3.4 * len(runs)),
                             squeeze=False)
    for s in surfaces:
        ax = axes[runs.index(s["label"])][norms.index(s["normalization"])]
        c = s["coords"]
        cs = ax.contourf(c, c, s["surface"].T, levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax, fraction=0.046)
        ax.plot(0, 0, "r+")
        ax.set(title=f"{s['label']}\n{s['normalization']} norm., range {s['range']:.2f}",
               xlabel="direction 1", ylabel="direction 2")
        ax.title.set_fontsize(8)
    fig.tight_layout()
    return fig


def norm_figure(df: pd.DataFrame, *, by: str, title: str) -> Figure:
    """Figs. 6-8: accuracy (train dashed, validation solid) and the mean Q/K/V norm over
    training, one colour per value of ``by`` (first seed of each)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5))
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, df[by].nunique()))
    for (value, g), c in zip(df.groupby(by, sort=True), colors, strict=True):
        r = g.iloc[0]
        a1.plot(r["steps"], r["train_acc"], ls="--", lw=1, color=c)
        a1.plot(r["steps"], r["test_acc"], color=c, label=f"{by} = {value:g}")
        a2.plot(r["steps"], r["extra_qkv"], color=c, label=f"{by} = {value:g}")
        a2.plot(r["qkv_peak_step"], r["qkv_peak"], "o", color=c, ms=4)
        _vline(a2, r["t_val95"], c)
    a1.set(xlabel="optimizer step", ylabel="accuracy", ylim=(0, 1.02),
           title="accuracy (dashed: train)")
    a2.set(xlabel="optimizer step", ylabel="mean Frobenius norm of Q, K, V",
           title="attention weights (dot: peak; dotted: validation 95%)")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    a1.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def norm_table(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per value of ``by`` (mean over seeds): steps to 95% train and validation, the delay,
    the Q/K/V-norm peak step and value, the final norm and accuracies."""
    cols = ["t_train95", "t_val95", "delay", "qkv_peak_step", "qkv_peak", "qkv_final",
            "final_train_acc", "final_val_acc"]
    return df.groupby(by)[cols].mean().round(3).reset_index()


def early_signal_table(df: pd.DataFrame) -> pd.DataFrame:
    """The Q/K/V-norm peak as a predictor: per Li & Sakib class, how many runs peak before
    validation reaches 95% and by how many steps (lead = t_val95 - peak step)."""
    rows = []
    for cls in LI_CLASSES:
        g = df[df["li_class"] == cls]
        lead = (g["t_val95"] - g["qkv_peak_step"]).dropna()
        falls = int((g["qkv_peak"] > 1.05 * g["qkv_final"]).sum())
        rows.append({"class": cls, "runs": len(g),
                     "peak before val 95%": f"{int((lead > 0).sum())}/{len(lead)}",
                     "median lead (steps)": lead.median() if len(lead) else np.nan,
                     "median lead / delay": (lead / g.loc[lead.index, "delay"]).median()
                     if len(lead) else np.nan,
                     "peak > 1.05 x final norm": f"{falls}/{len(g)}"})
    return pd.DataFrame(rows)


def definitions_table(df: pd.DataFrame) -> pd.DataFrame:
    """Runs per (Li & Sakib class, Liu phase, Definition 3.1): where the definitions agree."""
    t = df.groupby(["li_class", "liu_phase", "def31_grokked"]).size().rename("runs")
    return t.reset_index()
