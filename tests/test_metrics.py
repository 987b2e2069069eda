"""Tests for grokpaper.core.metrics: Definition 3.1 on synthetic curves with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from grokpaper.core.metrics import (
    GrokkingStats,
    definition31,
    definition31_batch,
    first_crossing,
    grokking_delay,
)

STEPS = np.logspace(0, 4, 200)  # log-spaced evaluation steps 1..1e4


def _train(steps: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-steps / 20.0)  # memorizes by step ~100


def _sigmoid(steps: np.ndarray, center: float, width: float, low: float = 0.25) -> np.ndarray:
    return low + (1.0 - low) / (1.0 + np.exp(-(steps - center) / width))


def _noisy(x: np.ndarray, seed: int, sd: float = 0.02) -> np.ndarray:
    return np.clip(x + np.random.default_rng(seed).normal(0.0, sd, x.shape), 0.0, 1.0)


def test_delayed_sigmoid_groks() -> None:
    st = definition31(STEPS, _train(STEPS), _sigmoid(STEPS, 2000.0, 150.0))
    assert st.grokked
    assert 50 < st.alpha0 < 150  # train within 0.02 of 1 from step ~78
    # alpha1 is where the test curve *enters* Delta_T: late in the rise, before it is complete.
    assert 2000 < st.alpha1 < 3000
    assert st.sigma_S == pytest.approx(0.25, abs=0.01)
    assert st.delta_S > 0.7
    assert 0 <= st.delta_T < 0.02
    assert st.support == (st.alpha1, STEPS[-1])


def test_never_generalizes() -> None:
    st = definition31(STEPS, _train(STEPS), np.full_like(STEPS, 0.5))
    assert st.alpha0 is not None
    assert not st.grokked
    assert st.delta_S == pytest.approx(0.0)


def test_generalizes_at_once_is_not_grokking() -> None:
    st = definition31(STEPS, _train(STEPS), 0.97 * _train(STEPS))
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


def test_support_must_be_much_longer_than_transition() -> None:
    short = np.linspace(1, 4000, 400)  # run stops soon after the rise: S < 2 (alpha1 - alpha0)
    long = np.linspace(1, 10000, 1000)
    curves = {s.size: (_train(s), _sigmoid(s, 2000.0, 100.0)) for s in (short, long)}
    assert not definition31(short, *curves[short.size]).grokked
    assert definition31(short, *curves[short.size], support_ratio=0.5).grokked
    assert definition31(long, *curves[long.size]).grokked


def test_single_dip_moves_alpha1_unless_smoothed() -> None:
    test = _sigmoid(STEPS, 2000.0, 150.0)
    dip = int(np.argmin(np.abs(STEPS - 3500)))
    test[dip] = 0.5
    raw = definition31(STEPS, _train(STEPS), test)
    assert raw.alpha1 > 3500 and not raw.grokked
    smoothed = definition31(STEPS, _train(STEPS), test, smooth=3)
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
