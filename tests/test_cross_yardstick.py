"""The cross-examination's yardstick: each definition on hand-built curves whose answer is
known, the agreement table and its verdict rule on hand-built judged runs, and the store
reader on a hand-filled store (nothing trains)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grokpaper.core.store import Store
from grokpaper.core.studies import CROSS, LISAKIB
from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, problems
from grokpaper.cross import claims, stored, yardstick
from grokpaper.cross.report import agreement_table, coverage_table, disagreement_figure

STEPS = np.arange(0, 20_001, 100, dtype=float)


def ramp(start: float, end: float, *, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """``low`` until step ``start``, a straight rise to ``high`` at ``end``, then flat."""
    return low + (high - low) * np.clip((STEPS - start) / (end - start), 0, 1)


TRAIN = ramp(0, 500)  # fits the training set by step 500
CASES = {
    # (test curve, (Def. 3.1, 95 % delay, phase rule), Liu's phase, delay)
    "grokking": (ramp(8000, 8100, low=0.1), (True, True, True), "grokking", 7600.0),
    "comprehension": (ramp(0, 500), (False, False, False), "comprehension", 0.0),
    "memorization": (np.full_like(STEPS, 0.1), (False, False, False), "memorization", None),
    # Rises with training, no plateau, but reaches 95% 2,400 steps after the training set:
    # a delay to the step rules, no grokking to Definition 3.1.
    "creeping": (ramp(0, 3000), (False, True, True), "grokking", 2400.0),
    # A late jump that stops at 92%: between Liu's 90% and Li & Sakib's 95%.
    "between": (ramp(8000, 8100, low=0.1, high=0.92), (True, False, True), "grokking", None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_definition_on_curves_with_known_answers(name: str) -> None:
    test, calls, phase, delay = CASES[name]
    j = yardstick.judge(STEPS, TRAIN, test)
    assert j.calls == calls
    assert j.phase == phase
    assert j.delay == delay
    assert j.agree == (len(set(calls)) == 1)
    assert j.converged  # every training curve here converges


def test_a_noisy_training_curve_is_not_converged_for_definition_31() -> None:
    # Minibatch noise of +-3% around a fitted training set: Definition 3.1 finds no converged
    # training curve (its tail must lie within 2% of the limit), the step rules still read
    # a 7,600-step delay.
    noisy = np.where(np.arange(STEPS.size) % 2, 0.94, 1.0) * TRAIN
    j = yardstick.judge(STEPS, noisy, CASES["grokking"][0])
    assert not j.converged and not j.def31 and j.li and j.liu
    table = yardstick.agreement(yardstick.judge_runs(pd.DataFrame(
        [{"family": "f", "steps": STEPS, "train_acc": noisy, "test_acc": TRAIN}])))
    assert table.loc[0, "Def. 3.1: train not converged"] == 1


def test_patterns_name_the_definitions_that_call_grokking() -> None:
    names = {n: yardstick.judge(STEPS, TRAIN, CASES[n][0]).pattern for n in CASES}
    assert names == {"grokking": "all three", "comprehension": "none", "memorization": "none",
                     "creeping": "95 % delay + phase rule",
                     "between": "Def. 3.1 + phase rule"}
    one = yardstick.Judgement(True, None, False, "memorization", False)
    assert one.pattern == "Def. 3.1 only" and not one.agree


def test_the_delay_rule_counts_a_crossing_at_the_last_step() -> None:
    # The budget is the last step: a test curve reaching 95% exactly there still has a delay.
    test = np.where(np.arange(STEPS.size) == STEPS.size - 1, 1.0, 0.1)
    j = yardstick.judge(STEPS, TRAIN, test)
    assert j.delay == STEPS[-1] - 500 and j.li and j.phase == "grokking"


def judged_runs(spec: dict[str, list[str]]) -> pd.DataFrame:
    """Runs of each family built from the named :data:`CASES`, judged."""
    rows = [{"study": LISAKIB.name, "family": fam, "steps": STEPS, "train_acc": TRAIN,
             "test_acc": CASES[case][0], "diverged": False}
            for fam, cases in spec.items() for case in cases]
    return yardstick.judge_runs(pd.DataFrame(rows))


def test_agreement_counts_and_shares() -> None:
    judged = judged_runs({"a": ["grokking", "grokking", "creeping", "comprehension"],
                          "b": ["memorization"]})
    table = yardstick.agreement(judged).set_index("family")
    a, b = table.loc["a"], table.loc["b"]
    assert (a["runs"], a["Def. 3.1"], a["95 % delay"], a["phase rule"]) == (4, 2, 3, 3)
    assert (a["agree"], a["any grokking"], a["all three"]) == (3, 3, 2)
    assert a["agree_share"] == pytest.approx(0.75) and a["all_share"] == pytest.approx(2 / 3)
    assert b["agree_share"] == 1.0 and np.isnan(b["all_share"])  # nothing contested
    counts = yardstick.patterns(judged)
    assert counts.loc["a", "all three"] == 2 and counts.loc["b", "none"] == 1
    shown = agreement_table(judged)
    assert list(shown["study"]) == [LISAKIB.name] * 2


def test_the_verdict_rule_reads_the_contested_runs() -> None:
    judged = judged_runs({
        "agree": ["grokking"] * 7 + ["creeping"] * 3 + ["comprehension"] * 5,  # 7/10: MOST
        "some": ["grokking", "creeping", "between"],  # 1/3
        "never": ["creeping", "between"],  # 0/2
        "trivial": ["comprehension", "memorization"],  # nothing contested
    })
    families = ["agree", "some", "never", "trivial", "absent"]
    found = claims.yardstick(judged, families=families, page="cross/yardstick")
    assert [v.verdict for v in found] == [SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE,
                                         INCONCLUSIVE]
    assert all(v.paper == CROSS.name and not problems(v) for v in found)
    assert found[0].measured.startswith("7 of 10 runs called grokking by any")
    assert "no stored run" in found[4].measured
    # one short of MOST: partly
    judged = judged_runs({"agree": ["grokking"] * 6 + ["creeping"] * 4})
    [v] = claims.yardstick(judged, families=["agree"], page="p")
    assert v.verdict == PARTLY


def test_diverged_runs_are_left_out_of_the_verdict_and_counted() -> None:
    judged = judged_runs({"a": ["grokking", "creeping"]})
    judged.loc[1, "diverged"] = True
    [v] = claims.yardstick(judged, families=["a"], page="p")
    assert v.verdict == SUPPORTED and v.measured.endswith("(1 diverged run excluded)")


def test_disagreement_figure_draws_only_disagreeing_runs() -> None:
    judged = judged_runs({"a": ["grokking", "creeping", "between", "creeping", "creeping"],
                          "b": ["grokking"]})
    fig = disagreement_figure(judged, shown=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2  # family a's first two disagreeing runs; b agrees
    assert "95 % delay + phase rule" in visible[0].get_title()
    assert disagreement_figure(judged_runs({"b": ["grokking"]})) is None


def test_collect_reads_the_stored_runs_of_each_figure(tmp_path) -> None:
    store = Store(tmp_path)
    plan, skipped = stored.planned("smoke", ["lisakib.curves", "lisakib.norms"])
    assert skipped == {} and set(plan) == {"lisakib.curves", "lisakib.norms"}
    curves = plan["lisakib.curves"]
    kind, key, _ = curves[0]
    arrays = {"steps": STEPS, "train_acc": TRAIN, "test_acc": CASES["grokking"][0],
              "weight_norm": np.linspace(1, 2, STEPS.size), "diverged_step": np.array(-1)}
    store.save(kind, key, arrays, {"kind": kind})
    found = stored.collect("smoke", store=store, figures=["lisakib.curves", "lisakib.norms"])
    assert len(found.runs) == 1  # one run stored, read once
    row = found.runs.iloc[0]
    assert (row["study"], row["key"]) == (LISAKIB.name, key)
    assert row["family"] == "Li & Sakib transformer"
    assert np.array_equal(row["test_acc"], CASES["grokking"][0]) and not row["diverged"]
    assert found.figures["lisakib.curves"] == (1, len({k for _, k, _ in curves}))
    shared = any(key == k for _, k, _ in plan["lisakib.norms"])
    assert found.figures["lisakib.norms"][0] == int(shared)
    assert set(found.missing()) <= {"lisakib.curves", "lisakib.norms"}
    table = coverage_table(found).set_index("figure")
    assert table.loc["lisakib.curves", "status"] == ("read" if len(curves) == 1
                                                     else "partly run")


def test_runs_without_a_test_curve_are_set_apart() -> None:
    runs = pd.DataFrame({"test_acc": [np.ones(3), np.full(3, np.nan)], "diverged": [True, False]})
    kept, gone = stored.with_test_curve(runs)
    assert len(kept) == len(gone) == 1 and bool(kept.loc[0, "diverged"])


def test_every_family_the_reader_names_has_a_verdict_label() -> None:
    names = stored.family_names()
    assert len(names) == len(set(names)) and "synthetic MLP" in names
    assert "synthetic transformer" in names and "Liu toy model" in names


def test_figures_that_cannot_be_read_say_why(tmp_path) -> None:
    plan, skipped = stored.planned("smoke", ["mnist.omnigrok", "mnist.cluster_shift"],
                                   {"data_dir": str(tmp_path)})  # no MNIST files there
    assert plan == {}
    assert skipped["mnist.omnigrok"] == "no MNIST data"
    assert "ResNet" in skipped["mnist.cluster_shift"]
