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
# # The two synthetic datasets
#
# {cite:t}`carvalho2025grokking` build every dataset from $2^9 = 512$ *base distributions*
# (App. A). A sample is 9 blocks of 13 dimensions ($x \in \mathbb{R}^{117}$); base distribution
# $\mathcal{D}_j$ draws block $i$ from one of two Gaussians $d_i^0, d_i^1$ chosen by bit $i$ of
# $j$, with $\lVert\mu_i^0 - \mu_i^1\rVert = 1$ and a shared covariance. Two base
# distributions are therefore as far apart as their codes differ in bits: the centroid
# distance is $\sqrt{\text{Hamming distance}}$. A *subclass* is one base distribution and a
# *class* is a union of subclasses.
#
# - **Equidistant** (dataset 1, App. A.1): 4 classes x 2 subclasses, the 8 codes taken from a
#   clique of the Hamming-distance-2 graph, so *every* pair of subclasses, in the same class or
#   not, is equally far apart. A subclass missing from training has no closer relative in its
#   own class than in the others.
# - **Equivariant** (dataset 2, App. A.2): 4 classes x 10 subclasses, a centre code (the
#   Hamming-6 clique {63, 240, 323, 396}) and its 9 neighbours at distance 1; subclasses of one
#   class are at most 2 apart, subclasses of different classes at least 4.
#
# This page draws both datasets with the code the chapters train on
# (`grokpaper/carvalho/data.py`); nothing is trained here.

# %% tags=["parameters"]
profile = "quick"
per_subclass = None  # samples per subclass for the pictures (None: the profile's)
noise = 0.25  # per-dim std of the blocks, as in every chapter
geometry_seed = 0

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import Markdown, display

from grokpaper.carvalho import data as syn
from grokpaper.carvalho import plots as sp
from grokpaper.core import report

if per_subclass is None:
    per_subclass = {"smoke": 5, "quick": 60, "paper": 120}[profile]
base = syn.make_base_distributions(noise=noise, random_state=geometry_seed)
layouts = {name: syn.layout(name) for name in syn.DATASETS}

# %% [markdown]
# ## Distances between subclasses
#
# {numref}`fig-carvalho-datasets-distances`, left: Hamming distance between the subclass
# codes (the paper's $D$); right: Euclidean distance between the subclass centroids in
# $\mathbb{R}^{117}$. Subclasses are in class-major order; white lines separate classes.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Distances between the subclasses of the equidistant (top) and equivariant (bottom) datasets. Left: Hamming distance between the 9-bit subclass codes; right: Euclidean distance between the subclass centroids in $\\mathbb{R}^{117}$. Subclasses in class-major order; white lines separate classes.", "name": "fig-carvalho-datasets-distances"}}
fig, axes = plt.subplots(2, 2, figsize=(10, 9))
for row, (name, lay) in zip(axes, layouts.items(), strict=True):
    ham, euc = sp.centroid_distances(lay, base)
    small = lay.n_subclasses <= 10
    sp.plot_distance_matrix(row[0], ham, lay, title=f"{name}: Hamming distance of codes",
                            annotate=small, fmt="{:.0f}")
    sp.plot_distance_matrix(row[1], euc, lay, title=f"{name}: centroid distance",
                            annotate=small)
fig.tight_layout()
plt.show()

# %% tags=["remove-input"]
rows = []
for name, lay in layouts.items():
    ham, euc = sp.centroid_distances(lay, base)
    cls = lay.subclass_labels().numpy()
    same = (cls[:, None] == cls[None, :]) & ~torch.eye(len(cls), dtype=torch.bool).numpy()
    other = cls[:, None] != cls[None, :]
    rows.append({"dataset": name, "subclasses": lay.n_subclasses,
                 "within a class (min–max)": f"{euc[same].min():.2f}–{euc[same].max():.2f}",
                 "across classes (min–max)": f"{euc[other].min():.2f}–{euc[other].max():.2f}"})
