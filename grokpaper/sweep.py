"""Cached sweeps: look every run up in the store, train the missing ones as ensembles.

A run is a frozen config (one ensemble member). Missing runs that can share one ensemble (same
``group_key``) train together in chunks of at most ``max_members``; each finished chunk is saved
run by run before the next starts, so an interrupted sweep resumes without losing finished runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from tqdm.auto import tqdm

from grokpaper import provenance
from grokpaper.paths import default_device
from grokpaper.store import Result, Store, config_key

R = TypeVar("R")
#: Trains runs as one ensemble on a device; returns one dict of arrays per run, in order.
TrainFn = Callable[[list[R], str], list[dict[str, np.ndarray]]]


def run_cached(kind: str, runs: Sequence[R], train: TrainFn, *,
               group_key: Callable[[R], Hashable], seed_of: Callable[[R], int],
               store: Store | None = None, device: str | None = None, max_members: int = 64,
               progress: bool | None = None) -> list[Result]:
    """Results of ``runs`` in order, training only those not yet in ``store``."""
    if max_members <= 0:
        raise ValueError(f"max_members must be positive, got {max_members!r}")
    store = store or Store()
    device = device or default_device()
    keys = [config_key(kind, r) for r in runs]
    results: list[Result | None] = [store.load(kind, k) for k in keys]
    missing: dict[Hashable, list[int]] = {}
    for i, res in enumerate(results):
        if res is None:
            missing.setdefault(group_key(runs[i]), []).append(i)
    chunks = [idx[j : j + max_members] for idx in missing.values()
              for j in range(0, len(idx), max_members)]
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=sum(map(len, chunks)), desc=kind, unit="run", disable=not show)
    for chunk in chunks:
        todo = [runs[i] for i in chunk]
        start = time.perf_counter()
        outs = train(todo, device)
        wall = time.perf_counter() - start
        prov = provenance.collect(device=device, seeds=[seed_of(r) for r in todo],
                                  wall_time_s=wall)
        for i, run, arrays in zip(chunk, todo, outs, strict=True):
            meta: dict[str, Any] = {"kind": kind, "config": run, "ensemble_size": len(todo),
                                    "provenance": prov}
            store.save(kind, keys[i], arrays, meta)
            results[i] = store.load(kind, keys[i])
        bar.update(len(chunk))
    bar.close()
    return [r for r in results if r is not None]
