"""Tables for the chapters: "paper says / we use", Definition 3.1 per condition and its
sensitivity to the reading, provenance.

A notebook that imports this module shows every DataFrame it displays as a reader's table
(:func:`grokpaper.core.tables.html_table`: no 0, 1, 2 index, numbers rounded for reading).
"""

from __future__ import annotations

import dataclasses
import numbers
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from grokpaper.core import divergence, profiles, provenance
from grokpaper.core.metrics import Def31Options, definition31, definition31_at_convergence
from grokpaper.core.tables import html_table, show_dataframes_as_tables

#: Definition 3.1 quantities shown per condition (``def31_<name>`` columns of a run table).
DEF31_COLUMNS = ("t_converged", "alpha0", "alpha1", "sigma_S", "sigma_E", "delta_S", "delta_T",
                 "support_start", "support_end")
#: Columns that are steps (shown without decimals); the others are accuracies.
_STEP_COLUMNS = ("t_converged", "alpha0", "alpha1", "support_start", "support_end")


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


def def31_table(df: pd.DataFrame, by: list[str], *, prefix: str = "def31_",
               test: str = "test_acc") -> pd.DataFrame:
    """Definition 3.1 quantities per condition: mean ± sd over seeds, how many seeds sat on a
    low plateau after training converged, and how many grokked.

    Steps (t_converged, alpha0, alpha1, S) are shown without decimals, accuracies with two. A
    dash means undefined for every seed (e.g. alpha1 when the test curve never left its
    plateau). ``prefix`` and ``test`` name another curve's columns (e.g. ``"sub31_"`` and
    ``"test_acc_subsampled"`` for the subsampled subclasses alone). Diverged runs are counted
    in their own column and left out of the rest.
    """
    rows = []
    for key, everyone in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        g, gone = divergence.split(everyone)
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        row["plateau"] = f"{int(g[f'{prefix}plateau'].fillna(False).astype(bool).sum())}/{len(g)}"
        row["grokked"] = f"{int(g[f'{prefix}grokked'].sum())}/{len(g)}"
        if divergence.count(df):
            row[divergence.DIVERGED] = f"{len(gone)}/{len(everyone)}"
        for col in DEF31_COLUMNS:
            row[col] = _mean_sd(g[f"{prefix}{col}"], 0 if col in _STEP_COLUMNS else 2)
        row["final test acc"] = _mean_sd(g[test].map(lambda c: c[-1]), 3)
        rows.append(row)
    return pd.DataFrame(rows)


#: Thresholds that :func:`definition31_sensitivity` halves and doubles.
SENSITIVE = ("conv_tol", "plateau_tol", "plateau_ratio", "high_tol", "stay_tol", "min_delta_s",
             "support_ratio")


def definition31_sensitivity(runs: Iterable[tuple[Any, Any, Any]], **options: Any
                             ) -> list[dict[str, Any]]:
    """How many of ``runs`` ((steps, train, test) each) grok under this reading, under the
    earlier one, and with each threshold in :data:`SENSITIVE` halved and doubled.

    One row per variant: ``reading``, ``threshold``, ``value``, ``grokked``, ``runs``.
    """
    runs = list(runs)
    base = Def31Options(**options)
    rows = []

    def count(fn: Any, opt: Def31Options, reading: str, name: str, value: Any) -> None:
        n = sum(fn(*r, **dataclasses.asdict(opt)).grokked for r in runs)
        rows.append({"reading": reading, "threshold": name, "value": value, "grokked": n,
                     "runs": len(runs)})

    count(definition31, base, "plateau (Fig. 2)", "(defaults)", None)
    count(definition31_at_convergence, base, "alpha0 at train convergence", "(defaults)", None)
    names = {f.name for f in dataclasses.fields(Def31Options)}
    for name in SENSITIVE:
        assert name in names
        for factor in (0.5, 2.0):
            value = getattr(base, name) * factor
            count(definition31, dataclasses.replace(base, **{name: value}), "plateau (Fig. 2)",
                  f"{name} x {factor:g}", value)
    return rows


