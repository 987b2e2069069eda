"""Verdicts of the cross-examination, with their rules fixed here.

The yardstick question, per family of runs: *do the three definitions of grokking call the
same runs grokking?* Runs that no definition calls grokking agree trivially (a run that never
fits its training set is "no grokking" to all three), so the rule reads the *contested* runs,
those at least one definition calls grokking: the definitions agree on the family when at
least :data:`~grokpaper.core.verdicts.MOST` of them are called grokking by all three
(*supported*), partly when some are, not when none is; with no contested run there is nothing
to decide (*inconclusive*).
"""

from __future__ import annotations

import pandas as pd

from grokpaper.core import divergence
from grokpaper.core.studies import CROSS
from grokpaper.core.verdicts import MOST, Verdict, share_verdict
from grokpaper.cross.yardstick import DEFINITIONS, agreement

YARDSTICK = "One yardstick"


@divergence.excluding
def yardstick(judged: pd.DataFrame, *, families: list[str], page: str) -> list[Verdict]:
    """One verdict per family in ``families`` (in that order) from the judged runs
    (:func:`grokpaper.cross.yardstick.judge_runs`); a family without stored runs is
    *inconclusive* (its chapters have not run)."""
    table = agreement(judged).set_index("family") if len(judged) else pd.DataFrame()
    out = []
    for family in families:
        claim = (f"{', '.join(DEFINITIONS[:-1])} and {DEFINITIONS[-1]} call the same {family} "
                 f"runs grokking.")
        label = f"{YARDSTICK}: {family}"
        if family not in table.index:
            out.append(Verdict(CROSS.name, label, claim, "no stored run of this family",
                               share_verdict(0, 0, supported_from=MOST), page,
                               decide="run the chapters that train these runs under this "
                                      "profile, then this page"))
            continue
        row = table.loc[family]
        n, n_any, n_all = int(row["runs"]), int(row["any grokking"]), int(row["all three"])
        counts = ", ".join(f"{d} {int(row[d])}" for d in DEFINITIONS)
        agree = f"all three agree on {int(row['agree'])} of {n} runs"
        measured = (f"{n_all} of {n_any} runs called grokking by any are called so by all "
                    f"three; {agree}" if n_any else
                    f"no run is called grokking by any definition; {agree}")
        verdict = share_verdict(n_all, n_any, supported_from=MOST)
        out.append(Verdict(
            CROSS.name, label, claim, measured, verdict, page,
            detail=f"{n} runs; grokking by {counts}",
            decide="" if n_any else (f"no run of the {n} grokked by any definition: longer "
                                     f"budgets (the paper profile) would give contested runs")))
    return out
