"""Verdicts on the Li & Sakib report's claims about the trained weights: loss landscapes around
the optima (Fig. 5, Table 4) and attention-weight norms (Figs. 6-8, Sec. 3.4).

Written as :mod:`grokpaper.lisakib.claims` (thresholds fixed here, ``measured`` one line,
``detail`` per condition, ``decide`` when inconclusive).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core.divergence import excluding
from grokpaper.core.verdicts import (
    INCONCLUSIVE,
    MOST,
    NOT_SUPPORTED,
    Verdict,
    ladder,
    share_verdict,
)
from grokpaper.lisakib.claims import make_verdict as verdict_of
from grokpaper.lisakib.experiments import THRESHOLD

#: A norm "falls" after its peak if the peak exceeds the final norm by this factor.
PEAK_FALL = 1.05
#: "much larger": ratio of median peak norms, grokking over the other runs.
LARGER = 1.2
#: "more uneven" / "considerably flatter": the median loss range around grokking optima is at
#: least this many times that around the others (the report saw up to 8x), with
#: MIN_PER_CLASS runs each.
UNEVEN = 2.0
MIN_PER_CLASS = 2
#: Table 4's non-grokking optima "fail to reach 95% accuracy in both training and validation";
#: we count such a run as an optimum if it fits at least this share of its training set.
#: Below it the weights sit near the uniform-prediction point, flat whatever the run.
LEARNED = 0.5
#: "about half": the delay ratio of weight decay 2 to 1 lies in this range.
HALF = (0.35, 0.65)


def _range_ratios(table: pd.DataFrame, other: pd.Series, name: str
                  ) -> tuple[list[float], bool, list[str]]:
    """Per normalization: median loss range of grokking runs over that of the ``other`` runs;
    whether every ratio rests on MIN_PER_CLASS runs a side; one text per normalization."""
    ratios, enough, parts = [], True, []
    grokking = table["li_class"] == "grokking"
    for norm in dict.fromkeys(table["normalization"]):
        here = table["normalization"] == norm
        grok, rest = table[grokking & here]["range"], table[other & here]["range"]
        text = (f"{norm}: median range {grok.median():.3g} (grokking, n = {len(grok)}), "
                f"{rest.median():.3g} ({name}, n = {len(rest)})")
        if len(grok) and len(rest):
            ratios.append(grok.median() / rest.median())
            enough &= min(len(grok), len(rest)) >= MIN_PER_CLASS
            text += f", ratio {ratios[-1]:.2f} (largest / smallest {grok.max() / rest.min():.1f})"
        parts.append(text)
    return ratios, enough and bool(ratios), parts


def _ratio_verdict(ratios: list[float], enough: bool) -> str:
    # Clearly larger under every normalization on enough runs: supported; larger under some
    # (or on a single run per class): partly.
    return ladder(decidable=bool(ratios), all_met=enough and all(r >= UNEVEN for r in ratios),
                  some_met=any(r > 1 for r in ratios))


def _ratios_text(table: pd.DataFrame, ratios: list[float]) -> str:
    norms = list(dict.fromkeys(table["normalization"]))
    return ", ".join(f"{n} {r:.2f}" for n, r in zip(norms, ratios, strict=False))


@excluding
def landscapes(table: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 5: loss ranges around grokking vs comprehension optima, per normalization.

    Confusion runs are judged separately (:func:`failing_flatter`)."""
    ratios, enough, parts = _range_ratios(table, table["li_class"] == "comprehension",
                                          "comprehension")
    return [verdict_of(
        "Fig. 5",
        "Grokking optima are surrounded by a more uneven loss landscape than non-grokking "
        "(comprehension) ones; the loss range can be eight times larger.",
        _ratio_verdict(ratios, enough),
        f"median loss range, grokking / comprehension: {_ratios_text(table, ratios) or '-'}.",
        page,
        detail="; ".join(parts) + f". 'More uneven' means a median ratio >= {UNEVEN:g} under "
               f"every normalization with >= {MIN_PER_CLASS} runs per class.",
        decide="no grokking or no comprehension run among the landscapes: more runs (batch "
               "sizes or operations that comprehend and grok).")]


