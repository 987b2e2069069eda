"""Which Dask cluster sweeps run on: the one named by ``$GROKPAPER_SCHEDULER``, else none.

``grokpaper run --workers N | --scheduler ADDRESS`` (:mod:`grokpaper.book.cluster`) sets the
variable for the notebook kernels it starts, so that the sweeps inside a notebook shard their
ensembles over the same workers. Without it everything runs in this process.

``distributed`` is imported only when the variable is set: it costs ~0.2-0.5 s at start-up and
a run without a cluster never needs it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

#: Environment variable holding the scheduler's address, e.g. ``tcp://host:8786``.
ENV = "GROKPAPER_SCHEDULER"


@functools.lru_cache(maxsize=1)
def _client_for(address: str) -> Any:
    from distributed import Client  # only with a cluster (see the module docstring)

    return Client(address, timeout="30s", set_as_default=False)


def current_client() -> Any:
    """The client for ``$GROKPAPER_SCHEDULER``, or None when work runs in this process."""
    address = os.environ.get(ENV)
    if not address:
        return None
    from distributed import get_client  # only with a cluster (see the module docstring)

    try:
        client = get_client()  # inside a task, or where `cluster()` made one
        if client.scheduler.address == address:
            return client
    except ValueError:
        pass
    return _client_for(address)


def forget_client() -> None:
    """Drop the client :func:`current_client` keeps (the address it was made for changed)."""
    _client_for.cache_clear()
