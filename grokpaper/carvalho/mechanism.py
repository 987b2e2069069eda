"""Sec. 5.2's mechanism, "weight decay led the network to a more sparse internal
representation", as weight sparsity across the transition from alpha0 to alpha1.

The runs record two sparsity measures at every evaluation (:mod:`grokpaper.core.sparsity`:
``extra_l1_l2``, lower is sparser; ``extra_small_frac``, higher is sparser). The claim is
judged on the first, fixed before looking at a run; the second is shown beside it.
"""

from __future__ import annotations

import pandas as pd

from grokpaper.carvalho import rules
from grokpaper.core import divergence
from grokpaper.core.divergence import excluding
from grokpaper.core.report import value_at
from grokpaper.core.studies import CARVALHO
from grokpaper.core.verdicts import INCONCLUSIVE, MAJORITY, Verdict, share_verdict

#: A run "gets sparser across the transition" if its normalized L1/L2 ratio falls by at least
#: this from alpha0 to alpha1 (about 1% of its value for Gaussian or uniform weights).
SPARSER = 0.01

CLAIM = ("The late generalization comes as weight decay makes the network sparser: weight "
         "sparsity rises across the transition (alpha0 to alpha1, Sec. 5.2).")


def sparsity_change(df: pd.DataFrame) -> pd.DataFrame:
    """Per run: the L1/L2 ratio and the share of near-zero weights when training converged,
    at alpha0, at alpha1 and at the end; ``d_l1_l2`` (alpha1 minus alpha0) and
    ``d_small_frac`` likewise, ``plateau_d_l1_l2`` over the plateau (alpha0 minus at
    convergence), and ``sparser`` (``d_l1_l2 <= -SPARSER``; False where alpha1 is undefined)."""
    out = pd.DataFrame(index=df.index)
    for name in ("l1_l2", "small_frac"):
        col = f"extra_{name}"
        for where, at in (("conv", "def31_t_converged"), ("alpha0", "def31_alpha0"),
                          ("alpha1", "def31_alpha1")):
            out[f"{name}_{where}"] = value_at(df, col, at)
        out[f"{name}_end"] = [float(c[-1]) for c in df[col]]
        out[f"d_{name}"] = out[f"{name}_alpha1"] - out[f"{name}_alpha0"]
    out["plateau_d_l1_l2"] = out["l1_l2_alpha0"] - out["l1_l2_conv"]
    out["sparser"] = (out["d_l1_l2"] <= -SPARSER).fillna(False).astype(bool)
    return out


def sparsity_table(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean :func:`sparsity_change` per condition, over the runs that grokked (the claim is
    about their transition; diverged runs left out), with how many there are."""
    df, _ = divergence.split(df)
    d = pd.concat([df[by], sparsity_change(df)], axis=1)[df["def31_grokked"].astype(bool)]
    cols = ["l1_l2_conv", "l1_l2_alpha0", "l1_l2_alpha1", "l1_l2_end", "d_l1_l2",
            "d_small_frac", "plateau_d_l1_l2"]
    table = d.groupby(by)[cols].mean().round(4)
    return table.assign(**{"grokking runs": d.groupby(by).size(),
                           "sparser": d.groupby(by)["sparser"].sum()})


def decoupled_shrink(*, lr: float, weight_decay: float, steps: int) -> float:
    """Share of a weight that decoupled weight decay alone removes over ``steps`` (AdamW
    multiplies every weight by ``1 - lr * weight_decay`` each step, whatever its gradient)."""
    return 1.0 - (1.0 - lr * weight_decay) ** steps


def _no_transition(df: pd.DataFrame, shrink: float | None) -> str:
    """What would decide the claim when no run grokked."""
    if shrink is None:
        return (f"No run grokked within {rules.budget(df)}, so there is no transition to look "
                "at: longer runs (the paper profile) would decide it.")
    # At the paper's lr and weight decay the paper profile runs the same 50,000 steps, so
    # "longer runs" would promise what no profile delivers.
    return (f"No run grokked in {rules.budget(df)}: decoupled decay shrinks a weight by only "
            f"{shrink:.1%} in them, and no profile runs longer; a decay that acts (Adam + L2) "
            "decides it.")


@excluding
def carvalho_sparsity(df: pd.DataFrame, *, page: str, figure: str = "Sec. 5.2",
                      shrink: float | None = None) -> list[Verdict]:
    """*Supported* if at least half of the runs that grok get sparser across their transition
    (:data:`SPARSER`), *partly* if some do, *not supported* if none does, *inconclusive*
    without a grokking run (diverged runs left out:
    :func:`~grokpaper.core.divergence.excluding`). ``shrink``: for runs with decoupled weight
    decay, :func:`decoupled_shrink` over their budget (the line saying what would decide it
    names it)."""
    grok = df[df["def31_grokked"].astype(bool)]
    change = sparsity_change(grok)
    n, k = len(grok), int(change["sparser"].sum())
    verdict = share_verdict(k, n, supported_from=MAJORITY)
    measured = (f"L1/L2 falls by >= {SPARSER} from alpha0 to alpha1 in {k}/{n} grokking runs "
                f"(mean change {change['d_l1_l2'].mean():+.3f})" if n
                else "no run grokked")
    detail = ""
    if n:
        by = [c for c in ("n_train", "f") if c in grok.columns]
        rows = pd.concat([grok[by], change], axis=1).groupby(by)
        detail = "Mean over grokking runs, alpha0 to alpha1 (and over the plateau before): " + \
            "; ".join(f"{rules.label(key, by)}: L1/L2 {g['d_l1_l2'].mean():+.3f} "
                      f"({g['plateau_d_l1_l2'].mean():+.3f}), near-zero share "
                      f"{g['d_small_frac'].mean():+.3f}, {int(g['sparser'].sum())}/{len(g)} "
                      "sparser" for key, g in rows) + "."
    return [Verdict(paper=CARVALHO.name, figure=figure, claim=CLAIM, measured=measured,
                    verdict=verdict, page=page, detail=detail,
                    decide=_no_transition(df, shrink) if verdict == INCONCLUSIVE else "")]

