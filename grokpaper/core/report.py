"""Tables for the chapters: "paper says / we use", Definition 3.1 per condition, provenance.

A notebook that imports this module shows every DataFrame it displays as a reader's table
(:func:`grokpaper.core.tables.html_table`: no 0, 1, 2 index, numbers rounded for reading).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from grokpaper.core import divergence, profiles, provenance
from grokpaper.core.tables import html_table, show_dataframes_as_tables

DEF31_COLUMNS = ("alpha0", "alpha1", "sigma_S", "sigma_E", "delta_S", "delta_T",
                 "support_start", "support_end")


#: Tuples longer than this are summarized ("16 values 1e-05 … 0.01").
LONG_TUPLE = 6


def format_value(v: Any) -> str:
    """A parameter value as the tables show it: ``50000``, ``0.001``, ``500, 2000``, ``16``.

    No thousands separators: the comma separates a tuple's values.
    """
    if isinstance(v, tuple):
        if not v or len(v) <= LONG_TUPLE:
            return ", ".join(format_value(x) for x in v) or "()"
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            return f"{len(v)} values {min(v):.3g} … {max(v):.3g}"
        return f"{len(v)} values ({format_value(v[0])} … {format_value(v[-1])})"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def paper_says_table(params: Any, *, profile: str, figure: str,
                     notes: Mapping[str, tuple[str, str]]) -> Styler:
    """The "paper says / we use" table of a page: one row per ``notes`` entry ``name: (what the
    paper says, why our full-scale value)``, with that value (the figure's ``paper`` profile)
    and the value this page ran with (``params``, built under ``profile``).

    ``figure`` is the figure's name (:func:`grokpaper.core.profiles.figures`): its ``paper``
    profile, not the dataclass defaults, is what we use at full scale (e.g. Carvalho's Fig. 3a
    runs f = 1 only).
    """
    paper = profiles.resolve(figure, type(params), "paper")
    fields = [f.name for f in dataclasses.fields(params)]
    unknown = sorted(set(notes) - set(fields))
    if unknown:
        raise ValueError(f"{type(params).__name__} has no parameter(s) {unknown}; "
                         f"it has {fields}")
    here_col = f"this page ({profile})"
    rows = []
    for name, (says, why) in notes.items():
        ours, here = getattr(paper, name), getattr(params, name)
        rows.append({"parameter": f"`{name}`", "paper says": says,
                     "we use (paper profile)": f"`{format_value(ours)}`", "why": why,
                     here_col: f"`{format_value(here)}`" + ("" if here == ours else " (changed)")})
    return html_table(pd.DataFrame(rows, columns=["parameter", "paper says",
                                                  "we use (paper profile)", "why", here_col]))


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


# Every chapter imports this module: its DataFrames become reader tables, with no display call
# to change. Only where IPython is already loaded (a notebook kernel), never imported here.
if "IPython" in sys.modules:
    show_dataframes_as_tables()
