"""Result store: results cached under a hash of their full config, written atomically.

Layout: ``<root>/<kind>/<key[:2]>/<key>.npz``. Each file holds named numpy arrays, one JSON
string ``__meta__`` with the config and provenance, and ``__sha256__``, a checksum of the meta
string and of every array (name, dtype, shape and bytes). A file appears only once complete
(temp file + fsync + ``os.replace``), so several worker processes can share one store: two
writers of the same key leave one complete result, and readers never see a partial file.

:meth:`Store.load` verifies the checksum. A file that cannot be read or does not match (a
truncated copy, flipped bits, an entry lost from the zip directory) is reported with a
:class:`DamagedResultWarning` naming it (and a line in ``<root>/damaged.log``), moved aside to
``<key>.npz.damaged`` and read as missing, so that the sweep recomputes it; it is never
returned, hence never plotted. Files written before checksums existed (no ``__sha256__`` and no
``store_format`` in their meta) are still read; numpy's zip CRC-32 is their only protection.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grokpaper.core.paths import store_root

#: Bump when training semantics change so that old cached results are not reused.
STORE_VERSION = 1
#: Files carrying a checksum say so in their meta, so a file whose checksum entry was lost is
#: damaged rather than an old file without one.
STORE_FORMAT = 2
_META, _SUM, _FORMAT = "__meta__", "__sha256__", "store_format"
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


class DamagedResultWarning(UserWarning):
    """A stored result failed to read or to verify; it is moved aside and recomputed."""


def payload_sha256(meta_json: str, arrays: Mapping[str, np.ndarray]) -> str:
    """Checksum of a result: its meta string and every array's name, dtype, shape and bytes."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add(_META, meta_json.encode())
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        add(f"array\0{name}\0{arr.dtype.str}\0{arr.shape}", arr.tobytes())
    return digest.hexdigest()


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
        """Atomically store ``arrays`` and ``meta`` under ``key``, with their checksum."""
        reserved = {_META, _SUM} & set(arrays)
        if reserved:
            raise ValueError(f"array name(s) {sorted(reserved)} are reserved")
        if _FORMAT in meta:
            raise ValueError(f"meta key {_FORMAT!r} is reserved")
        import io

        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        pickled = sorted(k for k, v in arrays.items() if v.dtype.hasobject)
        if pickled:  # they would need pickle to load, which load() refuses
            raise TypeError(f"array(s) {pickled} hold Python objects; store numbers or strings")
        meta_json = json.dumps(_jsonable({**meta, _FORMAT: STORE_FORMAT}))
        buf = io.BytesIO()
        np.savez(buf, **{_META: np.array(meta_json),
                         _SUM: np.array(payload_sha256(meta_json, arrays))}, **arrays)
        path = self.path(kind, key)
        atomic_write_bytes(path, buf.getvalue())
        return path

    def load(self, kind: str, key: str) -> Result | None:
        """The stored result, or ``None`` if absent or damaged (see the module docstring)."""
        path = self.path(kind, key)
        for _ in range(2):
            try:
                seen = path.stat()
            except FileNotFoundError:
                return None
            result, problem = self._read(path)
            if problem is None:
                return result
            try:
                now = path.stat()
            except FileNotFoundError:
                return None  # another reader has moved it aside already (and warned)
            if (now.st_ino, now.st_mtime_ns, now.st_size) != (
                    seen.st_ino, seen.st_mtime_ns, seen.st_size):
                continue  # a writer has replaced it meanwhile: read the new file
            # (A writer replacing the file between the stat above and this rename would see
            # its fresh result moved aside too: that costs a recomputation, never a wrong one.)
            aside = path.with_name(path.name + ".damaged")
            try:
                os.replace(path, aside)
            except FileNotFoundError:
                return None  # another reader moved it aside first (and warned)
            message = (f"damaged result {path}: {problem}; moved to {aside.name}, it will be "
                       f"recomputed")
            warnings.warn(message, DamagedResultWarning, stacklevel=2)
            self._log_damage(message)
            return None
        return None

    def _log_damage(self, message: str) -> None:
        """Append to ``<root>/damaged.log``: inside a notebook kernel a warning is easy to miss."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        try:
            with open(self.root / "damaged.log", "a") as fh:
                fh.write(f"{stamp} pid {os.getpid()}: {message}\n")
        except OSError:
            pass  # the warning has been given; a read-only store just keeps no log

    @staticmethod
    def _read(path: Path) -> tuple[Result | None, str | None]:
        """``(result, None)``, ``(None, None)`` if the file vanished, or ``(None, problem)``."""
        try:
            # The file is opened here: np.load leaks the handle it opens when the zip is bad.
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
                names = set(npz.files)
                meta_json = str(npz[_META])
                stored_sum = str(npz[_SUM]) if _SUM in names else None
                arrays = {k: npz[k] for k in npz.files if k not in (_META, _SUM)}
            meta = json.loads(meta_json)
            if not isinstance(meta, dict):
                raise ValueError("the meta entry is not a JSON object")
        except FileNotFoundError:
            return None, None  # replaced or moved aside by another process just now
        except PermissionError:
            raise  # an unreadable store is the user's to fix, not damage to recompute
        except Exception as exc:
            # Damaged zips raise BadZipFile, ValueError, EOFError, NotImplementedError (a
            # flipped compression method), RuntimeError, KeyError (a lost entry) ...: any of
            # them means the file is treated as missing, so that it is recomputed, never plotted.
            return None, f"unreadable ({type(exc).__name__}: {exc})"
        if stored_sum is None:
            if _FORMAT in meta:
                return None, "its checksum entry is missing"
            return Result(arrays=arrays, meta=meta), None  # written before checksums existed
        if payload_sha256(meta_json, arrays) != stored_sum:
            return None, "checksum mismatch"
        meta.pop(_FORMAT, None)
        return Result(arrays=arrays, meta=meta), None

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
