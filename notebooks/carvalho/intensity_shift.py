# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Going further: a grokking-intensity map, and shift against intensity
#
# The figures of {cite:t}`carvalho2025grokking` each vary one thing: the training-set size at
# $f = 1$ (Fig. 3a), the factor $f$ at one size (Fig. 3b, 3c), or both at two values of $f$
# (Fig. 4). Here we scan the whole grid, training-set size x $f$, for both datasets, and ask
# two questions the paper's thesis raises but does not test directly:
#
# 1. **Where does grokking happen, and how strongly?** A map of the grokking intensity
#    ($\Delta_S$ of Definition 3.1 where a run groks, 0 where it does not) and of the share of
#    seeds that grok, over the grid.
# 2. **Does more distribution shift mean more grokking?** The paper's hypothesis (Sec. 3) is
#    that grokking "is a statistical phenomenon derived from a distribution shift between test
#    data and training data". We measure the shift of every training set from the test set
#    with the maximum mean discrepancy {cite}`gretton2012kernel` (unbiased MMD$^2$, RBF
#    kernel, bandwidth from the median heuristic on the test set; `grokpaper/core/shift.py`) and
#    plot it against the intensity.
#
# The map uses the settings of the figure chapters, so the cells those chapters trained (Fig.
# 3a's balanced sizes, Fig. 3b's f values, Fig. 4's equivariant runs) are read from the result
# store, and only the missing cells are trained here.
#
# MMD$^2$ is zero in expectation when the training set is an unbiased sample of the test
# distribution (balanced sampling, $f = 1$, at any size), and grows as subsampled subclasses
# go missing. It measures the shift of $p(x)$ only, which is all that Eq. {eq}`eq-carvalho-f`
# (the paper's Eq. (1)) changes: the class proportions stay balanced for every $f$.

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/carvalho/profiles.py.
seeds = None
sizes = None
fs = None
steps = None
hidden = None
batch_size = None
n_test = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.carvalho import analysis, claims, rules, workloads
from grokpaper.carvalho import design as synthetic_design
from grokpaper.carvalho import experiments as synthetic
from grokpaper.carvalho.data import DATASETS
from grokpaper.carvalho.plots import heatmap
from grokpaper.core import profiles, report, verdicts

PAGE = "carvalho/intensity_shift"
FIGURE = "carvalho.intensity"
params = profiles.resolve(FIGURE, synthetic.ShiftSweep, profile, seeds=seeds, sizes=sizes,
                          fs=fs, steps=steps, hidden=hidden, batch_size=batch_size,
                          n_test=n_test)
runs = workloads.intensity_runs(params)  # both datasets
# Cells that Figs. 3a, 3b and 4 already trained with the same settings are read from the store.
df = analysis.with_train_test_mmd(synthetic.run_reusing(runs), runs)
# Grokking intensity: Delta_S of a run that groks, 0 of one that does not (the verdicts' rule).
df["intensity"] = rules.intensity(df)
glue("n_runs", str(len(df)), display=False)

# %% [markdown]
# ## Paper says / we use
#
# Both datasets use the same settings; the "dataset" row shows the first of the two.

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure=FIGURE,
                                notes=synthetic_design.NOTES[FIGURE]))

# %% [markdown]
# ## The grokking-intensity map
#
# {numref}`fig-carvalho-intensity-map`, top row: the mean grokking intensity over seeds per
# cell, where a run's intensity is its $\Delta_S = \sigma_E - \sigma_S$ if it grokked and 0 if
# it did not (a blank cell: training never converged, so Definition 3.1 is undefined; see
# [Fig. 3b](fig3b_equidistant.ipynb) for how Definition 3.1 is read). Bottom row: the share of
# seeds that meet every clause of Definition 3.1.
# {glue:text}`n_runs` runs in all.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Grid of training-set size (rows) against the factor $f$ (columns), equidistant dataset (left) and equivariant dataset (right). Top: mean grokking intensity over seeds ($\\Delta_S$ of Definition 3.1 for runs that grok, 0 for runs that do not; blank: undefined); bottom: share of seeds that meet every clause of Definition 3.1.", "name": "fig-carvalho-intensity-map"}}
fig, axes = plt.subplots(2, 2, figsize=(11, 8))
vmax = float(np.nanmax(df["intensity"])) if (df["intensity"] > 0).any() else 1.0
for col, ds in zip(axes.T, DATASETS, strict=True):
    d = df[df["dataset"] == ds]
    intensity = d.pivot_table(index="n_train", columns="f", values="intensity", aggfunc="mean")
    share = d.assign(g=d["def31_grokked"].astype(float)).pivot_table(
        index="n_train", columns="f", values="g", aggfunc="mean")
    heatmap(col[0], intensity, title=f"{ds}: mean intensity", vmin=0, vmax=vmax)
    heatmap(col[1], share, title=f"{ds}: share of seeds that grok", vmin=0, vmax=1)
fig.tight_layout()
plt.show()

# %% tags=["remove-input"]
report.def31_table(df, by=["dataset", "n_train", "f"])

# %% [markdown]
# How many runs grok under this reading, under the earlier one ($\alpha_0$ where training
# converged) and with each threshold halved and doubled (the thresholds are listed on the
# [Fig. 3b](fig3b_equidistant.ipynb) page):

# %% tags=["remove-input"]
report.def31_sensitivity_table(df, by="dataset")

# %% [markdown]
# ## Shift against intensity
#
# {numref}`fig-carvalho-intensity-shift`: one point per run, MMD$^2$ between its training set
# and the test set (x) against its grokking intensity (y); colour = $f$, size = training-set
# size.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "One point per run: unbiased MMD$^2$ between its training set and the test set (x) against its grokking intensity (y: $\\Delta_S$ if it grokked, 0 if not), equidistant dataset (left) and equivariant dataset (right). Colour = factor $f$; marker size grows with the training-set size.", "name": "fig-carvalho-intensity-shift"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
cmap = plt.get_cmap("viridis")
levels = sorted(df["f"].unique())
for ax, ds in zip(axes, DATASETS, strict=True):
    d = df[df["dataset"] == ds]
    for i, f in enumerate(levels):
        e = d[d["f"] == f]
        ax.scatter(e["mmd2"], e["intensity"], s=12 + 40 * np.sqrt(e["n_train"] / df["n_train"].max()),
                   color=cmap(i / max(len(levels) - 1, 1)), label=f"f = {f:g}", alpha=0.8)
    ax.set(xlabel="MMD² (training vs test set)", title=ds)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("grokking intensity")
axes[-1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% tags=["remove-input"]
shift_table = (df.groupby(["dataset", "f", "n_train"])[["mmd2", "intensity"]].mean()
               .round(3).reset_index())
shift_table

# %% [markdown]
# ## Verdicts
#
# Rules fixed in `grokpaper/carvalho/claims.py`. Intensity: for each dataset and each $f$, the
# mean intensity must fall at every step from the smallest to the largest training set, by
# more than twice the standard error end to end. Shift: the Spearman rank correlation between
# MMD$^2$ and the intensity over all runs of a dataset whose training converged must be at
# least 0.5 with $p < 0.05$ (*partly*: positive and significant; *inconclusive*: fewer than 4
# such runs, or none grokked).

# %% tags=["remove-input"]
found = (claims.carvalho_intensity_map(df, page=PAGE)
         + claims.carvalho_shift(df, page=PAGE))
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
