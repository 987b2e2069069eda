"""The weight-norm account on every family: known answers for the steps, the peak rule and
the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, problems
from grokpaper.cross import claims, norms, yardstick

STEPS = np.arange(0, 20_001, 100, dtype=float)
TRAIN = np.clip(STEPS / 500, 0, 1)  # fitted at step 500
GROK = np.where(STEPS >= 8000, 1.0, 0.1)  # the test curve arrives at step 8000
#: Rises until step 4000 (after the fit, before the arrival), then falls to half.
TURNS = np.interp(STEPS, [0, 4000, 20_000], [1.0, 3.0, 1.5])
#: Rises to the end: no turn.
RISES = 1 + STEPS / 1000
#: Peaks after the test curve arrived.
LATE = np.interp(STEPS, [0, 12_000, 20_000], [1.0, 3.0, 1.5])
#: Only decays from its initial value: its peak is step 0.
DECAYS = 3 - STEPS / 10_000


def test_steps_come_from_the_definition_that_calls_grokking() -> None:
    assert norms.fit_and_arrival(STEPS, TRAIN, GROK, def31=False, li=True, liu=True) == (
        500.0, 8000.0)
    d31 = norms.fit_and_arrival(STEPS, TRAIN, GROK, def31=True, li=False, liu=False)
    assert d31[1] == 8000.0 and d31[0] <= 500.0
    assert norms.fit_and_arrival(STEPS, TRAIN, GROK, def31=False, li=False, liu=False) is None


def test_the_peak_rule_on_known_norms() -> None:
    found = {name: norms.turns_before(STEPS, w, 500.0, 8000.0)
             for name, w in (("turns", TURNS), ("rises", RISES), ("late", LATE),
                             ("decays", DECAYS))}
    assert found == {"turns": (True, 4000.0), "rises": (False, 20_000.0),
                     "late": (False, 12_000.0), "decays": (False, 0.0)}
    # a peak that barely falls (less than PEAK_FALL) is no turn
    flat = np.interp(STEPS, [0, 4000, 20_000], [1.0, 3.0, 2.99])
    assert norms.turns_before(STEPS, flat, 500.0, 8000.0)[0] is False


def runs(spec: dict[str, list]) -> pd.DataFrame:
    """Judged grokking runs of each family with the given norms (None: not recorded)."""
    rows = [{"family": fam, "steps": STEPS, "train_acc": TRAIN, "test_acc": GROK,
             "weight_norm": w, "diverged": False} for fam, ws in spec.items() for w in ws]
    return yardstick.judge_runs(pd.DataFrame(rows))


def test_norm_table_and_verdicts() -> None:
    judged = runs({"all": [TURNS] * 3, "some": [TURNS, RISES, LATE], "none": [RISES, DECAYS],
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
    assert "none records a weight norm" in found[3].measured
    assert "no run of this family groks" in found[4].measured
    assert all(not problems(v) for v in found)
