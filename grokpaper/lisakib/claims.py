"""Verdicts on the Li & Sakib report's transformer claims (Sec. 3), computed from our runs.

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.
Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
Each verdict carries a one-line ``measured`` (the landing page), the per-condition ``detail``
(the chapter page) and, when inconclusive, what would ``decide`` it. The claims about the
trained weights (landscapes, attention norms) are in :mod:`grokpaper.lisakib.claims_weights`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core import bootstrap
from grokpaper.core.divergence import excluding
from grokpaper.core.studies import LISAKIB
from grokpaper.core.verdicts import (
    MAJORITY,
    MOST,
    Verdict,
    judged,
    ladder,
    share_verdict,
)
from grokpaper.lisakib.experiments import DELAY_GAP

#: The validation loss "increases" in the pre-grokking stage if, between training and
#: validation accuracy reaching 95%, it climbs at least this factor above its value when
#: training accuracy reached 95% (see :func:`loss_rises`).
LOSS_RISE = 1.10
#: Table 1 as the report prints it: the sign of each correlation with the delay. The init
#: scale's -0.001 is read with its text, "appears to have no impact on Transformer models"
#: (0: no correlation); the learning rate's -0.063 is a printed minus.
REPORT_SIGNS = {"batch_size": +1, "noise": +1, "init_scale": 0, "lr": -1, "weight_decay": -1}
#: "No impact": the correlation's whole 95% interval lies within +-NEAR_ZERO. Lenient by the
#: report's own scale (it reads -0.063 as a sign, 0.123 as a correlation); even so, an interval
#: that narrow around 0 takes several hundred runs (half-width about 2 / sqrt(runs)).
NEAR_ZERO = 0.1
#: Fewest runs with a defined delay for a correlation verdict.
MIN_RUNS = 8
#: Fig. 3's "rather than": the validation side's share of the spread of delays exceeds half.
VALIDATION_SHARE = 0.5
#: The comprehension band of Fig. 4 (training-set size / batch size).
BAND = (20.0, 800.0)
AGREES, DISAGREES, UNDECIDED = "agrees", "disagrees", "undecided"


def make_verdict(figure: str, claim: str, verdict: str, measured: str, page: str, *,
                 detail: str = "", decide: str = "") -> Verdict:
    """A Li & Sakib verdict; ``decide`` is kept for an inconclusive one only, and required."""
    return judged(LISAKIB.name, figure, claim, verdict, measured, page, detail=detail,
                  decide=decide)


def too_short(df: pd.DataFrame) -> str:
    """Why the runs' budget cannot show a grokking delay ('' if it can): a run of at most
    :data:`DELAY_GAP` steps has no room for a delay of :data:`DELAY_GAP` steps."""
    budget = int(df["budget"].max()) if len(df) else 0
    if budget > DELAY_GAP:
        return ""
    return (f"a {budget:,}-step budget has no room for a {DELAY_GAP:,}-step delay: more steps "
            "(the paper profile runs 10,000)")


def _delays(g: pd.DataFrame) -> str:
    return ", ".join("not reached" if not np.isfinite(d) else f"{d:,.0f} steps"
                     for d in g["delay"])


@excluding
def curves(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Figs. 2, 11, 12: every operation groks; the validation loss rises before grokking."""
    parts, n_ok = [], 0
    for op, g in df.groupby("op", sort=False):
        n_ok += (g["li_class"] == "grokking").mean() >= MAJORITY
        parts.append(f"x {op} y: delay {_delays(g)} ({', '.join(g['li_class'])})")
    n_ops = df["op"].nunique()
    short = too_short(df)
    first = make_verdict(
        "Figs. 2, 11, 12",
        "With a 30/70 split, the transformer groks on each operation: validation accuracy "
        "reaches 95% more than 1,000 steps after training accuracy.",
        ladder(decidable=n_ops > 0 and not short, all_met=n_ok == n_ops, some_met=n_ok > 0),
        f"{n_ok}/{n_ops} operations grok (in at least half of their seeds).", page,
        detail="; ".join(parts) + ".", decide=short or "no run: run at least one operation.")
    grok = df[df["li_class"] == "grokking"]
    rises = [loss_rises(row) for _, row in grok.iterrows()]
    second = make_verdict(
        "Figs. 2, 11, 12",
        "The validation loss increases in the pre-grokking stage, while training accuracy is "
        "high and validation accuracy low.",
        share_verdict(sum(rises), len(rises), supported_from=MOST),
        f"the validation loss rises in {sum(rises)}/{len(rises)} grokking runs.", page,
        detail=f"Between training and validation accuracy reaching 95%, the validation loss "
               f"climbs >= {LOSS_RISE - 1:.0%} above its value when training reached 95% in "
               f"{sum(rises)} of the {len(rises)} runs that grok (of {len(df)} runs).",
        decide=short or "no run groks, so there is no pre-grokking stage: more steps or a "
                        "setting that groks.")
    return [first, second]


