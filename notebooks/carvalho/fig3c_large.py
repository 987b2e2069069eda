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
# # Fig. 3c: large training sets, extreme shift (equidistant dataset)
#
# **The paper's claim** {cite}`carvalho2025grokking` (Fig. 3c caption, Sec. 5.2): "Extreme
# distribution shifts in larger datasets (4000 and 5000 samples) still exhibit grokking,
# contradicting previous assumptions that grokking only occurs in small datasets"; "the data
# distribution shift alone is able to induce late generalization."
#
# **The experiment.** As in [Fig. 3b](fig3b_equidistant.ipynb), but with 4,000 and 5,000
# training samples and the two most extreme subsampling factors, $f = 0.01$ and $f = 0.05$: one
# subclass of every class keeps only 1% or 5% of its share. With 5,000 samples that is still
# 13 or 60 samples of each subsampled subclass (against 1,237 or 1,190 of the others). All
# seeds and conditions train as one vectorized ensemble; grokking is judged per run with
# Definition 3.1 (`grokpaper/core/metrics.py`).

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/carvalho/profiles.py.
seeds = None
sizes = None
fs = None
steps = None
hidden = None
n_test = None

# %% tags=["remove-cell"]
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.carvalho import claims
from grokpaper.carvalho import design as synthetic_design
from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import profiles, report, verdicts
from grokpaper.core.plots import shift_curves

PAGE = "carvalho/fig3c_large"
FIGURE = "carvalho.fig3c"
params = profiles.resolve(FIGURE, synthetic.ShiftSweep, profile, seeds=seeds, sizes=sizes,
                          fs=fs, steps=steps, hidden=hidden, n_test=n_test)
df = synthetic.run(params.runs())
glue("n_runs", str(len(df)), display=False)

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure=FIGURE,
                                notes=synthetic_design.NOTES[FIGURE]))

# %% [markdown]
# ## Learning curves
#
# {numref}`fig-carvalho-3c-curves`, one row per training-set size: mean over seeds with a ±1
# standard deviation band ({glue:text}`n_runs` runs in all). Test panels start where training
# converged (the median $\alpha_0$ of each condition); the right panel is the test accuracy
# on the subsampled subclasses alone.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Equidistant dataset, one row of panels per training-set size: accuracy against the optimizer step (log scale) on the training set, the test set, and the test samples of the subsampled subclasses alone, one colour per factor $f$. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test panels start at the median $\\alpha_0$ of each $f$.", "name": "fig-carvalho-3c-curves"}}
shift_curves(df, rows="n_train", by="f", label_fmt="f = {:g}",
             title_fmt="equidistant dataset, {} training samples")

# %% [markdown]
# ## Definition 3.1, per condition
#
# Mean ± standard deviation over seeds (see [Fig. 3b](fig3b_equidistant.ipynb) for the
# columns); "grokked" counts the seeds that meet every clause of Definition 3.1.

# %% tags=["remove-input"]
report.def31_table(df, by=["n_train", "f"])

# %% [markdown]
# ## Verdict
#
# A condition "groks" if most of its seeds meet Definition 3.1; the claim is *supported* if
# every condition groks and *partly supported* if some do, or if every condition at least
# gains 0.05 test accuracy after training converged (`grokpaper/carvalho/claims.py`).

# %% tags=["remove-input"]
found = claims.carvalho_fig3c(df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# Where the late gain comes from: test accuracy on all test samples and on the subsampled
# subclasses alone, when training converged ($\alpha_0$) and at the end of the run (means over
# seeds).

# %% tags=["remove-input"]
report.alpha0_vs_end(df, by=["n_train", "f"])

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
