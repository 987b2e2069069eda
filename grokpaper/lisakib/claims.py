"""Verdicts on the Li & Sakib report's claims, computed from our runs.

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core.divergence import excluding
from grokpaper.core.studies import LISAKIB
from grokpaper.core.verdicts import (
    INCONCLUSIVE,
    MAJORITY,
    MOST,
    NOT_SUPPORTED,
    Verdict,
    ladder,
    share_verdict,
)

#: The validation loss "increases" before grokking if it rises by at least this factor over
#: its initial value while the training set is being fitted (see :func:`loss_rises`).
LOSS_RISE = 1.10
#: A correlation counts as "about zero" below this magnitude (the report's -0.001 for init).
NEAR_ZERO = 0.1
#: Fewest runs with a defined delay for a correlation verdict.
MIN_RUNS = 8
#: A norm "falls" after its peak if the peak exceeds the final norm by this factor.
PEAK_FALL = 1.05
#: "much larger": ratio of median peak norms, grokking over the other runs.
LARGER = 1.2
#: "more uneven": the median loss range around grokking optima is at least this many times
#: that around comprehension optima (the report saw up to 8x), with MIN_PER_CLASS runs each.
UNEVEN = 2.0
MIN_PER_CLASS = 2
#: "about half": the delay ratio of weight decay 2 to 1 lies in this range.
HALF = (0.35, 0.65)
#: The comprehension band of Fig. 4 (training-set size / batch size).
BAND = (20.0, 800.0)


def loss_rises(row: pd.Series) -> bool | None:
    """Whether the validation loss climbs by :data:`LOSS_RISE` over its initial value while
    training accuracy is at least half and validation accuracy has not reached 95% (the
    pre-grokking stage); None if training accuracy never gets to half."""
    s, tr = row["steps"], row["train_acc"]
    end = row["t_val95"] if np.isfinite(row["t_val95"]) else np.inf
    window = (tr >= 0.5) & (s < end)
    if not window.any():
        return None
    return bool(row["test_loss"][window].max() >= LOSS_RISE * row["test_loss"][0])


@excluding
def curves(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Figs. 2, 11, 12: every operation groks; the validation loss rises before grokking."""
    parts, grok = [], []
    for op, g in df.groupby("op", sort=False):
        grok.append((g["li_class"] == "grokking").mean())
        delays = ", ".join("never" if not np.isfinite(d) else f"{d:.0f}" for d in g["delay"])
        parts.append(f"x {op} y: delay {delays} steps ({', '.join(g['li_class'])})")
    n_ok = sum(s >= MAJORITY for s in grok)
    rises = [r for r in (loss_rises(row) for _, row in df.iterrows()) if r is not None]
    return [
        Verdict(paper=LISAKIB.name, figure="Figs. 2, 11, 12",
                claim="With a 30/70 split, the transformer groks on each operation: validation "
                      "accuracy reaches 95% more than 1,000 steps after training accuracy.",
                measured="; ".join(parts) + ".",
                verdict=ladder(all_met=n_ok == len(grok), some_met=n_ok > 0), page=page),
        Verdict(paper=LISAKIB.name, figure="Figs. 2, 11, 12",
                claim="The validation loss increases in the pre-grokking stage, while training "
                      "accuracy is high and validation accuracy low.",
                measured=f"the validation loss climbs >= {LOSS_RISE - 1:.0%} above its initial "
                         "value once training accuracy passes 50% (before validation reaches "
                         f"95%) in {sum(rises)}/{len(rises)} runs.",
                verdict=share_verdict(sum(rises), len(rises), supported_from=MOST),
                page=page),
    ]


