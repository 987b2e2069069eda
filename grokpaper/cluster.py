"""Where work runs: in this process, on a local Dask cluster, or on a given scheduler.

``grokpaper run --workers N`` starts a ``LocalCluster``; ``--scheduler ADDRESS`` joins an
existing one (e.g. started by dask-jobqueue on Slurm, see the README). The address travels to
notebook kernels in ``$GROKPAPER_SCHEDULER`` so that the sweeps inside a notebook shard their
ensembles over the same workers. Without either, everything runs in-process: no setup needed.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from typing import Any

ENV = "GROKPAPER_SCHEDULER"


@contextlib.contextmanager
def cluster(*, scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client for the duration of the block (None when running in-process)."""
    if scheduler and workers:
        raise ValueError("give either a scheduler address or a number of local workers, not both")
    if workers is not None and (not isinstance(workers, int) or workers <= 0):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if not scheduler and not workers:
        yield None
        return
    from distributed import Client, LocalCluster

    old = os.environ.get(ENV)
    local = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            # One thread per worker process: torch uses its own threads inside each task.
            local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                 dashboard_address=None)
            client = Client(local)
        os.environ[ENV] = client.scheduler.address
        current_client.cache_clear()
        yield client
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old
        current_client.cache_clear()
        with contextlib.suppress(NameError):
            client.close()
        if local is not None:
            local.close()


@functools.lru_cache(maxsize=1)
def _client_for(address: str) -> Any:
    from distributed import Client

    return Client(address, timeout="30s", set_as_default=False)


def current_client() -> Any:
    """The client for ``$GROKPAPER_SCHEDULER``, or None when work runs in this process."""
    address = os.environ.get(ENV)
    if not address:
        return None
    try:
        from distributed import get_client

        client = get_client()  # inside a task, or where `cluster()` made one
        if client.scheduler.address == address:
            return client
    except ValueError:
        pass
    return _client_for(address)


current_client.cache_clear = _client_for.cache_clear  # type: ignore[attr-defined]
