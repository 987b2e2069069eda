"""Cached sweeps: look every run up in the store, train the missing ones as ensembles.

A run is a frozen config (one ensemble member). Runs that can share one ensemble (same
``group_key``) are cut, in the order given, into chunks of at most ``max_members``, fewer when
a ``cost`` model says that many would not fit the device's memory budget
(:func:`grokpaper.core.cost.members_per_chunk`, a power of two so that the chunks do not move
with small changes of free memory); a chunk with any run missing from the store is trained
whole (so a resumed sweep trains exactly the ensembles an uninterrupted one would, on the same
budget) and saved run by run before the next chunk starts, so an interrupted sweep resumes
without losing finished runs. A chunk that runs out of memory all the same is split in two and
each half trained (and split again if need be) instead of failing the sweep. A stored run
whose file fails its checksum counts as missing (see :mod:`grokpaper.core.store`).

Chunks run in this process, or as tasks on a Dask cluster when one is active
(:func:`grokpaper.core.scheduler.current_client`). A claim file per chunk in the store keeps two
workers (or two notebooks sharing runs) from training the same chunk at once.
"""

from __future__ import annotations

import gc
import sys
import time
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from tqdm.auto import tqdm

from grokpaper.core import provenance
from grokpaper.core.cost import EnsembleCost, is_out_of_memory, members_per_chunk, memory_budget
from grokpaper.core.paths import default_device
from grokpaper.core.scheduler import current_client
from grokpaper.core.store import Result, Store, config_key

R = TypeVar("R")
#: Trains runs as one ensemble on a device; returns one dict of arrays per run, in order.
TrainFn = Callable[[list[R], str], list[dict[str, np.ndarray]]]
#: What an ensemble of the given runs costs (memory per member decides the chunk size).
CostFn = Callable[[list[R]], EnsembleCost]
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
    chunk_key = config_key("chunk", [kind, keys])
    if not store.claim(chunk_key):
        return "claimed"
    try:
        start = time.perf_counter()
        try:
            outs = train(runs, device)
        except Exception as exc:
            if len(runs) == 1 or not is_out_of_memory(exc):
                raise
            outs = None  # split below, once the failed attempt's tensors are freed
        if outs is None:
            _free(device)
            half = len(runs) // 2
            warnings.warn(f"{kind}: an ensemble of {len(runs)} members ran out of memory on "
                          f"{device}; training it as {half} + {len(runs) - half}",
                          ChunkSplitWarning, stacklevel=2)
            parts = [train_chunk(kind, runs[part], keys[part], train, root=root,
                                 device=device, seed_of=seed_of)
                     for part in (slice(0, half), slice(half, None))]
            return "claimed" if "claimed" in parts else "trained"
        wall = time.perf_counter() - start
        prov = provenance.collect(device=device, seeds=[seed_of(r) for r in runs],
                                  wall_time_s=wall)
        for key, run, arrays in zip(keys, runs, outs, strict=True):
            meta: dict[str, Any] = {"kind": kind, "config": run, "ensemble_size": len(runs),
                                    "provenance": prov}
            if not store.has(kind, key):
                store.save(kind, key, arrays, meta)
    finally:
        store.release(chunk_key)
    return "trained"


def _free(device: str) -> None:
    """Give the memory of a failed attempt back before the next one."""
    gc.collect()
    if str(device).startswith("cuda"):
        import torch  # only on a GPU: a CPU sweep need not wait for torch here

        torch.cuda.empty_cache()


def chunk_indices(runs: Sequence[R], group_key: Callable[[R], Hashable], max_members: int, *,
                  cost: CostFn | None = None, budget: float | None = None) -> list[list[int]]:
    """The ensembles ``runs`` train as: positions of runs sharing a ``group_key``, in order, cut
    into chunks of :func:`grokpaper.core.cost.members_per_chunk` (``max_members`` without a
    ``cost`` or ``budget``)."""
    if not isinstance(max_members, int) or max_members <= 0:
        raise ValueError(f"max_members must be a positive integer, got {max_members!r}")
    groups: dict[Hashable, list[int]] = {}
    for i, r in enumerate(runs):
        groups.setdefault(group_key(r), []).append(i)
    chunks = []
    for idx in groups.values():
        size = max_members
        if cost is not None and budget is not None:
            size = members_per_chunk(cost([runs[i] for i in idx]), budget, max_members)
        chunks += [idx[j : j + size] for j in range(0, len(idx), size)]
    return chunks


def run_cached(kind: str, runs: Sequence[R], train: TrainFn, *,
               group_key: Callable[[R], Hashable], seed_of: Callable[[R], int],
               store: Store | None = None, device: str | None = None, max_members: int = 64,
               cost: CostFn | None = None, budget: float | None = None,
               progress: bool | None = None, client: Any = None) -> list[Result]:
    """Results of ``runs`` in order, training only the chunks not yet in ``store``.

    ``cost``: the family's cost model; with it, chunks are sized to ``budget`` bytes (default:
    :func:`grokpaper.core.cost.memory_budget` of ``device``). ``client``: a
    ``dask.distributed.Client`` to run chunks on; by default the cluster named by
    ``$GROKPAPER_SCHEDULER`` if set, else this process.
    """
    store = store or Store()
    device = device or default_device()
    client = client if client is not None else current_client()
    keys = [config_key(kind, r) for r in runs]
    if cost is not None and budget is None:
        budget = memory_budget(device)
    chunks = chunk_indices(runs, group_key, max_members, cost=cost, budget=budget)
    # Stored runs are read (and their checksums verified) before anything trains: a damaged
    # file is reported and moved aside by Store.load, so its chunk trains again.
    loaded: dict[int, Result] = {}
    for i, key in enumerate(keys):
        if (res := store.load(kind, key)) is not None:
            loaded[i] = res
    todo = [c for c in chunks if not all(i in loaded for i in c)]
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=sum(map(len, todo)), desc=kind, unit="run", disable=not show)

    def unit(chunk: list[int]) -> tuple:
        return (kind, [runs[i] for i in chunk], [keys[i] for i in chunk], train)

    while todo:
        waiting = []
        if client is None:
            for chunk in todo:
                status = train_chunk(*unit(chunk), root=str(store.root), device=device,
                                     seed_of=seed_of)
                (waiting.append(chunk) if status == "claimed" else bar.update(len(chunk)))
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
