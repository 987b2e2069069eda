"""Verdicts computed from measured numbers, one function per reproduced figure.

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from grokpaper.core.divergence import excluding
from grokpaper.core.report import final_value, value_at_alpha0
from grokpaper.core.studies import CARVALHO
from grokpaper.core.verdicts import (
    ALL,
    INCONCLUSIVE,
    MAJORITY,
    PARTLY,
    SUPPORTED,
    Verdict,
    combined,
    ladder,
)

#: A curve "improves after convergence" if test accuracy gains at least this much after alpha0.
LATE_GAIN = 0.05


def late_gain(df: pd.DataFrame) -> np.ndarray:
    """Test accuracy gained after training converged (final minus value at alpha0), per run."""
    final = np.array([c[-1] for c in df["test_acc"]], dtype=float)
    return final - value_at_alpha0(df, "test_acc")


def _conditions(df: pd.DataFrame, keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if k in df.columns]


def _label(key: object, by: list[str]) -> str:
    names = {"n_train": "n", "f": "f", "dataset": "", "model": ""}
    key = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{names.get(b, b)} = {v:g}" if isinstance(v, numbers.Number)
                     else str(v) for b, v in zip(by, key, strict=True))


def _grokking_parts(df: pd.DataFrame, by: list[str]) -> tuple[list[str], list[float],
                                                             list[float]]:
    """Per condition: a text, the share of seeds that grok and the mean late gain."""
    parts, shares, gains = [], [], []
    for key, g in df.groupby(by, sort=True):
        share = g["def31_grokked"].mean()
        gain = np.nanmean(late_gain(g)) if g["def31_alpha0"].notna().any() else np.nan
        shares.append(share)
        gains.append(gain)
        late = (f"{gain:+.3f} test acc after convergence" if np.isfinite(gain)
                else "training never converged")
        parts.append(f"{_label(key, by)}: {int(g['def31_grokked'].sum())}/{len(g)} grok, {late}")
    return parts, shares, gains


def grokking_met(shares: list[float], gains: list[float]) -> tuple[bool, bool]:
    """(every condition groks, some condition groks or every one improves late) from each
    condition's share of grokking seeds (a :data:`MAJORITY` groks it) and mean late gain."""
    # Late improvement without meeting every clause of Definition 3.1 counts as partial.
    return (bool(shares) and all(s >= MAJORITY for s in shares),
            any(s >= MAJORITY for s in shares)
            or (bool(gains) and all(g >= LATE_GAIN for g in gains)))


def _groks_verdict(shares: list[float], gains: list[float]) -> str:
    every, some = grokking_met(shares, gains)
    return ladder(all_met=every, some_met=some)


