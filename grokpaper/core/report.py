"""Tables for the chapters: Definition 3.1 per condition, and the provenance block."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from grokpaper.core import divergence, provenance

DEF31_COLUMNS = ("alpha0", "alpha1", "sigma_S", "sigma_E", "delta_S", "delta_T",
                 "support_start", "support_end")


def _mean_sd(values: pd.Series, digits: int) -> str:
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        return "–"
    if len(v) == 1:
        return f"{v.iloc[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def def31_table(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Definition 3.1 quantities per condition: mean ± sd over seeds, and how many grokked.

    Steps (alpha0, alpha1, S) are shown without decimals, accuracies with two. A dash means
    undefined for every seed (e.g. alpha1 when the test curve never settles). Diverged runs
    are counted in their own column and left out of the rest.
    """
    rows = []
    for key, everyone in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        g, gone = divergence.split(everyone)
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        row["grokked"] = f"{int(g['def31_grokked'].sum())}/{len(g)}"
        if divergence.count(df):
            row[divergence.DIVERGED] = f"{len(gone)}/{len(everyone)}"
        for col in DEF31_COLUMNS:
            digits = 0 if col.startswith(("alpha", "support")) else 2
            row[col] = _mean_sd(g[f"def31_{col}"], digits)
        row["final test acc"] = _mean_sd(g["test_acc"].map(lambda c: c[-1]), 3)
        rows.append(row)
    return pd.DataFrame(rows)


def provenance_markdown(df: pd.DataFrame, *, params: Any, profile: str) -> str:
    """Markdown block: parameters, profile, code version, libraries, device, seeds, wall time."""
    provs = df["provenance"].to_list()
    shas = sorted({str(p["git"]["sha"])[:10] + ("+dirty" if p["git"]["dirty"] else "")
                   for p in provs})
    devices = sorted({p["device_name"] for p in provs})
    walls = {(p["date_utc"], p["wall_time_s"]) for p in provs}  # one entry per ensemble chunk
    now = provenance.collect(device="cpu")
    lines = [
        f"- **profile**: `{profile}`",
        f"- **parameters**: `{params!r}`",
        f"- **runs**: {len(df)} (seeds {sorted(set(df['seed']))}), trained as "
        f"{len(walls)} ensemble(s); total training wall time {sum(w for _, w in walls):.0f} s",
        f"- **trained with**: git {', '.join(shas)} on {', '.join(devices)}; "
        f"torch {provs[0]['torch']}, numpy {provs[0]['numpy']}, Python {provs[0]['python']}",
        f"- **trained on (UTC)**: {min(d for d, _ in walls)} … {max(d for d, _ in walls)}",
        f"- **page rendered with**: git {now['git']['sha']}"
        f"{'+dirty' if now['git']['dirty'] else ''}, grokpaper {now['grokpaper']}",
    ]
    return "\n".join(lines)


def final_value(df: pd.DataFrame, column: str) -> np.ndarray:
    """Last point of every run's curve ``column``."""
    return np.array([c[-1] for c in df[column]])


def value_at_alpha0(df: pd.DataFrame, column: str = "test_acc") -> np.ndarray:
    """Curve ``column`` of every run at its Definition 3.1 alpha0 (NaN where training never
    converged)."""
    out = []
    for steps, curve, a0 in zip(df["steps"], df[column], df["def31_alpha0"], strict=True):
        ok = a0 is not None and np.isfinite(a0)
        out.append(float(curve[np.searchsorted(steps, a0)]) if ok else np.nan)
    return np.array(out)


def alpha0_vs_end(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean test accuracy (all samples, and the subsampled subclasses alone) at alpha0 and at
    the end of the run, per condition: where the late gain comes from."""
    cols = {"test at alpha0": value_at_alpha0(df, "test_acc"),
            "test at end": final_value(df, "test_acc"),
            "subsampled at alpha0": value_at_alpha0(df, "test_acc_subsampled"),
            "subsampled at end": final_value(df, "test_acc_subsampled")}
    return df.assign(**cols).groupby(by)[list(cols)].mean().round(3)
