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
# # Fig. 3a: sparsity alone, balanced sampling (equidistant dataset)
#
# **The paper's claim** {cite}`carvalho2025grokking` (Fig. 3a caption): with balanced
# downsampling ($f = 1$, every subclass equally represented), "grokking is not dependent on the
# size of the data. It occurs in every case. Grokking intensity, the size of $\Delta_S$,
# increases as the size of the dataset decreases." (The main text, Sec. 5.2, is less strong:
# "grokking diminishes as the number of samples increases, only existing in considerably
# small sample sizes". We test the caption's two statements.)
#
# **The experiment.** The equidistant dataset (see [the datasets page](datasets.ipynb)),
# balanced training sets of several sizes, the same fixed balanced test set for all. Every
# seed and size trains in one vectorized ensemble of MLPs; since one ensemble shares the
# minibatch size, which cannot exceed the smallest training set, all sizes use minibatches of
# 100 (the authors' thesis uses 100 for 100 samples and 200 otherwise). Grokking is judged per
# run with Definition 3.1 (`grokpaper/core/metrics.py`).

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/carvalho/profiles.py.
seeds = None
sizes = None
steps = None
hidden = None
batch_size = None
n_test = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.carvalho import analysis, claims, rules
from grokpaper.carvalho import design as synthetic_design
from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import profiles, report, verdicts
from grokpaper.core.plots import curves_by_condition

PAGE = "carvalho/fig3a_sparsity"
FIGURE = "carvalho.fig3a"
params = profiles.resolve(FIGURE, synthetic.ShiftSweep, profile, seeds=seeds, sizes=sizes,
                          steps=steps, hidden=hidden, batch_size=batch_size, n_test=n_test)
df = synthetic.run_reusing(params.runs())  # Fig. 3b trains the same f = 1 runs
glue("n_runs", str(len(df)), display=False)

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure=FIGURE,
                                notes=synthetic_design.NOTES[FIGURE]))

# %% [markdown]
# ## Learning curves
#
# {numref}`fig-carvalho-3a-curves`: mean over seeds with a ±1 standard deviation band
# ({glue:text}`n_runs` runs in all). The test panel starts where training converged (the
# median over seeds of each size), as the paper plots it.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Training (left) and test (right) accuracy against the optimizer step (log scale) on the equidistant dataset with balanced sampling ($f = 1$), one colour per training-set size. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test curves start at the median step at which training converged for their size.", "name": "fig-carvalho-3a-curves"}}
fig = curves_by_condition(
    df, by="n_train", label_fmt="{} samples", title="equidistant dataset, f = 1 (balanced)",
    panels=[("train_acc", "training set"), ("test_acc", "test set")],
    from_convergence=(False, True))
plt.show()

# %% [markdown]
# ## Definition 3.1, per training-set size
#
# Mean ± standard deviation over seeds; steps for the step $t_c$ at which training converged,
# $\alpha_0$, $\alpha_1$ and the support interval $S$, accuracies for the rest. "plateau"
# counts the seeds whose test accuracy sat on a low plateau after training converged,
# "grokked" those that meet every clause of Definition 3.1 as read in
# `grokpaper/core/metrics.py` (see [Fig. 3b](fig3b_equidistant.ipynb): a plateau lasting to
# at least $2 t_c$, $\Delta_S \geq 0.1$, $|S| \geq 2(\alpha_1 - \alpha_0)$).

# %% tags=["remove-input"]
report.def31_table(df, by=["n_train"])

# %% [markdown]
# How many runs grok under this reading, under the earlier one ($\alpha_0$ where training
# converged) and with each threshold halved and doubled (the thresholds are listed on the
# [Fig. 3b](fig3b_equidistant.ipynb) page):

# %% tags=["remove-input"]
report.def31_sensitivity_table(df, by="n_train")

# %% [markdown]
# ## Verdicts
#
# Computed from the numbers above with the rules fixed in `grokpaper/carvalho/claims.py` and
# `grokpaper/carvalho/rules.py`: a size "groks" if at least half of its seeds do (*partly
# supported*: some sizes do, or all gain at least 0.05 test accuracy after training
# converged). The intensity of a run is its $\Delta_S$ if it grokked and 0 if it did not; it
# "grows as the size shrinks" if its mean falls at every step from the smallest to the largest
# size, by more than twice the standard error of the difference end to end (*inconclusive*
# when no run grokked).

# %% tags=["remove-input"]
found = claims.carvalho_fig3a(df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))
by_size = rules.intensity_by_size(df)
steps_by_size = analysis.convergence_steps(df, "n_train")
glue("n_small", f"{by_size.index[0]:,}", display=False)
glue("n_large", f"{by_size.index[-1]:,}", display=False)
glue("ds_small", f"{by_size['mean'].iloc[0]:.2f}", display=False)
glue("ds_large", f"{by_size['mean'].iloc[-1]:.2f}", display=False)
glue("a0_max", f"{steps_by_size['def31_t_converged'].max():,.0f}", display=False)
glue("a1_range", f"{steps_by_size['def31_alpha1'].min():,.0f}–"
                 f"{steps_by_size['def31_alpha1'].max():,.0f}", display=False)

# %% [markdown]
# In numbers: training converges by step {glue:text}`a0_max` at the latest (median per
# size), while the test accuracy reaches its final level ($\alpha_1$, median per size) only
# at steps {glue:text}`a1_range`. The mean intensity is {glue:text}`ds_small` with
# {glue:text}`n_small` samples and {glue:text}`ds_large` with {glue:text}`n_large`. The late rise is not specific to a shift:
# here the training sets are unbiased samples of the test distribution, and a small sample is
# the only "shift" there is. With a large initialization ($\alpha = 8$) and weight decay this is
# the large-init grokking that {cite:t}`liu2023omnigrok` describe, which Carvalho et al.'s
# reading (small samples *are* a distribution shift) accommodates too.

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
