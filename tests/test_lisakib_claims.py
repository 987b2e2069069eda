"""Li & Sakib verdict rules on hand-built runs whose answer is known: each rule gives each of
its outcomes where it should (a rule that can only pass would be a defect)."""

import numpy as np
import pandas as pd
import pytest

from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, Verdict
from grokpaper.lisakib import claims, claims_weights
from grokpaper.lisakib import report as lr_report

S = np.arange(11.0) * 1000  # evaluation steps of a 10,000-step run


def _check(found: list[Verdict]) -> list[str]:
    """Every verdict's landing-page line is one short line; an inconclusive one says what
    would decide it. Returns the verdicts."""
    for v in found:
        assert "\n" not in v.measured and len(v.measured) <= 160, v.measured
        assert bool(v.decide) == (v.verdict == INCONCLUSIVE), (v.verdict, v.decide)
    return [v.verdict for v in found]


def _run(op="/", *, t_train=2000.0, t_val=np.nan, budget=10_000, loss=None, seed=0):
    delay = t_val - t_train
    cls = ("confusion" if not np.isfinite(delay) else
           "grokking" if delay >= 1000 else "comprehension")
    return {"op": op, "seed": seed, "t_train95": t_train, "t_val95": t_val, "delay": delay,
            "li_class": cls, "budget": budget, "steps": S,
            "test_loss": np.full(S.size, 2.0) if loss is None else np.asarray(loss, float)}


# --- Figs. 2, 11, 12 --------------------------------------------------------------------------

def test_no_operation_is_inconclusive_not_supported():
    empty = pd.DataFrame(columns=["op", "li_class", "delay", "budget"])
    assert _check(claims.curves(empty, page="p")) == [INCONCLUSIVE, INCONCLUSIVE]


@pytest.mark.parametrize(("t_vals", "expected"), [
    ({"/": 5000.0, "+": 6000.0}, SUPPORTED),
    ({"/": 5000.0, "+": 2500.0}, PARTLY),  # + comprehends
    ({"/": np.nan, "+": 2500.0}, NOT_SUPPORTED),
])
def test_each_operation_must_grok(t_vals, expected):
    df = pd.DataFrame([_run(op, t_val=t) for op, t in t_vals.items()])
    assert _check(claims.curves(df, page="p"))[0] == expected



def test_each_operation_detail_says_not_reached():
    df = pd.DataFrame([_run("/", t_val=np.nan), _run("+", t_val=6000.0)])
    detail = claims.curves(df, page="p")[0].detail
    assert "x / y: delay not reached (confusion)" in detail
    assert "never steps" not in detail

def test_a_budget_without_room_for_the_delay_decides_nothing():
    df = pd.DataFrame([_run(t_train=10.0, t_val=np.nan, budget=30)])
    found = claims.curves(df, page="p")
    assert _check(found) == [INCONCLUSIVE, INCONCLUSIVE]
    assert "30-step budget" in found[0].decide


def test_loss_rise_is_measured_within_the_pre_grokking_stage():
    # Training at 95% from 2,000, validation from 6,000. Rising within: 2.0 -> 2.5.
    within = [3.0, 2.5, 2.0, 2.5, 2.4, 2.0, 0.5, 0.1, 0.1, 0.1, 0.1]
    # Rises only before training fits, then falls: above the initial 3.0 but not within.
    before = [3.0, 4.0, 3.8, 3.5, 3.0, 2.5, 0.5, 0.1, 0.1, 0.1, 0.1]
    rows = [_run(t_val=6000.0, loss=within), _run(t_val=6000.0, loss=before)]
    assert [claims.loss_rises(pd.Series(r)) for r in rows] == [True, False]
    only = pd.DataFrame([rows[1], _run(t_val=np.nan, loss=within)])  # the rising run never groks
    assert _check(claims.curves(only, page="p"))[1] == NOT_SUPPORTED
    assert _check(claims.curves(pd.DataFrame(rows[:1]), page="p"))[1] == SUPPORTED
    none = pd.DataFrame([_run(t_val=2500.0, loss=within)])
    assert _check(claims.curves(none, page="p"))[1] == INCONCLUSIVE


# --- Table 1 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("parameter", "low", "high", "expected"), [
    ("batch_size", 0.1, 0.6, claims.AGREES),
    ("batch_size", -0.6, -0.1, claims.DISAGREES),
    ("batch_size", -0.1, 0.6, claims.UNDECIDED),
    ("lr", -0.3, -0.01, claims.AGREES),  # the printed -0.063: a minus, not "about 0"
    ("lr", 0.01, 0.3, claims.DISAGREES),
    ("init_scale", -0.05, 0.08, claims.AGREES),
    ("init_scale", 0.2, 0.5, claims.DISAGREES),
    ("init_scale", -0.4, 0.3, claims.UNDECIDED),  # holds 0, but too wide to call it 0
    ("noise", np.nan, np.nan, claims.UNDECIDED),
])
def test_sign_agreement(parameter, low, high, expected):
    assert claims.sign_agreement(parameter, low, high) == expected


