"""Profiles (smoke / quick / paper): their names, and resolving a figure's parameters.

Each figure has a frozen parameter dataclass whose defaults are the ``paper`` values (quoting the
paper where it says them). What ``smoke`` and ``quick`` change lives with the study: the figure
``"liu.fig6"`` is described by ``grokpaper/liu/profiles.py``, whose ``PROFILES`` maps each figure
to ``{profile: overrides}`` and ``PARAMS`` each figure to its dataclass (``"module:Class"``).
The core finds a wing's module by the figure name's prefix, so it imports no study.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pkgutil
import typing
from types import ModuleType
from typing import Any

import grokpaper

#: smoke: each notebook in seconds (tests); quick: minutes on a 2-core CPU with the phenomenon
#: still visible; paper: the papers' full scale (10 seeds, GPU).
PROFILE_NAMES = ("smoke", "quick", "paper")


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
    """``params_cls`` with the paper defaults, then ``profile``'s changes, then ``changes``.

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
    return params_cls(**{k: _coerce(v, hints[k]) for k, v in values.items()})
