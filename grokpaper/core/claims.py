"""Claims: one worker at a time trains a chunk, across processes, users and hosts.

A claim on ``name`` lives in the folder ``<claims>/<name>/`` as numbered *generations*:
``<g>.claim`` holds its owner (host, boot id, pid, the process's start time, a random token)
and ``<g>.released`` appears when the owner is done. Only the newest generation counts:

* free: no generation yet, or the newest is released;
* held: the newest is not released and its owner is alive;
* stale: the newest is not released and its owner is gone.

Claiming creates generation ``g + 1`` (or 0) *exclusively* (a hard link of a complete temp
file, which fails if the name exists, also on NFS): of any number of processes that find the
same free or stale claim, exactly one wins, so taking over a dead worker's claim is atomic.

An owner is gone when, on this host, it started before the last boot, or its pid has ended or
now belongs to a process started at another time (pid reuse); on another host, when its
heartbeat (the claim file's mtime, refreshed every :data:`HEARTBEAT_S` while the
chunk trains, see :meth:`Claims.holding`) is older than :data:`STALE_S` (5 minutes by default,
``$GROKPAPER_CLAIM_STALE_S``; hosts sharing a store need clocks in sync, as NTP gives).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil  # a dependency of dask.distributed

from grokpaper.core.files import LEFTOVER_AGE_S

#: Seconds without a heartbeat after which a claim from another host is taken over.
STALE_S = float(os.environ.get("GROKPAPER_CLAIM_STALE_S", 300))
#: How often a working owner refreshes its claim's heartbeat.
HEARTBEAT_S = min(30.0, STALE_S / 5)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return f"boot-{psutil.boot_time():.0f}"


def _start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), None if there is none."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.Error:
        return -1.0  # exists, but we may not look at it: treat as alive


HOST, BOOT = socket.gethostname(), _boot_id()


def me() -> dict[str, Any]:
    """This process as the owner of a claim."""
    return {"host": HOST, "boot": BOOT, "pid": os.getpid(), "start": _start_time(os.getpid()),
            "token": secrets.token_hex(8)}


def owner_gone(owner: dict[str, Any], heartbeat_age: float) -> bool:
    """Whether the owner of a claim has ended (see the module docstring)."""
    if owner.get("host") == HOST and isinstance(owner.get("boot"), str) and owner[
            "boot"] != BOOT:
        return True  # made before this host last booted
    if owner.get("host") == HOST and owner.get("boot") == BOOT and isinstance(
            owner.get("pid"), int):
        started = _start_time(owner["pid"])
        if started is None:
            return True  # that process has ended
        # The pid now names another process (started at another time) when this is true.
        return started >= 0 and isinstance(owner.get("start"), float) and abs(
            started - owner["start"]) > 1e-3
    return heartbeat_age > STALE_S


class Claims:
    """The claims of one store (``<store>/claims``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._held: dict[str, tuple[int, str]] = {}  # name -> (generation, token) we hold

    def _folder(self, name: str) -> Path:
        return self.root / name

    def _newest(self, name: str) -> int | None:
        try:
            names = os.listdir(self._folder(name))
        except FileNotFoundError:
            return None
        gens = [int(n.split(".")[0]) for n in names
                if n.endswith(".claim") and n.split(".")[0].isdigit()]
        return max(gens, default=None)

    def _state(self, name: str, gen: int) -> tuple[str, dict[str, Any], float]:
        """("released" | "held" | "stale", owner, heartbeat age) of generation ``gen``."""
        folder = self._folder(name)
        path = folder / f"{gen}.claim"
        if (folder / f"{gen}.released").exists():
            return "released", {}, 0.0
        try:
            age = time.time() - path.stat().st_mtime
            owner = json.loads(path.read_text())
            owner = owner if isinstance(owner, dict) else {}
        except FileNotFoundError:
            return "released", {}, 0.0  # swept by a newer generation's owner
        except (OSError, ValueError):
            owner, age = {}, time.time() - path.stat().st_mtime  # damaged: judged by age
        return ("stale" if owner_gone(owner, age) else "held"), owner, age

    def claim(self, name: str) -> bool:
        """Claim ``name`` for this process; False if a live owner holds it (or another
        process took it over just now)."""
        if name in self._held:
            return False  # held by us already: one claim per chunk and process
        gen = self._newest(name)
        if gen is not None and self._state(name, gen)[0] == "held":
            return False
        nxt = 0 if gen is None else gen + 1
        owner = me()
        folder = self._folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{nxt}.{owner['token']}.tmp"
        tmp.write_text(json.dumps(owner))  # complete before it is linked; no fsync needed
        try:
            os.link(tmp, folder / f"{nxt}.claim")  # the exclusive step: one winner
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        if (self._newest(name) or 0) > nxt:
            # Our generation was swept by a newer owner while we looked: theirs counts.
            (folder / f"{nxt}.claim").unlink(missing_ok=True)
            return False
        self._held[name] = (nxt, owner["token"])
        for old in range(nxt):  # earlier generations are history now
            for suffix in (".claim", ".released"):
                (folder / f"{old}{suffix}").unlink(missing_ok=True)
        return True

    def release(self, name: str) -> None:
        """Mark our claim on ``name`` as released (a no-op if we hold none)."""
        held = self._held.pop(name, None)
        if held is not None:
            (self._folder(name) / f"{held[0]}.released").write_text(held[1])

    def heartbeat(self, name: str) -> None:
        """Refresh the heartbeat of our claim on ``name``."""
        if name in self._held:
            with contextlib.suppress(FileNotFoundError):
                os.utime(self._folder(name) / f"{self._held[name][0]}.claim")

    @contextlib.contextmanager
    def holding(self, name: str) -> Iterator[bool]:
        """Claim ``name`` for the block (yields False if someone else holds it), refreshing
        the heartbeat from a background thread until the block ends, then release it."""
        if not self.claim(name):
            yield False
            return
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_S):
                self.heartbeat(name)

        thread = threading.Thread(target=beat, name=f"claim-heartbeat-{name[:8]}", daemon=True)
        thread.start()
        try:
            yield True
        finally:
            stop.set()
            thread.join()
            self.release(name)

    def holder(self, name: str) -> str | None:
        """Who holds ``name``, in words (None when free or stale)."""
        gen = self._newest(name)
        if gen is None:
            return None
        state, owner, age = self._state(name, gen)
        if state != "held":
            return None
        return (f"pid {owner.get('pid')} on {owner.get('host')} (claim "
                f"{self._folder(name) / f'{gen}.claim'}, heartbeat {age:.0f} s ago)")

    def states(self) -> dict[str, str]:
        """Every claim's state: "released" (or never claimed), "held" or "stale"."""
        out = {}
        for folder in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            gen = self._newest(folder.name)
            out[folder.name] = "released" if gen is None else self._state(folder.name, gen)[0]
        return out

    def sweep(self, max_age: float | None = None) -> list[Path]:
        """Delete the folders of claims released (or left by a dead owner) more than
        ``max_age`` seconds ago (default :data:`grokpaper.core.files.LEFTOVER_AGE_S`)."""
        max_age = LEFTOVER_AGE_S if max_age is None else max_age
        swept = []
        for name in [n for n, state in self.states().items() if state != "held"]:
            folder = self._folder(name)
            try:
                newest = max(p.stat().st_mtime for p in folder.iterdir())
            except (OSError, ValueError):
                continue  # empty, or changed while we looked
            if time.time() - newest > max_age:
                shutil.rmtree(folder, ignore_errors=True)
                swept.append(folder)
        return swept
