"""Cached sweeps: look every run up in the store, train the missing ones as ensembles.

A run is a frozen config (one ensemble member). Runs that can share one ensemble (same
``group_key``) are cut, in the order given, into chunks of at most ``max_members``, fewer when
the family's ``memory`` estimate says that many would not fit the device's memory budget
(:func:`grokpaper.core.memory.members_per_chunk`: a power of two, so that the chunks do not
move with small changes of free memory), and a sweep with fewer chunks than the processes
that train side by side halves its largest chunk until each has one (so the chunks depend on
the cores: Li & Sakib's runs with embedding noise, seeded from all members, then differ
between machines; every other run equals itself trained alone); a chunk with any run missing
from the store is trained whole (so a resumed sweep trains exactly the ensembles an
uninterrupted one would, on the same budget and cores) and saved run by run before the next
chunk starts, so an interrupted sweep resumes without losing finished runs. A chunk that runs
out of memory all the same is split in two and each half trained (split again if need be)
instead of failing the sweep. A stored run whose file fails its checksum counts as missing
(see :mod:`grokpaper.core.store`).

Chunks run as tasks on a Dask cluster when one is active
(:func:`grokpaper.core.scheduler.current_client`), else side by side in worker processes on
this machine's cores (:mod:`grokpaper.core.processes`) or one after another in this process. A
claim per chunk in the store
(:mod:`grokpaper.core.claims`, with a heartbeat while it trains) keeps two workers (or two
notebooks sharing runs) from training the same chunk at once; a sweep that waits for a chunk
another worker is training says so on stderr, naming that worker.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np

from grokpaper.core import precision, processes, provenance
from grokpaper.core.memory import (
    BUDGET_ENV,
    Estimate,
    budget,
    is_out_of_memory,
    members_per_chunk,
)
from grokpaper.core.paths import default_device
from grokpaper.core.progress import progress_bar
from grokpaper.core.scheduler import current_client
from grokpaper.core.store import Result, Store, config_key

R = TypeVar("R")
#: Trains runs as one ensemble on a device; returns one dict of arrays per run, in order.
TrainFn = Callable[[list[R], str], list[dict[str, np.ndarray]]]
#: Peak memory of an ensemble of ``members`` runs like the given ones (one group).
MemoryFn = Callable[[list[R], int], Estimate]
_POLL_S = 1.0  # how often to look for a chunk that another process is training


class ChunkSplitWarning(UserWarning):
    """An ensemble ran out of memory and was trained in two halves instead."""


def train_chunk(kind: str, runs: list[Any], keys: list[str], train: TrainFn, *, root: str,
                device: str, seed_of: Callable[[Any], int]) -> str:
    """Train one chunk as one ensemble and save its runs; a unit of work for any worker.

    Returns "trained", "cached" (everything already stored) or "claimed" (another live
    process is training it right now; the caller waits for its results).
    """
    store = Store(root)
    if all(store.has(kind, k) for k in keys):
        return "cached"
    with store.claims.holding(chunk_key(kind, keys)) as mine:
        if not mine:
            return "claimed"
        if all(store.has(kind, k) for k in keys):
            return "cached"  # its previous owner finished it while we looked
        precision.apply(device)
        start = time.perf_counter()
        try:
            outs = train(runs, device)
        except Exception as exc:
            if len(runs) == 1 or not is_out_of_memory(exc):
                raise
            outs = None  # split below, once the failed attempt's tensors are freed
        if outs is None:
            return _split(kind, runs, keys, train, root=root, device=device, seed_of=seed_of)
        wall = time.perf_counter() - start
        prov = provenance.collect(device=device, seeds=[seed_of(r) for r in runs],
                                  wall_time_s=wall)
        for key, run, arrays in zip(keys, runs, outs, strict=True):
            meta: dict[str, Any] = {"kind": kind, "config": run, "ensemble_size": len(runs),
                                    "provenance": prov}
            if not store.has(kind, key):
                store.save(kind, key, arrays, meta)
    return "trained"


def _split(kind: str, runs: list[Any], keys: list[str], train: TrainFn, *, root: str,
           device: str, seed_of: Callable[[Any], int]) -> str:
    """Train a chunk that ran out of memory as two halves (each split again if need be)."""
    gc.collect()
    if str(device).startswith("cuda"):
        import torch  # only on a GPU: a CPU sweep need not wait for torch here

        torch.cuda.empty_cache()
    half = len(runs) // 2
    warnings.warn(f"{kind}: an ensemble of {len(runs)} members ran out of memory on {device}; "
                  f"training it as {half} + {len(runs) - half}", ChunkSplitWarning,
                  stacklevel=3)
    parts = [train_chunk(kind, runs[part], keys[part], train, root=root, device=device,
                         seed_of=seed_of) for part in (slice(0, half), slice(half, None))]
    return "claimed" if "claimed" in parts else "trained"


def chunk_key(kind: str, keys: list[str]) -> str:
    """The name of the claim on the chunk of runs ``keys``."""
    return config_key("chunk", [kind, keys])


def cut(runs: Sequence[R], group_key: Callable[[R], Hashable], max_members: int, *,
        memory: MemoryFn | None = None, budget: float | None = None,
        min_chunks: int = 1) -> list[list[int]]:
    """The ensembles a sweep trains, as indices into ``runs``: runs that can share one (same
    ``group_key``) are cut, in the order given, into chunks of at most ``max_members``, or of
    :func:`grokpaper.core.memory.members_per_chunk` within ``budget`` bytes by ``memory``;
    then, while there are fewer than ``min_chunks`` (the processes that could train side by
    side), the largest chunk is halved, so that one big ensemble does not leave cores idle."""
    if not isinstance(max_members, int) or max_members <= 0:
        raise ValueError(f"max_members must be a positive integer, got {max_members!r}")
    groups: dict[Hashable, list[int]] = {}
    for i, r in enumerate(runs):
        groups.setdefault(group_key(r), []).append(i)
    chunks = []
    for idx in groups.values():
        size = max_members
        if memory is not None and budget is not None:
            group = [runs[i] for i in idx]
            size = members_per_chunk(lambda m, g=group: memory(g, m), budget, max_members)
        chunks += [idx[j : j + size] for j in range(0, len(idx), size)]
    while len(chunks) < min_chunks and max(map(len, chunks), default=1) > 1:
        i = max(range(len(chunks)), key=lambda j: len(chunks[j]))  # the first largest
        half = len(chunks[i]) // 2
        chunks[i : i + 1] = [chunks[i][:half], chunks[i][half:]]
    return chunks


def _side_by_side(workers: int | None, device: str, train: TrainFn,
                  chunks: list[list[Any]]) -> int:
    """How many local processes train ``chunks`` (1: this one)."""
    if workers is not None and (not isinstance(workers, int) or workers <= 0):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    n = (processes.workers_for(device, len(chunks)) if workers is None
         else min(workers, len(chunks)))
    # A closure (or a run that does not pickle) cannot go to a worker, and an unguarded
    # script would run again in each: it trains here.
    return n if n > 1 and processes.picklable(train, chunks) and processes.spawn_safe() else 1


def chunk_budget(device: str, train: TrainFn, runs: Sequence[Any], *,
                 workers: int | None = None, client: Any = None,
                 side: int | None = None) -> float:
    """Bytes one chunk of ``runs`` may plan to use: the device's budget
    (:func:`grokpaper.core.memory.budget`), shared out among the processes of this machine
    that may train chunks side by side (without a cluster; a GPU has one). Each would
    otherwise size its ensemble to the whole free memory, and together run out of it.
    ``$GROKPAPER_MEMORY_BUDGET`` is one ensemble's budget, used as it is. ``side``: those
    processes, when the caller has counted them already (counting pickles every run)."""
    whole = budget(device)
    if client is not None or os.environ.get(BUDGET_ENV, "").strip():
        return whole
    if side is None:
        side = _side_by_side(workers, device, train, [[r] for r in runs])
    return whole / side


def run_cached(kind: str, runs: Sequence[R], train: TrainFn, *,
               group_key: Callable[[R], Hashable], seed_of: Callable[[R], int],
               store: Store | None = None, device: str | None = None, max_members: int = 64,
               memory: MemoryFn | None = None, budget_bytes: float | None = None,
               progress: bool | None = None, client: Any = None,
               workers: int | None = None,
               cost: Callable[[list[R]], float] | None = None) -> list[Result]:
    """Results of ``runs`` in order, training only the chunks not yet in ``store``.

    ``memory``: the family's estimate; with it, chunks are sized to ``budget_bytes`` (default:
    :func:`chunk_budget`, the device's budget shared among side-by-side processes). Side by
    side, a group is cut into at least as many chunks as there are processes (:func:`cut`).

    ``cost``: the relative cost of training a chunk; with it, the costliest chunks start first,
    so that a long one does not run alone at the end while the other cores idle.

    ``client``: a ``dask.distributed.Client`` to run chunks on; by default the cluster named by
    ``$GROKPAPER_SCHEDULER`` if set, else this machine. ``workers``: processes that train
    chunks side by side without a cluster (default :func:`grokpaper.core.processes.workers_for`;
    1: one chunk after another in this process). ``progress``: a bar (True), none (False), or
    by default a bar where a person watches (:mod:`grokpaper.core.progress`).
    """
    store = store or Store()
    device = device or default_device()
    client = client if client is not None else current_client()
    keys = [config_key(kind, r) for r in runs]
    side = 1 if client is not None else _side_by_side(workers, device, train,
                                                      [[r] for r in runs])
    if memory is not None and budget_bytes is None:
        budget_bytes = chunk_budget(device, train, runs, workers=workers, client=client,
                                    side=side)
    chunks = cut(runs, group_key, max_members, memory=memory, budget=budget_bytes,
                 min_chunks=side)
    if cost is not None:  # longest first (a stable sort: ties keep their order)
        chunks.sort(key=lambda c: -cost([runs[i] for i in c]))
    # Stored runs are read (and their checksums verified) before anything trains: a damaged
    # file is reported and moved aside by Store.load, so its chunk trains again.
    loaded: dict[int, Result] = {}
    for i, key in enumerate(keys):
        if (res := store.load(kind, key)) is not None:
            loaded[i] = res
    todo = [c for c in chunks if not all(i in loaded for i in c)]
    # A bar where a person watches (a terminal, a Jupyter frontend), none in batch logs.
    bar = progress_bar(show=progress, total=sum(map(len, todo)), desc=kind, unit="run")

    told: set[str] = set()  # chunks we said we wait for

    def unit(chunk: list[int]) -> tuple:
        return (kind, [runs[i] for i in chunk], [keys[i] for i in chunk], train)

    while todo:
        waiting = []
        n_proc = 1 if client is not None else _side_by_side(
            workers, device, train, [[runs[i] for i in c] for c in todo])
        if client is None and n_proc == 1:
            for chunk in todo:
                status = train_chunk(*unit(chunk), root=str(store.root), device=device,
                                     seed_of=seed_of)
                (waiting.append(chunk) if status == "claimed" else bar.update(len(chunk)))
        elif client is None:
            calls = [(unit(c), {"root": str(store.root), "device": device,
                                "seed_of": processes.SeedsOf([runs[i] for i in c],
                                                             [seed_of(runs[i]) for i in c])})
                     for c in todo]
            for i, status in processes.side_by_side(train_chunk, calls, n_proc):
                (waiting.append(todo[i]) if status == "claimed" else bar.update(len(todo[i])))
        else:
            # distributed only with a cluster: ~0.5 s on top of torch in every notebook.
            from distributed import as_completed

            futures = {client.submit(train_chunk, *unit(c), root=str(store.root), device=device,
                                     seed_of=seed_of, pure=False, retries=2): c for c in todo}
            # loop=: in a notebook kernel our client is not Dask's default one.
            for fut in as_completed(futures, loop=client.loop):
                status = fut.result()  # a unit that failed on every retry raises here
                chunk = futures[fut]
                (waiting.append(chunk) if status == "claimed" else bar.update(len(chunk)))
        if waiting:
            _say_waiting(store, kind, [[keys[i] for i in c] for c in waiting], told)
            time.sleep(_POLL_S)  # someone else is training these; look again shortly
        todo = [c for c in waiting if not all(store.has(kind, keys[i]) for i in c)]
        bar.update(sum(len(c) for c in waiting) - sum(len(c) for c in todo))
    bar.close()
    results = [loaded[i] if i in loaded else store.load(kind, k) for i, k in enumerate(keys)]
    missing = [k for k, r in zip(keys, results, strict=True) if r is None]
    if missing:
        raise RuntimeError(f"{len(missing)} run(s) of {kind} are missing or damaged in the "
                           f"store after training (first key {missing[0]})")
    return results  # type: ignore[return-value]


def _say_waiting(store: Store, kind: str, chunks: list[list[str]], told: set[str]) -> None:
    """One line on stderr per chunk this sweep starts waiting for, naming who trains it."""
    for keys in chunks:
        name = chunk_key(kind, keys)
        if name in told:
            continue
        told.add(name)
        who = store.claims.holder(name) or "another worker"
        print(f"grokpaper: waiting for {len(keys)} run(s) of {kind} that {who} is training; "
              f"its claim is taken over if that process ends", file=sys.stderr, flush=True)
