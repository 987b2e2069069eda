"""Verdicts on the claims of Liu et al. 2022, computed from measured numbers, one function per
reproduced figure (the Liu chapter's part of :mod:`grokpaper.carvalho.claims`).

Thresholds are fixed here, before looking at a run, and printed on the page with the numbers.

Functions judging runs are wrapped in :func:`grokpaper.core.divergence.excluding`: diverged
runs are left out and every verdict says how many were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core.divergence import excluding
from grokpaper.core.phases import PHASES, grokking_neighbours, sandwiched
from grokpaper.core.studies import LIU
from grokpaper.core.verdicts import ALL, MAJORITY, Verdict, ladder, share_verdict

#: Critical training fraction "r_c = 0.4" (Fig. 4); a measured r_c within RC_TOL of it is
#: supported, within RC_TOL_PARTLY partly supported.
RC_PAPER, RC_TOL, RC_TOL_PARTLY = 0.4, 0.1, 0.2
#: Fig. 3: mean |Acc - Acc-hat| over all samples / over test samples for "aligns well".
ACC_MAE, ACC_MAE_TEST = 0.05, 0.15
#: A monotone trend: Spearman rank correlation at least this strong (in the claimed direction).
TREND_RHO = 0.5
#: Fig. 4c/d: "about 3 n_h steps": measured / (3 n_h) within [1/3, 3] (partly: [1/10, 10]).
NH_FACTOR, NH_FACTOR_PARTLY = 3.0, 10.0


def crossing_fraction(frac: np.ndarray, share: np.ndarray, level: float = 0.5) -> float:
    """First fraction where ``share`` reaches ``level``, linearly interpolated; NaN if never."""
    frac, share = np.asarray(frac, float), np.asarray(share, float)
    above = np.flatnonzero(share >= level)
    if not above.size:
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(frac[0])
    f0, f1, s0, s1 = frac[i - 1], frac[i], share[i - 1], share[i]
    return float(f0 + (level - s0) * (f1 - f0) / (s1 - s0))


def _near(value: float, target: float, tol: float, tol_partly: float) -> str:
    gap = abs(value - target) if np.isfinite(value) else np.inf
    return ladder(all_met=gap <= tol, some_met=gap <= tol_partly)


def _spearman(x: pd.Series | np.ndarray, y: pd.Series | np.ndarray) -> float:
    x, y = pd.Series(np.asarray(x, float)), pd.Series(np.asarray(y, float))
    ok = x.notna() & y.notna()
    return float(x[ok].corr(y[ok], method="spearman")) if ok.sum() >= 3 else float("nan")


@excluding
def liu_fig3(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 3: Acc-hat from the representation agrees with the measured accuracy Acc."""
    full = float((df["acc_final"] - df["acc_hat"]).abs().mean())
    test = float((df["test_final"] - df["acc_hat_test"]).abs().mean())
    both_vary = df["acc_final"].std() > 0 and df["acc_hat"].std() > 0
    r = float(np.corrcoef(df["acc_final"], df["acc_hat"])[0, 1]) if both_vary else float("nan")
    verdict = ladder(all_met=full <= ACC_MAE and test <= ACC_MAE_TEST, some_met=full <= ACC_MAE)
    return [Verdict(
        paper=LIU.name, figure="Fig. 3",
        claim="The accuracy predicted from the parallelograms in the learned representation "
              "(Acc-hat) aligns well with the true accuracy Acc.",
        measured=f"{len(df)} runs: mean |Acc - Acc-hat| = {full:.3f} over all samples "
                 f"(Pearson r = {r:.2f}), {test:.3f} over the test samples alone.",
        verdict=verdict, page=page)]


