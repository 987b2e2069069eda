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
# # Appendix: the same experiments with a 2-layer transformer
#
# **The paper's claim** {cite}`carvalho2025grokking` (Sec. 5.1): "We conducted our experiments
# using two different architectures: a Multi-layer Perceptron (MLP) and a 2-layer Transformer
# ... the results obtained with both architectures exhibited very similar patterns"; the
# introduction concludes "that late generalization is largely architecture-independent". The
# paper describes neither the transformer nor how it reads a 117-dim sample.
#
# **The experiment.** We read $x \in \mathbb{R}^{117}$ as 9 tokens of 13 dims, one per binary
# position of App. A (so a token *is* one of the 9 blocks $d_i^0$ / $d_i^1$), and train a small
# pre-LayerNorm transformer (`grokpaper/carvalho/transformer.py`: linear token embedding plus a
# learned position embedding, 2 blocks of multi-head self-attention and a ReLU feed-forward,
# mean pooling, linear read-out). The initialization scale 8 multiplies the weights and
# biases of every layer as for the MLP, but not the LayerNorm gains: scaling those as well
# multiplies the attention logits by another 64, and in a first try the model then could not
# fit its training set (train accuracy 0.65 after 1,500 steps, 1.00 without). We rerun two
# figures:
#
# - **Fig. 3b** (equidistant dataset, $f \in \{0, 0.2\}$): $f = 0$ should stay on a plateau,
#   $f > 0$ should grok;
# - **Fig. 4** (equivariant dataset, $f \in \{0, 0.2\}$): both should grok.
#
# Next to each we run the MLP on *exactly* the same training sets, steps and minibatches, and
# compare the verdicts claim by claim. All transformer runs train as vectorized ensembles
# (`torch.func.vmap` over stacked parameters, one ensemble per dataset).

# %% tags=["parameters"]
profile = "quick"
# Any of these overrides the profile's value (None keeps it); see grokpaper/carvalho/profiles.py.
seeds = None
sizes = None
steps = None
d_model = None
hidden = None
n_test = None

# %% tags=["remove-cell"]
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.carvalho import analysis, claims, workloads
from grokpaper.carvalho import design as synthetic_design
from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import profiles, report, verdicts
from grokpaper.core.plots import shift_curves

PAGE = "carvalho/appendix_transformer"
FIGURES = {"Fig. 3b": "carvalho.appendix_fig3b", "Fig. 4": "carvalho.appendix_fig4"}
params = {name: profiles.resolve(key, synthetic.ShiftSweep, profile, seeds=seeds, sizes=sizes,
                                 steps=steps, d_model=d_model, hidden=hidden, n_test=n_test)
          for name, key in FIGURES.items()}
# Each transformer run, and the MLP on the same training sets, steps and minibatches.
df = synthetic.run(workloads.with_mlp_partners(params))
glue("n_runs", str(int((df["model"] == "transformer").sum())), display=False)
glue("steps", f"{params['Fig. 3b'].steps:,}", display=False)
a0 = analysis.convergence_steps(df, "model")["def31_t_converged"]
glue("a0_tf", f"{a0.get('transformer', float('nan')):,.0f}", display=False)
glue("a0_mlp", f"{a0.get('mlp', float('nan')):,.0f}", display=False)

