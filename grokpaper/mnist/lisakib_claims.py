"""Verdicts on Li & Sakib's MNIST claims: each row of Table 3, and "the transformer is more
prone to grokking than the MLP" (Sec. 1, Q5), judged on the MNIST chapter's runs.

Each run is classified by :func:`grokpaper.mnist.claims.outcome` (Li & Sakib's 1,000-step
delay, with a test level relative to the run because MNIST test accuracy with 1,000 images
cannot reach their 95%). A row *groks* if at least half of its seeds do.

A row's verdict has two parts: its "Grokking?" mark, and its comment where the comment says
something measurable against the baseline row (the Omnigrok setup): "Grokking Faster, Train
slower", "Slower", "Lower Acc", "Exactly Same", "Normal Results". A run that does not grok
says nothing about a change unless the baseline groks within the same budget (for the baseline
itself: unless the run had the Omnigrok budget), so such a row is *inconclusive*. A matching
mark with a comment that does not hold (or cannot be checked) is *partly supported*.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from grokpaper.core import bootstrap
from grokpaper.core.divergence import excluding
from grokpaper.core.studies import LISAKIB
from grokpaper.core.verdicts import (
    INCONCLUSIVE,
    MAJORITY,
    NOT_SUPPORTED,
    PARTLY,
    SUPPORTED,
    Verdict,
    ladder,
)
from grokpaper.mnist.claims import GROK_DELAY, OUTCOMES
from grokpaper.mnist.experiments import OMNIGROK_TRAIN, TABLE3

BASELINE = TABLE3[0][0]  # "1K (original)": the Omnigrok setup
#: "Exactly Same": the row's delay within this factor of the baseline's either way (delays
#: are compared as ratios: on MNIST they span decades of steps).
SAME_FACTOR = 2.0
#: The budget in which the report's baseline (Fig. 9, Omnigrok's run) groks: "100,000 steps".
OMNIGROK_STEPS = OMNIGROK_TRAIN.steps

Stats = dict[str, float]


def row_stats(df: pd.DataFrame) -> pd.DataFrame:
    """Per Table 3 row (in ``df``'s order): seeds, how many grok, whether the row groks (at least
    half of its seeds), its majority outcome and the seeds' mean t_mem, t_half, delay and final
    test accuracy. ``df`` has a ``row`` column and the columns of :func:`outcomes`."""
    rows = []
    for name, g in df.groupby("row", sort=False):
        counts = g["outcome"].value_counts()
        mean = {k: float(pd.to_numeric(g[k], errors="coerce").mean())
                for k in ("t_mem", "t_half", "delay", "test_end")}
        rows.append({"row": name, "seeds": len(g), "grokking seeds": int(counts.get("grokking", 0)),
                     "groks": counts.get("grokking", 0) / len(g) >= MAJORITY,
                     # Ties go to the earlier of OUTCOMES.
                     "outcome": max(OUTCOMES, key=lambda o: (counts.get(o, 0),
                                                             -OUTCOMES.index(o))),
                     **mean})
    return pd.DataFrame(rows).set_index("row")


def _greater(key: str) -> Callable[[pd.Series, pd.Series], bool | None]:
    """check(a, b): whether a[key] > b[key] (None if either is undefined)."""
    def check(r: pd.Series, base: pd.Series) -> bool | None:
        a, b = r[key], base[key]
        return None if not (np.isfinite(a) and np.isfinite(b)) else bool(a > b)
    return check


def _faster_train_slower(r: pd.Series, base: pd.Series) -> bool | None:
    earlier, slower = _greater("t_half")(base, r), _greater("t_mem")(r, base)
    return None if earlier is None or slower is None else earlier and slower


def _same(r: pd.Series, base: pd.Series) -> bool | None:
    if not (np.isfinite(r["delay"]) and np.isfinite(base["delay"])) or base["delay"] <= 0:
        return None
    return bool(1 / SAME_FACTOR <= r["delay"] / base["delay"] <= SAME_FACTOR)


def _normal(r: pd.Series, base: pd.Series) -> bool | None:
    return bool(r["outcome"] == "normal")


def _lower(r: pd.Series, base: pd.Series) -> bool | None:
    return _greater("test_end")(base, r)


#: Each comment of Table 3 as a check against the baseline row (None: nothing to check).
COMMENTS: dict[str, tuple[str, Callable[[pd.Series, pd.Series], bool | None]] | None] = {
    "Original Method": None,
    "Exactly Same": (f"delay within {SAME_FACTOR:g}x of the baseline's", _same),
    "Grokking Faster, Train slower": ("test rise (t_half) earlier and training (t_mem) later "
                                      "than the baseline", _faster_train_slower),
    "Normal Results": ("outcome normal (test accuracy rises with training)", _normal),
    "Test acc little slower": ("outcome normal (no late rise)", _normal),
    "Learn fast!": ("outcome normal (test accuracy rises with training)", _normal),
    "Lower Acc": ("final test accuracy below the baseline's", _lower),
    "Slower": ("test rise (t_half) later than the baseline's", _greater("t_half")),
    "A little slower": ("test rise (t_half) later than the baseline's", _greater("t_half")),
}


def _fmt(v: float, digits: int = 0) -> str:
    return "-" if not np.isfinite(v) else f"{v:,.{digits}f}"


def _numbers(r: pd.Series) -> str:
    return (f"{r['grokking seeds']}/{r['seeds']} seeds grok, outcome {r['outcome']}, t_mem "
            f"{_fmt(r['t_mem'])}, t_half {_fmt(r['t_half'])}, delay {_fmt(r['delay'])}, final "
            f"test {_fmt(r['test_end'], 3)}")


def _row_verdict(name: str, theirs: bool, comment: str, r: pd.Series, base: pd.Series | None,
                 budget: int, page: str) -> Verdict:
    if name == BASELINE:
        claim = "The Omnigrok MNIST setup (1K images, MSE, AdamW, init scale 8) groks (Fig. 9)."
        informative = bool(r["groks"]) or budget >= OMNIGROK_STEPS
        why = (f"the baseline does not grok within {budget:,} steps: more steps (Omnigrok's "
               f"{OMNIGROK_STEPS:,}, the paper profile)")
    else:
        claim = (f"{name}: the MLP {'still groks' if theirs else 'no longer groks'} "
                 f"(their comment: \"{comment}\").")
        informative = bool(r["groks"]) or (base is not None and bool(base["groks"]))
        why = (f"the baseline does not grok within {budget:,} steps, so not grokking says "
               f"nothing: more steps (Omnigrok's {OMNIGROK_STEPS:,}, the paper profile)")
    check = COMMENTS.get(comment)
    said = None if check is None or base is None else check[1](r, base)
    if not informative:
        verdict = INCONCLUSIVE
    elif bool(r["groks"]) != theirs:
        verdict = NOT_SUPPORTED
    else:
        verdict = SUPPORTED if check is None or said else PARTLY
    mark = "groks" if r["groks"] else "does not grok"
    held = {True: "holds", False: "does not hold", None: "cannot be checked"}[said]
    note = "" if check is None else f"; comment {held}"
    rule = "" if check is None else f" Comment read as: {check[0]} ({held})."
    return Verdict(paper=LISAKIB.name, figure="Table 3", claim=claim,
                   measured=f"{mark} ({r['outcome']}){note}.", verdict=verdict, page=page,
                   detail=f"{name}: {_numbers(r)}; baseline: "
                          f"{'not run' if base is None else _numbers(base)}; {budget:,} steps."
                          + rule,
                   decide=why if verdict == INCONCLUSIVE else "")


@excluding
def table3(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """One verdict per Table 3 row present in ``df`` (one row per run with a ``row`` column
    and the columns of :func:`grokpaper.mnist.claims.outcomes`), in the table's order."""
    stats = row_stats(df)
    base = stats.loc[BASELINE] if BASELINE in stats.index else None
    budget = int(max(s[-1] for s in df["steps"])) if len(df) else 0
    return [_row_verdict(name, theirs, comment, stats.loc[name], base, budget, page)
            for name, _, theirs, comment in TABLE3 if name in stats.index]


