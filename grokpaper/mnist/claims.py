"""Verdicts of the MNIST chapters (Liu et al. Fig. 8, Carvalho et al.) and the per-run outcome
rule Li & Sakib's Table 3 uses (its verdicts: :mod:`grokpaper.mnist.lisakib_claims`).

Kept apart from :mod:`grokpaper.carvalho.claims` (which the other chapters share) but written
the same way: every threshold is fixed here, before looking at a run, and printed on the page.


Per-run outcome on MNIST (:func:`outcome`). Test accuracy with 1,000 training images tops out
near 90%, so a fixed test threshold (Li & Sakib use 95% for transformers) would call every run
"no grokking"; the rule is relative to each run instead:

- ``t_mem``: first step with training accuracy >= ``MEMORIZED``; none: *not fit*.
- ``gain``: final test accuracy minus test accuracy at t_mem.
- gain >= ``GROK_GAIN``: ``delay`` = first step at which test accuracy has made half of that
  gain, minus t_mem; *grokking* if delay > ``GROK_DELAY`` (Li & Sakib's 1,000 steps), else
  *normal*.
- smaller gain: *normal* if the final test accuracy is >= ``NORMAL_TEST`` (it generalized along
  with training), else *memorization* (test accuracy stayed low within the budget).

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from grokpaper.carvalho.rules import (
    LATE_GAIN,
    conditions,
    grokking_counts,
    grokking_verdict,
    no_convergence,
    on_late_gain_alone,
)
from grokpaper.core import phases
from grokpaper.core.divergence import excluding
from grokpaper.core.studies import CARVALHO, LIU
from grokpaper.core.verdicts import (
    INCONCLUSIVE,
    MAJORITY,
    NOT_SUPPORTED,
    PARTLY,
    SUPPORTED,
    Verdict,
    ladder,
)

MEMORIZED = 0.95  # training accuracy that counts as fitted
GROK_GAIN = 0.10  # test accuracy gained after fitting that counts as late generalization
GROK_DELAY = 1000  # steps; "grokking delay > 1000 steps" (Li & Sakib Sec. 3.2)
NORMAL_TEST = 0.7  # final test accuracy of a run that generalized with training
MUCH_LATER = 5.0  # Omnigrok claim: the test rise is half done >= 5x later than memorization
NORM_RHO = -0.5  # Spearman rho(weight norm, test acc) after memorization: "as the norm shrinks"
OUTCOMES = ("grokking", "normal", "memorization", "not fit")


def _nanmean(values: object) -> float:
    """Mean of the finite values, NaN (without a warning) when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else np.nan


def outcome(steps: np.ndarray, train: np.ndarray, test: np.ndarray, *,
            memorized: float = MEMORIZED) -> dict:
    """The module docstring's rule for one run: t_mem, gain, delay, t_half and the outcome."""
    steps, train, test = (np.asarray(a, float) for a in (steps, train, test))
    hit = np.flatnonzero(train >= memorized)
    end = float(test[-1])
    if not hit.size:
        return {"t_mem": None, "test_at_mem": None, "test_end": end, "gain": None,
                "t_half": None, "delay": None, "outcome": "not fit"}
    i = int(hit[0])
    at_mem = float(test[i])
    gain = end - at_mem
    t_half = delay = None
    if gain >= GROK_GAIN:
        j = i + int(np.flatnonzero(test[i:] >= at_mem + gain / 2)[0])
        t_half = float(steps[j])
        delay = t_half - float(steps[i])
        kind = "grokking" if delay > GROK_DELAY else "normal"
    else:
        kind = "normal" if end >= NORMAL_TEST else "memorization"
    return {"t_mem": float(steps[i]), "test_at_mem": at_mem, "test_end": end, "gain": gain,
            "t_half": t_half, "delay": delay, "outcome": kind}