# %% [markdown]
# **Budget.** On a CPU a transformer step costs ~20 MLP steps, so this page runs
# {glue:text}`steps` steps. Training converges at step {glue:text}`a0_tf` for the transformer
# and {glue:text}`a0_mlp` for the MLP (median over runs), but on the MLP chapters the test
# accuracy jumps only at ~5,000-14,000 steps: unless the run is several times longer than
# that (the `paper` profile runs 50,000), the verdicts below are about the first phase of
# training only, for both models.
#
# **Why no CPU budget decides this page.** At the paper's init scale 8 the transformer fits its
# training set by ~1,300 steps, but its test accuracy hardly moves afterwards: in a separate
# run (500 samples, $f = 0.2$, `d_model` 16) it crept from 0.41 at 600 steps to 0.46 at 6,000,
# where the MLP is at 0.69 after 3,000. The same transformer at init scale 1 reached 0.66 by
# 1,500 steps, so the token reading is not what holds it back: the init scale is, and a late
# rise, if it comes, lies beyond 6,000 steps. Remeasured over 15,000 steps (one seed, 500
# samples, $f \in \{0, 0.2\}$, both datasets, `d_model` 16, minibatch 100): at init scale 8
# the late rises are there but still climbing at the end (equivariant: test accuracy ~0.60 at
# 6,640 steps, 0.81 at 15,000, on both $f$; equidistant: 0.44 to 0.49), and Definition 3.1
# cannot call a rise that has not ended, nor give it the support $S \ge 2(\alpha_1 -
# \alpha_0)$ after it; at init scale 3 (not the paper's) the equidistant $f = 0.2$ run also
# rises late (0.58 to 0.71 after 6,640 steps) while $f = 0$ stays at 0.60, again unfinished at
# 15,000. Run on to 40,000 steps (the same four runs at init scale 8, 581 s on two idle
# cores), the transformer does learn the task (final test accuracy 0.60-0.92, mean 0.76), but
# three of the four rises are still under way at the end (equidistant $f = 0$: 0.49 at 9,200
# steps, 0.60 at 40,000; $f = 0.2$: 0.45 to 0.65; equivariant $f = 0.2$: 0.62 to 0.92), so
# only equivariant $f = 0$ meets Definition 3.1, whose support clause would need the others
# to run to ~56,000 steps. Nor does a stronger optimizer finish them sooner (2026-12-03, the
# same four conditions, one seed): a 3x or 10x learning rate (15,000 steps) leaves the
# equidistant $f = 0.2$ run at test accuracy 0.61-0.74, and a 10x to 300x weight decay (1e-3
# to 3e-2, 15,000-20,000 steps) speeds its rise (0.65-0.79 at the end, against 0.47 at the
# paper's settings after 15,000) but leaves it still climbing at the end of every run: at
# weight decay 1e-2 it reads 0.69 at 8,640 steps and 0.79 at 20,000, while the MLP on the same
# data and settings has finished its rise (0.86) by 4,400. Deciding the page takes at least
# ~60,000 steps, ~15 minutes of two cores for one seed: half of the `quick` book's 30-minute
# budget for one appendix. What would decide it is the `paper` profile on a GPU (its 40 runs take hours on two cores) with
# enough steps for the slowest rise: its 50,000 may still be short for the equidistant ones.
# The `quick` profile therefore runs one seed per condition for 3,000 steps
# (`grokpaper/carvalho/profiles.py`), and its verdicts are inconclusive by the rule below.
#
# ## Paper says / we use
#
# The MLP comparison runs use the same settings with the MLP of the `hidden` row of the main
# chapters (the profile's width).

# %% tags=["remove-input"]
for name, key in FIGURES.items():
    display(Markdown(f"**{name}, transformer**"))
    display(report.paper_says_table(params[name], profile=profile, figure=key,
                                    notes=synthetic_design.NOTES[key]))

# %% [markdown]
# ## Learning curves
#
# Mean over seeds with a ±1 standard deviation band ({glue:text}`n_runs` transformer runs);
# test panels start where training converged. Fig. 3b's equidistant dataset: the transformer
# ({numref}`fig-carvalho-appendix-3b-transformer`) and the MLP trained on the same data
# ({numref}`fig-carvalho-appendix-3b-mlp`); Fig. 4's equivariant dataset: the transformer
# ({numref}`fig-carvalho-appendix-4-transformer`) and the MLP
# ({numref}`fig-carvalho-appendix-4-mlp`).

# %% tags=["remove-cell"]
def curves(dataset: str, model: str) -> None:
    """Learning curves of ``model`` on ``dataset``: one row of panels per training-set size."""
    runs = df[(df["dataset"] == dataset) & (df["model"] == model)]
    shift_curves(runs, rows="n_train", by="f", label_fmt="f = {:g}",
                 title_fmt=f"{model}, {dataset} dataset, {{}} samples")


