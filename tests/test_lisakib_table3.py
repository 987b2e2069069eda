"""Li & Sakib's MNIST verdicts (Table 3 rows; transformer against MLP) on hand-built outcomes:
each row rule and the comparison give each of their outcomes where they should."""

import numpy as np
import pandas as pd
import pytest

from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED
from grokpaper.mnist import lisakib_claims as lc
from grokpaper.mnist.claims import outcomes
from grokpaper.mnist.experiments import TABLE3

BASE = {"outcome": "grokking", "t_mem": 500.0, "t_half": 20_000.0, "delay": 19_500.0,
        "test_end": 0.88}


def _mlp(rows: dict[str, dict], *, budget: int = 100_000) -> pd.DataFrame:
    """One run per row (``rows``: row name -> outcome columns, missing ones NaN)."""
    out = []
    for name, cols in rows.items():
        out.append({"row": name, "seed": 0, "steps": np.array([0.0, budget]),
                    **{k: np.nan for k in ("t_mem", "t_half", "delay", "test_end")}, **cols})
    return pd.DataFrame(out)


def _only(df: pd.DataFrame, row: str) -> str:
    found = lc.table3(df, page="p")
    for v in found:
        assert "\n" not in v.measured and len(v.measured) <= 160
        assert bool(v.decide) == (v.verdict == INCONCLUSIVE)
    (v,) = [v for v in found if v.claim.startswith(row)]
    return v.verdict


GROKS_LATER = {"outcome": "grokking", "t_mem": 400.0, "t_half": 30_000.0, "delay": 29_600.0,
               "test_end": 0.85}
GROKS_SOONER = {"outcome": "grokking", "t_mem": 900.0, "t_half": 9_000.0, "delay": 8_100.0,
                "test_end": 0.90}
NORMAL = {"outcome": "normal", "t_mem": 300.0, "test_end": 0.90}
MEMORIZES = {"outcome": "memorization", "t_mem": 300.0, "test_end": 0.4}


@pytest.mark.parametrize(("row", "cols", "base", "expected"), [
    ("3K samples", GROKS_SOONER, BASE, SUPPORTED),  # "Grokking Faster, Train slower"
    ("3K samples", GROKS_LATER, BASE, PARTLY),  # groks, but later and training faster
    ("3K samples", NORMAL, BASE, NOT_SUPPORTED),
    ("3K samples", NORMAL, NORMAL, INCONCLUSIVE),  # the baseline does not grok either
    ("3K samples", GROKS_SOONER, NORMAL, PARTLY),  # groks; the comment cannot be checked
    ("5K samples", NORMAL, BASE, SUPPORTED),  # "Normal Results"
    ("5K samples", MEMORIZES, BASE, PARTLY),  # no grokking, but not normal either
    ("5K samples", GROKS_LATER, BASE, NOT_SUPPORTED),
    ("5K samples", GROKS_LATER, NORMAL, NOT_SUPPORTED),  # grokking is grokking, any budget
    ("5K samples", NORMAL, NORMAL, INCONCLUSIVE),
    ("SGD", GROKS_LATER, BASE, SUPPORTED),  # "Slower"
    ("SGD", GROKS_SOONER, BASE, PARTLY),
    ("Adam", {**GROKS_LATER, "test_end": 0.80}, BASE, SUPPORTED),  # "Lower Acc"
    ("Adam", GROKS_SOONER, BASE, PARTLY),
    ("batch 32", {**BASE, "delay": 30_000.0}, BASE, SUPPORTED),  # "Exactly Same": within 2x
    ("batch 32", {**BASE, "delay": 60_000.0}, BASE, PARTLY),
    ("cross-entropy", NORMAL, BASE, SUPPORTED),  # "Learn fast!"
    ("init scale 0.1", MEMORIZES, BASE, PARTLY),  # "Normal Results"
])
def test_each_row_is_judged_on_its_mark_and_its_comment(row, cols, base, expected):
    assert _only(_mlp({lc.BASELINE: base, row: cols}), row) == expected


@pytest.mark.parametrize(("base", "budget", "expected"), [
    (BASE, 2000, SUPPORTED),
    (NORMAL, 2000, INCONCLUSIVE),  # too short for Omnigrok's run to grok
    (NORMAL, 100_000, NOT_SUPPORTED),  # Omnigrok's own budget
])
def test_the_baseline_groks_within_omnigroks_budget(base, budget, expected):
    assert _only(_mlp({lc.BASELINE: base}, budget=budget), "The Omnigrok") == expected


