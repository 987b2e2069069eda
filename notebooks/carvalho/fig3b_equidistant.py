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
# # Fig. 3b: equidistant subclasses (placeholder)
#
# PLACEHOLDER written by the runner/book engineer so that the book builds; the real chapter
# replaces this file.

# %% tags=["parameters"]
profile = "quick"

# %%
from grokpaper.verdicts import Verdict, record

record("carvalho/fig3b_equidistant", [Verdict(
    paper="Carvalho et al. 2025", figure="Fig. 3b",
    claim="Placeholder claim | with a pipe.", measured="nothing yet",
    verdict="inconclusive", page="carvalho/fig3b_equidistant")], profile=profile)
print("profile:", profile)
