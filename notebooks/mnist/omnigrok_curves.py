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
# # Grokking on MNIST (Liu et al. Fig. 8, left; Omnigrok)
#
# **The paper's claim** {cite}`liu2022towards` (Sec. 4.3): "we demonstrate, for the first time,
# that grokking (significantly delayed generalization) is a more general phenomenon in machine
# learning that can occur not only on algorithmic datasets, but also on mainstream benchmark
# datasets. In particular, we exhibit grokking on MNIST in Figure 8". The setup is that of the
# authors' Omnigrok code {cite}`liu2023omnigrok`: a large initialization makes the network
# memorize its 1,000 training images at once; weight decay then shrinks the weights, and test
# accuracy rises only when the weight norm has come down.
#
# **The experiment.** The first 1,000 images of the training pool, pixels in [0, 1] without
# normalization; an MLP 784-200-200-10 with ReLU whose every parameter is multiplied by
# $\alpha = 8$ at initialization; MSE against one-hot targets; AdamW (lr $10^{-3}$, weight decay
# 0.01), minibatches of 200. Training and test accuracy are measured on the full training set and
# the full test pool at log-spaced steps, together with the L2 norm of all parameters. Seeds
# change the initialization and the minibatch order, not the images; they train as one
# vectorized ensemble.

# %% tags=["parameters"]
profile = "quick"
data_dir = None  # folder with the MNIST IDX files; None: $GROKPAPER_MNIST
# Any of these overrides the profile's value (None keeps it); see grokpaper/mnist/profiles.py.
seeds = None
steps = None
n_train = None
weight_decay = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.core import mnist_data as mnist
from grokpaper.core import profiles, report, verdicts
from grokpaper.mnist import claims as claims_mnist
from grokpaper.mnist import experiments as em
from grokpaper.mnist import report as mnist_report

PAGE = "mnist/omnigrok_curves"
data = mnist.load(data_dir)
params = profiles.resolve("mnist.omnigrok", em.OmnigrokCurves, profile, seeds=seeds,
                          steps=steps, n_train=n_train, weight_decay=weight_decay)
df = em.run(params.runs(data), data)
glue("profile", profile, display=False)

# %% [markdown]
# ## Data
#
# MNIST {cite}`lecun1998gradient`, read from local IDX files (see the README for where).

# %% tags=["remove-input"]
display(Markdown(data.describe() + f" This page trains on the first {params.n_train:,} images "
                 f"of the training pool and tests on the whole test pool."))

# %% [markdown]
# ## Paper says / we use
#
# Values from the Omnigrok authors' MNIST notebook unless said otherwise; the last column is
# this page's profile ({glue:text}`profile`).

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure="mnist.omnigrok",
                                notes=mnist_report.NOTES["mnist.omnigrok"]))

# %% [markdown]
# Two deviations hold for every profile: the code computes in float64, we in float32; and it
# evaluates on the official 10,000 test images, we on our test pool (see *Data*).
#
# ## Accuracy and weight norm
#
# {numref}`fig-mnist-omnigrok-curves`: mean over seeds with a ±1 standard deviation band.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Left: training (blue) and test (orange) accuracy on MNIST against the optimizer step (log scale); right: L2 norm of all parameters. Lines: mean over seeds; bands: ±1 standard deviation over seeds.", "name": "fig-mnist-omnigrok-curves"}}
mnist_report.curves_with_norm(df, title=f"MNIST, {params.n_train:,} training images, "
                              f"init scale {params.alpha:g}")
plt.show()

# %% [markdown]
# ## Verdict
#
# Computed with the rule and thresholds in `grokpaper/mnist/claims.py`: memorization is the
# first step with training accuracy $\geq$ 99%; grokking needs a test-accuracy gain of at least
# 0.10 after it, half of which arrives more than 1,000 steps and at least 5 times later than
# memorization, a weight norm lower at the end than at memorization, and a negative Spearman
# correlation ($\rho \leq -0.5$) between weight norm and test accuracy after memorization.
# *Supported* if at least half of the seeds that can tell show all of it; a seed cannot tell
# if it never fits its training set, or has no rise yet and stopped before 5 times its
# memorization step (*inconclusive* if no seed can tell). A late rise short of the rest is
# *partly supported*.

# %% tags=["remove-input"]
found = claims_mnist.liu_fig8_curves(df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))
final = report.final_value(df, "test_acc")
glue("final_test", f"{final.mean():.3f}", display=False)
glue("steps_run", f"{params.steps:,}", display=False)

# %% [markdown]
# After {glue:text}`steps_run` steps the mean test accuracy is {glue:text}`final_test`
# ({numref}`fig-mnist-omnigrok-curves`). The
# Omnigrok run reaches about 0.9 after $10^5$ steps; a shorter budget (the `quick` profile
# stops at $2 \times 10^4$) shows only the beginning of the rise. Its seed 0 is also the
# baseline row of {doc}`/mnist/lisakib_variants` (same steps and evaluation points): whichever page
# runs first trains it, the other loads it from the result store.
#
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
