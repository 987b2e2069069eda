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
# The table below collects every verdict of the profile this book was built with; the figure
# links lead to the evidence. To rebuild the book from a fresh clone (CPU, `quick` profile):
# `make book`; every page records the profile and parameters it ran with.
#
# ## Claims and verdicts

# %% tags=["parameters"]
profile = "quick"

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
from collections import Counter
from pathlib import Path

from IPython.display import Markdown

from grokpaper.core.studies import STUDIES
from grokpaper.core.verdicts import load_all


def cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def figure_link(figure: str, page: str) -> str:
    """``[Fig. 3b](carvalho/fig3b_equidistant.ipynb)`` when that page exists next to this one."""
    target = Path(f"{page}.ipynb")
    return f"[{cell(figure)}]({target.as_posix()})" if target.exists() else cell(figure)


def tally(rows: list) -> str:
    """``3 claim(s); 1 not supported, 2 supported``."""
    counts = Counter(v.verdict for v in rows)
    return f"{len(rows)} claim(s); " + ", ".join(f"{n} {name}"
                                                for name, n in sorted(counts.items()))


verdicts = load_all(profile=profile)  # rows in the papers' order, as the book's parts
if verdicts:
    lines = [f"Profile `{profile}`: {tally(verdicts)}.", ""]
    for study in STUDIES:
        rows = [v for v in verdicts if v.paper == study.name]
        if rows:
            lines.append(f"- {{cite:t}}`{study.key}`: {tally(rows)}.")
    lines += [
        "",
        "| Paper | Figure | Claim | Measured | Verdict |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {cell(v.paper)} | {figure_link(v.figure, v.page)} | {cell(v.claim)} "
        f"| {cell(v.measured)} | **{cell(v.verdict)}** |"
        for v in verdicts
    ]
    summary = Markdown("\n".join(lines))
else:
    summary = Markdown(
        f"No verdicts have been recorded for profile `{profile}` yet: run the chapters first "
        f"(`grokpaper run --profile {profile}`)."
    )
summary
