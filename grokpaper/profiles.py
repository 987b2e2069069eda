"""Profiles (smoke / quick / paper) resolved in one place.

Each figure has a frozen parameter dataclass whose defaults are the ``paper`` values (quoting the
paper where it says them); ``PROFILES[figure][profile]`` lists what ``smoke`` and ``quick``
change, and a notebook's papermill parameters override both.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

#: smoke: each notebook in seconds (tests); quick: minutes on a 2-core CPU with the phenomenon
#: still visible; paper: the papers' full scale (10 seeds, GPU).
PROFILE_NAMES = ("smoke", "quick", "paper")

#: What each profile changes from the paper defaults, per figure.
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "carvalho.fig3b": {
        "paper": {},
        # 3 seeds, a 64-wide MLP and a 2,000-sample test set: ~2 min on 2 CPU cores.
        "quick": {"seeds": 3, "hidden": (64, 64), "n_test": 2000, "n_evals": 40},
        "smoke": {"seeds": 2, "fs": (0.0, 0.2), "sizes": (200,), "hidden": (16,), "n_test": 400,
                  "steps": 60, "n_evals": 8},
    },
}


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def resolve(figure: str, params_cls: type, profile: str, **overrides: Any) -> Any:
    """``params_cls`` with the paper defaults, then ``profile``'s changes, then ``overrides``.

    Overrides that are ``None`` mean "use the profile's value" (papermill parameters default to
    None). Unknown profile or parameter names raise a ValueError listing the allowed ones.
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {profile!r}")
    if figure not in PROFILES:
        raise ValueError(f"unknown figure {figure!r}; known: {sorted(PROFILES)}")
    fields = {f.name: f for f in dataclasses.fields(params_cls)}
    hints = typing.get_type_hints(params_cls)
    values = {**PROFILES[figure].get(profile, {}),
              **{k: v for k, v in overrides.items() if v is not None}}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {figure}; allowed: {sorted(fields)}")
    return params_cls(**{k: _coerce(k, v, hints[k]) for k, v in values.items()})