def loss_rises(row: pd.Series) -> bool:
    """Whether the validation loss climbs by :data:`LOSS_RISE` over its value at the step where
    training accuracy reached 95%, before validation accuracy does (the pre-grokking stage);
    False if the run has no such stage (either accuracy never reaches 95%)."""
    s, t0, t1 = row["steps"], row["t_train95"], row["t_val95"]
    if not (np.isfinite(t0) and np.isfinite(t1)) or t1 <= t0:
        return False
    start = int(np.searchsorted(s, t0))
    window = row["test_loss"][start:int(np.searchsorted(s, t1))]
    return bool(window.size and window.max() >= LOSS_RISE * row["test_loss"][start])


def sign_agreement(parameter: str, low: float, high: float) -> str:
    """Whether our correlation's 95% interval [low, high] agrees with the sign the report
    prints for ``parameter`` (:data:`REPORT_SIGNS`). A signed correlation counts only when the
    interval excludes 0; "no impact" holds when the interval lies within +-:data:`NEAR_ZERO`
    and fails when it excludes 0 (a correlation that counts)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return UNDECIDED
    want = REPORT_SIGNS[parameter]
    if want == 0:
        if low >= -NEAR_ZERO and high <= NEAR_ZERO:
            return AGREES
        return DISAGREES if low > 0 or high < 0 else UNDECIDED
    if low > 0 or high < 0:
        return AGREES if np.sign(low) == want else DISAGREES
    return UNDECIDED


def _corr_text(r: pd.Series) -> str:
    return (f"{r['parameter']} {r['ours (Pearson)']:+.2f} [{r['ci low']:+.2f}, "
            f"{r['ci high']:+.2f}] (report {r['report (Pearson)']:+.3f}): {r['agreement']}")


def _too_few(n_delays: int) -> str:
    """What would decide a claim read from the sweep's delays when it has fewer than
    :data:`MIN_RUNS`."""
    if n_delays == 0:
        # More runs of a scale where none groks add no delay: it is the scale that is short.
        return ("no run groks within its budget, so more runs at this scale add nothing: the "
                "report's scale (the paper profile) would decide it.")
    return (f"only {n_delays} runs with a delay (a verdict needs {MIN_RUNS}): more runs (the "
            "paper profile's grid has 1,350).")


def correlations(table: pd.DataFrame, *, n_defined: int, page: str) -> list[Verdict]:
    """Table 1: the sign of each correlation with the delay, and batch size strongest.

    ``table`` is :func:`grokpaper.lisakib.report.correlation_table` (Pearson's r, its
    bootstrap interval ``ci low``/``ci high`` and the ``agreement`` of each row)."""
    agree = table["agreement"].tolist()
    n_agree, n_dis = agree.count(AGREES), agree.count(DISAGREES)
    enough = n_defined >= MIN_RUNS
    detail = "; ".join(_corr_text(r) for _, r in table.iterrows()) + "."
    decide = (_too_few(n_defined) if not enough
              else "no 95% interval decides a sign: more runs (the paper profile's grid has "
                   "1,350).")
    signs = make_verdict(
        "Table 1",
        "Correlation with the grokking delay: batch size +, noise +, init scale about 0, "
        "learning rate -, weight decay -.",
        # Partly: more rows agree than contradict (undecided rows count for neither).
        ladder(decidable=enough and n_agree + n_dis > 0, all_met=n_agree == len(table),
               some_met=n_agree > n_dis),
        f"{n_agree}/{len(table)} as printed, {n_dis} opposite, "
        f"{len(table) - n_agree - n_dis} undecided ({n_defined} runs).", page,
        detail=f"Pearson's r with its bootstrap 95% interval: {detail} A signed correlation "
               f"counts when its interval excludes 0; 'about 0' when it lies within "
               f"+-{NEAR_ZERO}.",
        decide=decide)
    t = table.set_index("parameter")
    counts = t["ci low"].gt(0) | t["ci high"].lt(0)
    strongest = t["ours (Pearson)"].abs().idxmax() if t["ours (Pearson)"].notna().any() else ""
    batch_up = bool(t.loc["batch_size", "ci low"] > 0)
    strongest_text = (f"largest |r|: {strongest} ({t.loc[strongest, 'ours (Pearson)']:+.2f})"
                      if strongest else "no correlation defined")
    batch = make_verdict(
        "Table 1",
        "Batch size shows the highest correlation with the delay (smaller batches, shorter "
        "delays).",
        ladder(decidable=enough and bool(counts.any()),
               all_met=batch_up and strongest == "batch_size", some_met=batch_up),
        f"{strongest_text}; batch size r {t.loc['batch_size', 'ours (Pearson)']:+.2f}.", page,
        detail=f"Batch size r {t.loc['batch_size', 'ours (Pearson)']:+.2f} "
               f"[{t.loc['batch_size', 'ci low']:+.2f}, {t.loc['batch_size', 'ci high']:+.2f}]"
               f"; correlations that count (interval excludes 0): "
               f"{', '.join(counts[counts].index) or 'none'}.",
        decide=decide)
    return [signs, batch]


def validation_share(delay: np.ndarray, val: np.ndarray) -> np.ndarray:
    """cov(delay, val) / var(delay) along the last axis: the share of the spread of delays
    that comes from when validation accuracy reaches 95% (the rest, -cov(delay, train) /
    var(delay), from when training does, since delay = val - train)."""
    d = delay - delay.mean(-1, keepdims=True)
    v = val - val.mean(-1, keepdims=True)
    var = (d**2).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, (d * v).sum(-1) / np.where(var > 0, var, 1.0), np.nan)


@excluding
def late_validation(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 3: long delays come from late validation, not from early training (Sec. 3.1)."""
    ok = df[np.isfinite(df["delay_epochs"].astype(float))]
    d, v = (ok[c].to_numpy(float) for c in ("delay_epochs", "epoch_val95"))
    t = ok["epoch_train95"].to_numpy(float)
    share = float(validation_share(d, v)) if len(ok) else np.nan
    lo, hi = bootstrap.ci(validation_share, d, v)
    decided = len(ok) >= MIN_RUNS and (lo > VALIDATION_SHARE or hi < VALIDATION_SHARE)
    r_v, r_t = (float(bootstrap.pearson(d, x)) if len(ok) > 1 else np.nan for x in (v, t))
    return [make_verdict(
        "Fig. 3",
        "Long grokking delays come from late validation-accuracy improvement, not from early "
        "training-accuracy improvement.",
        ladder(decidable=decided, all_met=lo > VALIDATION_SHARE, some_met=False),
        f"validation's share of the delays' spread {share:.2f} [{lo:.2f}, {hi:.2f}] "
        f"({len(ok)} runs)." if len(ok) > 1 else "fewer than two runs with a delay.", page,
        detail=f"delay = epoch(validation 95%) - epoch(training 95%) over {len(ok)} runs with a "
               f"delay; cov(delay, validation epoch) / var(delay) = {share:.2f}, bootstrap 95% "
               f"interval [{lo:.2f}, {hi:.2f}] (the training side's share is 1 minus it); "
               f"Pearson r(delay, validation epoch) {r_v:+.2f}, r(delay, training epoch) "
               f"{r_t:+.2f}. Supported when the interval lies above {VALIDATION_SHARE}, not "
               "supported when below.",
        decide=_too_few(len(ok)) if len(ok) < MIN_RUNS
        else f"the interval holds {VALIDATION_SHARE}: more runs (the paper profile's grid has "
             "1,350).")]


