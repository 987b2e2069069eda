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
# # Figs. 1 and 7: a transformer on modular addition
#
# **The paper's claims** {cite}`liu2022towards` (Sec. 4.2, Figs. 1 and 7):
# - Fig. 1: "generalization coincides with the emergence of structure in the embeddings";
#   "perfect generalization coincides with the PCA projecting the embeddings into a circle in
#   2D".
# - Fig. 7 left: the effective dimension of the embeddings, $e^S$ with $S$ the entropy of the
#   PCA explained-variance ratios, "increases up to generalization time then decreases
#   drastically afterwards".
# - Fig. 7 centre: "With a significant dropout rate, the generalization time can be brought
#   down to under $10^3$ steps and the grokking phenomenon vanishes completely."
# - App. K: "when we project the embeddings at initialization onto the principal axes at the
#   end of training. Some of the structure required for generalization exists before
#   training hinting at a connection with the Lottery Ticket Hypothesis."
#
# **The experiment.** Addition modulo $p$: each symbol gets a learnable embedding, the two
# embeddings go through pre-norm transformer encoder layers (one head, ReLU feed-forward), and
# the two output positions are concatenated into a linear classifier, as the authors'
# `Decoder(concat=True)`; 80% of the $p^2$ ordered pairs train, full batch, AdamW. For
# Fig. 1 both parameter groups get the same learning rate and weight decay ("training both
# the encoder and the decoder with the same optimizer [...] leads to the grokking
# phenomenon"); the dropout runs use no weight decay, as the authors' defaults. All runs of a
# panel train as one vectorized ensemble (`torch.func.vmap` over stacked weights, attention
# written with plain matmuls); dropout rates are per member.
#
# ```{note}
# The `quick` profile scales this down a lot, to fit a 2-core CPU: a smaller modulus, a much
# narrower transformer, fewer steps and seeds (see the table below). The paper's setting is
# the `paper` profile (GPU). At `quick`'s size the phenomena are inside the budget (measured
# when choosing it): with weight decay 1 both seeds fit their training set by step 40 and
# reach 90% test accuracy near step 2,500, so 8,000 steps follow each seed 3x past its
# generalization, as Fig. 7 left needs; without weight decay, dropout 0.3 generalizes near
# step 7,000 while dropout 0 still memorizes at 8,000 (the curves below show both).
# ```

# %% tags=["parameters"]
profile = "quick"
p = None
d_model = None
steps = None
seeds = None
wd = None
dropouts = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from grokpaper.core import profiles, report, verdicts
from grokpaper.liu import analysis, embeddings, transformer_claims
from grokpaper.liu import claims as claims_liu
from grokpaper.liu import report as liu_report
from grokpaper.liu import transformer_experiments as lt

PAGE = "liu/fig7_transformer"
params = profiles.resolve("liu.fig7", lt.TransformerFigures, profile, p=p, d_model=d_model,
                          steps=steps, seeds=seeds, wd=wd, dropouts=dropouts)
pca, drop = params.frames()
pca = analysis.circularity_columns(pca)
pca = embeddings.structure_columns(pca, level=claims_liu.CIRCLE_STRUCTURED)

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure="liu.fig7",
                                notes=liu_report.NOTES["liu.fig7"]))

# %% [markdown]
# ## Fig. 1: the first two principal components of the embeddings over training
#
# Seed 0. In {numref}`fig-liu-1-pca` each frame is the PCA of the embeddings at that step;
# points are coloured by the symbol's value on a cyclic colour map, so a circle ordered by
# colour is the Fourier-like structure of modular addition. {numref}`fig-liu-1-accuracy`:
# accuracy, with the frames' steps marked.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Embeddings of seed 0 projected on their first two principal components at initialization and at log-spaced steps from before generalization to the end of the run (one panel per step), one point per symbol coloured by its value on a cyclic colour map. Panel titles: the step and the test accuracy.", "name": "fig-liu-1-pca"}}
r = pca.iloc[0]
steps_ = r["steps"]
t_gen = r["t_test"] if np.isfinite(r["t_test"]) else steps_[-1]
want = np.unique(np.concatenate([[0], np.geomspace(max(t_gen / 8, 1), steps_[-1], 5)]))
idx = sorted({int(np.argmin(np.abs(steps_ - w))) for w in want})
frames = lt.pca_frames(r["emb"][idx])
fig, axes = plt.subplots(1, len(idx), figsize=(2.6 * len(idx), 2.8))
for ax, f, i in zip(np.atleast_1d(axes), frames, idx, strict=True):
    ax.scatter(f[:, 0], f[:, 1], c=np.arange(len(f)), cmap="hsv", s=14)
    ax.set(title=f"step {steps_[i]}\ntest acc {r['test_acc'][i]:.2f}", xticks=[], yticks=[])
    ax.title.set_fontsize(9)