def _sweep(n: int, effects: dict[str, float], seed: int = 0) -> pd.DataFrame:
    """Runs whose delay (epochs) is a known linear function of the standardized settings."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({c: rng.choice([1.0, 2.0, 4.0, 8.0], n) for c in lr_report.SWEEP_COLUMNS})
    z = (df - df.mean()) / df.std()
    df["delay_epochs"] = 100 + sum(20 * w * z[c] for c, w in effects.items()) \
        + 5 * rng.normal(size=n)
    return df


AS_PRINTED = {"batch_size": 2.0, "noise": 1.0, "lr": -1.0, "weight_decay": -1.0}


@pytest.mark.parametrize(("effects", "n", "expected"), [
    # "No impact" of the init scale needs its interval within +-0.1: several hundred runs.
    (AS_PRINTED, 1000, [SUPPORTED, SUPPORTED]),
    (AS_PRINTED, 200, [PARTLY, SUPPORTED]),
    ({**AS_PRINTED, "lr": 1.0}, 1000, [PARTLY, SUPPORTED]),
    ({**AS_PRINTED, "batch_size": 0.5, "weight_decay": -3.0}, 1000, [SUPPORTED, PARTLY]),
    ({"batch_size": -2.0, "noise": -1.0, "init_scale": 1.5, "lr": 1.0, "weight_decay": 1.0},
     200, [NOT_SUPPORTED, NOT_SUPPORTED]),
    # Batch size agrees, three contradict, init undecided: not even partly.
    ({**AS_PRINTED, "noise": -1.0, "lr": 1.0, "weight_decay": 1.0}, 200,
     [NOT_SUPPORTED, SUPPORTED]),
    (AS_PRINTED, 6, [INCONCLUSIVE, INCONCLUSIVE]),  # fewer runs than MIN_RUNS
    ({}, 10, [INCONCLUSIVE, INCONCLUSIVE]),  # no effect, few runs: every interval holds 0
])
def test_table1_on_sweeps_of_known_correlation(effects, n, expected):
    df = _sweep(n, effects)
    table = lr_report.correlation_table(df)
    assert (table["ci low"] <= table["ours (Pearson)"]).all()
    assert (table["ours (Pearson)"] <= table["ci high"]).all()
    found = claims.correlations(table, n_defined=n, page="p")
    assert _check(found) == expected
    assert "[" in found[0].detail  # the intervals are shown


def test_the_correlation_table_is_seeded():
    df = _sweep(30, AS_PRINTED)
    pd.testing.assert_frame_equal(lr_report.correlation_table(df),
                                  lr_report.correlation_table(df))


# --- Fig. 3 -----------------------------------------------------------------------------------

def test_validation_share_and_training_share_add_to_one():
    rng = np.random.default_rng(0)
    t, v = rng.gamma(2, 10, 50), rng.gamma(2, 30, 50) + 40
    d = v - t
    share_t = -np.cov(d, t)[0, 1] / np.var(d, ddof=1)
    assert claims.validation_share(d, v) + share_t == pytest.approx(1.0)


def _fig3(train_spread: float, val_spread: float, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    # Independent epochs: the delay's variance splits as var(v) / (var(v) + var(t)).
    t = 50 + train_spread * rng.random(n)
    v = 1000 + val_spread * rng.random(n)
    return pd.DataFrame({"epoch_train95": t, "epoch_val95": v, "delay_epochs": v - t})


@pytest.mark.parametrize(("train_spread", "val_spread", "n", "expected"), [
    (5.0, 500.0, 40, SUPPORTED),  # delays vary with validation
    (500.0, 5.0, 40, NOT_SUPPORTED),  # ... with training
    (100.0, 100.0, 40, INCONCLUSIVE),  # both: the interval holds one half
    (5.0, 500.0, 5, INCONCLUSIVE),  # too few runs
])
def test_long_delays_from_late_validation(train_spread, val_spread, n, expected):
    df = _fig3(train_spread, val_spread, n)
    # Runs without a delay are left out.
    df = pd.concat([df, pd.DataFrame({"epoch_train95": [np.nan], "epoch_val95": [np.nan],
                                      "delay_epochs": [np.nan]})])
    assert _check(claims.late_validation(df, page="p")) == [expected]


def test_a_sweep_without_a_delay_asks_for_the_scale_not_for_more_runs():
    none = pd.DataFrame({"epoch_train95": [50.0, np.nan], "epoch_val95": [np.nan, np.nan],
                         "delay_epochs": [np.nan, np.nan]})
    (fig3,) = claims.late_validation(none, page="p")
    few = claims.late_validation(_fig3(5.0, 500.0, 5), page="p")[0]
    table = lr_report.correlation_table(_sweep(10, AS_PRINTED))
    table1 = claims.correlations(table, n_defined=0, page="p")
    for v in (fig3, *table1):
        assert v.verdict == INCONCLUSIVE
        assert "scale" in v.decide and "more runs (" not in v.decide, v.decide
    # with a few delays, more runs of the same scale are what is missing
    assert few.verdict == INCONCLUSIVE and "more runs (" in few.decide


# --- Table 2 and Fig. 4 -----------------------------------------------------------------------

def _grid(budget: int = 10_000) -> pd.DataFrame:
    rows = []
    for n, b, cls in [(1000, 1000, "grokking"), (1000, 10, "comprehension"),
                      (2000, 20, "comprehension"), (4000, 4, "confusion")]:
        steps = 10_000 / b  # more steps per epoch with a larger set, fewer with a larger batch
        rows.append({"n_train": n, "batch_size": b, "li_class": cls, "budget": budget,
                     "t_train95": 1000.0 * n / b / 10, "epoch_train95": steps * b / n})
    return pd.DataFrame(rows)


def test_fig4_band():
    assert _check(claims.batch_size_table(_grid(), page="p"))[1] == SUPPORTED
    no_comp = _grid().assign(li_class=["grokking", "grokking", "confusion", "confusion"])
    assert _check(claims.batch_size_table(no_comp, page="p"))[1] == NOT_SUPPORTED
    assert _check(claims.batch_size_table(_grid(budget=30), page="p"))[1] == INCONCLUSIVE


# --- Table 4, Figs. 6-8, Sec. 3.4 -------------------------------------------------------------

def _landscape(ranges: list[float], train: list[float], val: list[float],
               classes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"normalization": "filter", "range": ranges, "li_class": classes,
                         "final_train_acc": train, "final_val_acc": val})


GROK2 = (["grokking", "grokking"], [1.0, 1.0], [1.0, 1.0])


@pytest.mark.parametrize(("failing_ranges", "expected"), [
    ([1.0, 1.2], SUPPORTED),  # grokking 4-5, failing ~1: considerably flatter
    ([3.0, 3.5], PARTLY),  # flatter, not 2x
    ([6.0, 7.0], NOT_SUPPORTED),
])
def test_table4_failing_optima_flatter(failing_ranges, expected):
    cls, train, val = GROK2
    table = _landscape([4.0, 5.0, *failing_ranges], [*train, 0.8, 0.7], [*val, 0.1, 0.2],
                       [*cls, "confusion", "confusion"])
    assert _check(claims_weights.failing_flatter(table, page="p")) == [expected]


def test_table4_leaves_out_runs_that_learned_nothing():
    cls, train, val = GROK2
    # Two flat runs at chance: counted, they would support the claim.
    table = _landscape([4.0, 5.0, 0.01, 0.02], [*train, 0.05, 0.04], [*val, 0.01, 0.02],
                       [*cls, "confusion", "confusion"])
    found = claims_weights.failing_flatter(table, page="p")
    assert _check(found) == [INCONCLUSIVE] and "2 runs below it left out" in found[0].detail
    # A memorizing run (train 100%, validation low) does not fail "both".
    memo = _landscape([4.0, 5.0, 0.5], [*train, 1.0], [*val, 0.1], [*cls, "confusion"])
    assert _check(claims_weights.failing_flatter(memo, page="p")) == [INCONCLUSIVE]


def _norm_run(peak_step: float, *, t_train=2000.0, t_val=6000.0, peak=3.0, final=2.0,
              wd=1.0, train_acc=1.0, budget=10_000) -> dict:
    delay = t_val - t_train
    cls = ("confusion" if not np.isfinite(delay) else
           "grokking" if delay >= 1000 else "comprehension")
    return {"qkv_peak_step": peak_step, "t_train95": t_train, "t_val95": t_val, "delay": delay,
            "qkv_peak": peak, "qkv_final": final, "li_class": cls, "weight_decay": wd,
            "final_train_acc": train_acc, "final_val_acc": 1.0 if np.isfinite(t_val) else 0.1,
            "budget": budget}


def test_a_norm_that_only_decays_from_its_start_is_no_early_signal():
    df = pd.DataFrame([_norm_run(0.0), _norm_run(1000.0), _norm_run(4000.0),
                       _norm_run(7000.0)])
    assert claims_weights.in_pre_grokking(df).tolist() == [False, False, True, False]
    found = claims_weights.early_signal(df, page="p")
    assert _check(found) == [PARTLY] and "1/4" in found[0].measured
    assert _check(claims_weights.early_signal(df.iloc[2:3], page="p")) == [SUPPORTED]
    assert _check(claims_weights.early_signal(df.iloc[[0, 1]], page="p")) == [NOT_SUPPORTED]
    assert _check(claims_weights.early_signal(df.iloc[:0], page="p")) == [INCONCLUSIVE]


def _by_wd(delays: dict[float, float], *, t_train2: float = 2000.0) -> pd.DataFrame:
    """One run per weight decay with the given delay (NaN: validation never reaches 95%);
    weight decay 2 reaches 95% training accuracy at ``t_train2`` (NaN: never)."""
    runs = []
    for w, d in delays.items():
        t = t_train2 if w == 2.0 else 2000.0
        runs.append(_norm_run(4000.0, wd=w, t_train=t, t_val=t + d,
                              train_acc=1.0 if np.isfinite(t) else 0.3))
    return pd.DataFrame(runs)


def _verdict_for(df: pd.DataFrame, figure: str, claim_start: str) -> str:
    found = claims_weights.norms(df, df, page="p")
    _check(found)
    (v,) = [v for v in found if v.figure == figure and v.claim.startswith(claim_start)]
    return v.verdict


@pytest.mark.parametrize(("delays", "t_train2", "expected"), [
    ({1.0: 4000.0, 2.0: 2000.0}, 2000.0, SUPPORTED),
    ({1.0: 4000.0, 2.0: 3200.0}, 2000.0, PARTLY),
    ({1.0: 4000.0, 2.0: 5000.0}, 2000.0, NOT_SUPPORTED),
    ({1.0: np.nan, 2.0: 2000.0}, 2000.0, INCONCLUSIVE),  # weight decay 1: no delay to halve
    # 2 not generalized by the end: its delay is at least 10,000 - t_train2.
    ({1.0: 4000.0, 2.0: np.nan}, 8000.0, INCONCLUSIVE),  # >= 2,000: half is still possible
    ({1.0: 4000.0, 2.0: np.nan}, 2000.0, NOT_SUPPORTED),  # >= 8,000: twice as long
    ({1.0: 4000.0, 2.0: np.nan}, np.nan, NOT_SUPPORTED),  # 2 never fits: no delay at all
])
def test_weight_decay_2_halves_the_delay(delays, t_train2, expected):
    df = _by_wd(delays, t_train2=t_train2)
    assert _verdict_for(df, "Fig. 8", "Weight decay 2") == expected


@pytest.mark.parametrize(("delays", "expected"), [
    ({0.1: 5000.0, 0.5: 3000.0, 1.0: 2000.0}, SUPPORTED),
    ({0.1: 5000.0, 0.5: 1500.0, 1.0: 2000.0}, PARTLY),
    ({0.1: 2000.0, 0.5: 2000.0, 1.0: 2000.0}, NOT_SUPPORTED),  # flat: not longer
    ({0.1: 1000.0, 0.5: 3000.0, 1.0: 5000.0}, NOT_SUPPORTED),
])
def test_smaller_weight_decay_longer_delay(delays, expected):
    assert _verdict_for(_by_wd(delays), "Fig. 7", "Below 1") == expected


def test_norm_peak_in_the_pre_grokking_stage_and_falling():
    runs = [_norm_run(4000.0), _norm_run(4000.0, final=2.9), _norm_run(0.0)]
    df = pd.DataFrame(runs)
    found = claims_weights.norms(df, df, page="p")
    assert _check(found)[0] == PARTLY and "1/3" in found[0].measured
    assert _check(claims_weights.norms(df.iloc[:1], df.iloc[:1], page="p"))[0] == SUPPORTED


@pytest.mark.parametrize(("low_t_train", "low_final", "top_t_train", "top_final", "expected"), [
    (500.0, 1.0, np.nan, 0.3, SUPPORTED),
    # The smallest weight decay fitted, then its last evaluation swung below 95%: still learned.
    (500.0, 0.9, np.nan, 0.3, SUPPORTED),
    # The largest weight decay fitted once and ends low: it did not keep accuracy low.
    (500.0, 1.0, 3000.0, 0.6, NOT_SUPPORTED),
    (np.nan, 0.4, np.nan, 0.3, INCONCLUSIVE),  # nothing learned: nothing to compare
])
def test_too_much_weight_decay_reads_fitting_not_the_last_evaluation(
        low_t_train, low_final, top_t_train, top_final, expected):
    low = _norm_run(4000.0, wd=0.3, t_train=low_t_train, t_val=np.nan, train_acc=low_final)
    top = _norm_run(4000.0, wd=2.0, t_train=top_t_train, t_val=np.nan, train_acc=top_final)
    df = pd.DataFrame([low, top])
    assert _verdict_for(df, "Fig. 8", "Too much") == expected
