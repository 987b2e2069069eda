"""Files that appear whole or not at all, and the leftovers of writers that were killed.

:func:`atomic_write_bytes` writes a temp file next to the target (``.<name>.<random>.tmp``),
fsyncs it and renames it over the target, so that readers see the old file or the whole new
one. Files are created with mode ``0o666`` less the process's umask, like ``open()``: workers
running as other users of a shared store can read them (``umask 002`` and a group-owned store
let them write too).

A writer killed mid-write leaves its temp file behind; :func:`sweep_leftovers` deletes temp
files and other leftovers (see ``grokpaper run``) once they are older than
:data:`LEFTOVER_AGE_S`: a live writer finishes a temp file within seconds.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

#: Age (seconds since last modified) after which a leftover is swept: 1 hour by default,
#: ``$GROKPAPER_LEFTOVER_AGE_S`` to change it.
LEFTOVER_AGE_S = float(os.environ.get("GROKPAPER_LEFTOVER_AGE_S", 3600))
TMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TMP_SUFFIX}")
    # os.open with 0o666 lets the kernel apply the umask (mkstemp would force 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode())


def is_temp(path: Path) -> bool:
    """Whether ``path`` is a temp file of :func:`atomic_write_bytes`."""
    return path.name.startswith(".") and path.name.endswith(TMP_SUFFIX)


def _age(path: Path, now: float) -> float:
    try:
        return now - path.lstat().st_mtime
    except FileNotFoundError:
        return -1.0


def sweep_leftovers(root: Path, *, match: Callable[[Path], bool] = is_temp,
                    max_age: float | None = None, keep: Callable[[Path], bool] | None = None,
                    recursive: bool = True) -> list[Path]:
    """Delete what ``match`` selects under ``root`` (files, or whole folders) that is older
    than ``max_age`` (default :data:`LEFTOVER_AGE_S`) and that ``keep`` does not protect;
    returns what was deleted. A folder's age is that of its newest entry. ``recursive``:
    look in sub-folders too (else in ``root`` itself only)."""
    max_age = LEFTOVER_AGE_S if max_age is None else max_age
    now, swept = time.time(), []
    if not root.is_dir():
        return swept
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in list(dirnames):
            path = base / name
            if match(path):
                dirnames.remove(name)  # do not descend into a leftover folder
                ages = [_age(p, now) for p in _tree(path)]
                if min(ages) > max_age and not (keep and keep(path)):
                    shutil.rmtree(path, ignore_errors=True)
                    swept.append(path)
        for name in filenames:
            path = base / name
            if match(path) and _age(path, now) > max_age and not (keep and keep(path)):
                path.unlink(missing_ok=True)
                swept.append(path)
        if not recursive:
            break
    return swept


def _tree(folder: Path) -> Iterable[Path]:
    yield folder
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            yield Path(dirpath) / name


def writable_folder(path: Path, *, what: str) -> str | None:
    """Why folder ``path`` (created later if missing) cannot be written, or None if it can.

    Tries a small write in ``path``, or in its nearest existing parent when ``path`` does not
    exist yet (nothing is left behind): that catches read-only folders and full disks alike.
    """
    probe_dir = path
    while not probe_dir.exists():
        if probe_dir.parent == probe_dir:
            break
        probe_dir = probe_dir.parent
    if path.exists() and not path.is_dir():
        return f"{what} {path} is a file, not a folder"
    if probe_dir.exists() and not probe_dir.is_dir():
        return f"{what} {path} cannot be created: {probe_dir} is a file, not a folder"
    probe = probe_dir / f".grokpaper-write-test-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 4096)  # a real block: an empty file fits on a full disk
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return f"cannot write to {what} {probe_dir}: {exc.strerror or exc}"
    finally:
        with contextlib.suppress(OSError):  # a read-only file system refuses even this
            probe.unlink(missing_ok=True)
    return None
