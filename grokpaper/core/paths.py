"""Where things live on disk; every location can be moved by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (the folder holding ``pyproject.toml``); used for defaults only.
REPO_ROOT = Path(__file__).resolve().parents[2]


def store_root() -> Path:
    """Root of the result store: ``$GROKPAPER_STORE`` or ``<repo>/.grokpaper/store``."""
    env = os.environ.get("GROKPAPER_STORE")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".grokpaper" / "store"


def default_device() -> str:
    """``$GROKPAPER_DEVICE``, else ``cuda`` when a GPU is visible, else ``cpu``; a ValueError
    naming the variable when it names no usable device."""
    import torch  # only when a device is needed: torch costs ~2-4 s at start-up

    env = os.environ.get("GROKPAPER_DEVICE")
    if env:
        problem = device_problem(env)
        if problem is not None:
            raise ValueError(problem)
        return env
    return "cuda" if torch.cuda.is_available() else "cpu"


def device_problem(name: str) -> str | None:
    """Why ``$GROKPAPER_DEVICE=name`` cannot be used here (one line), or None if it can."""
    import torch  # as in default_device

    fix = "unset it (then: cuda when a GPU is visible, else cpu) or set it to cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        return (f"GROKPAPER_DEVICE={name} is not a torch device (cpu, cuda, cuda:N, mps); "
                f"{fix}")
    if device.type == "cpu":
        return None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            return f"GROKPAPER_DEVICE={name} but torch sees no GPU here; {fix}"
        if device.index is not None and device.index >= count:
            return (f"GROKPAPER_DEVICE={name} but torch sees {count} GPU(s) (cuda:0 to "
                    f"cuda:{count - 1}); {fix}")
        return None
    if device.type == "mps" and torch.backends.mps.is_available():
        return None
    return f"GROKPAPER_DEVICE={name}: this torch cannot train on {device.type} here; {fix}"


def mnist_dir() -> Path | None:
    """``$GROKPAPER_MNIST``: the folder holding the MNIST IDX files, or None when unset.

    Notebooks also take a ``data_dir`` parameter, which wins over this variable;
    :func:`grokpaper.core.mnist_data.find_dir` explains what to do when neither is set.
    """
    env = os.environ.get("GROKPAPER_MNIST")
    return Path(env).expanduser() if env else None