def correlations(table: pd.DataFrame, *, n_defined: int, page: str) -> list[Verdict]:
    """Table 1: the sign of each correlation with the delay, and batch size strongest."""
    agree, parts = 0, []
    for _, r in table.iterrows():
        ours, theirs = r["ours (Pearson)"], r["report (Pearson)"]
        if abs(theirs) < NEAR_ZERO:
            ok = np.isfinite(ours) and abs(ours) < NEAR_ZERO
        else:
            ok = np.isfinite(ours) and np.sign(ours) == np.sign(theirs)
        agree += bool(ok)
        parts.append(f"{r['parameter']} {ours:+.2f} (report {theirs:+.3f})")
    enough = n_defined >= MIN_RUNS
    ours = table.set_index("parameter")["ours (Pearson)"]
    strongest = ours.abs().idxmax() if ours.notna().any() else "none"
    n = len(table)
    return [
        Verdict(paper=LISAKIB.name, figure="Table 1",
                claim="Correlation with the grokking delay: batch size +, noise +, init scale "
                      "about 0, learning rate -, weight decay -.",
                measured=f"Pearson over {n_defined} runs with a delay: " + "; ".join(parts)
                         + f" ({agree}/{n} agree in sign, or |r| < {NEAR_ZERO} for init).",
                verdict=ladder(decidable=enough, all_met=agree == n, some_met=agree >= 3),
                page=page),
        Verdict(paper=LISAKIB.name, figure="Table 1",
                claim="Batch size shows the highest correlation with the delay (smaller "
                      "batches, shorter delays).",
                measured=f"largest |r|: {strongest} ({ours.get(strongest, np.nan):+.2f}); "
                         f"batch size {ours['batch_size']:+.2f}.",
                verdict=ladder(decidable=enough,
                               all_met=strongest == "batch_size" and ours["batch_size"] > 0,
                               some_met=ours["batch_size"] > 0), page=page),
    ]


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
    text = "; ".join(f"rho({a}, {b}) = {v:+.2f}" for (a, b), v in rho.items())
    ratio = df["n_train"] / df["batch_size"]
    comp = ratio[df["li_class"] == "comprehension"]
    in_band = ((comp >= BAND[0]) & (comp <= BAND[1])).mean() if len(comp) else np.nan
    med = {c: ratio[df["li_class"] == c].median() for c in ("grokking", "comprehension",
                                                            "confusion")}
    order = med["grokking"] < med["comprehension"] < med["confusion"]
    present = [c for c, v in med.items() if np.isfinite(v)]
    # No comprehension run at all is evidence against the band, if there are runs.
    has_comp = len(comp) > 0
    band_verdict = ladder(decidable=len(df) > 0, all_met=has_comp and in_band >= MOST and order,
                          some_met=has_comp and (in_band > 0 or order))
    defined = sum(np.isfinite(v) for v in rho.values())
    return [
        Verdict(paper=LISAKIB.name, figure="Table 2",
                claim="A larger batch and a smaller training set take more epochs but fewer "
                      "steps to reach 95% training accuracy.",
                measured=f"Spearman over runs reaching 95% train, each factor with the other "
                         f"held fixed (mean over its values): {text} ({ok}/4 as claimed).",
                verdict=ladder(decidable=defined == 4, all_met=ok == 4, some_met=ok >= 2),
                page=page),
        Verdict(paper=LISAKIB.name, figure="Fig. 4",
                claim="Comprehension lies where training-set size / batch size is about "
                      "20-800, between confusion and grokking.",
                measured=f"{len(comp)} comprehension runs, {in_band:.0%} of them with a ratio "
                         f"in [20, 800]; median ratio by class: "
                         + ", ".join(f"{c} {med[c]:.0f}" for c in present)
                         + f" (order grokking < comprehension < confusion: {order}).",
                verdict=band_verdict, page=page),
    ]


