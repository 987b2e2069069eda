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
# # Summary: claims and verdicts
#
# Each chapter reproduces one figure of a paper, states the paper's claim next to what our run
# measured, and gives a verdict (*supported*, *partly supported*, *not supported* or
# *inconclusive*). This page collects the verdicts of every chapter for the profile the book was
# built with; the figure links lead to the evidence.

# %% tags=["parameters"]
profile = "quick"

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
from collections import Counter
from pathlib import Path

from IPython.display import Markdown

from grokpaper.verdicts import load_all


def cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def figure_link(figure: str, page: str) -> str:
    """``[Fig. 3b](carvalho/fig3b_equidistant.ipynb)`` when that page exists next to this one."""
    target = Path(f"{page}.ipynb")
    return f"[{cell(figure)}]({target.as_posix()})" if target.exists() else cell(figure)


verdicts = load_all(profile=profile)
if verdicts:
    counts = Counter(v.verdict for v in verdicts)
    lines = [
        f"Profile `{profile}`: {len(verdicts)} claim(s); "
        + ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) + ".",
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