def test_every_table3_row_gets_a_verdict_in_the_tables_order():
    rows = {name: (GROKS_LATER if groks else NORMAL) for name, _, groks, _ in TABLE3}
    rows[lc.BASELINE] = BASE
    found = lc.table3(_mlp(dict(reversed(rows.items()))), page="p")
    assert len(found) == len(TABLE3) == 17
    assert [v.claim.split(":")[0] for v in found[1:]] == [r[0] for r in TABLE3[1:]]
    assert {v.verdict for v in found} <= {SUPPORTED, PARTLY}
    # Every comment of the report has a rule.
    assert {r[3] for r in TABLE3} == set(lc.COMMENTS)


def test_row_stats_take_the_majority_of_seeds():
    steps = np.array([0, 100, 1000, 3000, 10000, 30000, 100000], float)
    grok = [0.1, 0.2, 0.2, 0.3, 0.8, 0.85, 0.85]
    flat = [0.1, 0.8, 0.85, 0.86, 0.86, 0.86, 0.86]
    train = [0.1, 1, 1, 1, 1, 1, 1]
    df = pd.DataFrame({"row": ["a", "a", "a", "b", "b"], "seed": [0, 1, 2, 0, 1],
                       "steps": [steps] * 5, "train_acc": [np.array(train, float)] * 5,
                       "test_acc": [np.array(c, float) for c in (grok, grok, flat, grok, flat)]})
    stats = lc.row_stats(outcomes(df))
    assert stats.loc["a", "groks"] and stats.loc["a", "grokking seeds"] == 2
    assert stats.loc["a", "outcome"] == "grokking"
    assert stats.loc["b", "groks"]  # 1 of 2: a majority counts ties
    assert stats.loc["a", "t_half"] == pytest.approx(10_000)  # the grokking seeds' mean...
    assert np.isnan(outcomes(df).loc[2, "t_half"])  # ...the normal seed has none


def _transformer(n_grok: int, n: int, budget: int = 10_000, *, fit: bool = True
                 ) -> pd.DataFrame:
    """``n`` sweep runs, ``n_grok`` of them grokking; the others comprehend, or (``fit``
    False) never reach 95% training accuracy at all."""
    rest = "comprehension" if fit else "confusion"
    return pd.DataFrame({"li_class": ["grokking"] * n_grok + [rest] * (n - n_grok),
                         "t_train95": [500.0] * n_grok + [500.0 if fit else np.nan] * (n - n_grok),
                         "budget": budget})


def _mlp_share(n_grok: int, n: int, base: str = "grokking") -> pd.DataFrame:
    outs = [base] + ["grokking"] * (n_grok - (base == "grokking")) + ["normal"] * n
    outs = outs[:n]
    return pd.DataFrame({"row": [lc.BASELINE] + ["x"] * (n - 1), "outcome": outs,
                         "steps": [np.array([0.0, 100_000.0])] * n})


@pytest.mark.parametrize(("transformer", "mlp", "expected"), [
    (_transformer(45, 50), _mlp_share(5, 17), SUPPORTED),
    (_transformer(8, 12), _mlp_share(9, 17), PARTLY),  # higher, the interval holds 0
    (_transformer(10, 50), _mlp_share(11, 17), NOT_SUPPORTED),
    (_transformer(45, 50), _mlp_share(0, 17, base="normal"), INCONCLUSIVE),  # MLP never groks
    (_transformer(0, 50, budget=30), _mlp_share(5, 17), INCONCLUSIVE),
    (_transformer(0, 0), _mlp_share(5, 17), INCONCLUSIVE),
    # A sweep that never fits its training set could not have grokked: not evidence against.
    (_transformer(0, 16, fit=False), _mlp_share(9, 17), INCONCLUSIVE),
    (_transformer(1, 16, fit=False), _mlp_share(9, 17), NOT_SUPPORTED),
])
def test_transformer_more_prone_than_mlp(transformer, mlp, expected):
    (v,) = lc.more_prone(transformer, mlp, page="p")
    assert v.verdict == expected
    assert bool(v.decide) == (expected == INCONCLUSIVE)
    assert "\n" not in v.measured and len(v.measured) <= 160