# %% tags=["remove-input"] mystnb={"figure": {"caption": "Transformer on the equidistant dataset (Fig. 3b), one row of panels per training-set size: accuracy against the optimizer step (log scale) on the training set, the test set, and the test samples of the subsampled subclasses alone, one colour per factor $f$. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test panels start at the median step at which training converged for each $f$.", "name": "fig-carvalho-appendix-3b-transformer"}}
curves("equidistant", "transformer")

# %% tags=["remove-input"] mystnb={"figure": {"caption": "MLP on the same equidistant training sets, steps and minibatches as {numref}`fig-carvalho-appendix-3b-transformer`, one row of panels per training-set size: accuracy against the optimizer step (log scale) on the training set, the test set, and the test samples of the subsampled subclasses alone, one colour per factor $f$. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test panels start at the median step at which training converged for each $f$.", "name": "fig-carvalho-appendix-3b-mlp"}}
curves("equidistant", "mlp")

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Transformer on the equivariant dataset (Fig. 4), one row of panels per training-set size: accuracy against the optimizer step (log scale) on the training set, the test set, and the test samples of the subsampled subclasses alone, one colour per factor $f$. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test panels start at the median step at which training converged for each $f$.", "name": "fig-carvalho-appendix-4-transformer"}}
curves("equivariant", "transformer")

# %% tags=["remove-input"] mystnb={"figure": {"caption": "MLP on the same equivariant training sets, steps and minibatches as {numref}`fig-carvalho-appendix-4-transformer`, one row of panels per training-set size: accuracy against the optimizer step (log scale) on the training set, the test set, and the test samples of the subsampled subclasses alone, one colour per factor $f$. Lines: mean over seeds; bands: ±1 standard deviation over seeds; test panels start at the median step at which training converged for each $f$.", "name": "fig-carvalho-appendix-4-mlp"}}
curves("equivariant", "mlp")

# %% [markdown]
# ## Definition 3.1, per condition
#
# See [Fig. 3b](fig3b_equidistant.ipynb) for the columns and how Definition 3.1 is read.

# %% tags=["remove-input"]
report.def31_table(df, by=["dataset", "model", "n_train", "f"])

# %% [markdown]
# How many runs grok under this reading, under the earlier one ($\alpha_0$ where training
# converged) and with each threshold halved and doubled (the thresholds are listed on the
# [Fig. 3b](fig3b_equidistant.ipynb) page):

# %% tags=["remove-input"]
report.def31_sensitivity_table(df, by="model")

# %% [markdown]
# ## Verdicts
#
# The Fig. 3b and Fig. 4 claims are judged with the same rules as on their own pages
# (`grokpaper/carvalho/claims.py`), once for the transformer and once for the MLP on the same data;
# the architecture claim is *supported* if every claim gets the same verdict for both models
# (*partly*: at least half of them). If the transformer's mean final test accuracy trails the
# MLP's by more than 0.2 (`claims.WEAK_GAP`), it has not learned the task at this scale and its
# verdicts are *inconclusive* rather than evidence against the paper.

# %% tags=["remove-input"]
def judge(model: str) -> list:
    d = df[df["model"] == model]
    label = "transformer" if model == "transformer" else "MLP, same data"
    return (claims.carvalho_fig3b(d[d["dataset"] == "equidistant"], page=PAGE,
                                  figure=f"App. A: Fig. 3b ({label})")
            + claims.carvalho_fig4(d[d["dataset"] == "equivariant"], page=PAGE,
                                   figure=f"App. A: Fig. 4 ({label})"))


final = analysis.mean_final_test(df, "model")
found_t, found_m = judge("transformer"), judge("mlp")
found_t = claims.demote_if_weak(found_t, final=final["transformer"], reference=final["mlp"])
both = claims.carvalho_architectures(found_m, found_t, page=PAGE)
verdicts.record(PAGE, [*found_t, both], profile=profile)
display(Markdown(verdicts.as_markdown([*found_t, both])))
display(pd.DataFrame({"claim": [v.claim for v in found_t],
                      "transformer": [v.verdict for v in found_t],
                      "MLP (same data)": [v.verdict for v in found_m]}))

# %% [markdown]
# ## Provenance

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(df, params=params, profile=profile)))
