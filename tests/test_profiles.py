"""Profiles resolve in one place; bad names and values are rejected with clear messages."""

import pytest

from grokpaper.carvalho.experiments import ShiftSweep
from grokpaper.core import profiles


def test_paper_profile_is_the_paper_defaults():
    assert profiles.resolve("carvalho.fig3b", ShiftSweep, "paper") == ShiftSweep()
    p = ShiftSweep()
    assert (p.lr, p.weight_decay, p.alpha, p.seeds, p.n_test) == (1e-3, 1e-4, 8.0, 10, 10_000)


def test_profile_changes_and_overrides_apply_in_order():
    quick = profiles.resolve("carvalho.fig3b", ShiftSweep, "quick")
    assert quick.seeds == profiles.PROFILES["carvalho.fig3b"]["quick"]["seeds"]
    over = profiles.resolve("carvalho.fig3b", ShiftSweep, "quick", seeds=5, fs=[0, 0.5],
                            steps=None)
    assert over.seeds == 5 and over.fs == (0.0, 0.5) and over.steps == quick.steps
    assert isinstance(over.fs, tuple)  # lists from papermill become hashable tuples


def test_unknown_profile_and_parameter_are_named():
    with pytest.raises(ValueError, match=r"profile must be one of \('smoke', 'quick', 'paper'\)"):
        profiles.resolve("carvalho.fig3b", ShiftSweep, "fast")
    with pytest.raises(ValueError, match="unknown parameter.*'sed'.*allowed"):
        profiles.resolve("carvalho.fig3b", ShiftSweep, "quick", sed=3)
    with pytest.raises(ValueError, match="unknown figure"):
        profiles.resolve("nope", ShiftSweep, "quick")


@pytest.mark.parametrize(
    ("override", "name"),
    [({"fs": (0.0, 1.2)}, "f"), ({"sizes": (0,)}, "sizes"), ({"seeds": 0}, "seeds"),
     ({"dataset": "mnist"}, "dataset"), ({"hidden": (0,)}, "hidden"), ({"lr": 0.0}, "lr"),
     ({"batch_size": 5000}, "batch_size"), ({"optimizer": "lion"}, "optimizer"),
     ({"n_test": -1}, "n_test")],
)
def test_bad_values_fail_before_training_and_name_the_parameter(override, name):
    # Since issue 15 they fail where the parameters are made (ranges and cross-field rules).
    with pytest.raises(ValueError, match=name):
        profiles.resolve("carvalho.fig3b", ShiftSweep, "smoke", **override).runs()


def test_every_profile_of_every_figure_resolves():
    for figure, by_profile in profiles.PROFILES.items():
        assert set(by_profile) <= set(profiles.PROFILE_NAMES), figure
