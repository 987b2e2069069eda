"""Result store: results cached under a hash of their full config, written atomically.

Layout: ``<root>/<kind>/<key[:2]>/<key>.npz``. Each file holds named numpy arrays plus one JSON
string ``__meta__`` with the config and provenance. A file appears only once complete
(temp file + fsync + ``os.replace``), so several worker processes can share one store: two
writers of the same key leave one complete result, and readers never see a partial file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import tempfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grokpaper.paths import store_root

#: Bump when training semantics change so that old cached results are not reused.
STORE_VERSION = 1
#: A claim older than this is taken over even if its owner may still live (another host).
CLAIM_STALE_S = float(os.environ.get("GROKPAPER_CLAIM_STALE_S", 6 * 3600))


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__name__, **{
            f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"cannot hash a config value of type {type(obj).__name__}: {obj!r}")


def config_key(kind: str, config: Any) -> str:
    """Stable hex key of ``config`` (dataclasses, dicts, lists, scalars) for result ``kind``."""
    payload = json.dumps(
        {"kind": kind, "store_version": STORE_VERSION, "config": _jsonable(config)},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode())


@dataclasses.dataclass(frozen=True)
class Result:
    """A stored result: named arrays plus metadata (config and provenance)."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


class Store:
    """A folder of results keyed by config hash."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else store_root()

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.npz"

    def has(self, kind: str, key: str) -> bool:
        return self.path(kind, key).exists()

    def save(self, kind: str, key: str, arrays: Mapping[str, np.ndarray],
             meta: Mapping[str, Any]) -> Path:
        """Atomically store ``arrays`` and ``meta`` under ``key``."""
        if "__meta__" in arrays:
            raise ValueError("array name '__meta__' is reserved")
        import io

        buf = io.BytesIO()
        np.savez(buf, __meta__=np.array(json.dumps(_jsonable(dict(meta)))),
                 **{k: np.asarray(v) for k, v in arrays.items()})
        path = self.path(kind, key)
        atomic_write_bytes(path, buf.getvalue())
        return path

    def load(self, kind: str, key: str) -> Result | None:
        """The stored result, or ``None`` if absent."""
        path = self.path(kind, key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(str(npz["__meta__"]))
                arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
            # A damaged file is treated as missing so that it is recomputed, never plotted.
            return None
        return Result(arrays=arrays, meta=meta)

    # Claims: a chunk of work is claimed by creating a file exclusively; the claim names its
    # owner so that a crashed owner on this host (dead pid) or a very old claim is taken over.

    def _claim_path(self, name: str) -> Path:
        return self.root / "claims" / f"{name}.claim"

    def claim(self, name: str) -> bool:
        """Claim ``name`` for this process; False if a live owner holds it."""
        path = self._claim_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        me = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()})
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if not self._stale(path):
                    return False
                path.unlink(missing_ok=True)  # take over a dead or ancient claim
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            return True
        return False

    def release(self, name: str) -> None:
        self._claim_path(name).unlink(missing_ok=True)

    @staticmethod
    def _stale(path: Path) -> bool:
        try:
            owner = json.loads(path.read_text() or "{}")
            age = time.time() - path.stat().st_mtime
        except (OSError, ValueError):
            return False  # being written right now, or just released
        if age > CLAIM_STALE_S:
            return True
        if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
            try:
                os.kill(owner["pid"], 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return False
