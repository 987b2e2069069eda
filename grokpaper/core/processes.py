"""Side by side on this machine: a sweep's chunks trained at once, one per CPU core.

The small models (Liu et al.'s toy model and transformer, Li & Sakib's transformer) train with
one torch thread, because a second one only adds hand-offs (:mod:`grokpaper.core.threads`);
chunk after chunk in one process, a sweep then leaves every other core idle. Chunks are
independent ensembles, so :func:`grokpaper.core.sweep.run_cached` trains them side by side
where it can (on a CPU, without a Dask cluster, with two or more chunks to train, a training
function that pickles: a module-level function, a closure trains in this process, and a main
module that a worker can import without rerunning its work: :func:`spawn_safe`), in
:func:`workers_for` worker processes with ``cores // workers`` torch threads each.

A chunk trains the same way in a worker as here (same members, same seeds, one thread for the
families that pin one), so the results are identical (tests/test_processes.py).
``$GROKPAPER_WORKERS`` sets the number of workers (1: none, every chunk trains here).

Workers are started with ``spawn`` (a fresh interpreter: ``fork`` is unsafe once torch's thread
pool and a notebook kernel's threads run) and kept for the life of this process, so a notebook
pays their start-up (importing torch, ~2 s) once, not per sweep.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from grokpaper.core.paths import default_device

#: Environment variable: how many worker processes a sweep may use (1: none).
ENV = "GROKPAPER_WORKERS"
T = TypeVar("T")
_pools: list[ProcessPoolExecutor] = []  # at most one, made when first needed


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def _wanted() -> int | None:
    """``$GROKPAPER_WORKERS`` as a positive integer, or None when unset."""
    env = os.environ.get(ENV, "").strip()
    if not env:
        return None
    try:
        wanted = int(env)
    except ValueError:
        raise ValueError(f"${ENV} must be a positive integer, got {env!r}") from None
    if wanted < 1:
        raise ValueError(f"${ENV} must be a positive integer, got {env!r}")
    return wanted


def workers_for(device: str, n_chunks: int) -> int:
    """How many processes train ``n_chunks`` chunks on ``device``: one per usable core (or
    ``$GROKPAPER_WORKERS``), at most one per chunk; 1 on a GPU, whose chunks share one
    device."""
    if not str(device).startswith("cpu") or n_chunks < 2:
        return 1
    wanted = _wanted() or usable_cores()
    return max(1, min(wanted, n_chunks))


def chunk_members(device: str | None, *, cpu: int, elsewhere: int) -> int:
    """Most members per ensemble on ``device`` (default: the default device): ``cpu`` on a CPU,
    where a few members already gain what vmap gains there and small chunks train side by side,
    else ``elsewhere``."""
    return cpu if (device or default_device()).startswith("cpu") else elsewhere


def picklable(*objects: Any) -> bool:
    """Whether ``objects`` can be sent to a worker process (closures and lambdas cannot)."""
    try:
        pickle.dumps(objects)
    except Exception:  # pickle raises several types (PicklingError, AttributeError, ...)
        return False
    return True


_GUARD = re.compile(r"""__name__\s*==\s*['"]__main__['"]""")


@cache
def _guarded(path: str) -> bool:
    try:
        return bool(_GUARD.search(Path(path).read_text(errors="replace")))
    except OSError:  # '<stdin>', a deleted file: a spawned worker could not import it at all
        return False


def spawn_safe() -> bool:
    """Whether a spawned worker can start here: it imports this process's ``__main__`` again
    (as ``__mp_main__``), which reruns a script's work unless the script guards it with
    ``if __name__ == "__main__":`` (``python -`` has no file to import at all). Without a
    guard, sweeps train in this process and a warning says why."""
    main = sys.modules.get("__main__")
    path = (getattr(getattr(main, "__spec__", None), "origin", None)
            or getattr(main, "__file__", None))
    if path is None:  # an interactive interpreter, python -c: nothing is imported again
        return True
    if _guarded(path):
        return True
    warnings.warn(f"grokpaper: sweeps train in this process only: worker processes would run "
                  f"{path} again; put its work under `if __name__ == \"__main__\":` to use "
                  "every core", stacklevel=2)
    return False


def _with_threads(threads: int, fn: Callable[..., T], args: tuple, kwargs: dict[str, Any]) -> T:
    # torch only in a worker: sweep.py, which imports this module, does not need it.
    import torch

    torch.set_num_threads(threads)
    return fn(*args, **kwargs)


def _exit_quietly(signum: int, frame: object) -> None:
    os._exit(128 + signum)  # a chunk cut short leaves no result: its claim goes stale


def _orphaned(parent: int, every: float) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)


def _start_worker(every: float = 1.0) -> None:
    # Ctrl-C, or a notebook kernel shutting down, signals the whole process group: a worker
    # then ends at once, without a traceback of its own (the parent reports the interruption).
    signal.signal(signal.SIGINT, _exit_quietly)
    # A parent killed without its exit handlers (a kernel that nbval or papermill shuts down)
    # would leave idle workers behind, each holding torch's memory: they end with it.
    threading.Thread(target=_orphaned, args=(os.getppid(), every), daemon=True).start()


def _pool() -> ProcessPoolExecutor:
    """Up to one spawned process per usable core (``$GROKPAPER_WORKERS``), started as work
    comes and kept."""
    if not _pools:
        _pools.append(ProcessPoolExecutor(max(usable_cores(), _wanted() or 1),
                                          mp_context=multiprocessing.get_context("spawn"),
                                          initializer=_start_worker))
    return _pools[0]


def side_by_side(fn: Callable[..., T], calls: Sequence[tuple[tuple, dict[str, Any]]],
                 workers: int) -> Iterator[tuple[int, T]]:
    """``(i, fn(*args, **kwargs))`` for each ``calls[i]``, as they finish, ``workers`` at a time
    in worker processes with ``cores // workers`` torch threads each (``fn`` and the arguments
    must pickle). An exception in a call is raised here; a worker that dies (killed, out of
    memory) raises ``BrokenProcessPool``, and the next call starts a new pool."""
    pool = _pool()
    threads = max(1, usable_cores() // workers)
    todo = list(enumerate(calls))
    running: dict[Future, int] = {}
    try:
        while todo or running:
            while todo and len(running) < workers:
                i, (args, kwargs) = todo.pop(0)
                running[pool.submit(_with_threads, threads, fn, args, kwargs)] = i
            for fut in wait(running, return_when=FIRST_COMPLETED).done:
                yield running.pop(fut), fut.result()
    except BrokenProcessPool:
        _pools.clear()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        for fut in running:
            fut.cancel()


@atexit.register
def _shutdown() -> None:
    for executor in _pools:
        executor.shutdown(wait=False, cancel_futures=True)
    _pools.clear()


class SeedsOf:
    """``seed_of`` for a worker: each run's seed, computed here (the caller's ``seed_of`` is
    often a lambda, which does not pickle)."""

    def __init__(self, runs: Sequence[Hashable], seeds: Sequence[int]) -> None:
        self.table = list(zip(runs, seeds, strict=True))

    def __call__(self, run: Hashable) -> int:
        return next(s for r, s in self.table if r == run)
