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
# # Fig. 5: the grokking rate λ₃ and grokking time against data size
#
# **The paper's claims** {cite}`liu2022towards` (Sec. 3.2, Fig. 5): "(i) When the data
# fraction is below some threshold (around 0.4), $\lambda_3$ is zero with high probability,
# corresponding to no generalization. [...] (ii) When data size is above the threshold,
# $\lambda_3$ (on average) is an increasing function of data size. This implies that grokking
# time $t \sim 1/\lambda_3$ decreases as training data size becomes larger". Fig. 5b compares
# the grokking steps of real training (steps to RQI > 0.95) with the prediction
# $t_\text{th} = 1/(\lambda_3 \eta)$, $\eta = 10^{-3}$: "The theory agrees qualitatively with
# neural networks, showing the trend of decreasing grokking steps as increasing data size."
#
# **The experiment.** $\lambda_3$ is the third smallest eigenvalue of the Hessian of the
# effective loss {eq}`eq-liu-eff-loss` (the paper's Eq. (5), stated on
# [the Fig. 4 page](fig4_effective_theory.ipynb)), $H = 2 A^\top A / (|P_0(D)|\, Z_0)$ with
# $A = A(P_0(D))$ (Eq. 8; $Z_0 = p$ for standardized 1-D embeddings), computed for random
# training sets of each size (a, no training) and for the training sets of the runs of
# [Fig. 3](fig3_predicted_accuracy.ipynb) (b). Eq. (5) averages over $P_0(D)$; the authors'
# code sums, which multiplies $\lambda_3$ by $|P_0(D)|$ (growing with the data), so both
# normalizations are shown.

# %% tags=["parameters"]
profile = "quick"
seeds = None
sizes = None
steps = None
width = None
theory_sets = None

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from grokpaper.core import profiles, report, verdicts
from grokpaper.liu import analysis
from grokpaper.liu import claims as claims_liu
from grokpaper.liu import experiments as liu
from grokpaper.liu import report as liu_report

PAGE = "liu/fig5_grokking_rate"
params = profiles.resolve("liu.fraction", liu.FractionSweep, profile, seeds=seeds, sizes=sizes,
                          steps=steps, width=width, theory_sets=theory_sets)
eta = params.lr_emb
df = analysis.predicted_steps(liu.run(params.runs()), eta)
theory = params.theory()

# %% [markdown]
# ## Paper says / we use

# %% tags=["remove-input"]
display(report.paper_says_table(params, profile=profile, figure="liu.fraction",
                                notes=liu_report.NOTES["liu.fraction"]))

# %% [markdown]
# ## (a) λ₃ against the training fraction; (b) predicted against measured steps
#
# {numref}`fig-liu-5-lambda3`; the table after it gives the medians per training fraction.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "(a) $\\lambda_3$ of random training sets against the training fraction (dots, slightly jittered; red: mean over training sets), with the mean over $P_0(D)$ of the effective loss {eq}`eq-liu-eff-loss` (left) and the authors' sum (middle); dotted line: fraction 0.4. (b, right) Measured steps to RQI > 0.95 against the predicted $1/(\\lambda_3 \\eta)$ for each run that reached it, for both normalizations (circles: mean; squares: sum), coloured by training fraction; grey line: equality.", "name": "fig-liu-5-lambda3"}}
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for ax, col, name in ((axes[0], "lambda3", "Eq. (5): mean over $P_0(D)$"),
                      (axes[1], "lambda3_sum", "authors' code: sum over $P_0(D)$")):
    jitter = np.random.default_rng(0).normal(0, 0.004, len(theory))
    ax.scatter(theory["frac"] + jitter, theory[col], s=5, alpha=0.3, color="C0")
    m = theory.groupby("frac")[col].mean()
    ax.plot(m.index, m.to_numpy(), color="C3", label="mean over training sets")
    ax.axvline(0.4, color="0.5", ls=":")
    ax.set(xlabel="training fraction", ylabel=r"$\lambda_3$", title=f"(a) {name}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
ax = axes[2]
reached = df[df["t_rqi"].notna() & (df["lambda3"] > 0)]
for col, marker, name in (("pred", "o", "Eq. (5)"), ("pred_sum", "s", "authors' sum")):
    sc = ax.scatter(reached[col], reached["t_rqi"], c=reached["frac"], marker=marker,
                    cmap="viridis", s=20, label=name, vmin=0, vmax=1)
lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, label="equality")
ax.set(xscale="log", yscale="log", xlabel=r"predicted $1/(\lambda_3 \eta)$",
       ylabel="measured steps to RQI > 0.95", title="(b) theory against training")
ax.legend(fontsize=7)
fig.colorbar(sc, ax=ax, label="training fraction")
liu_report.close(fig)

# %% tags=["remove-input"]
(df.groupby("frac")[["t_rqi", "pred", "pred_sum"]].median().round(0)
   .rename(columns={"t_rqi": "measured (median)", "pred": "1/(λ3 η), Eq. 5",
                    "pred_sum": "1/(λ3 η), authors"}))

# %% [markdown]
# Runs whose representation never reached RQI > 0.95 within the budget are left out of
# {numref}`fig-liu-5-lambda3` (b) (see [Fig. 4b](fig4_effective_theory.ipynb)); "inf" marks
# training sets with $\lambda_3 = 0$.
#
# ## Verdict
#
# Thresholds fixed in `grokpaper/liu/claims.py`: (a) $\lambda_3 = 0$ for at least 80% of the
# training sets below fraction 0.35 and a Spearman rank correlation of at least 0.5 between
# fraction and mean $\lambda_3$ from 0.4 on; (b) Spearman $\rho \leq -0.5$ between fraction
# and measured steps, and $\rho \geq 0.5$ between predicted and measured steps (Eq. 5). One
# of the two (or agreement only with the authors' normalization) gives *partly supported*.

# %% tags=["remove-input"]
found = claims_liu.liu_fig5(df, theory, eta=eta, page=PAGE)
display(verdicts.publish(PAGE, found, profile=profile))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
