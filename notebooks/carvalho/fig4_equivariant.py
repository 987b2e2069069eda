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
# # Fig. 4: the equivariant dataset, with and without the subsampled subclasses
#
# **The paper's claims** {cite}`carvalho2025grokking` (Sec. 5.3, Fig. 4): on the equivariant
# dataset, "we were able to detect grokking even in the cases where samples were removed
# completely from specific subclasses" ($f = 0$, Fig. 4a), which "contrasts with the results
# obtained for the equidistant dataset" and "is attributed to the fact that in the equivariant
# case, subclasses of a given class are closer to each other than to subclasses of other
# classes". With $f = 0.2$ (Fig. 4b) "we still see the grokking pattern, although it already
# starts at a very high accuracy", and "as before, a small sample size increases grokking
# intensity, but grokking is still present with a larger sample size."
#
# **The experiment.** The equivariant dataset (4 classes x 10 subclasses; see
# [the datasets page](datasets.ipynb)): half of each class's subclasses (5 of 10) are
# subsampled with $f = 0$ or $f = 0.2$, at several training-set sizes; the test set is balanced,
# so the subsampled subclasses are half of it. All seeds, sizes and factors train as one
# vectorized ensemble of MLPs with minibatches of 100 (the smallest training set has 100
# samples). Grokking is judged per run with Definition 3.1 (`grokpaper/core/metrics.py`).

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/carvalho/profiles.py.
seeds = None
sizes = None
fs = None
steps = None
hidden = None
batch_size = None
n_subsampled_per_class = None
n_test = None

# %% tags=["remove-cell"]
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.carvalho import claims
from grokpaper.carvalho import design as synthetic_design
from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import profiles, report, verdicts
from grokpaper.core.plots import shift_curves

PAGE = "carvalho/fig4_equivariant"
FIGURE = "carvalho.fig4"
params = profiles.resolve(FIGURE, synthetic.ShiftSweep, profile, seeds=seeds, sizes=sizes,
                          fs=fs, steps=steps, hidden=hidden, batch_size=batch_size,
                          n_subsampled_per_class=n_subsampled_per_class, n_test=n_test)
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
# {numref}`fig-carvalho-4-curves`: one row per $f$ (top: $f = 0$, the paper's Fig. 4a; below:
# $f = 0.2$, Fig. 4b), one curve per training-set size:
# mean over seeds with a ±1 standard deviation band ({glue:text}`n_runs` runs in all). Test
# panels start where training converged (the median $\alpha_0$ of each size); the right panel
# is the test accuracy on the subsampled subclasses alone, the ones missing from training when
# $f = 0$.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Equivariant dataset, one row of panels per factor $f$ (the paper's Fig. 4a is $f = 0$, 4b $f = 0.2$): accuracy against the optimizer step (log scale) on the training set, the test set, and the test samples of the subsampled subclasses alone, one colour per training-set size. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test panels start at the median $\\alpha_0$ of each size.", "name": "fig-carvalho-4-curves"}}
shift_curves(df, rows="f", by="n_train", label_fmt="{} samples",
             title_fmt="equivariant dataset, f = {:g}")

# %% [markdown]
# ## Definition 3.1, per condition
#
# Mean ± standard deviation over seeds (see [Fig. 3b](fig3b_equidistant.ipynb) for the
# columns); "grokked" counts the seeds that meet every clause of Definition 3.1.

# %% tags=["remove-input"]
report.def31_table(df, by=["f", "n_train"])

# %% [markdown]
# ## Verdicts
#
# Rules fixed in `grokpaper/carvalho/claims.py`: a condition "groks" if most of its seeds meet
# Definition 3.1 (a claim about several sizes is *partly supported* if only some grok, or if
# all at least gain 0.05 test accuracy after convergence); "smaller samples grok more
# intensely" needs the mean $\Delta_S$ to fall at every step from the smallest to the largest
# size, by more than twice the standard error end to end, for every $f$.

# %% tags=["remove-input"]
found = claims.carvalho_fig4(df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))
gains = report.alpha0_vs_end(df, by=["f", "n_train"])
removed = gains.loc[0.0] if 0.0 in gains.index else gains.iloc[:0]
glue("sub0_a0", ", ".join(f"{v:.2f}" for v in removed["subsampled at alpha0"]), display=False)
glue("sub0_end", ", ".join(f"{v:.2f}" for v in removed["subsampled at end"]), display=False)
glue("sizes0", ", ".join(f"{n:,}" for n in removed.index), display=False)
gains

# %% [markdown]
# The table: mean test accuracy on all test samples and on the subsampled subclasses alone,
# when training converged ($\alpha_0$) and at the end of the run. In numbers: with $f = 0$
# the removed subclasses, never seen in training, are classified
# correctly at a rate of {glue:text}`sub0_a0` when training has converged ($\alpha_0$) and
# {glue:text}`sub0_end` at the end of the run (chance: 0.25), for {glue:text}`sizes0`
# training samples respectively (top right panel of {numref}`fig-carvalho-4-curves`). Compare the
# equidistant dataset, where a removed subclass has no close sibling
# ([Fig. 3b](fig3b_equidistant.ipynb)).

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
