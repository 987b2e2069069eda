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


#: Where ``grokpaper fetch mnist`` (and ``make book``, when online) puts MNIST, and where the
#: project looks for it when ``$GROKPAPER_MNIST`` is unset: ``<repo>/data/mnist``.
MNIST_FETCH_DIR = REPO_ROOT / "data" / "mnist"

#: Variables that name folders. A relative one is relative to where ``grokpaper`` was started;
#: see :func:`pin_path_variables`.
PATH_VARIABLES = ("GROKPAPER_STORE", "GROKPAPER_MNIST")


def mnist_dir() -> Path | None:
    """The folder holding the MNIST IDX files: ``$GROKPAPER_MNIST`` (as an absolute path), else
    :data:`MNIST_FETCH_DIR` when it holds the test images (a fetch finished there), else None.

    Notebooks also take a ``data_dir`` parameter, which wins over both;
    :func:`grokpaper.core.mnist_data.find_dir` explains what to do when none holds the files.
    """
    env = os.environ.get("GROKPAPER_MNIST")
    if env:
        return absolute(env)
    # where mnist_data.locate looks: the folder itself or torchvision's layout under it
    fetched = any(any((MNIST_FETCH_DIR / sub).glob("t10k-images-idx3-ubyte*"))
                  for sub in ("", "MNIST/raw", "raw"))
    return MNIST_FETCH_DIR if fetched else None


def absolute(path: str | Path) -> Path:
    """``path`` with ``~`` expanded, made absolute against the current directory."""
    return Path(os.path.abspath(Path(path).expanduser()))


def pin_path_variables(environ: dict[str, str] | None = None) -> None:
    """Rewrite relative :data:`PATH_VARIABLES` in ``environ`` (default ``os.environ``) as
    absolute paths, against the current directory.

    ``grokpaper run`` calls this once, where the user typed the paths: the notebook kernels it
    starts inherit the variables but run in ``book/<study>/``, where a relative path would name
    another folder (or none).
    """
    environ = os.environ if environ is None else environ
    for name in PATH_VARIABLES:
        if environ.get(name):
            environ[name] = str(absolute(environ[name]))
