"""Tests for grokpaper.core.metrics: Definition 3.1 on synthetic curves with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from grokpaper.core.metrics import (
    Def31Options,
    GrokkingStats,
    definition31,
    definition31_at_convergence,
    definition31_batch,
    first_crossing,
    grokking_delay,
)
from grokpaper.core.report import SENSITIVE, definition31_sensitivity

STEPS = np.logspace(0, 4, 200)  # log-spaced evaluation steps 1..1e4


def _train(steps: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-steps / 20.0)  # memorizes by step ~100


def _sigmoid(steps: np.ndarray, center: float, width: float, low: float = 0.25) -> np.ndarray:
    return low + (1.0 - low) / (1.0 + np.exp(-(steps - center) / width))


def _noisy(x: np.ndarray, seed: int, sd: float = 0.02) -> np.ndarray:
    return np.clip(x + np.random.default_rng(seed).normal(0.0, sd, x.shape), 0.0, 1.0)


def test_at_convergence_delayed_sigmoid_groks() -> None:
    """The earlier reading (alpha0 = train convergence), kept for the sensitivity table."""
    st = definition31_at_convergence(STEPS, _train(STEPS), _sigmoid(STEPS, 2000.0, 150.0))
    assert st.grokked
    assert 50 < st.alpha0 < 150  # train within 0.02 of 1 from step ~78
    # alpha1 is where the test curve *enters* Delta_T: late in the rise, before it is complete.
    assert 2000 < st.alpha1 < 3000
    assert st.sigma_S == pytest.approx(0.25, abs=0.01)
    assert st.delta_S > 0.7
    assert 0 <= st.delta_T < 0.02
    assert st.support == (st.alpha1, STEPS[-1])


def test_at_convergence_never_generalizes() -> None:
    """The earlier reading (alpha0 = train convergence), kept for the sensitivity table."""
    st = definition31_at_convergence(STEPS, _train(STEPS), np.full_like(STEPS, 0.5))
    assert st.alpha0 is not None
    assert not st.grokked
    assert st.delta_S == pytest.approx(0.0)


def test_at_convergence_generalizes_at_once_is_not_grokking() -> None:
    """The earlier reading (alpha0 = train convergence), kept for the sensitivity table."""
    st = definition31_at_convergence(STEPS, _train(STEPS), 0.97 * _train(STEPS))
    assert not st.grokked
    assert st.delta_S < 0.1


def test_noisy_plateau_with_spike_is_not_grokking() -> None:
    test = _noisy(np.full_like(STEPS, 0.5), seed=1)
    spike = (STEPS > 1500) & (STEPS < 1700)
    assert 1 <= spike.sum() <= 4
    test[spike] = 0.95
    st = definition31(STEPS, _noisy(_train(STEPS), seed=2, sd=0.005), test)
    assert st.alpha0 is not None
    assert not st.grokked
    assert st.delta_S < 0.1


def test_noisy_late_rise_groks() -> None:
    test = _noisy(_sigmoid(STEPS, 2000.0, 150.0), seed=3)
    st = definition31(STEPS, _noisy(_train(STEPS), seed=4, sd=0.005), test)
    assert st.grokked
    assert 2000 < st.alpha1 < 3000
    assert st.delta_S > 0.6


def test_training_never_converges() -> None:
    train = 0.2 * np.log10(STEPS)  # still rising at the end (0 -> 0.8)
    st = definition31(STEPS, train, _sigmoid(STEPS, 2000.0, 150.0))
    assert st == GrokkingStats(None, None, None, None, None, None, None, None, False)


def test_at_convergence_support_must_be_much_longer_than_transition() -> None:
    """The earlier reading (alpha0 = train convergence), kept for the sensitivity table."""
    short = np.linspace(1, 4000, 400)  # run stops soon after the rise: S < 2 (alpha1 - alpha0)
    long = np.linspace(1, 10000, 1000)
    curves = {s.size: (_train(s), _sigmoid(s, 2000.0, 100.0)) for s in (short, long)}
    assert not definition31_at_convergence(short, *curves[short.size]).grokked
    assert definition31_at_convergence(short, *curves[short.size], support_ratio=0.5).grokked
    assert definition31_at_convergence(long, *curves[long.size]).grokked


def test_at_convergence_single_dip_moves_alpha1_unless_smoothed() -> None:
    """The earlier reading (alpha0 = train convergence), kept for the sensitivity table."""
    test = _sigmoid(STEPS, 2000.0, 150.0)
    dip = int(np.argmin(np.abs(STEPS - 3500)))
    test[dip] = 0.5
    raw = definition31_at_convergence(STEPS, _train(STEPS), test)
    assert raw.alpha1 > 3500 and not raw.grokked
    smoothed = definition31_at_convergence(STEPS, _train(STEPS), test, smooth=3)
    assert 2000 < smoothed.alpha1 < 3000 and smoothed.grokked


def test_max_delta_t_and_sigma_e_cap() -> None:
    test = _sigmoid(STEPS, 2000.0, 150.0, low=0.1) * 0.7  # ends at 0.7, train at 1
    assert definition31(STEPS, _train(STEPS), test).grokked
    assert not definition31(STEPS, _train(STEPS), test, max_delta_t=0.2).grokked
    # test above train at the end: sigma_E is capped so that Delta_T contains the train limit
    st = definition31(STEPS, 0.9 * _train(STEPS), _sigmoid(STEPS, 2000.0, 150.0))
    assert st.sigma_E == pytest.approx(st.train_limit) and st.delta_T == pytest.approx(0.0)


def test_as_dict_plain() -> None:
    row = definition31(STEPS, _train(STEPS), _sigmoid(STEPS, 2000.0, 150.0)).as_dict()
    assert row["grokked"] is True and row["support_end"] == pytest.approx(1e4)
    assert all(type(v) in (float, bool) for v in row.values())
    row = definition31(STEPS, 0.2 * np.log10(STEPS), np.zeros_like(STEPS)).as_dict()
    assert row["grokked"] is False and row["alpha0"] is None and row["support_start"] is None


def test_accepts_lists_and_tensor_like() -> None:
    class FakeTensor:  # duck-types torch.Tensor without importing torch (slow)
        def __init__(self, a: np.ndarray) -> None:
            self.a = a

        def detach(self) -> FakeTensor:
            return self

        def cpu(self) -> FakeTensor:
            return self

        def numpy(self) -> np.ndarray:
            return self.a

    train, test = _train(STEPS), _sigmoid(STEPS, 2000.0, 150.0)
    ref = definition31(STEPS, train, test)
    assert definition31(list(STEPS), list(train), list(test)) == ref
    assert definition31(FakeTensor(STEPS), FakeTensor(train), FakeTensor(test)) == ref


def test_batch_equals_loop() -> None:
    trains = np.stack([_train(STEPS)] * 3 + [0.2 * np.log10(STEPS)])
    tests = np.stack(
        [
            _sigmoid(STEPS, 2000.0, 150.0),
            np.full_like(STEPS, 0.5),
            _noisy(_sigmoid(STEPS, 2000.0, 150.0), seed=5),
            _sigmoid(STEPS, 2000.0, 150.0),
        ]
    )
    batch = definition31_batch(STEPS, trains, tests, smooth=3)
    assert batch == [
        definition31(STEPS, a, b, smooth=3) for a, b in zip(trains, tests, strict=True)
    ]
    assert [s.grokked for s in batch] == [True, False, True, False]


def test_first_crossing_exact() -> None:
    steps = [10, 20, 30, 40, 50]
    assert first_crossing(steps, [0.1, 0.5, 0.95, 0.9, 1.0], 0.95) == 30.0  # >= is inclusive
    assert first_crossing(steps, [0.1, 0.5, 0.94, 0.9, 0.9], 0.95) is None
    assert first_crossing(steps, [1.0, 0.5, 0.94, 0.9, 0.9], 0.95) == 10.0


def test_grokking_delay_known_crossings() -> None:
    steps = np.arange(0, 2001, 100)
    train = np.where(steps >= 200, 0.95, 0.5)
    test = np.where(steps >= 1200, 0.96, 0.3)
    assert grokking_delay(steps, train, test) == 1000.0
    assert grokking_delay(steps, train, np.minimum(test, 0.94)) is None
    assert grokking_delay(steps, np.minimum(train, 0.9), test) is None
    assert grokking_delay(steps, train, test, threshold=0.5) == 1200.0  # train at 0.5 from 0
    assert grokking_delay(steps, test, train) == -1000.0  # test first: negative delay


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        (([1, 2, 3], [0.1, 0.2], [0.1, 0.2, 0.3]), {}, "train"),
        (([1, 2, 3], [0.1, 0.2, 0.3], [0.1, 0.2]), {}, "test"),
        (([1, 3, 2], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), {}, "steps"),
        (([1], [0.1], [0.1]), {}, "steps"),
        (([1, 2, 3], [0.1, float("nan"), 0.3], [0.1, 0.2, 0.3]), {}, "train"),
        (([1, 2, 3], [0.1, 0.2, 0.3], [0.1, 1.5, 0.3]), {}, "test"),
        (([1, 2, float("inf")], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), {}, "steps"),
        (([1, 2, 3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), {"smooth": 2}, "smooth"),
        (([1, 2, 3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), {"tail_frac": 0.0}, "tail_frac"),
        (([1, 2, 3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), {"conv_tol": -1}, "conv_tol"),
    ],
)
def test_definition31_validation(args: tuple, kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        definition31(*args, **kwargs)


def test_other_validation() -> None:
    with pytest.raises(ValueError, match="train"):
        definition31_batch([1, 2, 3], [0.1, 0.2, 0.3], [[0.1, 0.2, 0.3]])
    with pytest.raises(ValueError, match="test"):
        grokking_delay([1, 2, 3], [0.1, 0.2, 0.3], [0.1, 0.2, -0.3])
    with pytest.raises(ValueError, match="threshold"):
        grokking_delay([1, 2, 3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], threshold=95)
    with pytest.raises(ValueError, match="values"):
        first_crossing([1, 2], [0.1, 0.2, 0.3], 0.5)


# Definition 3.1 read as the paper's Fig. 2 draws it: alpha0 where the test curve escapes a low
# plateau that it reached after training converged, alpha1 where it enters the high region.


def _linear(budget: float, n: int = 400) -> np.ndarray:
    return np.linspace(1.0, budget, n)


def test_delayed_sigmoid_alpha0_is_where_the_test_curve_leaves_its_plateau() -> None:
    st = definition31(STEPS, _train(STEPS), _sigmoid(STEPS, 2000.0, 150.0))
    assert st.grokked and st.plateau
    assert 50 < st.t_converged < 150  # training converged first ...
    # ... the test curve leaves its plateau (0.25 + plateau_tol = 0.30) at about 2000 - 2.6 w;
    # alpha0 is the knee before it, still within plateau_tol / 2 of 0.25 (about 2000 - 3.7 w)
    assert 1350 < st.alpha0 < 1500
    assert _sigmoid(np.array([st.alpha0]), 2000.0, 150.0)[0] <= 0.25 + 0.025
    # ... and enters the high region (within high_tol of 1) at about 2000 + 3.9 w
    assert 2500 < st.alpha1 < 2700
    assert st.sigma_E == pytest.approx(0.98, abs=1e-6)
    assert st.sigma_S == pytest.approx(_sigmoid(np.array([st.alpha0]), 2000.0, 150.0)[0])
    assert st.support == (st.alpha1, STEPS[-1])


@pytest.mark.parametrize("width", [100.0, 300.0])
def test_delayed_sigmoid_groks_once_the_run_outlasts_its_support(width: float) -> None:
    """The same transition at several budgets: it groks exactly when the run lasts past
    alpha1 + support_ratio (alpha1 - alpha0), and alpha0, alpha1 do not move with the budget."""
    found = {}
    for budget in (3000, 4000, 6000, 10_000, 20_000):
        s = _linear(budget, n=budget // 10)  # one evaluation every 10 steps
        found[budget] = definition31(s, _train(s), _sigmoid(s, 2000.0, width))
    ref = found[20_000]
    assert ref.grokked
    need = ref.alpha1 + 2.0 * (ref.alpha1 - ref.alpha0)
    for budget, st in found.items():
        if budget > ref.alpha1 + 100:
            # (within the test curve's slope near sigma_E: a shorter run holds a slightly lower
            # final level, so its sigma_E, and alpha1, sit a little lower)
            assert st.alpha0 == pytest.approx(ref.alpha0, abs=0.1 * width)
            assert st.alpha1 == pytest.approx(ref.alpha1, abs=0.1 * width)
        assert st.grokked == (budget >= need + 20), (budget, need)
    # wider transitions need longer runs
    assert (width == 100.0) == found[4000].grokked


def test_a_completed_transition_groks_although_the_earlier_reading_says_no() -> None:
    s = _linear(4000)
    train, test = _train(s), _sigmoid(s, 2000.0, 100.0)
    assert definition31(s, train, test).grokked
    assert not definition31_at_convergence(s, train, test).grokked


def test_rising_with_training_and_saturating_slowly_is_not_grokking() -> None:
    """The test curve rises together with training and merely saturates later: no plateau."""
    test = 0.3 * _train(STEPS) + 0.65 * (1.0 - np.exp(-STEPS / 200.0))
    st = definition31(STEPS, _train(STEPS), test)
    assert st.plateau is False and not st.grokked
    assert st.delta_S > 0.1  # a large gap that the earlier reading called grokking
    assert definition31_at_convergence(STEPS, _train(STEPS), test).grokked


def test_test_tracking_train_is_not_grokking() -> None:
    st = definition31(STEPS, _train(STEPS), 0.97 * _train(STEPS))
    assert not st.grokked and st.alpha1 is None


@pytest.mark.parametrize("noisy", [False, True])
def test_flat_plateau_never_rising_is_not_grokking(noisy: bool) -> None:
    test = np.full_like(STEPS, 0.5)
    test = _noisy(test, seed=7) if noisy else test
    st = definition31(STEPS, _train(STEPS), test)
    assert st.plateau and not st.grokked
    if not noisy:
        assert st.alpha0 == STEPS[-1] and st.alpha1 is None
    else:  # noise may leave the plateau, but reaches no high region far above it
        assert st.delta_S is None or st.delta_S < 0.1


def test_noisy_plateau_then_late_rise_groks() -> None:
    test = _noisy(_sigmoid(STEPS, 2000.0, 150.0), seed=3)
    st = definition31(STEPS, _noisy(_train(STEPS), seed=4, sd=0.005), test)
    assert st.grokked and st.plateau
    assert 1200 < st.alpha0 < 1800 and 2000 < st.alpha1 < 3000
    assert st.delta_S > 0.55


@pytest.mark.parametrize(("dip_at", "groks"), [(8000.0, True), (4000.0, False)])
def test_a_late_dip_below_sigma_e_ends_the_support(dip_at: float, groks: bool) -> None:
    s = _linear(10_000, n=1000)
    test = _sigmoid(s, 2000.0, 150.0)
    test[s >= dip_at] = 0.6  # the test score falls out of Delta_T for good
    st = definition31(s, _train(s), test)
    assert st.sigma_E == pytest.approx(0.98, abs=1e-3)  # the level held before the dip
    assert st.support[1] == pytest.approx(s[s >= dip_at][0])
    # S = dip - alpha1 against 2 (alpha1 - alpha0) ~ 2,100 steps
    assert st.grokked is groks


def test_two_step_rise_is_measured_from_the_first_escape_to_the_final_level() -> None:
    s = _linear(40_000, n=4000)
    test = 0.25 + 0.35 / (1 + np.exp(-(s - 1000) / 50)) + 0.38 / (1 + np.exp(-(s - 5000) / 50))
    st = definition31(s, _train(s), test)
    assert 700 < st.alpha0 < 1000  # escape from the first plateau (0.25)
    assert 5000 < st.alpha1 < 5400  # entering the final level (0.98)
    assert st.sigma_E == pytest.approx(0.96, abs=0.01)
    assert st.grokked  # S = 40,000 - 5,200 >> 4,400
    short = s <= 12_000
    assert not definition31(s[short], _train(s[short]), test[short]).grokked


def test_an_excursion_off_the_plateau_that_falls_back_is_not_the_escape() -> None:
    """Three evaluations above the plateau (a running median of 3 keeps them) that fall back:
    alpha0 stays at the knee of the rise into the high region, so the run still groks."""
    base = _sigmoid(STEPS, 5000.0, 150.0)
    bump = (STEPS > 480) & (STEPS < 560)
    assert 3 <= bump.sum() <= 5
    test = np.where(bump, 0.45, base)
    st = definition31(STEPS, _train(STEPS), test)
    clean = definition31(STEPS, _train(STEPS), base)
    assert st.alpha0 == clean.alpha0 and 4000 < st.alpha0 < 5000
    assert st.alpha1 == clean.alpha1 and st.grokked
    # sigma_S is the best score up to alpha0, the excursion included (an upper bound)
    assert st.sigma_S == pytest.approx(0.45)
    # had alpha0 been the excursion (~480), S = 10,000 - alpha1 would fall short of
    # 2 (alpha1 - 480) and the run would not grok
    assert STEPS[-1] - st.alpha1 < 2 * (st.alpha1 - 480)


def test_single_dip_ends_the_support_unless_smoothed() -> None:
    test = _sigmoid(STEPS, 2000.0, 150.0)
    dip = int(np.argmin(np.abs(STEPS - 3500)))
    test[dip] = 0.5
    raw = definition31(STEPS, _train(STEPS), test)
    assert raw.support[1] == pytest.approx(STEPS[dip]) and not raw.grokked
    smoothed = definition31(STEPS, _train(STEPS), test, smooth=3)
    assert smoothed.grokked and smoothed.support[1] == STEPS[-1]


def test_options_are_validated_and_named() -> None:
    with pytest.raises(ValueError, match="plateau_tol"):
        definition31(STEPS, _train(STEPS), _train(STEPS), plateau_tol=-0.1)
    with pytest.raises(TypeError, match="nonsense"):
        definition31(STEPS, _train(STEPS), _train(STEPS), nonsense=1)
    assert Def31Options().plateau_ratio == 2.0


def test_sensitivity_counts_each_reading_and_threshold() -> None:
    runs = [(STEPS, _train(STEPS), _sigmoid(STEPS, 2000.0, 150.0)),  # groks everywhere
            (STEPS, _train(STEPS), 0.3 * _train(STEPS)
             + 0.65 * (1.0 - np.exp(-STEPS / 200.0))),  # earlier reading only
            (STEPS, _train(STEPS), np.full_like(STEPS, 0.5))]  # never
    rows = definition31_sensitivity(runs)
    by = {(r["reading"], r["threshold"]): r["grokked"] for r in rows}
    assert by[("plateau (Fig. 2)", "(defaults)")] == 1
    assert by[("alpha0 at train convergence", "(defaults)")] == 2
    assert len(rows) == 2 + 2 * len(SENSITIVE)
    assert all(r["runs"] == 3 for r in rows)
    # a tolerance doubled until the slow rise fits inside the plateau changes the count
    assert {r["value"] for r in rows if r["threshold"] == "plateau_tol x 2"} == {0.1}


def test_a_test_score_high_at_convergence_that_falls_to_a_plateau_is_not_the_entry():
    # Found by the quick book (a Liu toy run): the test score is high when training converges,
    # falls to a plateau, and rises again much later; this used to raise in definition31.
    s = np.arange(0, 3001, 10.0)
    train = np.where(s >= 10, 1.0, 0.5)
    test = np.where(s <= 10, 0.9, np.where(s >= 1500, 0.9, 0.2))
    st = definition31(s, train, test)
    assert st.alpha0 == 1490 and st.alpha1 == 1500 and st.plateau
    # sigma_S counts the early peak (the best score up to alpha0): no gap, so no grokking.
    assert st.sigma_S == 0.9 and not st.grokked