#: What Definition 3.1 says of a run, from the most to the least: it grokked; its test curve
#: sat on a low plateau after training converged but did not grok from it; it had no plateau
#: (it rose with training); training never converged.
DEF31_OUTCOMES = ("grokked", "plateau, not grokked", "no plateau", "not converged")


def def31_outcome(df: pd.DataFrame, prefix: str = "def31_") -> pd.Series:
    """:data:`DEF31_OUTCOMES` label of every run of ``df`` (for tables that set Definition 3.1
    against another definition of grokking: why it says no matters)."""
    converged = pd.to_numeric(df[f"{prefix}t_converged"], errors="coerce").notna()
    plateau = df[f"{prefix}plateau"].fillna(False).astype(bool)
    grokked = df[f"{prefix}grokked"].fillna(False).astype(bool)
    label = np.select([grokked, converged & plateau, converged], DEF31_OUTCOMES[:3],
                      DEF31_OUTCOMES[3])
    return pd.Series(label, index=df.index, name="Definition 3.1")


def def31_sensitivity_table(df: pd.DataFrame, by: str | None = None, *,
                            test: str = "test_acc") -> pd.DataFrame:
    """How many runs of ``df`` grok under Definition 3.1 as read here (Fig. 2), under the
    earlier reading (alpha0 at train convergence), and with each threshold halved and doubled
    (:func:`definition31_sensitivity`): one row per variant, one
    column of "grokked/runs" for all runs and one per value of ``by``. Diverged runs are left
    out."""
    df, _ = divergence.split(df)
    groups = [("all runs", df)]
    if by is not None:
        groups += [(f"{by} = {v:g}" if isinstance(v, numbers.Number) else str(v), g)
                   for v, g in df.groupby(by, sort=True)]
    table: dict[str, list[str]] = {}
    index: list[str] = []
    for name, g in groups:
        rows = definition31_sensitivity(zip(g["steps"], g["train_acc"], g[test], strict=True))
        table[name] = [f"{r['grokked']}/{r['runs']}" for r in rows]
        index = [_variant(r) for r in rows]
    return pd.DataFrame(table, index=pd.Index(index, name="Definition 3.1 read with"))


def _variant(row: dict[str, Any]) -> str:
    if row["value"] is None:
        return row["reading"]
    name, factor = row["threshold"].split(" x ")
    return f"{name} x {factor} (= {row['value']:g})"


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


def value_at(df: pd.DataFrame, column: str, at: str) -> np.ndarray:
    """Curve ``column`` of every run at the step in its column ``at`` (e.g.
    ``"def31_alpha0"``); NaN where that step is undefined."""
    out = []
    for steps, curve, t in zip(df["steps"], df[column], df[at], strict=True):
        ok = t is not None and np.isfinite(t)
        out.append(float(curve[np.searchsorted(steps, t)]) if ok else np.nan)
    return np.array(out)


def value_at_convergence(df: pd.DataFrame, column: str = "test_acc") -> np.ndarray:
    """Curve ``column`` of every run at the step training converged (Definition 3.1's
    ``t_converged``; NaN where training never converged)."""
    return value_at(df, column, "def31_t_converged")


def convergence_vs_end(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean test accuracy (all samples, and the subsampled subclasses alone) when training
    converged and at the end of the run, per condition: where the late gain comes from."""
    cols = {"test at convergence": value_at_convergence(df, "test_acc"),
            "test at end": final_value(df, "test_acc"),
            "subsampled at convergence": value_at_convergence(df, "test_acc_subsampled"),
            "subsampled at end": final_value(df, "test_acc_subsampled")}
    return df.assign(**cols).groupby(by)[list(cols)].mean().round(3)


# Every chapter imports this module: its DataFrames become reader tables, with no display call
# to change. Only where IPython is already loaded (a notebook kernel), never imported here.
if "IPython" in sys.modules:
    show_dataframes_as_tables()