liu_report.close(fig)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Training and test accuracy of the run of {numref}`fig-liu-1-pca` against the step (log scale); dotted vertical lines: the steps of its frames.", "name": "fig-liu-1-accuracy"}}
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(np.maximum(steps_, 1), r["train_acc"], label="train")
ax.plot(np.maximum(steps_, 1), r["test_acc"], label="test")
for i in idx:
    ax.axvline(max(steps_[i], 1), color="0.6", ls=":", lw=1)
ax.set(xscale="log", xlabel="step", ylabel="accuracy")
ax.legend(fontsize=8)
liu_report.close(fig)

# %% [markdown]
# ## Fig. 7 left: effective dimension of the embeddings
#
# {numref}`fig-liu-7-effdim`: $e^S$, $S = -\sum_i \sigma_i \log \sigma_i$ over the PCA
# explained-variance ratios $\sigma_i$; mean $\pm$ one standard deviation over seeds. The
# dotted line is the median step at which test accuracy first reaches 90%.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Effective dimension $e^S$ of the embeddings against the step (log scale). Line: mean over seeds; band: ±1 standard deviation over seeds; dotted line: the median step at which test accuracy first reaches 90%.", "name": "fig-liu-7-effdim"}}
fig, ax = plt.subplots(figsize=(6, 3))
curves = np.stack(pca["eff_dim"].to_list())
x = np.maximum(pca["steps"].iloc[0], 1)
ax.plot(x, curves.mean(0), color="C2")
ax.fill_between(x, curves.mean(0) - curves.std(0), curves.mean(0) + curves.std(0), alpha=0.2,
                color="C2")
if pca["t_test"].notna().any():
    ax.axvline(pca["t_test"].median(), color="k", ls=":", label="generalization (median)")
    ax.legend(fontsize=8)
ax.set(xscale="log", xlabel="step", ylabel="effective dimension $e^S$",
       title=f"{len(pca)} seeds")
liu_report.close(fig)

# %% [markdown]
# ## Fig. 7 centre: dropout
#
# {numref}`fig-liu-7-dropout`: test accuracy over training per dropout rate (mean over
# seeds), and the steps to 90% training and test accuracy (crosses: not within the budget).
# The table counts the runs per dropout rate and phase.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Left: test accuracy against the step (log scale), mean over seeds, one colour per dropout rate. Right: steps to 90% training (blue) and test (red) accuracy against the dropout rate, one marker per run (crosses: not reached, drawn at the budget).", "name": "fig-liu-7-dropout"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
colors = plt.get_cmap("plasma")(np.linspace(0, 0.85, drop["dropout"].nunique()))
for (rate, g), c in zip(drop.groupby("dropout"), colors, strict=True):
    x = np.maximum(g["steps"].iloc[0], 1)
    axes[0].plot(x, np.stack(g["test_acc"].to_list()).mean(0), color=c, label=f"{rate:.2f}")
axes[0].set(xscale="log", xlabel="step", ylabel="test accuracy")
axes[0].legend(title="dropout", fontsize=7)
budget = params.steps
liu_report.step_scatter(axes[1], drop["dropout"].to_numpy(), drop["t_train"].to_numpy(),
                        budget, label="train 90%", color="C0")
liu_report.step_scatter(axes[1], drop["dropout"].to_numpy(), drop["t_test"].to_numpy(),
                        budget, label="test 90%", color="C3")
