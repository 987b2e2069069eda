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
from collections.abc import Callable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grokpaper.book.runner import Layout, Notebook, Outcome

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


#: Settings a user gives where they type ``grokpaper run``; a worker started elsewhere (or
#: before they were set) would not see them, so notebook tasks carry them along.
FORWARDED_ENV = ("GROKPAPER_STORE", "GROKPAPER_MNIST", "GROKPAPER_DEVICE")


def _execute_on_worker(nb: Notebook, profile: str, params: dict[str, Any], layout: Layout,
                       force: bool, env: dict[str, str]) -> Outcome:
    """A notebook as a Dask task; its kernel shards sweeps over the same cluster."""
    from distributed import get_worker, secede

    from grokpaper.book.runner import execute

    # This task only waits for its kernel: give its thread back so that the sweep shards the
    # kernel submits can run on this worker too (otherwise notebooks could starve their shards).
    secede()
    os.environ.update(env)  # the kernel inherits them
    os.environ[ENV] = get_worker().scheduler.address
    return execute(nb, profile, params, layout=layout, force=force)


def notebook_slots(client: Any) -> int:
    """How many notebooks run at once on ``client``'s cluster: one per worker thread."""
    return max(1, sum(client.nthreads().values()))


def run_notebooks(client: Any, notebooks: list[Notebook], profile: str, params: dict[str, Any],
                  *, layout: Layout, force: bool, report: Callable[[Outcome], None]) -> None:
    """Run ``notebooks`` as tasks on ``client``'s cluster, reporting each outcome as it ends.

    A notebook task secedes from its worker thread (its kernel's sweep shards need the thread),
    so the cluster alone would start every notebook at once: at most :func:`notebook_slots`
    are in flight. A task whose worker died on every retry is reported as FAILED.
    """
    from distributed import as_completed

    from grokpaper.book.runner import Outcome

    env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    waiting: dict[Any, Notebook] = {}

    def submit(nb: Notebook) -> Any:
        fut = client.submit(_execute_on_worker, nb, profile, params, layout, force, env,
                            pure=False, retries=1)
        waiting[fut] = nb
        return fut

    queue = iter(notebooks)
    running = as_completed([submit(nb) for nb in islice(queue, notebook_slots(client))],
                           loop=client.loop)
    for fut in running:
        nb = waiting.pop(fut)
        try:
            report(fut.result())
        except Exception as exc:  # the worker died on every retry: report, go on
            report(Outcome(nb, "FAILED", 0.0, f"{type(exc).__name__}: {exc} "
                           f"(parameters {params})"))
        following = next(queue, None)
        if following is not None:
            running.add(submit(following))
