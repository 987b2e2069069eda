"""Where things live on disk; every location can be moved by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (the folder holding ``pyproject.toml``); used for defaults only.
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Environment variable naming the result store.
STORE_ENV = "GROKPAPER_STORE"


def store_root() -> Path:
    """Root of the result store: ``$GROKPAPER_STORE`` or ``<repo>/.grokpaper/store``."""
    env = os.environ.get(STORE_ENV)
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".grokpaper" / "store"


def default_device() -> str:
    """``$GROKPAPER_DEVICE``, else ``cuda`` when a GPU is visible, else ``cpu``."""
    env = os.environ.get("GROKPAPER_DEVICE")
    if env:
        return env
    import torch  # only when no device is set: torch costs ~2-4 s at start-up

    return "cuda" if torch.cuda.is_available() else "cpu"


def mnist_dir() -> Path | None:
    """``$GROKPAPER_MNIST``: the folder holding the MNIST IDX files, or None when unset.

    Notebooks also take a ``data_dir`` parameter, which wins over this variable;
    :func:`grokpaper.core.mnist_data.find_dir` explains what to do when neither is set.
    """
    env = os.environ.get("GROKPAPER_MNIST")
    return Path(env).expanduser() if env else None
