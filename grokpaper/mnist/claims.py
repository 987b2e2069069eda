"""Verdicts of the MNIST chapters (Liu et al. Fig. 8, Li & Sakib Table 3, Carvalho et al.).

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

from grokpaper.carvalho.claims import LATE_GAIN, grokking_met, late_gain
from grokpaper.core import phases
from grokpaper.core.divergence import excluding
from grokpaper.core.studies import CARVALHO, LISAKIB, LIU
from grokpaper.core.verdicts import MAJORITY, Verdict, ladder

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


@excluding
def liu_fig8_curves(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Omnigrok MNIST run: memorize early, generalize much later while the norm shrinks."""
    d = outcomes(df, memorized=0.99)  # "~100%"
    d["rho"] = [_norm_rho(r) for _, r in d.iterrows()]
    parts, full = [], []
    for _, r in d.iterrows():
        fitted = r["t_mem"] is not None
        late = fitted and (r["t_half"] or 0) >= MUCH_LATER * r["t_mem"]
        shrinks = fitted and (r["weight_norm"][-1]
                              < r["weight_norm"][np.searchsorted(r["steps"], r["t_mem"])])
        full.append(r["outcome"] == "grokking" and late and shrinks and r["rho"] <= NORM_RHO)
        parts.append(_seed_text(r, late))
    # Inconclusive when no run fits the training set (such a run meets no clause above); a late
    # rise short of every clause is partial.
    verdict = ladder(decidable=not d["t_mem"].isna().all(), all_met=np.mean(full) >= MAJORITY,
                     some_met=_nanmean(d["gain"].astype(float)) >= LATE_GAIN)
    return [Verdict(
        paper=LIU.name, figure="Fig. 8 (left)",
        claim="On MNIST (1,000 training images, init scale 8, MSE, AdamW), training accuracy "
              "reaches ~100% early while test accuracy rises much later, as the weight norm "
              "shrinks.",
        measured=f"{_budget(df)}: " + "; ".join(parts) + ".", verdict=verdict, page=page)]


def liu_fig8_phases(grid: pd.DataFrame, *, page: str) -> list[Verdict]:
    """The four phases appear on the lr x weight-decay plane (majority phase per cell)."""
    cells = grid.to_numpy(dtype=object)
    counts = Counter(cells.ravel().tolist())
    ok, sandwich = phases.sandwiched(cells)
    present = [p for p in phases.PHASES if counts[p]]
    verdict = ladder(all_met=len(present) == len(phases.PHASES),
                     some_met="grokking" in present and len(present) >= 2)
    text = ", ".join(f"{counts[p]} {p}" for p in phases.PHASES)
    if counts[phases.DIVERGED]:  # cells whose every seed diverged: counted apart, no phase
        text += f"; {counts[phases.DIVERGED]} {phases.DIVERGED} (left out)"
    return [Verdict(
        paper=LIU.name, figure="Fig. 8 (right)",
        claim="Varying learning rate and weight decay on MNIST gives the four phases: "
              "comprehension, grokking, memorization and confusion.",
        measured=f"{cells.size} cells: {text}; {sandwich} (grokking between comprehension "
                 f"and memorization: {'yes' if ok else 'no'}).",
        verdict=verdict, page=page)]


def _budget(df: pd.DataFrame) -> str:
    return f"after {int(max(s[-1] for s in df['steps'])):,} steps"


def row_outcomes(df: pd.DataFrame) -> pd.Series:
    """Majority outcome over seeds per Table 3 row (ties go to the earlier of OUTCOMES)."""
    def major(s: pd.Series) -> str:
        c = Counter(s)
        return max(OUTCOMES, key=lambda o: (c[o], -OUTCOMES.index(o)))
    return df.groupby("row", sort=False)["outcome"].agg(major)


def _removes(base: str, rows: dict[str, str], *, what: str) -> tuple[str, str]:
    seen = "; ".join(f"{k}: {v}" for k, v in rows.items())
    text = f"baseline (1K, MSE, AdamW, init 8): {base}; {seen}"
    if base != "grokking":
        text += (f". The baseline did not grok within this budget, so whether {what} removes "
                 "grokking cannot be told")
    groks = [v == "grokking" for v in rows.values()]
    return ladder(decidable=base == "grokking", all_met=not any(groks),
                  some_met=not all(groks)), text


@excluding
def lisakib_table3(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Augmentation, cross-entropy and a small init each remove grokking; batch size does not.
    ``df`` has one row per run with a ``row`` column (Table 3 row) and :func:`outcomes`."""
    out = row_outcomes(df).to_dict()
    base = out.get("1K (original)", "missing")
    verdicts = []
    specs = [
        ("augmentation", [f"augmentation {s}" for s in ("0.2", "0.3", "1.0")],
         "Small image augmentations (sigma >= 0.2: rotation up to 6 degrees and a blur of std "
         "0.1) remove grokking on MNIST."),
        ("cross-entropy", ["cross-entropy"],
         "Switching the loss from MSE to cross-entropy removes grokking: test accuracy rises "
         "as fast as training accuracy."),
        ("a small init scale", ["init scale 0.1"],
         "An initialization scale of 0.1 instead of 8 removes grokking."),
    ]
    for what, names, claim in specs:
        rows = {n: out[n] for n in names if n in out}
        if not rows:
            continue
        verdict, text = _removes(base, rows, what=what)
        verdicts.append(Verdict(paper=LISAKIB.name, figure="Table 3", claim=claim,
                                measured=f"{_budget(df)}: {text}.", verdict=verdict, page=page))
    batch = {n: out[n] for n in ("batch 32", "batch 128", "batch 1024") if n in out}
    if batch:
        seen = "; ".join(f"{k}: {v}" for k, v in batch.items())
        same = [v == "grokking" for v in batch.values()]
        verdicts.append(Verdict(
            paper=LISAKIB.name, figure="Table 3",
            claim="Batch size (32, 128, 1024 instead of 200) does not change MNIST grokking.",
            measured=f"{_budget(df)}: baseline: {base}; {seen}.",
            verdict=ladder(decidable=base == "grokking", all_met=all(same), some_met=any(same)),
            page=page))
    return verdicts


@excluding
def carvalho_mnist(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Downsampled latent clusters (f > 0) grok by Definition 3.1; the random subsample not."""
    parts, shares = [], {}
    for cond, g in df.groupby("condition", sort=False):
        share = float(g["def31_grokked"].mean())
        shares[cond] = share
        gain = _nanmean(late_gain(g))
        final = np.mean([c[-1] for c in g["test_acc"]])
        parts.append(f"{cond}: {int(g['def31_grokked'].sum())}/{len(g)} grok, {gain:+.3f} "
                     f"test acc after convergence, final test acc {final:.3f}")
    pos = df[(df["condition"] != "random (balanced)") & (df["f"] > 0)]
    pos_shares = [shares[c] for c in pos["condition"].unique()]
    gains = [_nanmean(late_gain(g)) for _, g in pos.groupby("condition")]
    rand = shares.get("random (balanced)", 0.0)
    every, some = grokking_met(pos_shares, gains)
    verdict = ladder(all_met=every and rand < MAJORITY, some_met=some)
    return [Verdict(
        paper=CARVALHO.name, figure="MNIST (Sec. 1)",
        claim="A distribution shift induced on MNIST by downsampling clusters of a ResNet's "
              "latent space (f > 0) produces grokking (compared with a random subsample).",
        measured=f"{_budget(df)}: " + "; ".join(parts) + ".", verdict=verdict, page=page)]