axes[1].set(yscale="log", xlabel="dropout rate", ylabel="steps")
axes[1].legend(fontsize=7)
liu_report.close(fig)

# %% tags=["remove-input"]
pd.crosstab(drop["dropout"].round(3), drop["phase"])

# %% [markdown]
# ## App. K: the initialization on the final principal axes
#
# {numref}`fig-liu-k-init`: the embeddings of seed 0 at initialization (left) and at the end
# of training (middle), both projected on the top-2 principal axes of the final embeddings,
# coloured by symbol as in {numref}`fig-liu-1-pca`. Where the initialization already holds
# part of the final circle, the colours at initialization run round in the final order. We
# measure that as the *alignment* of the two sets of angles $\theta_k$ on those axes,
# $|\frac{1}{p}\sum_k e^{i(\theta_k^{\text{init}} - \theta_k^{\text{end}})}|$
# (1: the same up to a rotation), and compare it with the alignment after shuffling the
# symbols (999 shuffles per seed): right panel, one point per seed.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Left and middle: embeddings of seed 0 at initialization and at the end of training, projected on the top-2 principal axes of the final embeddings, one point per symbol coloured by its value on a cyclic colour map. Right: alignment of the initial and final angles on those axes against its median with the symbols shuffled, one point per seed (filled: the seed generalizes); grey line: equality.", "name": "fig-liu-k-init"}}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
ends = lt.pca_frames(pca.iloc[0]["emb"][[0, -1]], basis="final")
for ax, f, title in zip(axes[:2], ends, ("initialization", "end of training"), strict=True):
    ax.scatter(f[:, 0], f[:, 1], c=np.arange(len(f)), cmap="hsv", s=14)
    ax.set(title=f"seed 0, {title}", xticks=[], yticks=[], xlabel="final PC 1",
           ylabel="final PC 2")
gen = pca["t_test"].notna().to_numpy()
for mask, face, label in ((gen, "C0", "generalizes"), (~gen, "none", "does not")):
    axes[2].scatter(pca["init_chance"][mask], pca["init_alignment"][mask], s=16,
                    facecolors=face, edgecolors="C0", label=label)
top = float(max(pca["init_alignment"].max(), pca["init_chance"].max(), 0.1))
axes[2].plot([0, top], [0, top], color="0.5", lw=1)
axes[2].set(xlabel="alignment, symbols shuffled (median)", ylabel="alignment",
            title="every seed")
axes[2].legend(fontsize=7)
liu_report.close(fig)

# %% [markdown]
# ## Verdict
#
# Thresholds fixed in `grokpaper/liu/transformer_claims.py`. Fig. 1: for *supported*, at least
# half of the generalizing seeds must end on a circle in their top-2 PCA plane (circularity
# at least 0.85, as in [Fig. 2](fig2_representations.ipynb)) that was not there at
# initialization (at least 0.15 lower), and become one (for good) within a factor 3 of their
# generalization step; a seed that ends on such a circle at another time gives *partly*.
# Fig. 7 left: the effective dimension must peak within a factor 3 of the generalization step
# and end at most 80% of its peak, for at least half of the generalizing seeds whose run lasts
# 3 times their generalization step. Fig. 7 centre: the steps to 90% test accuracy must fall
# with the dropout rate (Spearman $\rho \leq -0.5$, not-reached counted as the budget) and
# the largest rate must be in the comprehension phase for at least half of its seeds; the
# second part is judged only if the smallest rate groks (one part: *partly*). App. K: for at
# least half of the generalizing seeds, the alignment must beat the shuffled symbols at
# $p < 0.05$; more such seeds than chance would give (binomial test at 0.05) is *partly*.
# Any of them is *inconclusive* if no run reaches 90% test accuracy within the budget.

# %% tags=["remove-input"]
found = [*transformer_claims.liu_fig7(pca, drop, budget=budget, page=PAGE),
         *transformer_claims.liu_appendix_k(pca, budget=budget, page=PAGE)]
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(pd.concat([pca, drop], ignore_index=True),
                                            params=params, profile=profile)))
