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
# # grokpaper: grokking, reproduced and cross-examined
#
# *Grokking* is delayed generalization: a network fits its training set early, and its test
# accuracy jumps only much later {cite:p}`power2022grokking`. This book reruns the key
# experiments of three studies of grokking, {cite:t}`carvalho2025grokking` (grokking as a
# distribution shift between training and test data), {cite:t}`liu2022towards` (grokking as
# the slow learning of a structured representation) and {cite:t}`lisakib_ece826` (what makes
# the grokking delay long on modular arithmetic and MNIST), and checks each of their claims
# against our own measurements. Every chapter is a notebook executed from source under a
# *profile* that sets the scale (`smoke`, `quick` or `paper`); each states the paper's claim,
# what we ran (and how it is scaled down), the numbers we measured and a verdict:
# *supported*, *partly supported*, *not supported* or *inconclusive*. A claim we fail to
# reproduce is reported as such, often with the reason (a shorter budget, a smaller model).
#
# Below, for the profile this book was built with: how many claims of each study got each
# verdict, then every claim in its paper's order with our key numbers and the verdict; an
# *inconclusive* one says what would decide it. The figure links lead to the evidence, the
# numbers per condition and the rule behind the verdict. To rebuild the book from a fresh
# clone (CPU, `quick` profile): `make book`; every page records the profile and parameters it
# ran with.
#
# ## Claims and verdicts

# %% tags=["parameters"]
profile = "quick"

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
from pathlib import Path

from IPython.display import Markdown

from grokpaper.core.summary import summary_markdown
from grokpaper.core.verdicts import load_all

# Rows in the papers' order; the chapter pages lie next to this one.
Markdown(summary_markdown(load_all(profile=profile), profile=profile, root=Path()))
