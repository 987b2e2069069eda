"""Provenance of a result: code version, library versions, device, date."""

from __future__ import annotations

import datetime as _dt
import functools
import platform
import subprocess
import sys

import numpy
import torch

from grokpaper import __version__
from grokpaper.core.paths import REPO_ROOT


@functools.lru_cache(maxsize=1)
def git_state() -> dict[str, object]:
    """``{"sha": ..., "dirty": bool}`` of the checkout, or ``sha=None`` outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
            check=True, timeout=10,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                capture_output=True, text=True, check=True, timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        return {"sha": None, "dirty": None}
    return {"sha": sha, "dirty": dirty}


def device_name(device: str) -> str:
    """Human-readable name of a torch device (GPU model, or the CPU's architecture)."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def collect(*, device: str, seeds: list[int] | None = None, wall_time_s: float | None = None
            ) -> dict[str, object]:
    """Everything needed to tell how and where a result was produced."""
    return {
        "git": git_state(),
        "grokpaper": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "device": device,
        "device_name": device_name(device),
        "seeds": list(seeds) if seeds is not None else None,
        "wall_time_s": wall_time_s,
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
