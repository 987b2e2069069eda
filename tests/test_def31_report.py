"""The chapters' Definition 3.1 tables: per condition, at convergence, and the sensitivity of
the grokking counts to the reading (each computed a second way on hand-made runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grokpaper.core import report
from grokpaper.core.metrics import (
    Def31Options,
    definition31,
    definition31_at_convergence,
)
from grokpaper.core.report import SENSITIVE
from grokpaper.lisakib import report as lisakib_report
from grokpaper.liu import report as liu_report

STEPS = np.logspace(0, 4, 200)
TRAIN = 1.0 - np.exp(-STEPS / 20.0)  # converges by step ~80


def _sigmoid(center: float, width: float = 150.0, low: float = 0.25) -> np.ndarray:
    return low + (1.0 - low) / (1.0 + np.exp(-(STEPS - center) / width))


CURVES = {
    "late rise": _sigmoid(2000.0),  # groks under both readings
    "slow saturation": 0.3 * TRAIN + 0.65 * (1.0 - np.exp(-STEPS / 200.0)),  # earlier only
    "flat": np.full_like(STEPS, 0.5),  # never
    "wide rise": _sigmoid(2500.0, width=400.0),
}


def _runs(train: np.ndarray = TRAIN) -> pd.DataFrame:
    rows = []
    for f, (name, test) in enumerate(CURVES.items()):
        for seed in range(2):
            st = definition31(STEPS, train, test).as_dict()
            rows.append({"f": float(f), "seed": seed, "name": name, "steps": STEPS,
                         "train_acc": train, "test_acc": test,
                         **{f"def31_{k}": v for k, v in st.items()}})
    return pd.DataFrame(rows)


def test_sensitivity_table_counts_what_definition31_says_run_by_run() -> None:
    df = _runs()
    table = report.def31_sensitivity_table(df, by="f")
    assert table.shape == (2 + 2 * len(SENSITIVE), 1 + len(CURVES))
    assert list(table.columns) == ["all runs"] + [f"f = {f:g}" for f in range(len(CURVES))]

    def count(fn, g: pd.DataFrame, **opt: float) -> str:
        curves = zip(g["steps"], g["train_acc"], g["test_acc"], strict=True)
        return f"{sum(fn(s, a, b, **opt).grokked for s, a, b in curves)}/{len(g)}"

    assert table.iloc[0]["all runs"] == count(definition31, df) == "4/8"
    assert table.iloc[1]["all runs"] == count(definition31_at_convergence, df)
    assert table.iloc[1]["f = 1"] == "2/2"  # the slow saturation groks only the earlier way
    assert table.iloc[0]["f = 1"] == "0/2"
    for name in SENSITIVE:
        for factor in (0.5, 2.0):
            (label,) = [i for i in table.index if i.startswith(f"{name} x {factor:g} ")]
            for f, g in df.groupby("f"):
                value = getattr(Def31Options(), name) * factor
                assert table.loc[label, f"f = {f:g}"] == count(definition31, g, **{name: value})


def test_def31_table_has_the_convergence_step_and_the_plateau() -> None:
    table = report.def31_table(_runs(), by=["f"])
    assert list(table.columns[:3]) == ["f", "plateau", "grokked"]
    assert "t_converged" in table.columns and "alpha0" in table.columns
    rows = table.set_index("f")
    assert rows.loc[0.0, "grokked"] == "2/2" and rows.loc[0.0, "plateau"] == "2/2"
    assert rows.loc[1.0, "plateau"] == "0/2"  # rose with training: no plateau
    t_conv = float(rows.loc[0.0, "t_converged"].split()[0])
    assert 50 < t_conv < 150 < float(rows.loc[0.0, "alpha0"].split()[0])


def test_values_at_convergence_are_read_at_t_converged_not_alpha0() -> None:
    df = _runs()
    at = report.value_at_convergence(df, "test_acc")
    for (_, r), v in zip(df.iterrows(), at, strict=True):
        i = int(np.searchsorted(r["steps"], r["def31_t_converged"]))
        assert v == pytest.approx(r["test_acc"][i])
    late = df[df["name"] == "late rise"]
    assert (report.value_at_convergence(late) < 0.3).all()  # on the plateau, not at the escape
    never = _runs(train=0.2 + 0.6 * STEPS / STEPS[-1])
    assert np.isnan(report.value_at_convergence(never)).all()
    table = report.convergence_vs_end(df.assign(test_acc_subsampled=df["test_acc"]), by=["f"])
    assert list(table.columns) == ["test at convergence", "test at end",
                                   "subsampled at convergence", "subsampled at end"]


def test_def31_outcome_says_why_a_run_did_not_grok() -> None:
    df = _runs()
    never = _runs(train=0.2 + 0.6 * STEPS / STEPS[-1]).iloc[:1]
    both = pd.concat([df, never], ignore_index=True)
    got = report.def31_outcome(both)
    assert got.tolist() == (["grokked"] * 2 + ["no plateau"] * 2 + ["plateau, not grokked"] * 2
                            + ["grokked"] * 2 + ["not converged"])


def test_the_definitions_tables_split_definition31s_no() -> None:
    df = _runs().assign(phase=["grokking", "grokking", "comprehension", "comprehension",
                               "memorization", "memorization", "grokking", "comprehension"])
    tab = liu_report.contingency(df)
    assert tab.columns.tolist() == ["Def. 3.1: grokked", "Def. 3.1: plateau, not grokked",
                                    "Def. 3.1: no plateau"]
    assert tab.loc["grokking"].tolist() == [3, 0, 0]
    assert tab.loc["comprehension"].tolist() == [1, 0, 2]  # rose with training: no plateau
    assert tab.loc["memorization"].tolist() == [0, 2, 0]
    defs = lisakib_report.definitions_table(
        df.rename(columns={"phase": "liu_phase"}).assign(li_class="grokking"))
    assert defs["runs"].sum() == len(df)
    got = defs.groupby("Definition 3.1")["runs"].sum().to_dict()
    assert got == {"grokked": 4, "no plateau": 2, "plateau, not grokked": 2}