@excluding
def failing_flatter(table: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Table 4 (row 2) and Sec. 3.3: optima that reach 95% on neither set are still flatter
    than grokking optima. Runs that fit less than :data:`LEARNED` of their training set are
    left out: they sit near the uniform prediction, flat whatever the run."""
    failing = (table["final_train_acc"] < THRESHOLD) & (table["final_val_acc"] < THRESHOLD)
    learned = failing & (table["final_train_acc"] >= LEARNED)
    ratios, enough, parts = _range_ratios(table, learned, "failing both")
    n_chance = int((failing & ~learned).sum() / max(table["normalization"].nunique(), 1))
    return [verdict_of(
        "Table 4",
        "Even non-grokking optima that reach 95% accuracy on neither training nor validation "
        "have a considerably flatter landscape than grokking optima.",
        _ratio_verdict(ratios, enough),
        f"median loss range, grokking / failing both: {_ratios_text(table, ratios) or '-'}.",
        page,
        detail="; ".join(parts) + f". Failing both: final training and validation accuracy "
               f"< {THRESHOLD:.0%}, with training accuracy >= {LEARNED:.0%} ({n_chance} runs "
               f"below it left out). 'Considerably flatter' means a median ratio >= {UNEVEN:g} "
               f"under every normalization with >= {MIN_PER_CLASS} runs per class.",
        decide="no grokking run, or no run that fits part of its training set without reaching "
               "95% on either set: more runs (small batches, large weight decays).")]


def _delay_or_budget(g: pd.DataFrame) -> float:
    # A run whose validation accuracy never reaches 95% is delayed by at least the rest of the
    # budget: count it as budget - t_train95 (a lower bound) so that "longer" comparisons stay
    # meaningful. NaN if training accuracy never reaches 95% either.
    d = g["delay"].where(np.isfinite(g["delay"]), g["budget"] - g["t_train95"])
    return float(d.mean())


@excluding
def larger_norms(fracs: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 6: the Q/K/V norm peaks higher in runs that grok than in runs that do not."""
    grok = fracs[fracs["li_class"] == "grokking"]["qkv_peak"]
    other = fracs[fracs["li_class"] != "grokking"]["qkv_peak"]
    decidable = len(grok) > 0 and len(other) > 0
    ratio = grok.median() / other.median() if decidable else np.nan
    return [verdict_of(
        "Fig. 6",
        "The Q/K/V norms take much larger values during training when grokking happens than "
        "when it does not.",
        ladder(decidable=decidable, all_met=ratio >= LARGER, some_met=ratio > 1),
        f"median peak norm ratio, grokking / other runs: {ratio:.2f}.", page,
        detail=f"median peak norm {grok.median():.2f} in {len(grok)} grokking runs vs "
               f"{other.median():.2f} in {len(other)} others; 'much larger' means a ratio >= "
               f"{LARGER}.",
        decide="no grokking run, or no other run, among the training fractions: more steps or "
               "fractions on both sides of grokking.")]


def in_pre_grokking(df: pd.DataFrame) -> pd.Series:
    """Runs whose Q/K/V norm peaks in the pre-grokking stage: after training accuracy reached
    95% (so it kept growing once the training set was fitted) and before validation accuracy
    does. A norm that only decays from its initial value peaks at step 0: not counted."""
    return (df["qkv_peak_step"] > df["t_train95"]) & (df["qkv_peak_step"] < df["t_val95"])


@excluding
def norms(wd: pd.DataFrame, everything: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Figs. 6-8: norm peaks in the pre-grokking stage and falls; weight decay 2 halves the
    delay of 1; small weight decay delays; too much stalls learning."""
    grok = everything[everything["li_class"] == "grokking"]
    ok = in_pre_grokking(grok) & (grok["qkv_peak"] > PEAK_FALL * grok["qkv_final"])
    out = [verdict_of(
        "Figs. 6-8",
        "The Q/K/V norm grows during the pre-grokking stage and falls as validation accuracy "
        "rises.",
        share_verdict(int(ok.sum()), len(grok), supported_from=MOST),
        f"{int(ok.sum())}/{len(grok)} grokking runs peak in the pre-grokking stage and fall.",
        page,
        detail=f"Peak after training and before validation accuracy reach 95%, and a final "
               f"norm >= {PEAK_FALL - 1:.0%} below the peak, in {int(ok.sum())} of "
               f"{len(grok)} grokking runs (peak steps: "
               f"{', '.join(f'{s:,.0f}' for s in grok['qkv_peak_step']) or '-'}).",
        decide="no run of this page groks: more steps or a setting that groks.")]
    by = {w: g for w, g in wd.groupby("weight_decay")}
    out.append(_half_delay(by, page))
    out.append(_smaller_longer(by, page))
    if len(by) >= 2:
        out.append(_too_much(by, page))
    return out


def _half_delay(by: dict[float, pd.DataFrame], page: str) -> Verdict:
    claim = "Weight decay 2 has about half the grokking delay of weight decay 1."
    if 1.0 not in by or 2.0 not in by:
        return verdict_of("Fig. 8", claim, INCONCLUSIVE, "weight decay 1 or 2 not run.", page,
                          decide="run weight decays 1 and 2.")
    g1, g2 = by[1.0], by[2.0]
    d1 = float(g1["delay"].mean())
    if not np.isfinite(d1) or d1 <= 0:
        return verdict_of(
            "Fig. 8", claim, INCONCLUSIVE, "weight decay 1 has no positive delay to halve.",
            page, detail=f"weight decay 1: delays {', '.join(f'{d:,.0f}' for d in g1['delay'])}"
                         " steps (nan: validation never reached 95%).",
            decide="more steps (weight decay 1 must reach 95% validation accuracy late).")
    if g2["t_train95"].isna().all():
        return verdict_of(
            "Fig. 8", claim, NOT_SUPPORTED, "weight decay 2 never fits the training set.", page,
            detail=f"weight decay 1: mean delay {d1:,.0f} steps; weight decay 2 never reaches "
                   f"95% training accuracy (final {g2['final_train_acc'].mean():.2f}), so it "
                   "has no delay to halve.")
    d2 = _delay_or_budget(g2)
    censored = not np.isfinite(g2["delay"]).all()
    ratio = d2 / d1
    detail = (f"mean delay {d1:,.0f} steps at weight decay 1, {d2:,.0f} at 2 (ratio "
              f"{ratio:.2f}{', a lower bound' if censored else ''}); 'about half' means a ratio "
              f"in [{HALF[0]}, {HALF[1]}].")
    if censored and ratio < 1:
        return verdict_of("Fig. 8", claim, INCONCLUSIVE,
                          f"delay ratio 2 / 1 at least {ratio:.2f}.", page, detail=detail,
                          decide="weight decay 2 has not generalized by the end of the budget: "
                                 "more steps.")
    return verdict_of("Fig. 8", claim,
                      ladder(all_met=HALF[0] <= ratio <= HALF[1] and not censored,
                             some_met=ratio < 1),
                      f"delay ratio, weight decay 2 / 1: {ratio:.2f}.", page, detail=detail)


def _smaller_longer(by: dict[float, pd.DataFrame], page: str) -> Verdict:
    small = sorted(w for w in by if w <= 1.0)
    delays = [_delay_or_budget(by[w]) for w in small]
    grokked = [bool(np.isfinite(by[w]["delay"]).all()) for w in small]
    decided = len(delays) >= 2 and bool(np.all(np.isfinite(delays))) and any(grokked)
    longer = decided and delays[0] > delays[-1]
    mono = longer and all(a >= b for a, b in zip(delays, delays[1:], strict=False))
    text = ", ".join(f"{w:g}: {d:,.0f}" for w, d in zip(small, delays, strict=True))
    return verdict_of(
        "Fig. 7", "Below 1, a smaller weight decay gives a longer grokking delay.",
        ladder(decidable=decided, all_met=mono, some_met=longer),
        f"mean delay by weight decay: {text or '-'}.", page,
        detail=f"Mean delay (steps) by weight decay up to 1: {text or '-'}; a run that never "
               "reaches 95% validation accuracy counts to the end of the budget (a lower "
               "bound). Supported when the delay never grows with the weight decay and the "
               "smallest has the longest.",
        decide="fewer than two weight decays up to 1 fit the training set, or none of them "
               "groks: more steps.")


def _too_much(by: dict[float, pd.DataFrame], page: str) -> Verdict:
    top, low = by[max(by)], by[min(by)]
    # Fitting is reaching 95% at all (t_train95 / t_val95, as in _half_delay), not the last
    # evaluation of a curve that a batch of 32 makes swing by 0.1-0.5 once fitted (measured on
    # the quick pages): kept low means never reaching 95% on either set.
    stalled = top["t_train95"].isna() & top["t_val95"].isna()
    learned = bool(low["t_train95"].notna().all())
    return verdict_of(
        "Fig. 8", "Too much weight decay keeps training and validation accuracy low.",
        # Only meaningful if a smaller weight decay did learn.
        ladder(decidable=learned, all_met=stalled.all(), some_met=stalled.any()),
        f"weight decay {max(by):g}: final train {top['final_train_acc'].mean():.2f}, "
        f"validation {top['final_val_acc'].mean():.2f}.", page,
        detail=f"{int(stalled.sum())}/{len(top)} runs at weight decay {max(by):g} never reach "
               f"{THRESHOLD:.0%} on either set; at weight decay {min(by):g} "
               f"{int(low['t_train95'].notna().sum())}/{len(low)} runs reach {THRESHOLD:.0%} "
               f"training accuracy (final {low['final_train_acc'].mean():.2f}).",
        decide=f"the smallest weight decay ({min(by):g}) does not fit the training set either: "
               "more steps.")


@excluding
def early_signal(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Sec. 3.4's suggestion: the norm peak as a predictor of grokking."""
    grok = df[df["li_class"] == "grokking"]
    ok = in_pre_grokking(grok)
    lead = (grok["t_val95"] - grok["qkv_peak_step"])[ok]
    return [verdict_of(
        "Sec. 3.4",
        "The attention-weight norm may predict grokking: it peaks before validation accuracy "
        "improves.",
        share_verdict(int(ok.sum()), len(grok), supported_from=MOST),
        f"{int(ok.sum())}/{len(grok)} grokking runs peak in the pre-grokking stage.", page,
        detail=f"{int(ok.sum())} of the {len(grok)} grokking runs of the sweep peak after "
               f"training and before validation accuracy reach 95%, median lead "
               f"{lead.median() if len(lead) else np.nan:,.0f} steps before validation.",
        decide="no run of the sweep groks: more steps or a setting that groks.")]
