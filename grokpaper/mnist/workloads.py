"""What each MNIST page trains and what it computes (the plan's input,
:mod:`grokpaper.core.plan`), for the pools the MNIST folder holds (sizes read from the file
headers; no image is loaded)."""

from __future__ import annotations

from typing import Any

import numpy as np

from grokpaper.core import cost as costs
from grokpaper.core import mnist_data as mnist
from grokpaper.core.models import MLPConfig, count_parameters
from grokpaper.core.plan import Work
from grokpaper.core.train import TrainConfig, eval_steps
from grokpaper.mnist import cluster_shift, experiments, resnet
from grokpaper.mnist.clusters import Clusters

PIXELS = 28 * 28


def mlp_cost(n_train: int, n_test: int, model: MLPConfig, train: TrainConfig
             ) -> costs.EnsembleCost:
    """What an ensemble of MNIST MLPs computes (:mod:`grokpaper.core.cost`): each member
    scored on its ``n_train`` images and the ``n_test`` shared ones."""
    sizes = [PIXELS, *model.hidden, 10]
    return costs.EnsembleCost(
        "mnist_mlp", sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True)),
        costs.mlp(sizes), batch=n_train if train.batch_size is None
        else min(train.batch_size, n_train), steps=train.steps, eval_rows=n_train + n_test,
        evals=len(eval_steps(train.steps, train.n_evals, train.eval_spacing)))


def cost(runs: list[experiments.MnistRun], n_test: int) -> costs.EnsembleCost:
    """An ensemble of ``runs`` (one :func:`experiments.ensemble_key`)."""
    return mlp_cost(max(r.n_train for r in runs), n_test, runs[0].model, runs[0].train)


def resnet_cost(cfg: resnet.ResNetConfig, n_train: int, n_test: int) -> costs.EnsembleCost:
    """Training the ResNet on ``n_train`` images (:func:`resnet.train_classifier`):
    ``cfg.epochs`` epochs (or ``cfg.max_steps`` steps), the accuracy on both pools after
    each, then the embeddings of both pools."""
    per_epoch = -(-n_train // cfg.batch_size)
    steps = cfg.epochs * per_epoch if cfg.max_steps is None else min(cfg.max_steps,
                                                                      cfg.epochs * per_epoch)
    return costs.EnsembleCost(
        "resnet", count_parameters(lambda: resnet.build(cfg.arch)), resnet.forward_cost(cfg.arch),
        batch=min(cfg.batch_size, n_train), steps=steps, eval_rows=n_train + n_test,
        evals=-(-steps // per_epoch) + 1, eval_chunk=resnet.EVAL_BATCH)


def pools(context: dict[str, Any], head: int | None = None) -> mnist.MnistData:
    """A stand-in for the MNIST data of ``context["data_dir"]`` (or ``$GROKPAPER_MNIST``): the
    pools' sizes, no pixels; raises :class:`grokpaper.core.mnist_data.MnistNotFound`."""
    n_train, n_test = mnist.pool_sizes(context.get("data_dir"))
    if head is not None:
        n_train, n_test = min(n_train, head), min(n_test, head)

    def empty(n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((n, 0, 0), dtype=np.uint8), np.zeros(n, dtype=np.int64)

    return mnist.MnistData(*empty(n_train), *empty(n_test), "plan", "<sizes only>")


def _mlp(runs: list[experiments.MnistRun], data: mnist.MnistData) -> list[Work]:
    n_test = len(data.test_labels)
    return [Work(experiments.KIND, runs, experiments.ensemble_key,
                 lambda rs: cost(rs, n_test),
                 lambda rs, m: experiments.ensemble_memory(rs, m, n_test),
                 experiments.MAX_MEMBERS)]


def _cluster_shift(params: cluster_shift.ClusterShift, context: dict[str, Any]) -> list[Work]:
    data = pools(context, params.max_pool)
    n_train, n_test = len(data.train_labels), len(data.test_labels)
    k = params.k
    clusters = Clusters(k, np.zeros(n_train, np.int64), np.zeros(n_test, np.int64),
                        np.zeros(10 * k, bool))
    net = Work(cluster_shift.KIND_RESNET,
               [cluster_shift.EmbeddingRun(data.fingerprint, params.resnet_config())],
               lambda r: r, lambda rs: resnet_cost(rs[0].resnet, n_train, n_test),
               lambda rs, m: resnet.memory(rs[0].resnet, n_train, n_test), 1)
    runs = params.runs(data, clusters)
    mlp = Work(cluster_shift.KIND, runs, cluster_shift.ensemble_key,
               lambda rs: mlp_cost(max(r.n_train for r in rs), n_test, rs[0].model, rs[0].train),
               lambda rs, m: cluster_shift.ensemble_memory(rs, m, n_test),
               experiments.MAX_MEMBERS)
    return [net, mlp]


WORKLOADS = {
    "mnist.omnigrok": lambda p, c: _mlp(p.runs(d := pools(c)), d),
    "mnist.phases": lambda p, c: _mlp(p.runs(d := pools(c)), d),
    "mnist.lisakib": lambda p, c: _mlp(p.runs(d := pools(c))[0], d),
    "mnist.cluster_shift": _cluster_shift,
}