def _rank_corr(df: pd.DataFrame, x: str, y: str, within: str) -> float:
    """Mean over groups of equal ``within`` of the Spearman correlation of ``x`` and ``y``
    (the other factor held fixed); NaN if no group has two values of ``x``."""
    rhos = []
    for _, g in df.groupby(within):
        d = g[[x, y]].astype(float).dropna()
        if d[x].nunique() > 1 and d[y].nunique() > 1:
            rhos.append(d[x].corr(d[y], method="spearman"))
    return float(np.mean(rhos)) if rhos else np.nan


@excluding
def batch_size_table(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Table 2 and Fig. 4: epochs vs steps, and the comprehension band of the ratio."""
    signs = {("batch_size", "t_train95"): -1, ("batch_size", "epoch_train95"): 1,
             ("n_train", "t_train95"): 1, ("n_train", "epoch_train95"): -1}
    other = {"batch_size": "n_train", "n_train": "batch_size"}
    rho = {k: _rank_corr(df, *k, within=other[k[0]]) for k in signs}
    ok = sum(np.isfinite(v) and np.sign(v) == s for (k, s), v in
             zip(signs.items(), rho.values(), strict=True))
    defined = sum(np.isfinite(v) for v in rho.values())
    table2 = make_verdict(
        "Table 2",
        "A larger batch and a smaller training set take more epochs but fewer steps to reach "
        "95% training accuracy.",
        ladder(decidable=defined == 4, all_met=ok == 4, some_met=ok >= 2),
        f"{ok}/4 rank correlations with the claimed sign.", page,
        detail="Spearman over runs reaching 95% training accuracy, each factor with the other "
               "held fixed (mean over its values): "
               + "; ".join(f"rho({a}, {b}) = {v:+.2f}" for (a, b), v in rho.items()) + ".",
        decide=f"{4 - defined} of the 4 correlations undefined (fewer than two values reach "
               "95% training accuracy): more sizes or batch sizes that train.")
    ratio = df["n_train"] / df["batch_size"]
    comp = ratio[df["li_class"] == "comprehension"]
    in_band = ((comp >= BAND[0]) & (comp <= BAND[1])).mean() if len(comp) else np.nan
    med = {c: ratio[df["li_class"] == c].median() for c in ("grokking", "comprehension",
                                                            "confusion")}
    order = med["grokking"] < med["comprehension"] < med["confusion"]
    has_comp = len(comp) > 0
    short = too_short(df)
    band = make_verdict(
        "Fig. 4",
        "Comprehension lies where training-set size / batch size is about 20-800, between "
        "confusion and grokking.",
        # No comprehension run at all (in a budget that could show one) counts against.
        ladder(decidable=len(df) > 0 and not short,
               all_met=has_comp and in_band >= MOST and order,
               some_met=has_comp and (in_band > 0 or order)),
        (f"{in_band:.0%} of {len(comp)} comprehension runs in [20, 800]" if has_comp else
         "no comprehension run") + f"; class order {'as claimed' if order else 'not as claimed'}.",
        page,
        detail="median ratio by class: " + ", ".join(
            f"{c} {v:.0f}" for c, v in med.items() if np.isfinite(v))
               + f" (claimed: grokking < comprehension < confusion); supported when >= "
                 f"{MOST:.0%} of comprehension runs lie in the band and the order holds.",
        decide=short or "no run: run the grid.")
    return [table2, band]
