"""Result store: results cached under a hash of their full config, written atomically.

Layout: ``<root>/<kind>/<key[:2]>/<key>.npz``. Each file holds named numpy arrays, one JSON
string ``__meta__`` with the config, provenance and the key and kind it was saved under, and
``__sha256__``, a checksum of the meta string and of every array (name, dtype, shape and
bytes). A file appears only once complete (:func:`grokpaper.core.files.atomic_write_bytes`),
so several worker processes can share one store: two writers of the same key leave one
complete result, and readers never see a partial file.

:meth:`Store.load` verifies the checksum *and* that the file is the result asked for: its
recorded key and kind (or, for files written before keys were recorded, the key recomputed
from its recorded config) must be the requested ones, so a file copied or swapped onto another
key's path is caught. A file that cannot be read, does not match its checksum or belongs to
another config is reported with a :class:`DamagedResultWarning` naming it (and a line in
``<root>/damaged.log``), moved aside to ``<key>.npz.damaged`` and read as missing, so that the
sweep recomputes it; it is never returned, hence never plotted. Files written before
checksums existed (no ``__sha256__`` and no ``store_format`` in their meta) are still read;
numpy's zip CRC-32 is their only protection.

The key hashes the run's config only, not the device it trained on: a run is the same
experiment on a CPU and a GPU (same config, same seeds; the numbers agree to floating-point
rounding, which also differs between CPU thread counts), so a GPU run reuses results a CPU run
stored and vice versa. Each result's provenance records its device, and every page lists the
devices its runs trained on.

Claims (:mod:`grokpaper.core.claims`) live under ``<root>/claims``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grokpaper.core.claims import Claims
from grokpaper.core.files import atomic_write_bytes
from grokpaper.core.paths import store_root

#: Bump when training semantics change so that old cached results are not reused.
STORE_VERSION = 1
#: Files carrying a checksum say so in their meta, so a file whose checksum entry was lost is
#: damaged rather than an old file without one. Format 3 also records the key and kind.
STORE_FORMAT = 3
_META, _SUM, _FORMAT, _KEY, _KIND = "__meta__", "__sha256__", "store_format", "store_key", \
    "store_kind"
_RESERVED_META = (_FORMAT, _KEY, _KIND)


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


def log_damage(root: Path, message: str) -> None:
    """Append to ``<root>/damaged.log``: the runner also puts the warning on the page and in
    its summary, but the log keeps every case in one place."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    try:
        with open(root / "damaged.log", "a") as fh:
            fh.write(f"{stamp} pid {os.getpid()}: {message}\n")
    except OSError:
        pass  # the warning has been given; a read-only store just keeps no log


@dataclasses.dataclass(frozen=True)
class Result:
    """A stored result: named arrays plus metadata (config and provenance)."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


class Store:
    """A folder of results keyed by config hash."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else store_root()
        self.claims = Claims(self.root / "claims")

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
        if set(_RESERVED_META) & set(meta):
            raise ValueError(f"meta keys {list(_RESERVED_META)} are reserved")
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        pickled = sorted(k for k, v in arrays.items() if v.dtype.hasobject)
        if pickled:  # they would need pickle to load, which load() refuses
            raise TypeError(f"array(s) {pickled} hold Python objects; store numbers or strings")
        meta_json = json.dumps(_jsonable({**meta, _FORMAT: STORE_FORMAT, _KEY: key,
                                          _KIND: kind}))
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
            result, problem = self._read(path, kind, key)
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
            log_damage(self.root, message)
            return None
        return None

    @staticmethod
    def _read(path: Path, kind: str, key: str) -> tuple[Result | None, str | None]:
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
        if (problem := _belongs_elsewhere(meta, kind, key)) is not None:
            return None, problem
        for name in _RESERVED_META:
            meta.pop(name, None)
        return Result(arrays=arrays, meta=meta), None

    # Claims: see grokpaper.core.claims.

    def claim(self, name: str) -> bool:
        """Claim ``name`` for this process; False if a live owner holds it."""
        return self.claims.claim(name)

    def release(self, name: str) -> None:
        self.claims.release(name)


def _belongs_elsewhere(meta: dict[str, Any], kind: str, key: str) -> str | None:
    """Why a verified file is not the result of ``(kind, key)``, or None if it is."""
    if _KEY in meta or _KIND in meta:
        found = (meta.get(_KIND), meta.get(_KEY))
    elif "config" in meta and "kind" in meta:  # format 2: the key recomputed from the config
        try:
            found = (meta["kind"], config_key(str(meta["kind"]), meta["config"]))
        except TypeError:
            return "its recorded config cannot be hashed"
    else:
        return None  # nothing to check it against (a file of the caller's own format)
    if found != (kind, key):
        return (f"it holds the result of another config ({found[0]} {found[1]}), not "
                f"{kind} {key} (a file copied or swapped onto this path)")
    return None