@excluding
def landscapes(table: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 5: loss ranges around grokking vs comprehension optima, per normalization.

    Confusion runs that learned nothing sit at a trivially flat point (uniform predictions),
    so they are reported but not used for the verdict."""
    parts, ratios, enough = [], [], True
    for norm, g in table.groupby("normalization", sort=False):
        grok = g[g["li_class"] == "grokking"]["range"]
        comp = g[g["li_class"] == "comprehension"]["range"]
        conf = g[g["li_class"] == "confusion"]["range"]
        text = (f"{norm}: median range {grok.median():.3g} (grokking, n = {len(grok)}), "
                f"{comp.median():.3g} (comprehension, n = {len(comp)}), "
                f"{conf.median():.3g} (confusion, n = {len(conf)})")
        if len(grok) and len(comp):
            r = grok.median() / comp.median()
            ratios.append(r)
            enough &= min(len(grok), len(comp)) >= MIN_PER_CLASS
            text += f"; grokking / comprehension {r:.2f}, max {grok.max() / comp.min():.1f}"
        parts.append(text)
    # Clearly more uneven under every normalization, on enough runs: supported; only somewhat
    # (or on a single run per class): partly.
    verdict = ladder(decidable=bool(ratios), all_met=enough and all(r >= UNEVEN for r in ratios),
                     some_met=any(r > 1 for r in ratios))
    return [Verdict(paper=LISAKIB.name, figure="Fig. 5",
                    claim="Grokking optima are surrounded by a more uneven loss landscape than "
                          "non-grokking (comprehension) ones; the loss range can be eight times "
                          "larger.",
                    measured="; ".join(parts) + f" ('clearly' means a median ratio >= {UNEVEN:g} "
                             f"with >= {MIN_PER_CLASS} runs per class).",
                    verdict=verdict, page=page)]


def _delay_or_budget(g: pd.DataFrame) -> float:
    # A run whose validation accuracy never reaches 95% is delayed by at least the rest of the
    # budget: count it as budget - t_train95 so that "longer" comparisons stay meaningful.
    d = g["delay"].where(np.isfinite(g["delay"]), g["budget"] - g["t_train95"])
    return float(d.mean())


@excluding
def larger_norms(fracs: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 6: the Q/K/V norm peaks higher in runs that grok than in runs that do not."""
    grok = fracs[fracs["li_class"] == "grokking"]["qkv_peak"]
    other = fracs[fracs["li_class"] != "grokking"]["qkv_peak"]
    decidable = len(grok) > 0 and len(other) > 0
    ratio = grok.median() / other.median() if decidable else np.nan
    verdict = ladder(decidable=decidable, all_met=ratio >= LARGER, some_met=ratio > 1)
    return [Verdict(paper=LISAKIB.name, figure="Fig. 6",
                    claim="The Q/K/V norms take much larger values during training when "
                          "grokking happens than when it does not.",
                    measured=f"median peak norm {grok.median():.2f} in {len(grok)} grokking "
                             f"runs vs {other.median():.2f} in {len(other)} others (ratio "
                             f"{ratio:.2f}; 'much larger' means >= {LARGER}).",
                    verdict=verdict, page=page)]


@excluding
def norms(wd: pd.DataFrame, everything: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Figs. 6-8: norm peaks before grokking; weight decay 2 halves the delay of 1; small
    weight decay delays; too much stalls learning."""
    grok = everything[everything["li_class"] == "grokking"]
    before = (grok["qkv_peak_step"] < grok["t_val95"]) & (grok["qkv_peak"]
                                                          > PEAK_FALL * grok["qkv_final"])
    out = [Verdict(paper=LISAKIB.name, figure="Figs. 6-8",
                   claim="The Q/K/V norm grows during the pre-grokking stage and falls as "
                         "validation accuracy rises.",
                   measured=f"{int(before.sum())}/{len(grok)} grokking runs peak before "
                            f"validation reaches 95% and end >= {PEAK_FALL - 1:.0%} below "
                            "their peak.",
                   verdict=share_verdict(int(before.sum()), len(grok), supported_from=MOST),
                   page=page)]
    by = {w: g for w, g in wd.groupby("weight_decay")}
    if 2.0 in by and by[2.0]["t_train95"].isna().all():
        verdict = NOT_SUPPORTED
        measured = ("weight decay 2 never reaches 95% training accuracy within the budget (final "
                    f"{by[2.0]['final_train_acc'].mean():.2f}), so it has no delay to halve.")
    elif 1.0 in by and 2.0 in by and by[1.0]["t_train95"].notna().all():
        d1, d2 = _delay_or_budget(by[1.0]), _delay_or_budget(by[2.0])
        ratio = d2 / d1 if d1 > 0 else np.nan
        verdict = ladder(all_met=HALF[0] <= ratio <= HALF[1], some_met=ratio < 1)
        measured = (f"mean delay {d1:.0f} steps at weight decay 1, {d2:.0f} at 2 (ratio "
                    f"{ratio:.2f}; runs that never reach 95% count to the end of the budget).")
    else:
        verdict, measured = INCONCLUSIVE, "weight decay 1 or 2 missing or not trained to 95%."
    out.append(Verdict(paper=LISAKIB.name, figure="Fig. 8",
                       claim="Weight decay 2 has about half the grokking delay of weight decay 1.",
                       measured=measured, verdict=verdict, page=page))
    small = sorted(w for w in by if w <= 1.0)
    delays = [_delay_or_budget(by[w]) for w in small]
    mono = len(delays) >= 2 and all(a >= b for a, b in zip(delays, delays[1:], strict=False))
    decided = len(delays) >= 2 and bool(np.all(np.isfinite(delays)))
    out.append(Verdict(paper=LISAKIB.name, figure="Fig. 7",
                       claim="Below 1, a smaller weight decay gives a longer grokking delay.",
                       measured="mean delay by weight decay: " + ", ".join(
                           f"{w:g}: {d:.0f}" for w, d in zip(small, delays, strict=True))
                       + " (nan: training accuracy never reached 95%).",
                       verdict=ladder(decidable=decided, all_met=mono,
                                      some_met=decided and delays[0] > delays[-1]),
                       page=page))
    if len(by) >= 2:
        top, low = by[max(by)], by[min(by)]
        stalled = (top["final_train_acc"] < 0.95) & (top["final_val_acc"] < 0.95)
        learned = bool((low["final_train_acc"] >= 0.95).all())
        out.append(Verdict(paper=LISAKIB.name, figure="Fig. 8",
                           claim="Too much weight decay keeps training and validation accuracy "
                                 "low.",
                           measured=f"weight decay {max(by):g}: final train accuracy "
                                    f"{top['final_train_acc'].mean():.2f}, validation "
                                    f"{top['final_val_acc'].mean():.2f}; weight decay "
                                    f"{min(by):g}: train {low['final_train_acc'].mean():.2f}.",
                           # Only meaningful if a smaller weight decay did learn.
                           verdict=ladder(decidable=learned, all_met=stalled.all(),
                                          some_met=stalled.any()),
                           page=page))
    return out


@excluding
def early_signal(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Sec. 3.4's suggestion: the norm peak as a predictor of grokking."""
    grok = df[df["li_class"] == "grokking"]
    lead = grok["t_val95"] - grok["qkv_peak_step"]
    return [Verdict(paper=LISAKIB.name, figure="Sec. 3.4",
                    claim="The attention-weight norm may predict grokking: it peaks before "
                          "validation accuracy improves.",
                    measured=f"{int((lead > 0).sum())}/{len(grok)} grokking runs of the sweep "
                             f"peak before validation reaches 95%, median lead "
                             f"{lead.median() if len(grok) else np.nan:.0f} steps.",
                    verdict=share_verdict(int((lead > 0).sum()), len(grok), supported_from=MOST),
                    page=page)]
