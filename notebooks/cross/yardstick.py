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
# # One yardstick: every run judged by all three definitions
#
# The three studies do not mean the same thing by *grokking*. Carvalho et al.
# {cite}`carvalho2025grokking` define it by the shape of the test curve (Definition 3.1),
# Li & Sakib {cite}`lisakib_ece826` by a delay between the steps at which training and test
# accuracy reach 95%, and Liu et al. {cite}`liu2022towards` by a phase rule on the steps at
# which they reach 90%. Each chapter judges its own runs by its own paper's definition. Here
# every run the book's chapters trained is read back from the store (nothing is retrained) and
# judged by all three:

# %% tags=["parameters"]
profile = "quick"

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from grokpaper.core import divergence, verdicts
from grokpaper.cross import claims, stored, yardstick
from grokpaper.cross import report as cross_report

PAGE = "cross/yardstick"
found = stored.collect(profile)
runs, no_test = stored.with_test_curve(found.runs)
judged = yardstick.judge_runs(runs)
kept, gone = divergence.split(judged)
glue("profile", profile, display=False)

# %% tags=["remove-input"]
display(Markdown(cross_report.definitions_markdown()))

# %% [markdown]
# Two of the rules use a gap of fixed steps, as their authors state them, whatever a run's
# budget: a run of a few thousand steps has little room for a 1,000-step delay, which is one
# reason the definitions can disagree on the short budgets of the `smoke` and `quick`
# profiles.
#
# Some chapters also read a claim with a looser rule of their own, which is not one of the
# three. Li & Sakib's MNIST Table 3 counts a row as grokking when its test accuracy gains at
# least 0.10 after the training set is fitted, half of it more than 1,000 steps later
# (`grokpaper/mnist/claims.py`), so that page can count grokking rows among MNIST runs that
# none of the three definitions calls grokking: such a late gain need reach neither the 95 %
# of the delay rule nor, within the budget, the plateau and support of Definition 3.1.
#
# ## The runs read
#
# Each figure's parameters are resolved under this page's profile and its runs looked up in the
# store; a figure whose chapter has not run under the profile is listed as *not run* and left
# out (run it, then this page, e.g. `grokpaper run --profile quick`).

# %% tags=["remove-input"]
display(cross_report.coverage_table(found))
display(Markdown(
    f"{len(found.runs)} distinct runs with accuracy curves are stored; {len(no_test)} have no "
    f"test set (left out), {len(gone)} diverged (left out of the tables and verdicts)."))

# %% [markdown]
# ## Agreement per study
#
# Per family of runs: how many each definition calls grokking, how many all three agree on,
# and, of the *contested* runs (those at least one definition calls grokking), how many all
# three call grokking.

# %% tags=["remove-input"]
if kept.empty:
    display(Markdown("No stored run to judge: run the chapters under this profile first."))
else:
    display(cross_report.agreement_table(kept))
    display(yardstick.patterns(kept))

# %% [markdown]
# ## Where they disagree
#
# {numref}`fig-cross-disagree` shows the first few disagreeing runs of each family, titled
# with the definitions that call them grokking and Liu's phase; dotted lines mark 90% and 95%.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Accuracy of runs on which the three definitions disagree (training dashed, test solid), by family; each title says which definitions call the run grokking, and its phase by Liu's rule.", "name": "fig-cross-disagree"}}
fig = cross_report.disagreement_figure(kept)
if fig is None:
    fig, ax = plt.subplots(figsize=(4, 1))
    ax.axis("off")
    ax.text(0.5, 0.5, "no disagreeing run", ha="center", va="center")
plt.show()

# %% [markdown]
# ## Verdict
#
# Computed with the rule fixed in `grokpaper/cross/claims.py`: per family, the definitions
# agree (*supported*) when at least 70% of the contested runs are called grokking by all
# three, *partly* when some are, *not supported* when none is; a family with no contested run
# (or no stored run) is *inconclusive*.

# %% tags=["remove-input"]
found_verdicts = claims.yardstick(judged, families=list(stored.family_names()), page=PAGE)
display(verdicts.publish(PAGE, found_verdicts, profile=profile))

# %% [markdown]
# ## Discussion
#
# The definitions differ in what they look at. Definition 3.1 asks for a *plateau*: the test
# curve must sit low for a while after training converged, then rise for good, to wherever
# its high region lies. The two step rules ask only for a lag between two threshold
# crossings, at fixed levels. So a run whose test accuracy creeps up with training and
# reaches 95% a thousand steps after the training set is grokking to Li & Sakib and to Liu
# but not to Carvalho et al. (no plateau); a run that sits low, then jumps late to a level
# under 90% groks by Definition 3.1 alone (the step rules never see the test curve arrive);
# and Li & Sakib's and Liu's rules, which differ only in their thresholds (95% vs 90%),
# disagree on runs whose test accuracy ends between the two. Definition 3.1 also needs the
# training curve to *converge*: every point of its final stretch within 2% of its limit. A
# training accuracy that wobbles by more than that, as minibatch training with a large
# learning rate or weight decay can make it, is no converged curve, so Definition 3.1 calls
# such a run no grokking however late its test curve rises (the column *Def. 3.1: train not
# converged* counts them). The test cases of `tests/test_cross_yardstick.py` are these
# curves. Which of them the book's runs are, per family, is in the tables above: a claim that
# "X groks" in one chapter holds under the other studies' definitions only where this page's
# agreement is high.