def delta_s_by_size(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard error and count of Delta_S per training size (undefined runs dropped)."""
    d = df.assign(delta_S=pd.to_numeric(df["def31_delta_S"], errors="coerce"))
    out = d.groupby("n_train")["delta_S"].agg(["mean", "sem", "count"])
    return out.fillna({"sem": 0.0})


def _shrinks_verdict(table: pd.DataFrame) -> str:
    """Delta_S falls with size at every step, by more than 2 standard errors end to end."""
    t = table.dropna(subset=["mean"])
    if len(t) < 2:
        return INCONCLUSIVE
    means = t["mean"].to_numpy()
    drop = means[0] - means[-1]
    noise = 2 * float(np.hypot(t["sem"].iloc[0], t["sem"].iloc[-1]))
    return ladder(all_met=bool(np.all(np.diff(means) < 0)) and drop > noise, some_met=drop > 0)


def _sizes_text(table: pd.DataFrame) -> str:
    return ", ".join(f"{m:.2f} ± {s:.2f} (n = {n:g})" if np.isfinite(m)
                     else f"undefined (n = {n:g})"
                     for n, (m, s) in table[["mean", "sem"]].iterrows())


@excluding
def carvalho_fig3a(df: pd.DataFrame, *, page: str, figure: str = "Fig. 3a") -> list[Verdict]:
    """Fig. 3a (f = 1): grokking at every training size; Delta_S grows as the size shrinks."""
    by = _conditions(df, ("n_train",))
    parts, shares, gains = _grokking_parts(df, by)
    table = delta_s_by_size(df)
    return [
        Verdict(paper=CARVALHO.name, figure=figure,
                claim="With balanced sampling (f = 1), grokking occurs at every training-set "
                      "size.",
                measured="; ".join(parts) + ".", verdict=_groks_verdict(shares, gains),
                page=page),
        Verdict(paper=CARVALHO.name, figure=figure,
                claim="Grokking intensity Delta_S increases as the training set shrinks.",
                measured="Delta_S (mean ± s.e. over seeds) by size: " + _sizes_text(table)
                         + ".", verdict=_shrinks_verdict(table), page=page),
    ]


@excluding
def carvalho_fig3b(df: pd.DataFrame, *, page: str, figure: str = "Fig. 3b") -> list[Verdict]:
    """Fig. 3b: f = 0 stays on a plateau; 0 < f < 1 generalizes late (grokking).

    f = 1 (balanced), if present, is a reference and not part of either claim.
    """
    by = _conditions(df, ("n_train",))
    zero = df[df["f"] == 0]
    pos = df[(df["f"] > 0) & (df["f"] < 1)]
    verdicts = []
    if len(zero):
        grok0 = zero["def31_grokked"].mean()
        parts, plateau = [], True
        for key, g in (zero.groupby(by) if by else [((), zero)]):
            acc0 = final_value(g, "test_acc").mean()
            same = pos if not by else pos[pos[by[0]] == (key[0] if isinstance(key, tuple)
                                                         else key)]
            best = max((final_value(h, "test_acc").mean() for _, h in same.groupby("f")),
                       default=np.nan)
            plateau &= not np.isfinite(best) or acc0 <= best - LATE_GAIN
            where = f"{_label(key, by)}: " if by else ""
            removed = (f" ({final_value(g, 'test_acc_subsampled').mean():.3f} on the removed "
                       f"subclasses)" if "test_acc_subsampled" in g else "")
            parts.append(f"{where}f = 0: {int(g['def31_grokked'].sum())}/{len(g)} runs grok; "
                         f"final test accuracy {acc0:.3f}{removed} vs {best:.3f} for the best "
                         f"0 < f < 1")
        plateau = plateau and grok0 == 0
        verdicts.append(Verdict(
            paper=CARVALHO.name, figure=figure,
            claim="Removing a subclass entirely (f = 0) prevents grokking: the model is stuck "
                  "on a sub-optimal plateau.",
            measured="; ".join(parts) + ".",
            # Written "not >=" so that an undefined share (NaN) stays partly supported.
            verdict=ladder(all_met=plateau, some_met=not grok0 >= MAJORITY),
            page=page))
    if len(pos):
        parts, shares, gains = _grokking_parts(pos, [*by, "f"])
        verdicts.append(Verdict(
            paper=CARVALHO.name, figure=figure,
            claim="Keeping a few samples of the subclass (f = 0.01, 0.05, 0.2) lets the model "
                  "generalize late, i.e. grok.",
            measured="; ".join(parts) + ".", verdict=_groks_verdict(shares, gains), page=page))
    return verdicts


@excluding
def carvalho_fig3c(df: pd.DataFrame, *, page: str, figure: str = "Fig. 3c") -> list[Verdict]:
    """Fig. 3c: with 4,000-5,000 samples and an extreme shift (small f), grokking still occurs."""
    parts, shares, gains = _grokking_parts(df, _conditions(df, ("n_train", "f")))
    return [Verdict(
        paper=CARVALHO.name, figure=figure,
        claim="With large training sets (4,000 and 5,000 samples) an extreme shift "
              "(f = 0.01, 0.05) still produces grokking.",
        measured="; ".join(parts) + ".", verdict=_groks_verdict(shares, gains), page=page)]


@excluding
def carvalho_fig4(df: pd.DataFrame, *, page: str, figure: str = "Fig. 4") -> list[Verdict]:
    """Fig. 4 (equivariant): f = 0 groks too; f > 0 groks; smaller samples grok more."""
    by = _conditions(df, ("n_train",))
    verdicts = []
    for f, claim in ((0.0, "On the equivariant dataset, grokking occurs even with no samples "
                           "of the subsampled subclasses (f = 0), unlike the equidistant one."),
                     (0.2, "On the equivariant dataset, unbalanced sampling (f = 0.2) groks, "
                           "starting from a high test accuracy.")):
        sub = df[df["f"] == f]
        if len(sub):
            parts, shares, gains = _grokking_parts(sub, by)
            verdicts.append(Verdict(paper=CARVALHO.name, figure=figure, claim=claim,
                                    measured="; ".join(parts) + ".",
                                    verdict=_groks_verdict(shares, gains), page=page))
    tables = {f: delta_s_by_size(g) for f, g in df.groupby("f")}
    verdicts.append(Verdict(
        paper=CARVALHO.name, figure=figure,
        claim="On the equivariant dataset, a smaller training set groks more intensely "
              "(larger Delta_S).",
        measured="; ".join(f"f = {f:g}: Delta_S by size {_sizes_text(t)}"
                           for f, t in tables.items()) + ".",
        verdict=combined(_shrinks_verdict(t) for t in tables.values()), page=page))
    return verdicts


#: A model whose mean final test accuracy trails the MLP's (same data) by more than this has not
#: learned the task at the profile's scale: its grokking verdicts say nothing about the claims.
WEAK_GAP = 0.2


def demote_if_weak(found: list[Verdict], *, final: float, reference: float) -> list[Verdict]:
    """``found`` unchanged, or every verdict made *inconclusive* (with the reason) when the
    model's mean final test accuracy ``final`` is more than :data:`WEAK_GAP` below the
    reference model's on the same data."""
    if not final < reference - WEAK_GAP:
        return found
    why = (f" The model does not learn the task at this scale (mean final test accuracy "
           f"{final:.2f} vs {reference:.2f} for the MLP on the same data), so this says nothing "
           "about the claim.")
    return [dataclasses.replace(v, verdict=INCONCLUSIVE, measured=v.measured + why)
            for v in found]


def carvalho_architectures(mlp: list[Verdict], transformer: list[Verdict], *, page: str,
                           figure: str = "App. A") -> Verdict:
    """The transformer's verdicts against the MLP's, claim by claim (same conditions).

    Matching verdicts only show a shared pattern if the MLP shows one: when the MLP supports
    none of the claims, the comparison is inconclusive.
    """
    if len(mlp) != len(transformer) or not mlp:
        raise ValueError("need the same, non-empty list of claims for both models")
    same = [a.verdict == b.verdict for a, b in zip(mlp, transformer, strict=True)]
    diffs = [f"{a.claim} MLP {a.verdict}, transformer {b.verdict}"
             for a, b, s in zip(mlp, transformer, same, strict=True) if not s]
    share = sum(same) / len(same)
    verdict = ladder(decidable=any(a.verdict == SUPPORTED for a in mlp)
                     and not all(b.verdict == INCONCLUSIVE for b in transformer),
                     all_met=share >= ALL, some_met=share >= MAJORITY)
    return Verdict(
        paper=CARVALHO.name, figure=figure,
        claim="A 2-layer transformer shows the same patterns as the MLP (late generalization "
              "is largely architecture-independent).",
        measured=f"{sum(same)}/{len(same)} claims get the same verdict for both models"
                 + (f" (differences: {'; '.join(diffs)})" if diffs else "") + ".",
        verdict=verdict, page=page)


@excluding
def carvalho_intensity_map(df: pd.DataFrame, *, page: str,
                           figure: str = "Grokking-intensity map") -> list[Verdict]:
    """Per dataset: Delta_S grows as the training set shrinks, at every f of the grid."""
    verdicts = []
    for dataset, d in df.groupby("dataset", sort=True):
        found = {f: _shrinks_verdict(delta_s_by_size(g)) for f, g in d.groupby("f")}
        n_ok = sum(v == SUPPORTED for v in found.values())
        n_some = sum(v in (SUPPORTED, PARTLY) for v in found.values())
        verdicts.append(Verdict(
            paper=CARVALHO.name, figure=figure,
            claim=f"On the {dataset} dataset, a smaller training set groks more intensely "
                  f"(larger Delta_S), whatever the subsampling factor f.",
            measured=f"Delta_S falls with size at {n_ok}/{len(found)} values of f "
                     f"(overall decrease at {n_some}/{len(found)}): "
                     + "; ".join(f"f = {f:g}: {v}" for f, v in found.items()) + ".",
            verdict=combined(found.values()), page=page))
    return verdicts


#: A rank correlation this strong (and significant at P_VALUE) counts as "goes with".
STRONG_RHO = 0.5
P_VALUE = 0.05


@excluding
def carvalho_shift(df: pd.DataFrame, *, page: str, figure: str = "Shift vs intensity"
                   ) -> list[Verdict]:
    """Per dataset: runs with a larger train/test MMD^2 have a larger Delta_S (Spearman)."""
    verdicts = []
    for dataset, d in df.groupby("dataset", sort=True):
        claim = (f"Grokking is driven by a train/test distribution shift (Sec. 3): on the "
                 f"{dataset} dataset, a larger shift goes with a larger Delta_S.")
        d = d.assign(delta_S=pd.to_numeric(d["def31_delta_S"], errors="coerce")).dropna(
            subset=["delta_S", "mmd2"])
        if len(d) < 4:
            verdicts.append(Verdict(paper=CARVALHO.name, figure=figure, claim=claim,
                                    measured=f"only {len(d)} run(s) with a defined Delta_S.",
                                    verdict=INCONCLUSIVE, page=page))
            continue
        rho, p = spearmanr(d["mmd2"], d["delta_S"])
        verdicts.append(Verdict(
            paper=CARVALHO.name, figure=figure, claim=claim,
            measured=f"Spearman rank correlation between MMD^2 (training vs test set) and "
                     f"Delta_S over {len(d)} runs: rho = {rho:.2f} (p = {p:.2g}).",
            verdict=ladder(all_met=rho >= STRONG_RHO and p < P_VALUE,
                           some_met=rho > 0 and p < P_VALUE), page=page))
    return verdicts
