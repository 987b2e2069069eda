"""MNIST MLP runs (Omnigrok / Liu et al. Fig. 8, Li & Sakib Table 3), trained as ensembles.

One :class:`MnistRun` per member. Members that share the training-set size, loss, optimizer,
batch size, step budget and width train as one ensemble even when they differ in learning
rate, weight decay, initialization scale or augmentation strength: lr and weight decay are
per-member tensors, the init scale multiplies each member's weights after a
common (alpha = 1) initialization, and augmentation is a per-member minibatch hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import ClassVar

import numpy as np
import pandas as pd
import torch

from grokpaper.core import memory as mem
from grokpaper.core import mnist_data as mnist
from grokpaper.core import params as P
from grokpaper.core import phases, sweep
from grokpaper.core.memory import Estimate
from grokpaper.core.metrics import definition31, first_crossing
from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.params import Range
from grokpaper.core.store import Store, config_key
from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble

# "-2": runs train with torch's fused Adam/AdamW kernel on a CPU (grokpaper/core/optim.py: the
# same update, rounded differently, 12-34% less time a step: BENCHMARKS.md); runs stored
# under the earlier arithmetic are not mixed in.
# "-3": CPU training flushes denormals (grokpaper.core.threads.flush_denormals says why).
KIND = "mnist-mlp-3"

#: The Omnigrok MNIST notebook's settings: "train_points = 1000, optimization_steps = 100000,
#: batch_size = 200, loss_function = 'MSE', optimizer = 'AdamW', weight_decay = 0.01,
#: lr = 1e-3, initialization_scale = 8.0, depth = 3, width = 200, activation = 'ReLU'".
OMNIGROK_TRAIN = TrainConfig(steps=100_000, lr=1e-3, weight_decay=0.01, optimizer="adamw",
                             loss="mse", batch_size=200, n_evals=100)
OMNIGROK_MODEL = MLPConfig(hidden=(200, 200), activation="relu", alpha=8.0)


@dataclass(frozen=True)
class MnistRun:
    """One member: the first ``n_train`` images of the training pool, model, optimizer, seed."""

    data: str  # MnistData.fingerprint: which files (and split) the run used
    n_train: int = 1000  # "the first 1,000 training images" (Omnigrok code: Subset(range(1000)))
    augment: float = 0.0  # Li & Sakib's sigma: rotation sigma x 30 deg, blur std sigma / 2
    model: MLPConfig = field(default_factory=lambda: OMNIGROK_MODEL)
    train: TrainConfig = field(default_factory=lambda: OMNIGROK_TRAIN)
    seed: int = 0  # initialization and minibatch order (the images are the same for all seeds)

    def __post_init__(self) -> None:
        if not isinstance(self.n_train, int) or self.n_train <= 0:
            raise ValueError(f"n_train must be a positive integer, got {self.n_train!r}")
        if not self.augment >= 0:
            raise ValueError(f"augment (sigma) must be >= 0, got {self.augment!r}")


def ensemble_key(r: MnistRun) -> tuple:
    """Runs with equal keys train as one ensemble."""
    # lr, weight decay, alpha and augmentation may differ inside one ensemble. Sizes could too
    # (padding), but every member would then evaluate the largest training set at every
    # evaluation step, so each size gets its own ensemble.
    return (r.data, r.n_train, r.model.hidden, r.model.activation,
            replace(r.train, lr=1.0, weight_decay=0.0))


def train_runs(runs: list[MnistRun], device: str, data: mnist.MnistData) -> list[dict]:
    """Train ``runs`` (one group of :func:`run`) on ``data`` as one ensemble; the arrays of
    each run."""
    seeds = [r.seed for r in runs]
    n_max = max(r.n_train for r in runs)
    if n_max > len(data.train_labels):
        raise ValueError(f"n_train {n_max} exceeds the training pool "
                         f"({len(data.train_labels)} images)")
    x = torch.from_numpy(mnist.pixels(data.train_images[:n_max]))
    y = torch.from_numpy(data.train_labels[:n_max])
    e = len(runs)
    # Every member uses a prefix of the same images; rows past its n_train are padding.
    ens_data = EnsembleData(x.expand(e, -1, -1).contiguous(), y.expand(e, -1).contiguous(),
                            torch.tensor([r.n_train for r in runs]),
                            torch.from_numpy(mnist.pixels(data.test_images)),
                            torch.from_numpy(data.test_labels), 10).to(device)
    r0 = runs[0]
    model = EnsembleMLP(784, 10, replace(r0.model, alpha=1.0), seeds)
    with torch.no_grad():
        alpha = torch.tensor([r.model.alpha for r in runs])
        for p in model.parameters():  # alpha x a fresh init, member by member
            p.mul_(alpha.reshape(-1, *([1] * (p.ndim - 1))))
    model.to(device)
    augment = (mnist.Augment([r.augment for r in runs], seeds)
               if any(r.augment > 0 for r in runs) else None)
    hist = train_ensemble(model, ens_data, r0.train, seeds=seeds,
                          lr=torch.tensor([r.train.lr for r in runs]),
                          weight_decay=torch.tensor([r.train.weight_decay for r in runs]),
                          transform=augment, fused=True)
    return [hist.member(i) for i in range(e)]


def chunk_cost(runs: list[MnistRun]) -> float:
    """Relative cost of training ``runs`` as one ensemble: steps x rows per step x members, an
    augmented member counting 1.5 (rotating and blurring its minibatch costs about half a
    step on a CPU core, measured). Table 3's batch-1024 row costs ~5x the others: started
    last, it would run alone while the other cores idle."""
    r0 = runs[0]
    n_train = max(r.n_train for r in runs)
    rows = n_train if r0.train.batch_size is None else min(r0.train.batch_size, n_train)
    return r0.train.steps * rows * sum(1.5 if r.augment > 0 else 1.0 for r in runs)


#: Accuracy both curves must reach for the phase rule. Liu et al.'s toy-model rule uses 90%, but
#: with 1,000 training images this MLP's test accuracy peaks near 0.88 on our test pool (about
#: 0.89 in the Omnigrok run), so at 90% no run could comprehend or grok; we use 80%.
THRESHOLD = 0.8


#: Members per ensemble chunk (see grokpaper.core.sweep).
MAX_MEMBERS = 64
#: The largest MNIST test pool (the official t10k split): memory estimates assume it.
TEST_POOL = 10_000


def mlp_memory(*, members: int, n_train: int, hidden: tuple[int, ...], batch: int | None,
               max_members: int = MAX_MEMBERS, n_test: int = TEST_POOL) -> Estimate:
    """Peak memory of an MNIST MLP ensemble (:func:`grokpaper.core.memory.mlp`)."""
    return mem.mlp(members=min(members, max_members), n_in=28 * 28, hidden=hidden, n_out=10,
                   n_train=n_train, n_test=n_test, batch=batch)


def ensemble_memory(runs: list[MnistRun], members: int, n_test: int = TEST_POOL) -> Estimate:
    """Peak memory of an ensemble of ``members`` runs like ``runs`` (one
    :func:`ensemble_key`) against ``n_test`` test images."""
    r0 = runs[0]
    return mlp_memory(members=members, n_train=max(r.n_train for r in runs),
                      hidden=r0.model.hidden, batch=r0.train.batch_size, n_test=n_test,
                      max_members=members)


def pool_rule(n_train: int, train_labels: np.ndarray) -> None:
    """Raise unless ``n_train`` images fit in the training pool found."""
    if n_train > len(train_labels):
        raise ValueError(f"n_train={n_train} exceeds the training pool of "
                         f"{len(train_labels):,} images found; lower n_train (the official "
                         f"training files give 60,000)")


def run(runs: list[MnistRun], data: mnist.MnistData, *, store: Store | None = None,
        device: str | None = None, max_members: int = MAX_MEMBERS,
        progress: bool | None = None, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Train (or load) ``runs``; one row per run with curves, the first steps at which train and
    test accuracy reach ``threshold``, the Liu phase and the Definition 3.1 numbers."""
    if any(r.data != data.fingerprint for r in runs):
        raise ValueError("every run must name the loaded data's fingerprint")
    n_test = len(data.test_labels)
    store = store or Store()

    def cached(part: list[MnistRun]) -> list:
        # A partial, not a closure: it pickles, so chunks can train in worker processes.
        return sweep.run_cached(KIND, part, partial(train_runs, data=data),
                                group_key=ensemble_key, seed_of=lambda r: r.seed, store=store,
                                device=device, max_members=max_members,
                                memory=lambda rs, m: ensemble_memory(rs, m, n_test),
                                progress=progress, cost=chunk_cost)

    # run_cached retrains a whole ensemble chunk when one member is missing; runs another page
    # stored (Table 3's baseline row is the Omnigrok page's seed 0) are loaded instead, and only
    # the others train. A member equals the same run trained alone (tests/test_mnist.py).
    stored = [store.has(KIND, config_key(KIND, r)) for r in runs]
    results: list = [None] * len(runs)
    for flag in (True, False):
        idx = [i for i, s in enumerate(stored) if s == flag]
        for i, res in zip(idx, cached([runs[i] for i in idx]) if idx else [], strict=True):
            results[i] = res
    rows = []
    for r, res in zip(runs, results, strict=True):
        a = res.arrays
        diverged = int(a["diverged_step"]) >= 0
        # A diverged member keeps its last finite weights; NaN curves mean "never reached".
        tr, te = np.nan_to_num(a["train_acc"]), np.nan_to_num(a["test_acc"])
        t_train = first_crossing(a["steps"], tr, threshold)
        t_test = first_crossing(a["steps"], te, threshold)
        stats = definition31(a["steps"], tr, te)
        rows.append({
            "n_train": r.n_train, "augment": r.augment, "alpha": r.model.alpha,
            "lr": r.train.lr, "weight_decay": r.train.weight_decay, "loss": r.train.loss,
            "optimizer": r.train.optimizer, "batch_size": r.train.batch_size,
            "steps_budget": r.train.steps, "seed": r.seed, **a,
            "t_train": t_train, "t_test": t_test, "diverged": diverged,
            "phase": phases.DIVERGED if diverged else phases.phase(
                t_train, t_test, budget=r.train.steps + 1),
            **{f"def31_{k}": v for k, v in stats.as_dict().items()},
            "provenance": res.meta["provenance"]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class OmnigrokCurves:
    """Liu et al. Fig. 8 left / Omnigrok's MNIST run: one setting over seeds."""

    seeds: int = 3  # the Omnigrok notebook runs one seed; three give a band
    n_train: int = 1000
    hidden: tuple[int, ...] = (200, 200)
    alpha: float = 8.0
    lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 200
    steps: int = 100_000
    n_evals: int = 100
    #: Ranges of the number fields (grokpaper.core.params); rules() has the cross-field ones.
    RANGES: ClassVar[dict[str, Range]] = {
        "seeds": P.SEEDS, "n_train": P.SAMPLES, "hidden": P.WIDTH, "alpha": P.SCALE,
        "lr": P.LR, "weight_decay": P.WEIGHT_DECAY, "batch_size": P.BATCH, "steps": P.STEPS,
        "n_evals": P.N_EVALS}

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        batch_rule(self.batch_size, self.n_train)

    def check_data(self, train_labels: np.ndarray) -> None:
        pool_rule(self.n_train, train_labels)

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory)."""
        return mlp_memory(members=self.seeds, n_train=self.n_train, hidden=self.hidden,
                          batch=self.batch_size, max_members=max_members)

    def runs(self, data: mnist.MnistData) -> list[MnistRun]:
        if not isinstance(self.seeds, int) or self.seeds <= 0:
            raise ValueError(f"seeds must be a positive integer, got {self.seeds!r}")
        model = MLPConfig(hidden=tuple(self.hidden), alpha=self.alpha)
        train = replace(OMNIGROK_TRAIN, steps=self.steps, lr=self.lr,
                        weight_decay=self.weight_decay, batch_size=self.batch_size,
                        n_evals=self.n_evals)
        return [MnistRun(data.fingerprint, self.n_train, 0.0, model, train, seed=s)
                for s in range(self.seeds)]


@dataclass(frozen=True)
class PhaseGrid:
    """Liu et al. Fig. 8 right: learning rate x weight decay, one ensemble per seed set.

    The paper's grid is not in its text; the Omnigrok authors' lr x wd sweep config spans
    weight decay 1e-5..1e2 (20 log-spaced values). We use decades of both axes around the
    Omnigrok point (lr 1e-3, wd 1e-2).
    """

    lrs: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
    weight_decays: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
    seeds: int = 1
    n_train: int = 1000
    hidden: tuple[int, ...] = (200, 200)
    alpha: float = 8.0
    batch_size: int = 200
    steps: int = 100_000
    # Evenly spaced evaluations (the Omnigrok code logs every steps / 150): the phase rule
    # compares crossing steps with a 1,000-step gap, which log spacing resolves too coarsely.
    n_evals: int = 200
    RANGES: ClassVar[dict[str, Range]] = {
        "lrs": P.LR, "weight_decays": P.WEIGHT_DECAY, "seeds": P.SEEDS, "n_train": P.SAMPLES,
        "hidden": P.WIDTH, "alpha": P.SCALE, "batch_size": P.BATCH, "steps": P.STEPS,
        "n_evals": P.N_EVALS}

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        batch_rule(self.batch_size, self.n_train)

    def check_data(self, train_labels: np.ndarray) -> None:
        pool_rule(self.n_train, train_labels)

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory)."""
        return mlp_memory(members=len(self.lrs) * len(self.weight_decays) * self.seeds,
                          n_train=self.n_train, hidden=self.hidden, batch=self.batch_size,
                          max_members=max_members)

    def runs(self, data: mnist.MnistData) -> list[MnistRun]:
        if not self.lrs or not self.weight_decays:
            raise ValueError("lrs and weight_decays must each name at least one value")
        base = OmnigrokCurves(seeds=self.seeds, n_train=self.n_train, hidden=self.hidden,
                              alpha=self.alpha, batch_size=self.batch_size, steps=self.steps,
                              n_evals=self.n_evals).runs(data)
        return [replace(r, train=replace(r.train, lr=float(lr), weight_decay=float(wd),
                                         eval_spacing="linear"))
                for lr in self.lrs for wd in self.weight_decays for r in base]


def batch_rule(batch_size: int, n_train: int) -> None:
    """One minibatch fits in the training set."""
    if batch_size > n_train:
        raise ValueError(f"batch_size={batch_size} exceeds n_train={n_train}; lower batch_size")


#: Li & Sakib Table 3, one row per change from the Omnigrok setup:
#: (row, the change, their "Grokking?", their comment).
TABLE3: tuple[tuple[str, dict, bool, str], ...] = (
    ("1K (original)", {}, True, "Original Method"),
    ("2K samples", {"n_train": 2000}, True, "Exactly Same"),
    ("3K samples", {"n_train": 3000}, True, "Grokking Faster, Train slower"),
    ("4K samples", {"n_train": 4000}, True, "Grokking Faster, Train slower"),
    ("5K samples", {"n_train": 5000}, False, "Normal Results"),
    ("augmentation 0.1", {"augment": 0.1}, True, "Exactly Same"),
    ("augmentation 0.2", {"augment": 0.2}, False, "Test acc little slower"),
    ("augmentation 0.3", {"augment": 0.3}, False, "Normal Results"),
    ("augmentation 1.0", {"augment": 1.0}, False, "Normal Results"),
    ("cross-entropy", {"loss": "ce"}, False, "Learn fast!"),
    ("Adam", {"optimizer": "adam"}, True, "Lower Acc"),
    ("SGD", {"optimizer": "sgd"}, True, "Slower"),
    ("batch 32", {"batch_size": 32}, True, "Exactly Same"),
    ("batch 128", {"batch_size": 128}, True, "Exactly Same"),
    ("batch 1024", {"batch_size": 1024}, True, "Exactly Same"),
    ("no weight decay", {"weight_decay": 0.0}, True, "A little slower"),
    ("init scale 0.1", {"alpha": 0.1}, False, "Normal Results"),
)
_TRAIN_FIELDS = ("loss", "optimizer", "batch_size", "weight_decay")


@dataclass(frozen=True)
class LiSakibTable:
    """Li & Sakib Table 3: the Omnigrok setup with one change per row."""

    #: Allowed values of the string fields (read by ``grokpaper run``'s pre-flight checks).
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"rows": tuple(r[0] for r in TABLE3)}
    rows: tuple[str, ...] = tuple(r[0] for r in TABLE3)
    seeds: int = 1  # the report shows one run per row
    hidden: tuple[int, ...] = (200, 200)
    steps: int = 100_000  # the Omnigrok budget (the report does not give its own)
    n_evals: int = 60
    RANGES: ClassVar[dict[str, Range]] = {
        "seeds": P.SEEDS, "hidden": P.WIDTH, "steps": P.STEPS, "n_evals": P.N_EVALS}

    def __post_init__(self) -> None:
        P.check(self)

    def changes(self) -> list[dict]:
        """The change of each chosen row from the Omnigrok setup."""
        known = {r[0]: r[1] for r in TABLE3}
        return [known[name] for name in self.rows if name in known]

    def check_data(self, train_labels: np.ndarray) -> None:
        pool_rule(max(c.get("n_train", 1000) for c in self.changes()), train_labels)

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory): every row's largest
        training set and batch, as if all rows shared one ensemble (an upper bound)."""
        changes = self.changes() or [{}]
        return mlp_memory(members=len(changes) * self.seeds,
                          n_train=max(c.get("n_train", 1000) for c in changes),
                          hidden=self.hidden,
                          batch=max(c.get("batch_size", 200) for c in changes),
                          max_members=max_members)

    def runs(self, data: mnist.MnistData) -> tuple[list[MnistRun], list[str]]:
        """Every member and its row name, in the same order."""
        known = {r[0]: r[1] for r in TABLE3}
        unknown = sorted(set(self.rows) - set(known))
        if unknown:
            raise ValueError(f"unknown row(s) {unknown}; allowed: {list(known)}")
        base = OmnigrokCurves(seeds=self.seeds, hidden=self.hidden, steps=self.steps,
                              n_evals=self.n_evals).runs(data)
        runs, names = [], []
        for name in self.rows:
            change = known[name]
            train = {k: v for k, v in change.items() if k in _TRAIN_FIELDS}
            for r in base:
                new = replace(r, n_train=change.get("n_train", r.n_train),
                              augment=change.get("augment", r.augment),
                              model=replace(r.model, alpha=change.get("alpha", r.model.alpha)),
                              train=replace(r.train, **train))
                runs.append(new)
                names.append(name)
        return runs, names
