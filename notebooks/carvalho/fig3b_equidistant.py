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
# # Fig. 3b: a missing subclass versus a few of its samples (equidistant dataset)
#
# **The paper's claim** {cite}`carvalho2025grokking` (Sec. 5.2, Fig. 3b): on the equidistant
# dataset, "removing completely a subclass has a detrimental effect on generalization, with the
# models being stuck on a sub-optimal plateau. Nevertheless, adding even a very small number of
# examples in that subclass (e.g. f = 0.01) not only allowed the model to generalize well, but
# allowed the model to generalize late (i.e. grokking occurred)."
#
# **The experiment.** Four classes, each the union of two subclasses; all eight subclasses are
# Gaussian blobs in $\mathbb{R}^{117}$ whose centroids are pairwise equidistant (Hamming distance
# 2 between their 9-bit codes). One subclass of every class is subsampled by the factor $f$ of
# Eq. {eq}`eq-carvalho-f` (the paper's Eq. (1)) while the training set keeps exactly
# $\gamma_D$ samples; the test set is a fixed
# balanced set in which the subsampled subclasses make up half of the samples (see
# [the datasets page](datasets.ipynb)). We scan $f \in \{0, 0.01, 0.05, 0.2\}$ at two
# training-set sizes, plus $f = 1$ (balanced) as the reference where the profile includes it.
# Every seed, size and $f$ trains as one vectorized ensemble of MLPs. Grokking is judged per
# run with Definition 3.1 (see `grokpaper/core/metrics.py` for how each quantity is computed).

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/carvalho/profiles.py.
seeds = None
sizes = None
fs = None
steps = None
hidden = None
optimizer = None
weight_decay = None
n_test = None

# %% tags=["remove-cell"]
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.carvalho import analysis, claims
from grokpaper.carvalho import design as synthetic_design
from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import profiles, report, verdicts
from grokpaper.core.plots import shift_curves

PAGE = "carvalho/fig3b_equidistant"
FIGURE = "carvalho.fig3b"
params = profiles.resolve(FIGURE, synthetic.ShiftSweep, profile, seeds=seeds,
                          sizes=sizes, fs=fs, steps=steps, hidden=hidden, optimizer=optimizer,
                          weight_decay=weight_decay, n_test=n_test)
df = synthetic.run(params.runs())
glue("n_runs", str(len(df)), display=False)
glue("profile", profile, display=False)

# %% [markdown]
# ## Paper says / we use
#
# The paper gives the learning rate, weight decay and initialization scale; everything else is
# our choice, argued in the right-hand column. The profile this page was built with
# (profile {glue:text}`profile`) may scale the run down; its values are in the last column.

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure=FIGURE,
                                notes=synthetic_design.NOTES[FIGURE]))

# %% [markdown]
# ## Learning curves
#
# {numref}`fig-carvalho-3b-curves`, one row per training-set size: mean over seeds with a ±1
# standard deviation band ({glue:text}`n_runs` runs in all). The test panels start where training converged (the
# median $\alpha_0$ of each condition), as the paper plots them; the right panel is the test
# accuracy on the subsampled subclasses alone.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Equidistant dataset, one row of panels per training-set size: accuracy against the optimizer step (log scale) on the training set, the test set, and the test samples of the subsampled subclasses alone, one colour per factor $f$. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test panels start at the median $\\alpha_0$ of each $f$.", "name": "fig-carvalho-3b-curves"}}
shift_curves(df, rows="n_train", by="f", label_fmt="f = {:g}",
             title_fmt="equidistant dataset, {} training samples")

# %% [markdown]
# ## Definition 3.1, per condition
#
# Mean ± standard deviation over seeds; steps for $\alpha_0$, $\alpha_1$ and the support
# interval $S$ (columns `support_start` and `support_end`), accuracies for the rest.
# "grokked" counts the seeds that meet every clause of Definition 3.1 as operationalized in
# `grokpaper/core/metrics.py` ($\alpha_1 > \alpha_0$, $\Delta_S \geq 0.1$,
# $|S| \geq 2(\alpha_1 - \alpha_0)$).

# %% tags=["remove-input"]
report.def31_table(df, by=["n_train", "f"])

# %% [markdown]
# ## Verdict
#
# Computed from the numbers above with the thresholds fixed in `grokpaper/carvalho/claims.py`: $f = 0$
# is "stuck on a plateau" if none of its runs grok and, at each size, its final test accuracy
# is at least 0.05 below the best $0 < f < 1$; a value of $f$ "groks" if most of its seeds do
# (*partly supported*: some do, or all gain at least 0.05 after convergence). $f = 1$ is the
# balanced reference and part of neither claim.

# %% tags=["remove-input"]
found = claims.carvalho_fig3b(df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))
display(report.alpha0_vs_end(df, by=["n_train", "f"]))
by_f = analysis.final_by_f(df)
shifted = by_f[(by_f.index > 0) & (by_f.index < 1)]
glue("n_max", f"{df['n_train'].max()}", display=False)
glue("acc_f0", f"{by_f['final_test'].get(0.0, float('nan')):.3f}", display=False)
glue("sub_f0", f"{by_f['final_sub'].get(0.0, float('nan')):.3f}", display=False)
glue("acc_fmax", f"{shifted['final_test'].iloc[-1]:.3f}", display=False)
glue("f_max", f"{shifted.index[-1]:g}", display=False)
glue("grokked_total", f"{int(df['def31_grokked'].sum())}/{len(df)}", display=False)

# %% [markdown]
# The table: mean test accuracy on all test samples and on the subsampled subclasses alone,
# when training converged ($\alpha_0$) and at the end of the run. In numbers, with
# {glue:text}`n_max` training samples ({numref}`fig-carvalho-3b-curves`): without the subclass
# ($f = 0$) the final test accuracy is {glue:text}`acc_f0` (on the removed subclasses alone
# {glue:text}`sub_f0`, where chance is 0.25); with $f =$ {glue:text}`f_max` it is
# {glue:text}`acc_fmax`. In all, {glue:text}`grokked_total` runs meet every clause of
# Definition 3.1. Note that Definition 3.1 looks at the whole test set: an $f = 0$ run can
# "grok" because the subclasses it *did* see keep improving late (on small training sets,
# as in [Fig. 3a](fig3a_sparsity.ipynb)), while the removed subclasses stay at chance; the
# subsampled columns of the table tell the two apart.

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
