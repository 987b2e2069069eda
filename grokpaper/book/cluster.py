"""Where notebooks run: in this process, on a local Dask cluster, or on a given scheduler.

``grokpaper run --workers N`` starts a ``LocalCluster``; ``--scheduler ADDRESS`` joins an
existing one (e.g. started by dask-jobqueue on Slurm, see the README). The address travels to
notebook kernels in ``$GROKPAPER_SCHEDULER`` (:mod:`grokpaper.core.scheduler`) so that the
sweeps inside a notebook shard their ensembles over the same workers. Without either, everything
runs in-process: no setup needed.

``distributed`` is imported only where a cluster is used: it costs ~0.2-0.5 s at start-up, which
every ``grokpaper`` command would pay otherwise.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from grokpaper.book.notebooks import Layout, Notebook, Outcome
from grokpaper.core.scheduler import ENV, forget_client

#: Runs one notebook: ``execute(nb, profile, params, layout=..., force=...)``
#: (:func:`grokpaper.book.runner.execute`, handed in by the runner).
Execute = Callable[..., Outcome]


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
    from distributed import Client, LocalCluster  # only with a cluster (module docstring)

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
        forget_client()
        yield client
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old
        forget_client()
        with contextlib.suppress(NameError):
            client.close()
        if local is not None:
            local.close()


#: Settings a user gives where they type ``grokpaper run``; a worker started elsewhere (or
#: before they were set) would not see them, so notebook tasks carry them along.
FORWARDED_ENV = ("GROKPAPER_STORE", "GROKPAPER_MNIST", "GROKPAPER_DEVICE", "GROKPAPER_MAX_STEPS",
                 "GROKPAPER_MEMORY_BUDGET", "GROKPAPER_TF32")


def _execute_on_worker(execute: Execute, nb: Notebook, profile: str, params: dict[str, Any],
                       layout: Layout, force: bool, env: dict[str, str]) -> Outcome:
    """A notebook as a Dask task; its kernel shards sweeps over the same cluster."""
    from distributed import get_worker, secede  # only with a cluster (module docstring)

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
                  *, layout: Layout, force: bool, report: Callable[[Outcome], None],
                  execute: Execute) -> None:
    """Run ``notebooks`` with ``execute`` as tasks on ``client``'s cluster, reporting each
    outcome as it ends.

    A notebook task secedes from its worker thread (its kernel's sweep shards need the thread),
    so the cluster alone would start every notebook at once: at most :func:`notebook_slots`
    are in flight. A task whose worker died on every retry is reported as FAILED.
    """
    from distributed import as_completed  # only with a cluster (module docstring)

    env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    waiting: dict[Any, Notebook] = {}

    def submit(nb: Notebook) -> Any:
        fut = client.submit(_execute_on_worker, execute, nb, profile, params, layout, force, env,
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