@excluding
def liu_fig4(df: pd.DataFrame, theory: pd.DataFrame, *, steps_net: float, steps_eff: float,
             n_h: float, n_h_sum: float, page: str) -> list[Verdict]:
    """Fig. 4: r_c from the nullity (theory) and from steps to RQI > 0.95 (training); 3 n_h."""
    p_unique = theory.assign(u=theory["nullity"] == 2).groupby("frac")["u"].mean()
    rc_theory = crossing_fraction(p_unique.index, p_unique.to_numpy())
    reach = df.assign(r=df["t_rqi"].notna()).groupby("frac")["r"].mean()
    rc_net = crossing_fraction(reach.index, reach.to_numpy())
    budget = int(df["steps"].iloc[0][-1])
    out = [
        Verdict(paper=LIU.name, figure="Fig. 4a",
                claim="The effective theory predicts a phase transition in the probability "
                      "that the training set implies a unique linear structure (nullity 2) "
                      "around r_c = 0.4.",
                measured=f"P(nullity = 2) crosses 1/2 at training fraction {rc_theory:.2f} "
                         f"({theory['set'].nunique()} random training sets per size).",
                verdict=_near(rc_theory, RC_PAPER, RC_TOL, RC_TOL_PARTLY), page=page),
        Verdict(paper=LIU.name, figure="Fig. 4b",
                claim="The steps to reach RQI > 0.95 in real training show a phase transition "
                      "at r_c = 0.4, agreeing with the effective theory.",
                measured=f"Half of the seeds reach RQI > 0.95 within {budget} steps from "
                         f"training fraction {rc_net:.2f} on (theory: {rc_theory:.2f}).",
                verdict=_near(rc_net, RC_PAPER, RC_TOL, RC_TOL_PARTLY), page=page),
    ]
    def ratio(nh: float) -> float:
        return steps_net / (3 * nh) if np.isfinite(steps_net) and nh > 0 else float("nan")

    def within(r: float, factor: float) -> bool:
        return bool(np.isfinite(r) and 1 / factor <= r <= factor)

    r_paper, r_code = ratio(n_h), ratio(n_h_sum)
    verdict = ladder(all_met=within(r_paper, NH_FACTOR),
                     some_met=within(r_code, NH_FACTOR) or within(r_paper, NH_FACTOR_PARTLY))
    out.append(Verdict(
        paper=LIU.name, figure="Fig. 4c/d",
        claim="Trajectories of the effective theory and of network training agree "
              "qualitatively; both take about 3 n_h steps to reach the linear structure.",
        measured=f"network: RQI > 0.95 after {steps_net:.0f} steps; effective theory (Eq. 5): "
                 f"after {steps_eff:.0f}; 3 n_h = {3 * n_h:.0f} with Eq. (5)'s mean over "
                 f"P0(D) (ratio network / 3 n_h = {r_paper:.2f}), {3 * n_h_sum:.0f} with the "
                 f"authors' code's sum (ratio {r_code:.2f}).", verdict=verdict, page=page))
    return out


@excluding
def liu_fig5(df: pd.DataFrame, theory: pd.DataFrame, *, eta: float, page: str
             ) -> list[Verdict]:
    """Fig. 5: lambda_3 vs data; grokking time falls as data grows; theory vs measured steps."""
    below = theory[theory["frac"] < RC_PAPER - 0.05]
    zero_share = float((below["lambda3"] <= 1e-12).mean()) if len(below) else float("nan")
    mean_l3 = theory.groupby("frac")["lambda3"].mean()
    above = mean_l3[mean_l3.index >= RC_PAPER]
    rho_l3 = _spearman(above.index, above.to_numpy())
    ok_a = zero_share >= 0.8 and rho_l3 >= TREND_RHO
    some_a = zero_share >= MAJORITY or rho_l3 >= TREND_RHO
    reached = df[df["t_rqi"].notna()]
    rho_frac = _spearman(reached["frac"], reached["t_rqi"])
    rho_pred = _spearman(1.0 / (reached["lambda3"] * eta), reached["t_rqi"])
    rho_sum = _spearman(1.0 / (reached["lambda3_sum"] * eta), reached["t_rqi"])
    ok_b = rho_frac <= -TREND_RHO and rho_pred >= TREND_RHO
    some_b = rho_frac <= -TREND_RHO or rho_pred >= TREND_RHO or rho_sum >= TREND_RHO
    return [
        Verdict(paper=LIU.name, figure="Fig. 5a",
                claim="Below a data fraction of about 0.4 the grokking rate lambda_3 is zero "
                      "with high probability; above it, lambda_3 increases with data size.",
                measured=f"lambda_3 = 0 for {zero_share:.0%} of training sets below fraction "
                         f"{RC_PAPER - 0.05:.2f}; Spearman rho(fraction, mean lambda_3) = "
                         f"{rho_l3:.2f} from fraction {RC_PAPER} on.",
                verdict=ladder(all_met=ok_a, some_met=some_a), page=page),
        Verdict(paper=LIU.name, figure="Fig. 5b",
                claim="Grokking time (steps to RQI > 0.95) decreases as the training set grows, "
                      "and follows the theory's 1/(lambda_3 eta) qualitatively.",
                measured=f"{len(reached)}/{len(df)} runs reach RQI > 0.95; Spearman "
                         f"rho(fraction, steps) = {rho_frac:.2f}, rho(1/(lambda_3 eta), steps)"
                         f" = {rho_pred:.2f} (Eq. 5's mean over P0(D); {rho_sum:.2f} with the "
                         f"authors' sum).",
                verdict=ladder(all_met=ok_b, some_met=some_b), page=page),
    ]


