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
# # Fig. 6b-d: phase diagrams of the toy model
#
# **The paper's claims** {cite}`liu2022towards` (Sec. 4.1, Fig. 6): learning falls into four
# phases, *comprehension*, *grokking*, *memorization* and *confusion*. For addition regression
# (b), addition classification (c) and the permutation group $S_3$ (d), with the
# representation's learning rate fixed: "(i) they all include four phases; (ii) The top right
# corner (a fast and capable decoder) is the memorization phase; (iii) the bottom right
# corner (a fast and simple decoder) is the confusion phase; (iv) grokking is sandwiched
# between comprehension and memorization".
#
# **The experiment.** The toy model of [Fig. 3](fig3_predicted_accuracy.ipynb) (1-D
# embeddings for addition, 45/10 split; $3 \times 3$ matrix embeddings whose product is
# hard-coded for $S_3$, 24/12 split), trained with two AdamW optimizers: the embeddings at a
# fixed lr $10^{-3}$ without weight decay, the decoder at the lr on the x axis and the weight
# decay on the y axis (panel a, representation against decoder learning rate, is
# [the previous page](fig6a_competition.ipynb)). **Every cell of a panel is one member of one
# vectorized ensemble**, each with its own learning rates and weight decay. The phase of a
# cell follows the authors' rule (`grokpaper/core/phases.py`): with $t_\text{train}$,
# $t_\text{test}$ the first steps at which training and test accuracy reach 90% within the
# budget, *comprehension* if both are reached less than $10^3$ steps apart, *grokking* if
# further apart, *memorization* if only training accuracy gets there, *confusion* otherwise.
#
# **Going further: Liu's grokking against Carvalho's.** Definition 3.1 of Carvalho et al.
# (`grokpaper.core.metrics.definition31`) is applied to every cell's curves; where it says the run
# grokked, its grokking intensity $\Delta_S$ is written in the cell.

# %% tags=["parameters"]
profile = "quick"
panels = None
lrs = None
wds_reg = None
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

PAGE = "liu/fig6_phase_diagrams"
params = profiles.resolve("liu.fig6", liu.PhaseDiagrams, profile, panels=panels, lrs=lrs,
                          wds_reg=wds_reg, steps=steps, width=width)
frames = {p: liu.run(params.panel_runs(p)) for p in params.panels}
df = pd.concat([f.assign(panel=p) for p, f in frames.items()], ignore_index=True)
TITLES = {"a": "(a) addition, regression", "b": "(b) addition, regression",
          "c": "(c) addition, classification", "d": "(d) $S_3$, regression"}
YLABEL = {"lr_emb": "representation lr", "wd_dec": "decoder weight decay"}

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(Markdown(liu_report.params_markdown(params, profile, liu_report.PHASE_NOTES)))

# %% [markdown]
# ## Phase diagrams
#
# {numref}`fig-liu-6bcd-phases`. Colour: the phase; number: Definition 3.1's $\Delta_S$ where
# Definition 3.1 says the run grokked. Budget: the `steps` parameter above.
#
# ```{note}
# The phases depend on the budget. Grokking needs test accuracy to trail training accuracy by
# more than $10^3$ steps *within* the budget, and slow decoders (left columns) need many steps
# to fit the training set at all; the paper's budget is $10^5$ steps. With the `quick`
# profile's $4 \times 10^3$ steps the grokking band has little room, so the verdicts on this
# page are verdicts at that scale, not on the paper's diagram (the `paper` profile runs it).
# ```

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Phase of each run of the toy model over a grid of decoder learning rate (x, log-spaced) and decoder weight decay (y), one panel per task: (b) addition, regression; (c) addition, classification; (d) $S_3$, regression. Colours: comprehension, grokking, memorization or confusion (legend at the right); numbers: Definition 3.1's $\\Delta_S$ where Definition 3.1 says the run grokked.", "name": "fig-liu-6bcd-phases"}}
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
# Thresholds fixed in `grokpaper/liu/phase_claims.py`, each claim judged per panel: "four
# phases" counts the phases present on the panel; the corners are the top decoder lr at the
# smallest and the largest weight decay (one of the two right: *partly*); "sandwiched" asks
# that both comprehension and memorization border the grokking cells and make up at least 75%
# of their non-grokking neighbours. A claim that holds on every panel is *supported*, on some
# *partly supported*. A panel on which no run fits its training set within the budget (all
# confusion) decides nothing: *inconclusive* if no panel decides. For (a), representation
# learning (comprehension or grokking) must be at least twice as common where the
# representation lr is at least the decoder lr as where it is smaller.

# %% tags=["remove-input"]
found = phase_claims.liu_fig6(frames, tables, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# The paper's Fig. 8, grokking and the four phases on MNIST, is reproduced in the MNIST part
# of this book: [phases of learning on MNIST](../mnist/phase_diagram.ipynb).
#
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
