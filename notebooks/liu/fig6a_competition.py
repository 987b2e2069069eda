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
# # Fig. 6a: representation against decoder learning rate
#
# **The paper's claims** {cite}`liu2022towards` (Sec. 4.1, Fig. 6): learning falls into four
# phases, *comprehension*, *grokking*, *memorization* and *confusion*; on addition
# (regression), "a fast decoder coupled with slow representation learning (bottom right) lead
# to memorization. In the opposite extreme, although an extremely slow decoder coupled with
# fast representation learning (top left) will generalize in the end, the generalization time
# is long due to the inefficient decoder training. The ideal phase (comprehension) requires
# representation learning to be faster, but not too much, than the decoder."
#
# **The experiment.** The toy model of [Fig. 3](fig3_predicted_accuracy.ipynb) on addition
# (1-D embeddings, regression, 45/10 split), trained with two AdamW optimizers without weight
# decay: the embeddings at the learning rate on the y axis, the decoder at the one on the x
# axis (the weight-decay panels are on [the next page](fig6_phase_diagrams.ipynb)). **Every
# cell is one member of one vectorized ensemble** with its own two learning rates. The phase
# of a cell follows the authors' rule (`grokpaper/core/phases.py`): with $t_\text{train}$,
# $t_\text{test}$ the first steps at which training and test accuracy reach 90% within the
# budget, *comprehension* if both are reached less than $10^3$ steps apart, *grokking* if
# further apart, *memorization* if only training accuracy gets there, *confusion* otherwise.
#
# **Going further: Liu's grokking against Carvalho's.** Definition 3.1 of Carvalho et al.
# (`grokpaper.core.metrics.definition31`) is applied to every cell's curves; where it says the run
# grokked, its grokking intensity $\Delta_S$ is written in the cell.

# %% tags=["parameters"]
profile = "quick"
lrs = None
emb_lrs = None
steps = None
width = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from grokpaper.core import phases, profiles, report, verdicts
from grokpaper.liu import experiments as liu
from grokpaper.liu import phase_claims
from grokpaper.liu import report as liu_report

PAGE = "liu/fig6a_competition"
params = profiles.resolve("liu.fig6a", liu.PhaseDiagrams, profile, lrs=lrs, emb_lrs=emb_lrs,
                          steps=steps, width=width)
frames = {p: liu.run(params.panel_runs(p)) for p in params.panels}
df = pd.concat([f.assign(panel=p) for p, f in frames.items()], ignore_index=True)
TITLES = {"a": "(a) addition, regression", "b": "(b) addition, regression",
          "c": "(c) addition, classification", "d": "(d) $S_3$, regression"}
YLABEL = {"lr_emb": "representation lr", "wd_dec": "decoder weight decay"}

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(Markdown(liu_report.params_markdown(params, profile, liu_report.PHASE_A_NOTES)))

# %% [markdown]
# ## Phase diagram
#
# {numref}`fig-liu-6a-phases`. Colour: the phase; number: Definition 3.1's $\Delta_S$ where
# Definition 3.1 says the run grokked. Budget: the `steps` parameter above.
#
# ```{note}
# The `quick` profile trains for $4 \times 10^3$ steps (the paper: $10^5$) on a $4 \times 4$
# grid: the slowest decoders have no time to fit, and a grokking cell needs test accuracy to
# trail training accuracy by more than $10^3$ steps within the budget.
# ```

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Phase of each run of the toy model on addition (regression) over a grid of decoder learning rate (x) and representation learning rate (y), both log-spaced: comprehension, grokking, memorization or confusion (colours, legend at the right). Numbers: Definition 3.1's $\\Delta_S$ where Definition 3.1 says the run grokked.", "name": "fig-liu-6a-phases"}}
tables = {}
fig, axes = plt.subplots(1, len(frames), figsize=(4.2 * len(frames), 3.9), squeeze=False)
for ax, (p, f) in zip(axes[0], frames.items(), strict=True):
    y = liu.PANELS[p][2]
    tables[p] = phases.phase_table(f, rows=y, cols="lr_dec")
    marks = liu_report.cell_table(f.assign(ds=np.where(f["def31_grokked"] == True,  # noqa: E712
                                                       f["def31_delta_S"], np.nan)), y, "ds")
    liu_report.plot_phase_grid(ax, tables[p], xlabel="decoder lr", ylabel=YLABEL[y],
                               title=TITLES[p], marks=marks, log_y=y == "lr_emb")
liu_report.phase_legend(axes[0][-1], fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
liu_report.close(fig)

# %% [markdown]
# Steps to 90% training / test accuracy per cell (median over seeds; empty: never within the
# budget), panel by panel:

# %% tags=["remove-input"]
for p, f in frames.items():
    y = liu.PANELS[p][2]
    display(Markdown(f"**{TITLES[p]}** (rows: {YLABEL[y]}; columns: decoder lr)"))
    display(liu_report.steps_table(f, y))

# %% [markdown]
# ## Liu's phases against Definition 3.1
#
# Runs per phase and Definition 3.1 verdict, all panels together. If the two notions of
# grokking agreed, Definition 3.1 would say "grokked" exactly in the grokking cells.

# %% tags=["remove-input"]
liu_report.contingency(df)

# %% [markdown]
# ## Verdict
#
# Thresholds fixed in `grokpaper/liu/phase_claims.py`: representation learning (comprehension
# or grokking) must be at least twice as common where the representation lr is at least the
# decoder lr as where it is smaller, and memorization must be the majority where it is smaller
# (one of the two: *partly supported*); *inconclusive* if no run fits its training set within
# the budget.

# %% tags=["remove-input"]
found = phase_claims.liu_fig6(frames, tables, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
