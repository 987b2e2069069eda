"""The weight-norm account on every family: known answers for the steps, the peak rule and
the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, problems
from grokpaper.cross import claims, norms, yardstick
from grokpaper.cross.report import norm_summary

STEPS = np.arange(0, 20_001, 100, dtype=float)
TRAIN = np.clip(STEPS / 500, 0, 1)  # fitted at step 500
GROK = np.where(STEPS >= 8000, 1.0, 0.1)  # the test curve arrives at step 8000
#: Rises until step 4000 (after the fit, before the arrival), then falls to half.
TURNS = np.interp(STEPS, [0, 4000, 20_000], [1.0, 3.0, 1.5])
#: Rises to the end: no turn.
RISES = 1 + STEPS / 1000
#: Peaks after the test curve arrived: still rising at the arrival.
LATE = np.interp(STEPS, [0, 12_000, 20_000], [1.0, 3.0, 1.5])
#: Falls from its initialization, rises again after the fit, falls as the test curve rises.
DIP = np.interp(STEPS, [0, 1000, 4000, 20_000], [3.0, 1.5, 2.5, 1.0])
#: Only decays from its initial value (under weight decay): its peak is step 0.
DECAYS = 3 - STEPS / 10_000


def test_steps_come_from_the_definition_that_calls_grokking() -> None:
    assert norms.fit_and_arrival(STEPS, TRAIN, GROK, def31=False, li=True, liu=True) == (
        500.0, 8000.0)
    d31 = norms.fit_and_arrival(STEPS, TRAIN, GROK, def31=True, li=False, liu=False)
    assert d31[1] == 8000.0 and d31[0] <= 500.0
    assert norms.fit_and_arrival(STEPS, TRAIN, GROK, def31=False, li=False, liu=False) is None


def test_the_norm_shapes_on_known_norms() -> None:
    found = {name: norms.norm_shape(STEPS, w, 500.0, 8000.0)
             for name, w in (("turns", TURNS), ("rises", RISES), ("late", LATE),
                             ("decays", DECAYS), ("dip", DIP))}
    assert found == {"turns": (norms.PEAK_AFTER_FIT, 4000.0),
                     "rises": (norms.NO_TURN, 8000.0),  # its largest value up to the arrival
                     "late": (norms.NO_TURN, 8000.0),  # still rising when the test arrives
                     "decays": (norms.FALLS_FROM_FIT, 0.0),
                     "dip": (norms.PEAK_AFTER_FIT, 4000.0)}  # not its start, 3.0 at step 0
    # a peak that barely falls by the arrival (less than PEAK_FALL) is no turn
    flat = np.interp(STEPS, [0, 4000, 8000, 20_000], [1.0, 3.0, 2.99, 1.0])
    assert norms.norm_shape(STEPS, flat, 500.0, 8000.0)[0] == norms.NO_TURN


def runs(spec: dict[str, list]) -> pd.DataFrame:
    """Judged grokking runs of each family with the given norms (None: not recorded)."""
    rows = [{"family": fam, "steps": STEPS, "train_acc": TRAIN, "test_acc": GROK,
             "weight_norm": w, "diverged": False} for fam, ws in spec.items() for w in ws]
    return yardstick.judge_runs(pd.DataFrame(rows))


def test_norm_table_and_verdicts() -> None:
    judged = runs({"all": [TURNS] * 3, "some": [TURNS, RISES, LATE], "none": [RISES, LATE],
                   "unrecorded": [None, None]})
    extra = yardstick.judge_runs(pd.DataFrame([{  # no definition calls it grokking
        "family": "all", "steps": STEPS, "train_acc": TRAIN, "test_acc": TRAIN,
        "weight_norm": RISES, "diverged": False}]))
    table = norms.norm_table(pd.concat([judged, extra], ignore_index=True))
    assert len(table) == 10 and table["t_arrive"].eq(8000.0).all()
    assert table.groupby("family")["turns"].sum().to_dict() == {
        "all": 3, "none": 0, "some": 1, "unrecorded": 0}
    families = ["all", "some", "none", "unrecorded", "absent"]
    found = claims.norm_turns(table, families=families, page="cross/explanations")
    assert [v.verdict for v in found] == [SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE,
                                         INCONCLUSIVE]
    assert found[0].measured.endswith("in 3 of 3 grokking runs (3 peak after the fit)")
    assert "none records a weight norm" in found[3].measured
    decaying = norms.norm_table(runs({"d": [DECAYS, DECAYS]}))
    [v] = claims.norm_turns(decaying, families=["d"], page="p")
    assert v.verdict == SUPPORTED and "(0 peak after the fit)" in v.measured
    assert "no run of this family groks" in found[4].measured
    assert all(not problems(v) for v in found)


def test_norm_summary_counts_each_shape() -> None:
    table = norms.norm_table(runs({"a": [TURNS, RISES, DECAYS], "b": [None]}))
    got = norm_summary(table).set_index("family")
    assert got.loc["a", [norms.PEAK_AFTER_FIT, norms.FALLS_FROM_FIT, norms.NO_TURN]].tolist() \
        == [1, 1, 1]
    assert (got.loc["b", "grokking_runs"], got.loc["b", "with_norm"]) == (1, 0)
