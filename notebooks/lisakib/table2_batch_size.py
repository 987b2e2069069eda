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
# # Table 2 and Fig. 4: batch size against training-set size
#
# **The report's claims** {cite}`lisakib_ece826` (Sec. 3.2, Table 2, Fig. 4): on division with
# a 30/70 split and training sets of 0.6K to 298K pairs ($p$ = 47 to 997), "large batch size
# and small training set makes the transformers take MORE epochs but LESS steps to converge",
# and, classifying every run as grokking (delay > 1,000 steps), comprehension (< 1,000) or
# confusion (otherwise), "the comprehension region, characterized by a (train size / batch
# size) ratio mostly ranging from 20 to 800, lies between the confusion and grokking regions".
#
# **The experiment.** A grid of primes (which set the training-set size, $0.3\,p(p-1)$ in the
# report) and batch sizes; every cell trains its learning rates, weight decays and seeds as one
# vectorized ensemble. A batch larger than the training set means full-batch training (as in
# the forked code, where the loader's batch is capped by the data). The report's Table 2 is
# garbled in our copy: its layout is lost and the cells cannot be matched to their sizes and
# batch sizes with confidence, so we compare with its stated conclusions rather than its
# numbers.

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/lisakib/profiles.py.
ps = None
batch_sizes = None
train_frac = None
d_model = None
steps = None
lrs = None
weight_decays = None
seeds = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.core import profiles, report, verdicts
from grokpaper.lisakib import claims as claims_lisakib
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib import figures as lisakib_figs
from grokpaper.lisakib import report as lr_report

PAGE = "lisakib/table2_batch_size"
params = profiles.resolve("lisakib.batch", lisakib_figs.BatchGridParams, profile, ps=ps,
                          batch_sizes=batch_sizes, train_frac=train_frac, d_model=d_model,
                          steps=steps, lrs=lrs, weight_decays=weight_decays, seeds=seeds)
df = lisakib.run(params.runs())
glue("profile", profile, display=False)
glue("n_runs", str(len(df)), display=False)

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure="lisakib.batch",
                                notes=lr_report.NOTES["lisakib.batch"]))

# %% [markdown]
# ## Table 2: time to 95%
#
# Mean over the runs of each cell that get there ({glue:text}`n_runs` runs in all, profile
# {glue:text}`profile`); rows are training-set sizes (largest first, as in the report), columns
# batch sizes; a dash where no run of the cell reached 95%. The batch size shown is the one
# used, i.e. capped by the training-set size.

# %% tags=["remove-input"]
for label, value in [("Epochs to 95% training accuracy", "epoch_train95"),
                     ("Steps to 95% training accuracy", "t_train95"),
                     ("Epochs to 95% validation accuracy", "epoch_val95"),
                     ("Steps to 95% validation accuracy", "t_val95"),
                     ("Grokking delay (epochs)", "delay_epochs"),
                     ("Grokking delay (steps)", "delay")]:
    display(Markdown(f"**{label}**"))
    display(lr_report.batch_table(df, value, digits=0 if value.startswith(("t_", "delay"))
                                  and "epoch" not in value else 1))

# %% [markdown]
# ## Fig. 4: share of each class
#
# {numref}`fig-lisakib-4-shares`, left three panels: the share of confusion, comprehension and
# grokking runs per cell; right: the ratio training-set size / batch size (log scale; the
# report's comprehension band is 20-800).

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Grid of batch size (x) against training-set size (y). First three panels: share of the runs of each cell classified as confusion, comprehension and grokking; last panel: log10 of training-set size / batch size (numbers: the ratio).", "name": "fig-lisakib-4-shares"}}
shares = lr_report.class_shares(df)
fig = lr_report.class_share_figure(shares)
plt.show()

# %% [markdown]
# ## Verdict
#
# Computed with the thresholds fixed in `grokpaper/lisakib/claims.py`.

# %% tags=["remove-input"]
found = claims_lisakib.batch_size_table(df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
