"""Profiles (smoke / quick / paper): their names, and resolving a figure's parameters.

Each figure has a frozen parameter dataclass whose defaults are the ``paper`` values (quoting the
paper where it says them). What ``smoke`` and ``quick`` change lives with the study: the figure
``"liu.fig6"`` is described by ``grokpaper/liu/profiles.py``, whose ``PROFILES`` maps each figure
to ``{profile: overrides}`` and ``PARAMS`` each figure to its dataclass (``"module:Class"``).
The core finds a wing's module by the figure name's prefix, so it imports no study.

``$GROKPAPER_MAX_STEPS`` (set by ``grokpaper run --max-steps N``, the *shape run*) caps every
step budget a parameter dataclass declares (``STEP_BUDGETS``, default ``("steps",)``) at N,
after the profile and the overrides: the grids, sizes, seeds, widths and data stay the
profile's. The cap is part of the resolved parameters, hence of every run's config and store
key, so capped results can never be read as full ones.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import pkgutil
import typing
import warnings
from types import ModuleType
from typing import Any

import grokpaper

#: smoke: each notebook in seconds (tests); quick: minutes on a 2-core CPU with the phenomenon
#: still visible; paper: the papers' full scale (10 seeds, GPU).
PROFILE_NAMES = ("smoke", "quick", "paper")
#: Environment variable capping every step budget (see the module docstring).
MAX_STEPS_ENV = "GROKPAPER_MAX_STEPS"
#: The step-budget fields of a parameter dataclass without its own ``STEP_BUDGETS``.
STEP_BUDGETS = ("steps",)


class CappedStepsWarning(UserWarning):
    """The step budgets were capped by ``$GROKPAPER_MAX_STEPS``: not the profile's results."""


def max_steps() -> int | None:
    """The step cap from ``$GROKPAPER_MAX_STEPS`` (None when unset or empty)."""
    raw = os.environ.get(MAX_STEPS_ENV, "").strip()
    if not raw:
        return None
    try:
        cap = int(raw)
    except ValueError:
        cap = 0
    if cap <= 0:
        raise ValueError(f"{MAX_STEPS_ENV} must be a positive integer, got {raw!r}")
    return cap


def cap_steps(params: Any, cap: int | None) -> Any:
    """``params`` with each of its step budgets (``STEP_BUDGETS``) at most ``cap``; a budget
    of None (unlimited, e.g. whole epochs) becomes ``cap``."""
    if cap is None:
        return params
    names = getattr(params, "STEP_BUDGETS", STEP_BUDGETS)
    have = {f.name for f in dataclasses.fields(params)}
    changes = {n: min(v, cap) if (v := getattr(params, n)) is not None else cap
               for n in names if n in have}
    return dataclasses.replace(params, **changes)


def wings() -> tuple[str, ...]:
    """The subpackages of ``grokpaper`` that describe figures (have a ``profiles`` module)."""
    return tuple(m.name for m in pkgutil.iter_modules(grokpaper.__path__)
                 if m.ispkg and m.name != "core"
                 and importlib.util.find_spec(f"grokpaper.{m.name}.profiles") is not None)


def _slice(wing: str) -> ModuleType:
    return importlib.import_module(f"grokpaper.{wing}.profiles")


def figures() -> tuple[str, ...]:
    """Every figure name any wing describes, sorted (e.g. ``"carvalho.fig3b"``)."""
    return tuple(sorted(f for w in wings() for f in _slice(w).PROFILES))


def _wing_of(figure: str) -> ModuleType:
    wing = figure.split(".", 1)[0]
    found = _slice(wing) if "." in figure and wing in wings() else None
    if found is None or figure not in found.PROFILES:
        raise ValueError(f"unknown figure {figure!r}; known: {list(figures())}")
    return found


def overrides(figure: str) -> dict[str, dict[str, Any]]:
    """``{profile: what it changes from the paper defaults}`` for ``figure``."""
    return _wing_of(figure).PROFILES[figure]


def params_name(figure: str) -> str:
    """``"module:Class"`` of ``figure``'s parameter dataclass (nothing is imported)."""
    return _wing_of(figure).PARAMS[figure]


def params_class(figure: str) -> type:
    """``figure``'s parameter dataclass (imports its module)."""
    module, name = params_name(figure).split(":")
    return getattr(importlib.import_module(module), name)


def _coerce(value: Any, hint: Any) -> Any:
    if typing.get_origin(hint) is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def resolve(figure: str, params_cls: type, profile: str, **changes: Any) -> Any:
    """``params_cls`` with the paper defaults, then ``profile``'s changes, then ``changes``,
    then the step cap of ``$GROKPAPER_MAX_STEPS`` if set.

    Changes that are ``None`` mean "use the profile's value" (papermill parameters default to
    None). An unknown profile, figure or parameter name, or a ``params_cls`` other than the one
    the figure's wing names, raises a ValueError listing the allowed ones.
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {profile!r}")
    want = params_name(figure)
    if f"{params_cls.__module__}:{params_cls.__qualname__}" != want:
        raise ValueError(f"{figure} takes {want}, not {params_cls.__qualname__}")
    fields = {f.name for f in dataclasses.fields(params_cls)}
    hints = typing.get_type_hints(params_cls)
    values = {**overrides(figure).get(profile, {}),
              **{k: v for k, v in changes.items() if v is not None}}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {figure}; allowed: {sorted(fields)}")
    params = params_cls(**{k: _coerce(v, hints[k]) for k, v in values.items()})
    cap = max_steps()
    if cap is not None:
        warnings.warn(f"{MAX_STEPS_ENV}={cap}: every step budget of {figure} is capped at {cap} "
                      f"(a shape run: these are not the {profile} profile's results)",
                      CappedStepsWarning, stacklevel=2)
    return cap_steps(params, cap)
