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
# # Fig. 3: representation quality predicts accuracy
#
# **The paper's claim** {cite}`liu2022towards` (Sec. 3.1, Fig. 3): "we see that the predicted
# $\widehat{\text{Acc}}$ aligns well with the true accuracy Acc, establishing good evidence
# that structured representation of input embeddings leads to generalization."
#
# **The experiment.** The toy model of Sec. 2 learns addition of $0..9$ (55 unordered pairs,
# 19 labels) as regression: $(a, b) \mapsto \text{Dec}(E_a + E_b)$ with 1-D embeddings and a
# 200-wide tanh decoder, regressed onto a fixed random vector per label; the prediction is the
# nearest label vector. Embeddings and decoder have separate AdamW optimizers (lr $10^{-3}$ and
# $10^{-4}$, no weight decay, full batch), as in the authors' code. Every training-set size and
# seed is one member of a single vectorized ensemble.
#
# - **Acc** is the measured accuracy over all 55 samples at the end of training.
# - $\widehat{\text{Acc}}$ (App. D, `grokpaper/liu/rqi.py`) assumes the decoder fits every training
#   sample, then counts a test sample as correct when a *parallelogram present in the learned
#   representation* joins it to a training sample with the same sum: $(i, j, m, n)$ with
#   $i + j = m + n$ and mean squared residual of the standardized embeddings
#   $|\tilde E_i + \tilde E_j - \tilde E_m - \tilde E_n|^2 < 0.01$.
# - The grey line is $\overline{\text{Acc}}$, the accuracy of an ideal model that holds exactly
#   the parallelograms implied by the training set (Sec. 3.2: rows of $A(P_0)$ in the row space
#   of $A(P_0(D))$): an upper bound that needs no training.
#
# The same runs feed Figs. 4b and 5b (they are trained once and cached).

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/liu/profiles.py.
seeds = None
sizes = None
steps = None
width = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.core import profiles, report, verdicts
from grokpaper.liu import claims as claims_liu
from grokpaper.liu import experiments as liu
from grokpaper.liu import report as liu_report

PAGE = "liu/fig3_predicted_accuracy"
params = profiles.resolve("liu.fraction", liu.FractionSweep, profile, seeds=seeds, sizes=sizes,
                          steps=steps, width=width)
df = liu.run(params.runs())
glue("n_runs", str(len(df)), display=False)

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure="liu.fraction",
                                notes=liu_report.NOTES["liu.fraction"]))

# %% [markdown]
# ## Measured and predicted accuracy against the training fraction
#
# {numref}`fig-liu-3-accuracy`: one dot per run ({glue:text}`n_runs` runs), lines through the
# means per fraction. Left: over all 55 samples, as the paper. Middle: over the test samples
# alone, where the two cannot agree merely because both count the training set as correct.
# Right: the two accuracies of every run against each other. The table gives the means per
# fraction.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Left and middle: measured accuracy Acc (blue circles) and accuracy predicted from the representation $\\widehat{\\text{Acc}}$ (orange squares) against the training fraction, one marker per run, lines through the means per fraction; grey dashed: the ideal $\\overline{\\text{Acc}}$. Left: over all 55 samples; middle: over the test samples only. Right: Acc against $\\widehat{\\text{Acc}}$ per run, coloured by training fraction; grey line: equality.", "name": "fig-liu-3-accuracy"}}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
means = df.groupby("frac")[["acc_final", "acc_hat", "test_final", "acc_hat_test",
                            "acc_ideal", "acc_ideal_test"]].mean()
for ax, (meas, pred, ideal, title) in zip(axes[:2], [
        ("acc_final", "acc_hat", "acc_ideal", "all samples (paper's Fig. 3a, b)"),
        ("test_final", "acc_hat_test", "acc_ideal_test", "test samples only")], strict=True):
    ax.scatter(df["frac"], df[meas], s=12, color="C0", alpha=0.6)
    ax.plot(means.index, means[meas], color="C0", label="Acc (measured)")
    ax.scatter(df["frac"], df[pred], s=12, color="C1", alpha=0.6, marker="s")
    ax.plot(means.index, means[pred], color="C1", label=r"$\widehat{Acc}$ (from representation)")
    ax.plot(means.index, means[ideal], color="0.5", ls="--", label=r"$\overline{Acc}$ (ideal)")
    ax.set(xlabel="training fraction", ylabel="accuracy", title=title, ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
ax = axes[2]
sc = ax.scatter(df["acc_hat"], df["acc_final"], c=df["frac"], cmap="viridis", s=16)
ax.plot([0, 1], [0, 1], color="0.5", lw=1)
ax.set(xlabel=r"$\widehat{Acc}$", ylabel="Acc", title="agreement (Fig. 3c)", xlim=(0, 1.02),
       ylim=(0, 1.02))
fig.colorbar(sc, ax=ax, label="training fraction")
liu_report.close(fig)

# %% tags=["remove-input"]
means.round(3).rename_axis("training fraction")

# %% [markdown]
# ## Verdict
#
# Computed in `grokpaper/liu/claims.py` with thresholds fixed in advance: mean absolute difference
# $|\text{Acc} - \widehat{\text{Acc}}|$ over runs at most 0.05 over all samples and at most
# 0.15 over the test samples alone for *supported*; the first but not the second gives
# *partly supported*.

# %% tags=["remove-input"]
found = claims_liu.liu_fig3(df, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