@excluding
def liu_fig6(frames: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], *, page: str
             ) -> list[Verdict]:
    """Fig. 6: four phases, corners, grokking between comprehension and memorization, and
    representation vs decoder speed (panel a). ``tables``: majority phase, y x decoder lr."""
    out = []
    wd_panels = [p for p in ("b", "c", "d") if p in tables]
    if wd_panels:
        present = {p: [ph for ph in PHASES if (tables[p].to_numpy() == ph).any()]
                   for p in wd_panels}
        n4 = sum(len(v) == 4 for v in present.values())
        out.append(Verdict(
            paper=LIU.name, figure="Fig. 6b-d",
            claim="Each phase diagram (addition regression, addition classification, S_3) "
                  "contains all four phases: comprehension, grokking, memorization, confusion.",
            measured="; ".join(f"({p}) {', '.join(v)}" for p, v in present.items()) + ".",
            verdict=share_verdict(n4, len(wd_panels), supported_from=ALL), page=page))
        corners = {}
        for p in wd_panels:
            t = tables[p]
            corners[p] = (t.iloc[0, -1], t.iloc[-1, -1])  # (lowest wd, highest wd) at top lr
        n_ok = sum(a == "memorization" and b == "confusion" for a, b in corners.values())
        out.append(Verdict(
            paper=LIU.name, figure="Fig. 6b-d",
            claim="A fast and capable decoder (highest lr, no weight decay) memorizes; a fast "
                  "and simple one (highest lr, largest weight decay) is confused.",
            measured="; ".join(f"({p}) {a} / {b}" for p, (a, b) in corners.items()) + ".",
            verdict=share_verdict(n_ok, len(wd_panels), supported_from=ALL), page=page))
        sand = {p: sandwiched(tables[p].to_numpy()) for p in wd_panels}
        out.append(Verdict(
            paper=LIU.name, figure="Fig. 6b-d",
            claim="Grokking is sandwiched between comprehension and memorization.",
            measured="; ".join(f"({p}) {text}" for p, (_, text) in sand.items()) + ".",
            verdict=share_verdict(sum(ok for ok, _ in sand.values()), len(wd_panels),
                                  supported_from=ALL),
            page=page))
    if "a" in frames:
        f = frames["a"]
        learned = f["phase"].isin(["comprehension", "grokking"])
        fast_rep = f["lr_emb"] >= f["lr_dec"]
        s_rep, s_dec = learned[fast_rep].mean(), learned[~fast_rep].mean()
        mem_slow = (f.loc[~fast_rep, "phase"] == "memorization").mean()
        ok = s_rep >= 2 * s_dec and s_rep > 0
        out.append(Verdict(
            paper=LIU.name, figure="Fig. 6a",
            claim="Representation learning needs the representation to learn faster than the "
                  "decoder; a fast decoder with slow representation learning memorizes.",
            measured=f"comprehension or grokking in {s_rep:.0%} of cells with representation lr "
                     f">= decoder lr vs {s_dec:.0%} below it; memorization in {mem_slow:.0%} of "
                     "the latter.",
            verdict=ladder(all_met=ok and mem_slow >= MAJORITY, some_met=ok or s_rep > s_dec),
            page=page))
    return out