def outcomes(df: pd.DataFrame, **kw: float) -> pd.DataFrame:
    """:func:`outcome` of every row of ``df`` (columns steps, train_acc, test_acc) as columns."""
    rows = [outcome(s, a, b, **kw) for s, a, b in
            zip(df["steps"], df["train_acc"], df["test_acc"], strict=True)]
    return pd.concat([df.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


def _norm_rho(row: pd.Series) -> float:
    if row["t_mem"] is None or not np.isfinite(row["t_mem"]):
        return np.nan
    after = row["steps"] >= row["t_mem"]
    if after.sum() < 3:
        return np.nan
    ranks = [pd.Series(row[k][after]).rank().to_numpy() for k in ("weight_norm", "test_acc")]
    if min(np.ptp(r) for r in ranks) == 0:
        return np.nan  # a constant curve has no rank correlation
    return float(np.corrcoef(*ranks)[0, 1])  # Spearman's rho: Pearson on ranks


def _seed_text(r: pd.Series, late: bool) -> str:
    t_mem = "never" if r["t_mem"] is None else f"step {r['t_mem']:.0f}"
    half = "" if r["t_half"] is None else (
        f", half of the rise done at step {r['t_half']:.0f}" + ("" if late else " (< 5x later)"))
    at_mem = "–" if r["test_at_mem"] is None else f"{r['test_at_mem']:.2f}"
    return (f"seed {r['seed']}: train >= 99% at {t_mem}; test {at_mem} then, "
            f"{r['test_end']:.2f} at the end{half}; weight norm {r['weight_norm'][0]:.0f} -> "
            f"{r['weight_norm'][-1]:.0f}, Spearman rho(norm, test) after memorization "
            f"{r['rho']:+.2f}")


def _fig8_seed(r: pd.Series) -> tuple[bool | None, bool]:
    """(whether the seed shows the claim, None when its run cannot tell; whether test accuracy
    rose late). A seed that never fits cannot tell; nor can one without a rise yet whose run
    stopped before MUCH_LATER x its memorization step (a late rise had no time to show)."""
    if r["t_mem"] is None:
        return None, False
    late = r["t_half"] is not None and r["t_half"] >= MUCH_LATER * r["t_mem"]
    if r["t_half"] is None and r["steps"][-1] < MUCH_LATER * r["t_mem"]:
        return None, False
    shrinks = r["weight_norm"][-1] < r["weight_norm"][np.searchsorted(r["steps"], r["t_mem"])]
    return bool(r["outcome"] == "grokking" and late and shrinks and r["rho"] <= NORM_RHO), late


@excluding
def liu_fig8_curves(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Omnigrok MNIST run: memorize early, generalize much later while the norm shrinks.
    Seeds that cannot tell (:func:`_fig8_seed`) are left out; none left: *inconclusive*."""
    d = outcomes(df, memorized=0.99)  # "~100%"
    d["rho"] = [_norm_rho(r) for _, r in d.iterrows()]
    seeds = [_fig8_seed(r) for _, r in d.iterrows()]
    told = [met for met, _ in seeds if met is not None]
    gains = d["gain"][[met is not None for met, _ in seeds]].astype(float)
    # A late rise short of every clause is partial.
    verdict = ladder(decidable=bool(told), all_met=bool(told) and np.mean(told) >= MAJORITY,
                     some_met=any(told) or _nanmean(gains) >= LATE_GAIN)
    n_fit = int(d["t_mem"].notna().sum())
    return [Verdict(
        paper=LIU.name, figure="Fig. 8 (left)",
        claim="On MNIST (1,000 training images, init scale 8, MSE, AdamW), training accuracy "
              "reaches ~100% early while test accuracy rises much later, as the weight norm "
              "shrinks.",
        measured=f"{sum(told)}/{len(told)} seeds grok {MUCH_LATER:g}x after memorizing while the "
                 f"norm shrinks; {n_fit}/{len(d)} fit the training set.",
        detail=f"{_budget(df)}: " + "; ".join(_seed_text(r, late) for (_, r), (_, late)
                                             in zip(d.iterrows(), seeds, strict=True)) + ".",
        verdict=verdict, page=page,
        decide="" if told else
        f"No seed fits its training set early enough to show a rise {MUCH_LATER:g}x later "
        f"within {_budget(df).removeprefix('after ')}: more steps (the quick or paper profile).")]


def liu_fig8_phases(grid: pd.DataFrame, *, page: str) -> list[Verdict]:
    """The four phases appear on the lr x weight-decay plane (majority phase per cell); a grid
    on which no cell fits its training set decides nothing."""
    cells = grid.to_numpy(dtype=object)
    counts = Counter(cells.ravel().tolist())
    ok, sandwich = phases.sandwiched(cells)
    present = [p for p in phases.PHASES if counts[p]]
    learned = phases.learned_any(cells)
    verdict = ladder(decidable=learned, all_met=len(present) == len(phases.PHASES),
                     some_met="grokking" in present and len(present) >= 2)
    return [Verdict(
        paper=LIU.name, figure="Fig. 8 (right)",
        claim="Varying learning rate and weight decay on MNIST gives the four phases: "
              "comprehension, grokking, memorization and confusion.",
        measured=f"{len(present)} of 4 phases on {cells.size} cells: "
                 + ", ".join(f"{counts[p]} {p}" for p in phases.PHASES)
                 # cells whose every seed diverged: counted apart, no phase
                 + (f"; {counts[phases.DIVERGED]} {phases.DIVERGED} (left out)"
                    if counts[phases.DIVERGED] else "") + ".",
        detail=f"{sandwich} (grokking between comprehension and memorization: "
               f"{'yes' if ok else 'no'}).",
        verdict=verdict, page=page,
        decide="" if learned else "No cell fits its training set within the budget: more "
                                  "steps (the quick or paper profile).")]


def _budget(df: pd.DataFrame) -> str:
    return f"after {int(max(s[-1] for s in df['steps'])):,} steps"


@excluding
def carvalho_mnist(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Downsampled latent clusters (f > 0) grok by Definition 3.1; the random subsample not.

    *Supported*: every f > 0 condition groks (at least half its seeds) and the random subsample
    does not; *partly*: some f > 0 condition groks, or every one gains ``LATE_GAIN`` test
    accuracy after training converged while the random subsample does not; *inconclusive*
    without an f > 0 condition whose training converged
    (:func:`grokpaper.carvalho.rules.grokking_verdict`).
    """
    shifted = df[(df["condition"] != "random (balanced)") & (df["f"] > 0)]
    conds = conditions(shifted, ["condition"])
    rand = conditions(df[df["condition"] == "random (balanced)"], [])
    rand_groks = any(c.groks for c in rand)
    verdict = grokking_verdict(conds)
    if verdict == SUPPORTED and rand_groks:
        verdict = PARTLY  # grokking without the shift too: the shift is not what produces it
    # The claim is a comparison ("compared with a random subsample"): a late gain short of
    # grokking that the random subsample makes as well is not produced by the shift.
    rand_gain = _nanmean([c.gain for c in rand if c.decidable])
    if on_late_gain_alone(conds) and rand_gain >= LATE_GAIN:
        verdict = NOT_SUPPORTED
    finals = {c: float(np.mean([x[-1] for x in g["test_acc"]]))
              for c, g in df.groupby("condition", sort=False)}
    detail = "; ".join(f"{c.text()}, final test acc {finals[c.label]:.3f}"
                       for c in conditions(df, ["condition"]))
    rand_text = (f"; random subsample: {rand[0].grokked}/{rand[0].runs} grok" if rand else "")
    shifted_gain = _nanmean([c.gain for c in conds if c.decidable])
    if np.isfinite(shifted_gain) and np.isfinite(rand_gain):
        rand_text += f"; late gain f > 0 {shifted_gain:+.2f}, random {rand_gain:+.2f}"
    return [Verdict(
        paper=CARVALHO.name, figure="MNIST (Sec. 1)",
        claim="A distribution shift induced on MNIST by downsampling clusters of a ResNet's "
              "latent space (f > 0) produces grokking (compared with a random subsample).",
        measured=f"f > 0: {grokking_counts(conds)}{rand_text}", verdict=verdict, page=page,
        detail=f"{_budget(df)}: {detail}.",
        decide="" if verdict != INCONCLUSIVE else no_convergence(df))]
