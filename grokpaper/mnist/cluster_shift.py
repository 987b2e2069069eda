"""Carvalho et al.'s MNIST experiment: a shift made from ResNet-latent clusters, then the MLP.

Pipeline: train a ResNet on the training pool (one cached result: embeddings of both pools),
cluster each digit's embeddings (:mod:`grokpaper.mnist.clusters`), draw training sets with the
Eq. (1) cluster counts (or a random class-balanced subsample of the same size), and train the
grokking MLP on each, every seed and condition as one ensemble.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

import numpy as np
import pandas as pd
import torch

from grokpaper.core import memory as mem
from grokpaper.core import mnist_data as mnist
from grokpaper.core import params as P
from grokpaper.core import sweep
from grokpaper.core.memory import Estimate
from grokpaper.core.metrics import definition31
from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.params import Range
from grokpaper.core.store import Store
from grokpaper.core.train import LOSSES, OPTIMIZERS, EnsembleData, TrainConfig, train_ensemble
from grokpaper.mnist import clusters as clustershift
from grokpaper.mnist import resnet
from grokpaper.mnist.experiments import MAX_MEMBERS, TEST_POOL, mlp_memory

KIND_RESNET = "mnist-resnet"
# "-2": runs train with torch's fused Adam/AdamW kernel on a CPU (grokpaper/core/optim.py: the
# same update, rounded differently, 12-34% less time a step: BENCHMARKS.md); runs stored
# under the earlier arithmetic are not mixed in.
# "-3": CPU training flushes denormals (grokpaper.core.threads.flush_denormals says why).
KIND = "mnist-clustershift-3"
CONDITIONS = ("shift", "random")


@dataclass(frozen=True)
class EmbeddingRun:
    """One ResNet trained on the training pool of ``data``."""

    data: str
    resnet: resnet.ResNetConfig = field(default_factory=resnet.ResNetConfig)


def embeddings(data: mnist.MnistData, cfg: resnet.ResNetConfig, *, store: Store | None = None,
               device: str | None = None) -> dict[str, np.ndarray]:
    """Penultimate-layer embeddings of both pools and the ResNet's accuracy per epoch."""

    def train(runs: list[EmbeddingRun], dev: str) -> list[dict[str, np.ndarray]]:
        def images(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(mnist.pixels(a)).reshape(-1, 1, 28, 28)

        x, x_te = images(data.train_images), images(data.test_images)
        net, hist = resnet.train_classifier(runs[0].resnet, x, torch.from_numpy(
            data.train_labels), x_te, torch.from_numpy(data.test_labels), dev)
        # float16 keeps 60,000 x 512 embeddings small on disk; k-means does not need more.
        emb = {name: resnet.embed(net, xx.to(dev)).cpu().numpy().astype(np.float16)
               for name, xx in (("train_emb", x), ("test_emb", x_te))}
        return [{**hist, **emb}]

    pools = len(data.train_labels), len(data.test_labels)
    (res,) = sweep.run_cached(KIND_RESNET, [EmbeddingRun(data.fingerprint, cfg)], train,
                              group_key=lambda r: r, seed_of=lambda r: r.resnet.seed,
                              store=store, device=device, progress=False,
                              memory=lambda rs, m: resnet.memory(rs[0].resnet, *pools))
    return {**res.arrays, "wall_time_s": res.meta["provenance"]["wall_time_s"]}


@dataclass(frozen=True)
class ShiftRun:
    """One MLP member: its training set (condition, f, size, seed) and optimization."""

    data: str  # MnistData.fingerprint
    clusters: str  # Clusters.fingerprint
    condition: str = "shift"  # "shift" (Eq. 1 cluster counts) or "random" (class-balanced)
    f: float = 0.2  # Eq. (1) factor of the subsampled clusters (ignored for "random")
    n_train: int = 1000
    model: MLPConfig = field(default_factory=MLPConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # training-set draw, initialization and minibatch order

    def indices(self, clusters: clustershift.Clusters, labels: np.ndarray) -> np.ndarray:
        if self.condition == "shift":
            return clustershift.shifted_subset(self.n_train, self.f, clusters, seed=self.seed)
        if self.condition == "random":
            return clustershift.random_subset(self.n_train, labels, seed=self.seed)
        raise ValueError(f"condition must be one of {CONDITIONS}, got {self.condition!r}")


def train_runs(runs: list[ShiftRun], device: str, data: mnist.MnistData,
               clusters: clustershift.Clusters) -> list[dict[str, np.ndarray]]:
    """Train ``runs`` (one group of :func:`run`) as one ensemble; the arrays of each run."""
    e, n_max = len(runs), max(r.n_train for r in runs)
    pool = torch.from_numpy(mnist.pixels(data.train_images))
    labels = torch.from_numpy(data.train_labels)
    x = torch.zeros(e, n_max, 784)
    y = torch.zeros(e, n_max, dtype=torch.long)
    picked = []
    for i, r in enumerate(runs):
        idx = torch.from_numpy(r.indices(clusters, data.train_labels))
        # Shuffle rows so that padding never matters and the prefix is not digit-sorted.
        idx = idx[torch.randperm(len(idx), generator=torch.Generator().manual_seed(r.seed))]
        x[i, : len(idx)], y[i, : len(idx)] = pool[idx], labels[idx]
        picked.append(np.bincount(clusters.train[idx.numpy()], minlength=10 * clusters.k))
    groups = torch.from_numpy(clusters.subsampled[clusters.test].astype(np.int64))
    ens = EnsembleData(x, y, torch.tensor([r.n_train for r in runs]),
                       torch.from_numpy(mnist.pixels(data.test_images)),
                       torch.from_numpy(data.test_labels), 10, test_groups=groups).to(device)
    seeds = [r.seed for r in runs]
    model = EnsembleMLP(784, 10, runs[0].model, seeds).to(device)
    hist = train_ensemble(model, ens, runs[0].train, seeds=seeds, fused=True)
    return [{**hist.member(i), "cluster_counts": picked[i]} for i in range(e)]


@dataclass(frozen=True)
class ClusterShift:
    """Parameters of the chapter; defaults are the paper's values where it gives them."""

    #: Allowed values of the string fields (read by ``grokpaper run``'s pre-flight checks).
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "arch": resnet.ARCHS, "optimizer": OPTIMIZERS, "loss": LOSSES}
    #: Step budgets a shape run caps (``grokpaper run --max-steps``): the MLP's and the ResNet's.
    STEP_BUDGETS: ClassVar[tuple[str, ...]] = ("steps", "resnet_max_steps")
    arch: str = "resnet18"  # "a ResNet classifier" (depth not given)
    resnet_epochs: int = 5
    resnet_max_steps: int | None = None  # None: every step of every epoch
    max_pool: int | None = None  # use only the first N images of each pool (smoke tests)
    k: int = 2  # clusters per digit (not given; see the chapter)
    n_subsampled: int = 1  # clusters per digit downsampled by f
    n_train: int = 1000  # Omnigrok's (and Liu et al.'s) MNIST training-set size
    fs: tuple[float, ...] = (0.0, 0.05, 0.2)  # the synthetic figures' f values
    random_baseline: bool = True  # a random class-balanced subsample of the same size
    seeds: int = 10  # "aggregated from 10 independent runs" (Sec. 5)
    hidden: tuple[int, ...] = (200, 200)  # Omnigrok's MNIST MLP
    alpha: float = 8.0  # "an initialization scale factor of 8" (Sec. 5.1)
    lr: float = 1e-3  # "learning rate of the models to 10^-3" (Sec. 5.1)
    weight_decay: float = 1e-4  # "the weight decay to 10^-4" (Sec. 5.1)
    optimizer: str = "adam"  # as the synthetic chapters: Adam with L2 weight decay
    loss: str = "ce"  # classification; not given
    batch_size: int = 200
    steps: int = 50_000  # not given
    n_evals: int = 60
    #: Ranges of the number fields (grokpaper.core.params); rules() has the cross-field ones.
    RANGES: ClassVar[dict[str, Range]] = {
        "resnet_epochs": Range(1, cap=1000), "resnet_max_steps": P.STEPS,
        "max_pool": P.SAMPLES, "k": P.CLUSTERS,
        "n_subsampled": P.COUNT, "n_train": P.SAMPLES, "fs": P.FRACTION, "seeds": P.SEEDS,
        "hidden": P.WIDTH, "alpha": P.SCALE, "lr": P.LR, "weight_decay": P.WEIGHT_DECAY,
        "batch_size": P.BATCH, "steps": P.STEPS, "n_evals": P.N_EVALS}

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        """Some but not all clusters of a digit subsampled; the training set and one minibatch
        fit in the (capped) pool."""
        if not self.n_subsampled < self.k:
            raise ValueError(f"n_subsampled={self.n_subsampled} must be below k={self.k} "
                             f"(clusters per digit)")
        if self.max_pool is not None and self.n_train > self.max_pool:
            raise ValueError(f"n_train={self.n_train} exceeds max_pool={self.max_pool}")
        if self.batch_size > self.n_train:
            raise ValueError(f"batch_size={self.batch_size} exceeds n_train={self.n_train}")

    def check_data(self, train_labels: np.ndarray) -> None:
        """The (capped) pool has k clusters' worth of every digit, and n_train images."""
        pool = train_labels[: self.max_pool]
        counts = np.bincount(pool, minlength=10)
        need = math.ceil(self.k / (1 - clustershift.TRIM)) + 1  # k-means on the trimmed core
        digit = int(np.argmin(counts))
        if counts[digit] < need:
            cap = f" (max_pool={self.max_pool})" if self.max_pool is not None else ""
            raise ValueError(f"k={self.k} clusters per digit need at least {need} training "
                             f"images of every digit, but the pool{cap} has {counts[digit]} of "
                             f"digit {digit}; lower k or use a larger pool")
        if self.n_train > len(pool):
            raise ValueError(f"n_train={self.n_train} exceeds the training pool of {len(pool):,} "
                             f"images; lower n_train")

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory: the ResNet's training or the largest MLP ensemble, whichever is more
        (they run one after the other; grokpaper.core.memory)."""
        members = min(max_members, (len(self.fs) + self.random_baseline) * self.seeds)
        mlp = mem.mlp(members=members, n_in=28 * 28, hidden=self.hidden, n_out=10,
                      n_train=self.n_train, n_test=TEST_POOL, batch=self.batch_size)
        pool = self.max_pool or 60_000
        net = resnet.memory(self.resnet_config(), pool, min(pool, TEST_POOL))
        return max(mlp, net, key=lambda e: e.total)

    def resnet_config(self) -> resnet.ResNetConfig:
        return resnet.ResNetConfig(arch=self.arch, epochs=self.resnet_epochs,
                                   max_steps=self.resnet_max_steps)

    def runs(self, data: mnist.MnistData, clusters: clustershift.Clusters) -> list[ShiftRun]:
        if not isinstance(self.seeds, int) or self.seeds <= 0:
            raise ValueError(f"seeds must be a positive integer, got {self.seeds!r}")
        model = MLPConfig(hidden=tuple(self.hidden), alpha=self.alpha)
        train = TrainConfig(steps=self.steps, lr=self.lr, weight_decay=self.weight_decay,
                            optimizer=self.optimizer, loss=self.loss,
                            batch_size=self.batch_size, n_evals=self.n_evals)
        conds = [("shift", float(f)) for f in self.fs]
        conds += [("random", 1.0)] if self.random_baseline else []
        return [ShiftRun(data.fingerprint, clusters.fingerprint, c, f, self.n_train, model,
                         train, seed=s) for c, f in conds for s in range(self.seeds)]


def ensemble_key(r: ShiftRun) -> tuple:
    """Runs with equal keys train as one ensemble."""
    return (r.data, r.clusters, r.model, r.train)


def ensemble_memory(runs: list[ShiftRun], members: int, n_test: int = TEST_POOL) -> Estimate:
    """Peak memory of an ensemble of ``members`` MLPs like ``runs`` (one :func:`ensemble_key`)
    against ``n_test`` test images."""
    r0 = runs[0]
    return mlp_memory(members=members, n_train=max(r.n_train for r in runs),
                      hidden=r0.model.hidden, batch=r0.train.batch_size, n_test=n_test,
                      max_members=members)


def label(condition: str, f: float) -> str:
    return "random (balanced)" if condition == "random" else f"f = {f:g}"


def run(runs: list[ShiftRun], data: mnist.MnistData, clusters: clustershift.Clusters, *,
        store: Store | None = None, device: str | None = None, max_members: int = MAX_MEMBERS,
        progress: bool | None = None) -> pd.DataFrame:
    """Train (or load) ``runs``; one row per run with curves and Definition 3.1 numbers."""
    n_test = len(data.test_labels)
    # A partial, not a closure: it pickles, so chunks can train in worker processes.
    results = sweep.run_cached(
        KIND, runs, partial(train_runs, data=data, clusters=clusters),
        group_key=ensemble_key, seed_of=lambda r: r.seed, store=store, device=device,
        max_members=max_members, memory=lambda rs, m: ensemble_memory(rs, m, n_test),
        progress=progress)
    rows = []
    for r, res in zip(runs, results, strict=True):
        a = res.arrays
        stats = definition31(a["steps"], a["train_acc"], a["test_acc"])
        group = a["test_group_acc"]
        nan = np.full(len(a["steps"]), np.nan)
        rows.append({"condition": label(r.condition, r.f), "f": r.f, "n_train": r.n_train,
                     "seed": r.seed, **a,
                     # test accuracy on the subsampled clusters' images, and on the others
                     "test_acc_subsampled": group[:, 1] if group.shape[1] > 1 else nan,
                     "test_acc_rest": group[:, 0],
                     **{f"def31_{k}": v for k, v in stats.as_dict().items()},
                     "provenance": res.meta["provenance"]})
    return pd.DataFrame(rows)
