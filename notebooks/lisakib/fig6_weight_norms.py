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
# # Figs. 6-8: attention-weight norms, training fraction and weight decay
#
# **The report's claims** {cite}`lisakib_ece826` (Sec. 3.4):
#
# - Fig. 6: "the norm of attention Q, K, V matrices can take much larger values during
#   training when grokking happens"; "the mean of the attention weights continues to increase
#   during the pre-grokking stage. Subsequently, as validation accuracy begins to improve, the
#   norm of the weights starts to decrease";
# - Fig. 7: "reducing weight decay can increase grokking delay", with the norm peaking at
#   about the same value, later;
# - Fig. 8: "the model with weight decay 2 has about half the grokking delay of weight decay
#   1. For larger weight decay values, the training and validation accuracy stays at a lower
#   value."
#
# **The experiment.** Division runs at several training fractions (Fig. 6) and weight decays
# (Figs. 7, 8), all in one vectorized ensemble: members with different fractions get their own
# training and validation sets. At every evaluation the Frobenius norms of each layer's Q, K
# and V blocks of the attention input projection are recorded (a probe passed to the
# trainer); the curves show their mean. A run whose validation accuracy never reaches 95% is
# counted, for the delay comparisons, as delayed until the end of the budget.
#
# ```{note}
# `quick` runs the scaled-down task of [Fig. 2](fig2_curves.ipynb) for 6,000 steps: measured
# when choosing it (10,000 steps), validation accuracy first reaches 95% between steps 2,650
# and 4,950 (weight decay 0.3: 4,400; training fraction 0.6: 4,950), so a 4,000-step budget
# cut off the late rises Figs. 6 and 7 are about. A run *fits* its training set when training
# accuracy first reaches 95%: with a batch of 32 the last evaluation can swing well below it.
# ```

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/lisakib/profiles.py.
p = None
train_frac = None
d_model = None
steps = None
batch_size = None
lr = None
train_fracs = None
small_wds = None
large_wds = None
seeds = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.core import profiles, report, verdicts
from grokpaper.lisakib import analysis, claims_weights
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib import figures as lisakib_figs
from grokpaper.lisakib import report as lr_report

PAGE = "lisakib/fig6_weight_norms"
params = profiles.resolve("lisakib.norms", lisakib_figs.NormParams, profile, p=p,
                          train_frac=train_frac, d_model=d_model, steps=steps,
                          batch_size=batch_size, lr=lr, train_fracs=train_fracs,
                          small_wds=small_wds, large_wds=large_wds, seeds=seeds)
df = lisakib.run(params.runs())
fracs, wd = analysis.norm_panels(df, params)
glue("profile", profile, display=False)

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure="lisakib.norms",
                                notes=lr_report.NOTES["lisakib.norms"]))

# %% [markdown]
# ## Fig. 6: training fractions
#
# {numref}`fig-lisakib-6-norms`: accuracy (dashed: training) and the mean Q/K/V norm; dots
# mark each norm's peak, dotted lines the step where validation accuracy reaches 95%. The
# same for weight decays up to 1 in {numref}`fig-lisakib-7-norms` and from 1 up in
# {numref}`fig-lisakib-8-norms`.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Division, one colour per training fraction (first seed of each). Left: training (dashed) and validation (solid) accuracy against the optimizer step; right: mean Frobenius norm of the attention Q, K and V matrices, with its peak (dot) and the step at which validation accuracy reaches 95% (dotted line).", "name": "fig-lisakib-6-norms"}}
fig = lr_report.norm_figure(fracs, by="train_frac",
                            title=f"weight decay {params.weight_decay:g}, by training fraction")
plt.show()

# %% tags=["remove-input"]
lr_report.norm_table(fracs, "train_frac")

# %% [markdown]
# ## Fig. 7: weight decay up to 1
#
# {numref}`fig-lisakib-7-norms`, as {numref}`fig-lisakib-6-norms` for the weight decays up to 1.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "As {numref}`fig-lisakib-6-norms`, one colour per weight decay up to 1 (fixed training fraction).", "name": "fig-lisakib-7-norms"}}
small = wd[wd["weight_decay"] <= 1]
fig = lr_report.norm_figure(small, by="weight_decay",
                            title=f"training fraction {params.train_frac:g}, weight decay <= 1")
plt.show()

# %% tags=["remove-input"]
lr_report.norm_table(small, "weight_decay")

# %% [markdown]
# ## Fig. 8: weight decay from 1 up
#
# {numref}`fig-lisakib-8-norms`, as {numref}`fig-lisakib-6-norms` for the weight decays from 1
# up.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "As {numref}`fig-lisakib-6-norms`, one colour per weight decay from 1 up (fixed training fraction).", "name": "fig-lisakib-8-norms"}}
large = wd[wd["weight_decay"] >= 1]
fig = lr_report.norm_figure(large, by="weight_decay",
                            title=f"training fraction {params.train_frac:g}, weight decay >= 1")
plt.show()

# %% tags=["remove-input"]
lr_report.norm_table(large, "weight_decay")

# %% [markdown]
# ## Verdict
#
# Computed with the thresholds fixed in `grokpaper/lisakib/claims_weights.py`. The norm claim is
# judged on every grokking run of this page: its peak must come after training accuracy reached
# 95% (the norm kept growing once the training set was fitted) and before validation accuracy
# does, and the norm must end at least 5% below it.

# %% tags=["remove-input"]
found = claims_weights.larger_norms(fracs, page=PAGE) + claims_weights.norms(wd, df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