#: Fig. 2: a run "generalizes" from this test accuracy; "structured" from these scores.
GENERALIZES, RQI_STRUCTURED, CIRCLE_STRUCTURED = 0.9, 0.95, 0.85


@excluding
def liu_fig2(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    """Fig. 2: generalizing runs have structured embeddings (parallelogram / circle)."""
    parts, n_gen, n_ok, tasks_gen = [], 0, 0, set()
    for _, r in df.iterrows():
        gen = r["test_final"] >= GENERALIZES
        need = RQI_STRUCTURED if r["task"] == "addition" else CIRCLE_STRUCTURED
        ok = r["structure"] >= need
        n_gen += gen
        n_ok += gen and ok
        tasks_gen |= {r["task"]} if gen else set()
        parts.append(f"{r['task']} seed {r['seed']}: test acc {r['test_final']:.2f}, "
                     f"structure {r['structure']:.2f}")
    verdict = ladder(decidable=n_gen > 0, all_met=n_ok == n_gen and tasks_gen == set(df["task"]),
                     some_met=n_ok > 0)
    return [Verdict(
        paper=LIU.name, figure="Fig. 2",
        claim="Generalization comes with structured embeddings: parallelograms for addition, "
              "a circle for modular addition.",
        measured="; ".join(parts) + ".", verdict=verdict, page=page)]


#: Fig. 1: circle in the top-2 PCA plane at the end, gained over training by at least this.
CIRCLE_GAIN = 0.15
#: Fig. 7 left: the effective dimension peaks within this factor of the generalization step
#: and ends at most EFFDIM_DROP of its peak.
PEAK_FACTOR, EFFDIM_DROP = 3.0, 0.8


def _effdim_peaks(pca: pd.DataFrame) -> tuple[int, int]:
    """(seeds whose effective dimension peaks near generalization then drops, generalizing)."""
    n_ok = n = 0
    for _, r in pca[pca["t_test"].notna()].iterrows():
        n += 1
        curve, steps = np.asarray(r["eff_dim"]), np.asarray(r["steps"], float)
        peak = steps[int(np.argmax(curve))]
        near = r["t_test"] / PEAK_FACTOR <= max(peak, 1) <= r["t_test"] * PEAK_FACTOR
        n_ok += bool(near and curve[-1] <= EFFDIM_DROP * curve.max())
    return n_ok, n


def _never(runs: pd.DataFrame, budget: int) -> str:
    """A note when no run reached 90% test accuracy (the verdict is then inconclusive)."""
    return (f" No run reached 90% test accuracy within the {budget:,}-step budget, so this "
            f"says nothing about the claim." if runs["t_test"].isna().all() else "")


@excluding
def liu_fig7(pca: pd.DataFrame, drop: pd.DataFrame, *, budget: int, page: str
             ) -> list[Verdict]:
    """Figs. 1 and 7 (left, centre) on the transformer runs."""
    gen = pca[pca["t_test"].notna()]
    circ_ok = ((gen["circularity"] >= CIRCLE_STRUCTURED)
               & (gen["circularity"] >= gen["circularity_init"] + CIRCLE_GAIN))
    n_gen = len(gen)
    v1 = share_verdict(int(circ_ok.sum()), n_gen, supported_from=MAJORITY)
    n_peak, n = _effdim_peaks(pca)
    v2 = share_verdict(n_peak, n, supported_from=MAJORITY)
    t_test = drop["t_test"].fillna(budget)
    rho = _spearman(drop["dropout"], t_test)
    top = drop[drop["dropout"] == drop["dropout"].max()]
    comp = (top["phase"] == "comprehension").mean()
    med = drop.assign(t=t_test).groupby("dropout")["t"].median()
    falls, vanishes = rho <= -TREND_RHO, comp >= MAJORITY
    return [
        Verdict(paper=LIU.name, figure="Fig. 1",
                claim="Generalization coincides with the embeddings' top-2 PCA projection "
                      "becoming a circle.",
                measured=f"{int(circ_ok.sum())}/{n_gen} generalizing seeds end on a circle "
                         f"(circularity {gen['circularity'].median():.2f} vs "
                         f"{gen['circularity_init'].median():.2f} at initialization, medians); "
                         f"{len(pca) - n_gen} seeds did not generalize.",
                verdict=v1, page=page),
        Verdict(paper=LIU.name, figure="Fig. 7 left",
                claim="The effective dimension of the embeddings rises until generalization "
                      "and drops sharply afterwards.",
                measured=f"{n_peak}/{n} generalizing seeds peak within a factor "
                         f"{PEAK_FACTOR:g} of their generalization step and end at most "
                         f"{EFFDIM_DROP:.0%} of the peak.", verdict=v2, page=page),
        Verdict(paper=LIU.name, figure="Fig. 7 centre",
                claim="A significant dropout rate shortens generalization (under 1e3 steps in "
                      "the paper) and removes grokking.",
                measured="median steps to 90% test accuracy by dropout rate: "
                         + ", ".join(f"{k:.2f}: {v:.0f}" for k, v in med.items())
                         + f" (Spearman rho = {rho:.2f}); comprehension at the largest rate in "
                           f"{comp:.0%} of seeds." + _never(drop, budget),
                # A transformer that never generalizes says nothing about what speeds it up.
                verdict=ladder(decidable=not drop["t_test"].isna().all(),
                               all_met=falls and vanishes, some_met=falls or vanishes),
                page=page),
    ]


@excluding
def liu_fig7_phases(df: pd.DataFrame, table: pd.DataFrame, *, budget: int, page: str
                    ) -> list[Verdict]:
    """Fig. 7 right: weight decay helps the transformer generalize; grokking lies nearer to
    memorization than to comprehension. ``table``: majority phase, wd x decoder lr."""
    wd0 = df["wd_dec"].min()
    base, rest = df[df["wd_dec"] == wd0], df[df["wd_dec"] > wd0]
    gen0, gen1 = base["t_test"].notna().mean(), rest.groupby("wd_dec")["t_test"].apply(
        lambda s: s.notna().mean())
    t0 = base["t_test"].fillna(budget).min()
    t1 = rest.groupby("wd_dec")["t_test"].apply(lambda s: s.fillna(budget).min())
    best_wd = t1.idxmin() if len(t1) else float("nan")
    faster = len(t1) and t1.min() <= t0 / 2
    more = len(gen1) and gen1.max() > gen0
    nb = grokking_neighbours(table.to_numpy())
    n_grok = int((table.to_numpy() == "grokking").sum())
    closer = nb["memorization"] > nb["comprehension"]
    return [
        Verdict(paper=LIU.name, figure="Fig. 7 right",
                claim="Some decoder weight decay helps the transformer generalize and speeds "
                      "generalization up significantly.",
                measured=f"fastest generalization {t0:.0f} steps at weight decay {wd0:g} vs "
                         f"{t1.min() if len(t1) else float('nan'):.0f} at {best_wd:g}; share of "
                         f"learning rates that generalize: {gen0:.0%} at {wd0:g}, up to "
                         f"{gen1.max() if len(gen1) else float('nan'):.0%} with weight decay."
                         + _never(df, budget),
                verdict=ladder(decidable=not df["t_test"].isna().all(),
                               all_met=faster and more, some_met=faster or more),
                page=page),
        Verdict(paper=LIU.name, figure="Fig. 7 right",
                claim="On the transformer the grokking phase lies closer to memorization than "
                      "to comprehension.",
                measured=f"{n_grok} grokking cells; their neighbours: {nb['memorization']} "
                         f"memorization, {nb['comprehension']} comprehension, "
                         f"{nb['confusion']} confusion.",
                verdict=ladder(decidable=n_grok > 0, all_met=closer, some_met=False), page=page),
    ]
