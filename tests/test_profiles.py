"""Profiles: every (figure, profile) pair resolves to valid parameters, each wing describes only
its own figures, notebooks name the dataclass their figure takes, and bad names are rejected
with clear messages."""

import dataclasses
import importlib
import inspect
import types
import typing

import pytest

from grokpaper.book import notebooks
from grokpaper.carvalho.experiments import ShiftSweep
from grokpaper.core import profiles
from grokpaper.liu import profiles as liu_profiles
from grokpaper.liu.experiments import Representations

PAIRS = [(f, p) for f in profiles.figures() for p in profiles.PROFILE_NAMES]


def test_paper_profile_is_the_paper_defaults():
    assert profiles.resolve("carvalho.fig3b", ShiftSweep, "paper") == ShiftSweep()
    p = ShiftSweep()
    assert (p.lr, p.weight_decay, p.alpha, p.seeds, p.n_test) == (1e-3, 1e-4, 8.0, 10, 10_000)


def test_profile_changes_and_overrides_apply_in_order():
    quick = profiles.resolve("carvalho.fig3b", ShiftSweep, "quick")
    assert quick.seeds == profiles.overrides("carvalho.fig3b")["quick"]["seeds"]
    over = profiles.resolve("carvalho.fig3b", ShiftSweep, "quick", seeds=5, fs=[0, 0.5],
                            steps=None)
    assert over.seeds == 5 and over.fs == (0.0, 0.5) and over.steps == quick.steps
    assert isinstance(over.fs, tuple)  # lists from papermill become hashable tuples


def test_unknown_profile_and_parameter_are_named():
    with pytest.raises(ValueError, match=r"profile must be one of \('smoke', 'quick', 'paper'\)"):
        profiles.resolve("carvalho.fig3b", ShiftSweep, "fast")
    with pytest.raises(ValueError, match="unknown parameter.*'sed'.*allowed"):
        profiles.resolve("carvalho.fig3b", ShiftSweep, "quick", sed=3)
    for name in ("nope", "liu.nope", "core.fig1", "liu"):
        with pytest.raises(ValueError, match=r"unknown figure.*known: \[.*'liu.fig2'"):
            profiles.resolve(name, ShiftSweep, "quick")


def test_a_figure_takes_only_the_dataclass_its_wing_names():
    with pytest.raises(ValueError, match="liu.fig2 takes grokpaper.liu.experiments:"
                                         "Representations, not ShiftSweep"):
        profiles.resolve("liu.fig2", ShiftSweep, "smoke")
    assert profiles.params_class("liu.fig2") is Representations
    assert isinstance(profiles.resolve("liu.fig2", Representations, "smoke"), Representations)


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
    for figure in profiles.figures():
        assert set(profiles.overrides(figure)) == set(profiles.PROFILE_NAMES), figure


def test_each_wing_describes_its_own_figures_and_names_their_dataclass():
    assert set(profiles.wings()) == {"carvalho", "liu", "lisakib", "mnist"}
    for wing in profiles.wings():
        mod = importlib.import_module(f"grokpaper.{wing}.profiles")
        assert set(mod.PROFILES) == set(mod.PARAMS), wing
        assert all(f.startswith(f"{wing}.") for f in mod.PROFILES), wing
    assert len(profiles.figures()) == len(set(profiles.figures()))


def fits(value: object, hint: object) -> bool:
    """Whether ``value`` has the type ``hint`` describes (the hint forms parameter dataclasses
    use; any other form fails loudly, so the check never passes by not looking)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(fits(v, args[0]) for v in value)
        return len(args) == len(value) and all(fits(v, a) for v, a in zip(value, args,
                                                                          strict=True))
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool):
        return isinstance(value, hint)
    raise TypeError(f"no check for the hint {hint!r}")


def check_figure(figure: str, profile: str) -> object:
    """Resolve ``figure`` under ``profile`` and check what comes out; returns the params."""
    cls = profiles.params_class(figure)
    params = profiles.resolve(figure, cls, profile)
    assert isinstance(params, cls)
    hints = typing.get_type_hints(cls)
    choices = getattr(cls, "CHOICES", {})
    for field in dataclasses.fields(params):
        name, value = field.name, getattr(params, field.name)
        assert fits(value, hints[name]), f"{figure} ({profile}): {name}={value!r}"
        if name in choices:  # a string field, or a tuple of strings, from a fixed list
            items = [value] if isinstance(value, str) else list(value)
            assert set(items) <= set(choices[name]), f"{figure} ({profile}): {name}={value!r}"
    for name, value in profiles.overrides(figure)[profile].items():
        assert getattr(params, name) == value, f"{figure} ({profile}): {name} not applied"
    # The run lists that need no data validate the values themselves (e.g. f in [0, 1]).
    for name, method in inspect.getmembers(params, inspect.ismethod):
        if name.endswith("runs") and not inspect.signature(method).parameters:
            assert method(), f"{figure} ({profile}): {name}() is empty"
    return params


@pytest.mark.parametrize(("figure", "profile"), PAIRS, ids=[f"{f}-{p}" for f, p in PAIRS])
def test_every_figure_resolves_under_every_profile(figure, profile):
    check_figure(figure, profile)


@pytest.mark.parametrize(("entry", "message"), [
    ({"stpes": 20}, "unknown parameter.*'stpes'"),
    ({"steps": "20"}, "steps='20'"),
    ({"lrs": (1e-4, "1e-2")}, "lrs="),
    ({"panels": ("a", "e")}, "panels=\\('a', 'e'\\)"),
])
def test_a_typo_in_a_profile_entry_fails_the_check(monkeypatch, entry, message):
    table = {**liu_profiles.PROFILES, "liu.fig6": {**liu_profiles.PROFILES["liu.fig6"],
                                                   "quick": entry}}
    monkeypatch.setattr(liu_profiles, "PROFILES", table)
    with pytest.raises((ValueError, AssertionError, KeyError), match=message):
        check_figure("liu.fig6", "quick")


def test_every_notebook_resolves_figures_with_the_dataclass_they_take():
    seen = set()
    for nb in notebooks.discover():
        for figures, where, _ in notebooks.notebook_parameters(nb).resolves:
            assert figures, nb.name
            for figure in figures:
                assert where == profiles.params_name(figure), (nb.name, figure)
                seen.add(figure)
    assert seen == set(profiles.figures())  # and every figure has a page
