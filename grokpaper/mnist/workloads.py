"""What each MNIST page trains (the plan's input, :mod:`grokpaper.core.plan`), for the pools
the MNIST folder holds (sizes read from the file headers; no image is loaded)."""

from __future__ import annotations

from typing import Any

import numpy as np

from grokpaper.core import mnist_data as mnist
from grokpaper.core.plan import Work
from grokpaper.mnist import cluster_shift, experiments
from grokpaper.mnist.clusters import Clusters


def pools(context: dict[str, Any], head: int | None = None) -> mnist.MnistData:
    """A stand-in for the MNIST data of ``context["data_dir"]`` (or ``$GROKPAPER_MNIST``): the
    pools' sizes, no pixels; raises :class:`grokpaper.core.mnist_data.MnistNotFound`."""
    n_train, n_test = mnist.pool_sizes(context.get("data_dir"))
    n_train, n_test = (n_train, n_test) if head is None else (min(n_train, head),
                                                              min(n_test, head))

    def empty(n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((n, 0, 0), dtype=np.uint8), np.zeros(n, dtype=np.int64)

    return mnist.MnistData(*empty(n_train), *empty(n_test), "plan", "<sizes only>")


def _mlp(runs: list[experiments.MnistRun], data: mnist.MnistData) -> list[Work]:
    n_test = len(data.test_labels)
    return [Work(experiments.KIND, runs, experiments.ensemble_key,
                 lambda rs: experiments.cost(rs, n_test), experiments.MAX_MEMBERS)]


def _cluster_shift(params: cluster_shift.ClusterShift, context: dict[str, Any]) -> list[Work]:
    data = pools(context, params.max_pool)
    n_train, n_test = len(data.train_labels), len(data.test_labels)
    k = params.k
    clusters = Clusters(k, np.zeros(n_train, np.int64), np.zeros(n_test, np.int64),
                        np.zeros(10 * k, bool))
    resnet = Work(cluster_shift.KIND_RESNET,
                  [cluster_shift.EmbeddingRun(data.fingerprint, params.resnet_config())],
                  lambda r: r, lambda rs: cluster_shift.resnet_cost(rs[0].resnet, n_train,
                                                                    n_test), 1)
    return [resnet, Work(cluster_shift.KIND, params.runs(data, clusters),
                         cluster_shift.ensemble_key,
                         lambda rs: cluster_shift.cost(rs, n_test), experiments.MAX_MEMBERS)]


WORKLOADS = {
    "mnist.omnigrok": lambda p, c: _mlp(p.runs(d := pools(c)), d),
    "mnist.phases": lambda p, c: _mlp(p.runs(d := pools(c)), d),
    "mnist.lisakib": lambda p, c: _mlp(p.runs(d := pools(c))[0], d),
    "mnist.cluster_shift": _cluster_shift,
}