@excluding
def more_prone(transformer: pd.DataFrame, mlp: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Sec. 1, Q5: the transformer groks more readily than the MLP. The share of runs that grok
    by the report's 1,000-step criterion, over each model's hyperparameter variations (the
    transformer's Table 1 sweep, the MLP's Table 3 rows); supported when the bootstrap 95%
    interval of the difference lies above 0.

    Inconclusive while either side could not have grokked within its budget: the MLP baseline
    does not grok, or no transformer run fits its training set (a sweep that does not train at
    all would count against the claim by default).

    ``transformer`` has ``li_class``, ``t_train95`` and ``budget`` columns, ``mlp`` ``row`` and
    ``outcome``."""
    a = (transformer["li_class"] == "grokking").to_numpy(float)
    fits = int(transformer["t_train95"].notna().sum()) if len(transformer) else 0
    b = (mlp["outcome"] == "grokking").to_numpy(float)
    share_a, share_b = (float(x.mean()) if len(x) else np.nan for x in (a, b))
    diff = share_a - share_b
    lo, hi = bootstrap.share_difference_ci(a, b)
    base = mlp[mlp["row"] == BASELINE]
    base_groks = bool(len(base)) and (base["outcome"] == "grokking").mean() >= MAJORITY
    t_budget = int(transformer["budget"].max()) if len(transformer) else 0
    mlp_budget = int(max(s[-1] for s in mlp["steps"])) if len(mlp) else 0
    reasons = [
        *(["no transformer or MLP run: run both"] if not (len(a) and len(b)) else []),
        *([f"the MLP baseline does not grok within {mlp_budget:,} steps (more steps: "
           f"Omnigrok's {OMNIGROK_STEPS:,}, the paper profile)"] if not base_groks else []),
        *([f"a {t_budget:,}-step transformer budget has no room for a {GROK_DELAY:,}-step "
           "delay (more steps)"] if t_budget <= GROK_DELAY else []),
        *([f"no transformer run fits its training set within {t_budget:,} steps, so none "
           "could have grokked (the report's scale: the paper profile)"]
          if len(a) and not fits else []),
    ]
    return [Verdict(
        paper=LISAKIB.name, figure="Sec. 1 (Q5)",
        claim="Transformers are more prone to grokking than MLPs: small changes remove the MLP's "
              "grokking on MNIST, while the transformer's persists across its hyperparameters.",
        measured=f"grokking share: transformer {share_a:.0%} of {len(a)} runs ({fits} fit), MLP "
                 f"{share_b:.0%} of {len(b)}; difference {diff:+.2f} [{lo:+.2f}, {hi:+.2f}].",
        verdict=ladder(decidable=not reasons, all_met=lo > 0, some_met=diff > 0),
        page=page,
        detail=f"Transformer: the Table 1 sweep's runs ({t_budget:,} steps), grokking = "
               f"validation reaches 95% >= {GROK_DELAY:,} steps after training. MLP: every "
               f"Table 3 run ({mlp_budget:,} steps), grokking = this page's rule (a late test "
               f"gain whose half comes > {GROK_DELAY:,} steps after training reaches 95%). "
               "Difference of shares with its bootstrap 95% interval; supported when the "
               "interval lies above 0, partly when only the difference does.",
        decide="; ".join(reasons) + "." if reasons else "")]