display(report.html_table(pd.DataFrame(rows)))

# %% [markdown]
# The equidistant dataset's 8 centroids are all $\sqrt 2$ apart: a regular simplex, which no
# 2-D picture can show faithfully. In the equivariant dataset the within-class distances
# ($1$ or $\sqrt 2$) are all smaller than the across-class ones ($\geq 2$), the paper's
# condition for subclasses of one class to "carry information" about each other.

# %% [markdown]
# ## A sample, projected on its two principal components
#
# In {numref}`fig-carvalho-datasets-pca`, colour and marker shape = class, lighter shades =
# later subclasses of the class. Hollow markers are the subclasses that the chapters subsample
# with the factor $f$ (half of each class's subclasses: 1 of 2, or 5 of 10); at $f = 0$ they
# are absent from training but still make up half of the balanced test set.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "One sample of each dataset, equidistant (left) and equivariant (right), projected on its first two principal components. Colour and marker shape = class, lighter shades = later subclasses of a class; hollow markers = the subclasses subsampled by the factor $f$.", "name": "fig-carvalho-datasets-pca"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
g = torch.Generator().manual_seed(1)
for ax, (name, lay) in zip(axes, layouts.items(), strict=True):
    sub = torch.arange(lay.n_subclasses).repeat_interleave(per_subclass)
    x = syn.sample(base, lay.codes()[sub], generator=g)
    half = min(len(c) for c in lay.classes) // 2
    sp.plot_pca(ax, sp.pca_2d(x), sub.numpy(), lay, title=f"{name} ({len(sub)} samples)",
                subsampled=syn.subsampled_mask(lay, half))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Eq. (1): how many samples each subclass gets
#
# For a training set of $\gamma_D$ samples in which $\gamma_s$ subclasses are subsampled by
# the factor $f$ and the $\gamma_r$ others are not, the paper's Eq. (1) gives every subsampled
# subclass $s_s$ samples and every other one $s_r$:
#
# $$
# s_s = \left\lfloor \frac{f\gamma_D}{f\gamma_s + \gamma_r} \right\rfloor, \qquad
# s_r = \left\lfloor \frac{\gamma_D}{f\gamma_s + \gamma_r} \right\rfloor.
# $$ (eq-carvalho-f)
#
# We hand out the few samples the floors of {eq}`eq-carvalho-f` lose so that the total is
# exactly $\gamma_D$ (which also reproduces the paper's own example, 84 and 416 for
# $\gamma_D = 2000$, $f = 0.2$, $\gamma_s = \gamma_r = 4$).

# %% tags=["remove-input"]
def span(counts: list[int]) -> str:
    """``"5"`` or ``"5–6"``: the range of per-subclass sample counts."""
    return f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"


rows = []
for name, lay in layouts.items():
    half = min(len(c) for c in lay.classes) // 2
    mask = syn.subsampled_mask(lay, half)
    for n in (100, 2000):
        for f in (0.0, 0.01, 0.05, 0.2, 1.0):
            counts = syn.subsample_counts(n, f, mask)
            sub = [c for c, m in zip(counts, mask, strict=True) if m]
            rest = [c for c, m in zip(counts, mask, strict=True) if not m]
            rows.append({"dataset": name, "gamma_D": n, "f": f,
                         "per subsampled subclass": span(sub), "per other subclass": span(rest)})
display(report.html_table(pd.DataFrame(rows)))

# %% [markdown]
# With 100 samples the equivariant dataset has only 2–5 samples per subclass, and every
# $f \leq 0.2$ leaves a single sample per subsampled subclass after rounding; these cells
# are where the paper expects grokking to be most intense.

# %% tags=["remove-input"]
display(Markdown(f"Drawn with `noise = {noise}`, `geometry_seed = {geometry_seed}`, "
                 f"{per_subclass} samples per subclass (profile `{profile}`)."))
