"""Diverged runs: marked on plots and tables, counted apart, left out of verdicts.

A member whose loss turns NaN or infinite is frozen at that step and its divergence step is
stored with its curves (``diverged_step``, -1 if never; :mod:`grokpaper.core.train`). Its
curves after that step mean nothing, so a diverged run must not be read as a phase
("confusion"), averaged into a mean curve or counted by a verdict: tables say *diverged*,
plots leave it out of means and say how many were left out, and verdicts are computed on the
other runs and say how many they excluded (:func:`excluded`).

A table of runs marks divergence with a boolean ``diverged`` column, or carries the raw
``diverged_step``; :func:`mask` reads either (neither: no run diverged).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from grokpaper.core.verdicts import INCONCLUSIVE, Verdict

#: The name a diverged run gets where a table names each run's phase or class.
DIVERGED = "diverged"


def mask(df: pd.DataFrame) -> pd.Series:
    """True for each diverged run of ``df``."""
    if "diverged" in df:
        return df["diverged"].astype(bool)
    if "diverged_step" in df:
        return df["diverged_step"].map(lambda s: int(np.asarray(s)) >= 0).astype(bool)
    return pd.Series(False, index=df.index)


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, diverged)``: the runs that did not diverge, and those that did."""
    bad = mask(df)
    return df[~bad], df[bad]


def count(df: pd.DataFrame) -> int:
    """How many runs of ``df`` diverged."""
    return int(mask(df).sum())


def note(df: pd.DataFrame, by: Sequence[str] = ()) -> str:
    """One sentence for a page: how many runs diverged (per condition of ``by``), where, and
    that they are left out; empty when none did."""
    bad = mask(df)
    if not bad.any():
        return ""
    where = ""
    if by:
        counts = df[bad].groupby(list(by)).size()
        totals = df.groupby(list(by)).size()
        cells = [f"{_cell(by, key)}: {n} of {totals[key]}" for key, n in counts.items()]
        where = f" ({'; '.join(cells)})"
    return (f"{int(bad.sum())} of {len(df)} runs diverged{where}: their loss became infinite. "
            f"They are marked *{DIVERGED}*, left out of means and curves, and excluded from "
            f"the verdicts.")


def _cell(by: Sequence[str], key: object) -> str:
    values = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{name} = {value:g}" if isinstance(value, float) else f"{name} = {value}"
                     for name, value in zip(by, values, strict=True))


def excluded(n: int) -> str:
    """The clause a verdict's *measured* text ends with when it left ``n`` runs out."""
    return "" if n == 0 else f" ({n} diverged run{'s' if n != 1 else ''} excluded)"


def excluding(claim: Callable[..., list[Verdict]]) -> Callable[..., list[Verdict]]:
    """Wrap a claim function (runs in, verdicts out): every table of runs it is given (also
    in a dict of tables) loses its diverged runs, and each verdict's ``measured`` text then
    says how many were excluded (:func:`excluded`). When a table has no run left, there is
    nothing to judge: every verdict is *inconclusive* and says so."""

    @functools.wraps(claim)
    def judged(*args: Any, **kwargs: Any) -> list[Verdict]:
        gone, emptied = 0, False

        def clean(value: Any) -> Any:
            nonlocal gone, emptied
            if isinstance(value, pd.DataFrame) and {"diverged", "diverged_step"} & set(
                    value.columns):
                kept, bad = split(value)
                gone += len(bad)
                emptied |= kept.empty and not bad.empty
                return kept
            if isinstance(value, dict) and value and all(
                    isinstance(v, pd.DataFrame) for v in value.values()):
                return {k: clean(v) for k, v in value.items()}
            return value

        kept_args = tuple(clean(a) for a in args)
        kept_kwargs = {k: clean(v) for k, v in kwargs.items()}
        if not emptied:
            return [dataclasses.replace(v, measured=v.measured + excluded(gone))
                    for v in claim(*kept_args, **kept_kwargs)]
        try:  # only the claims' wording is needed from here on
            found = claim(*kept_args, **kept_kwargs)
        except Exception:
            found = claim(*args, **kwargs)
        return [dataclasses.replace(
            v, verdict=INCONCLUSIVE, detail="",
            measured=f"every run diverged ({gone}; their loss became infinite): nothing to "
                     f"judge",
            decide="runs that do not diverge, e.g. with a smaller learning rate")
            for v in found]

    return judged
