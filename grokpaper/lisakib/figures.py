"""Parameters of each Li & Sakib figure/table: frozen dataclasses whose defaults are the report's
values (or its code's), with a ``runs()`` method listing every run of the figure.

Profiles (``grokpaper/lisakib/profiles.py``) scale them down for ``smoke`` and ``quick``.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from typing import ClassVar

from grokpaper.core import params as P
from grokpaper.core.memory import Estimate
from grokpaper.core.params import Range
from grokpaper.lisakib import experiments
from grokpaper.lisakib.data import OPERATIONS
from grokpaper.lisakib.experiments import PAPER_TRAIN, ModRun
from grokpaper.lisakib.transformer import ModularTransformerConfig


@dataclass(frozen=True)
class Base:
    """Settings every figure shares; defaults are the report's and its code's."""

    #: Allowed values of the string fields (read by ``grokpaper run``'s pre-flight checks).
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"op": OPERATIONS}
    #: Ranges of the number fields (grokpaper.core.params); rules() has the cross-field ones.
    RANGES: ClassVar[dict[str, Range]] = {
        "p": P.PRIME, "train_frac": P.OPEN_FRACTION, "d_model": P.WIDTH, "steps": P.STEPS,
        "batch_size": P.BATCH, "lr": P.LR, "weight_decay": P.WEIGHT_DECAY,
        "init_scale": P.SCALE, "noise": P.NOISE, "n_evals": P.N_EVALS, "seeds": P.SEEDS}
    op: str = "/"  # "We trained the transformers on a division dataset" (Sec. 3.1)
    p: int = 97  # the forked code's default prime
    train_frac: float = 0.3  # "training/validation ratio to be 30/70" (Sec. 3.1)
    d_model: int = 128  # "The dimension of the embeddings is 128" (Sec. 3); d_ff = 4 d_model
    steps: int = 10_000  # "demonstrates the grokking delay within 10,000 training steps"
    batch_size: int | None = 512  # the forked code's default
    lr: float = 1e-3  # the forked code's default
    weight_decay: float = 1.0  # the forked code's default
    init_scale: float = 1.0
    noise: float = 0.0
    n_evals: int = 201  # linearly spaced evaluations (every 50 steps in the paper profile)
    seeds: int = 1

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        """Cross-field rules: every split keeps a training and a validation pair, and the
        four heads divide d_model."""
        for p in self.primes():
            for frac in self.fracs():
                n_train = round(frac * p * p)
                if not 0 < n_train < p * p:
                    raise ValueError(f"train_frac={frac} of the {p * p} pairs of p={p} leaves "
                                     f"no training or no validation pair")
        heads = ModularTransformerConfig().n_heads
        if self.d_model % heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by the {heads} heads")

    def primes(self) -> tuple[int, ...]:
        """The moduli this figure trains on."""
        return (self.p,)

    def fracs(self) -> tuple[float, ...]:
        """The training fractions this figure trains on."""
        return (self.train_frac,)

    def memory(self, max_members: int = experiments.MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble this figure trains (grokpaper.core.memory)."""
        return experiments.memory(self.runs(), max_members=max_members)

    def run(self, **changes: object) -> ModRun:
        """One run with this figure's settings, ``changes`` applied (lr/weight_decay/batch_size/
        steps go to the training config, the rest to the run)."""
        train_keys = {"lr", "weight_decay", "batch_size", "steps"}
        tc = {k: v for k, v in changes.items() if k in train_keys}
        rest = {k: v for k, v in changes.items() if k not in train_keys}
        train = replace(PAPER_TRAIN, steps=tc.get("steps", self.steps),
                        batch_size=tc.get("batch_size", self.batch_size),
                        lr=float(tc.get("lr", self.lr)),
                        weight_decay=float(tc.get("weight_decay", self.weight_decay)),
                        n_evals=self.n_evals)
        model = ModularTransformerConfig(d_model=self.d_model, d_ff=4 * self.d_model)
        base = {"op": self.op, "p": self.p, "train_frac": self.train_frac,
                "init_scale": float(self.init_scale), "noise": float(self.noise)}
        return ModRun(model=model, train=train, **{**base, **rest})


@dataclass(frozen=True)
class CurvesParams(Base):
    """Figs. 2, 11, 12: learning curves of each operation."""

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {**Base.CHOICES, "ops": OPERATIONS}
    ops: tuple[str, ...] = ("+", "-", "*", "/")  # "We have conducted experiments across all"

    def runs(self) -> list[ModRun]:
        return [self.run(op=op, seed=s) for op in self.ops for s in range(self.seeds)]


@dataclass(frozen=True)
class SweepParams(Base):
    """Table 1 and Fig. 3: a hyperparameter sweep on division; ``sample`` runs drawn from the
    grid without replacement (None: the whole grid)."""

    batch_sizes: tuple[int, ...] = (8, 16, 32, 128, 512, 1024)  # Table 1
    noises: tuple[float, ...] = (0.0, 0.01, 0.1, 1.0, 10.0)  # Table 1
    init_scales: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)  # Table 1
    lrs: tuple[float, ...] = (1e-4, 1e-3, 1e-2)  # Table 1
    weight_decays: tuple[float, ...] = (0.01, 0.1, 1.0)  # Table 1
    sample: int | None = None  # the report ran 3600 runs in all; the grid has 1350 points
    sample_seed: int = 0
    RANGES: ClassVar[dict[str, Range]] = {
        **Base.RANGES, "batch_sizes": P.BATCH, "noises": P.NOISE, "init_scales": P.SCALE,
        "lrs": P.LR, "weight_decays": P.WEIGHT_DECAY, "sample": P.SAMPLES, "sample_seed": P.SEED}

    def runs(self) -> list[ModRun]:
        grid = list(itertools.product(self.batch_sizes, self.noises, self.init_scales,
                                      self.lrs, self.weight_decays, range(self.seeds)))
        if self.sample is not None and self.sample < len(grid):
            grid = random.Random(self.sample_seed).sample(grid, self.sample)
        return [self.run(batch_size=b, noise=n, init_scale=i, lr=lr, weight_decay=wd, seed=s)
                for b, n, i, lr, wd, s in sorted(grid)]


@dataclass(frozen=True)
class BatchGridParams(Base):
    """Table 2 and Fig. 4: batch size x training-set size (set by the prime p), each cell over
    a few learning rates, weight decays and seeds."""

    ps: tuple[int, ...] = (47, 97, 197, 293, 563, 997)  # Table 2: 0.3 p (p - 1) = 0.6K...298K
    batch_sizes: tuple[int, ...] = (8, 16, 32, 128, 512, 1024)  # as Table 1
    lrs: tuple[float, ...] = (1e-3,)  # not given per cell
    weight_decays: tuple[float, ...] = (0.1, 1.0)  # not given per cell
    RANGES: ClassVar[dict[str, Range]] = {
        **Base.RANGES, "ps": P.PRIME, "batch_sizes": P.BATCH, "lrs": P.LR,
        "weight_decays": P.WEIGHT_DECAY}

    def primes(self) -> tuple[int, ...]:
        return tuple(self.ps)

    def runs(self) -> list[ModRun]:
        return [self.run(p=p, batch_size=b, lr=lr, weight_decay=wd, seed=s)
                for p, b, lr, wd, s in itertools.product(
                    self.ps, self.batch_sizes, self.lrs, self.weight_decays, range(self.seeds))]


@dataclass(frozen=True)
class LandscapeParams(Base):
    """Fig. 5: landscapes around the final weights of runs that do and do not grok (runs
    spread over operations and batch sizes; each is classified after training)."""

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        **Base.CHOICES, "ops": OPERATIONS, "on": ("train", "val")}
    ops: tuple[str, ...] = ("/",)  # the report's landscapes are of division runs
    batch_sizes: tuple[int, ...] = (8, 32, 512)  # small batches comprehend, large ones grok
    seeds: int = 2
    resolution: int = 21  # grid points per axis (not given)
    extent: float = 1.0  # filter normalization: [-1, 1] as Li et al. 2018
    # Tensor normalization moves small tensors (biases) by far more than their own norm, so
    # the loss leaves its basin within ~0.1: a narrower window (not given in the report).
    tensor_extent: float = 0.2
    direction_seed: int = 0
    on: str = "train"  # which set the landscape loss is computed on ("train" or "val")
    RANGES: ClassVar[dict[str, Range]] = {
        **Base.RANGES, "batch_sizes": P.BATCH, "resolution": P.RESOLUTION, "extent": P.SCALE,
        "tensor_extent": P.SCALE, "direction_seed": P.SEED}

    def runs(self) -> list[ModRun]:
        return [self.run(op=op, batch_size=b, seed=s, save_weights=True)
                for op in self.ops for b in self.batch_sizes for s in range(self.seeds)]


@dataclass(frozen=True)
class NormParams(Base):
    """Figs. 6-8: Q/K/V norms for several training fractions (Fig. 6) and weight decays below
    (Fig. 7) and above (Fig. 8) one."""

    train_fracs: tuple[float, ...] = (0.3, 0.5, 0.7)  # "different training/validation ratios"
    small_wds: tuple[float, ...] = (0.1, 0.3, 0.5, 1.0)  # "weight decay smaller than 1"
    large_wds: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # "larger than 1"; 2 halves the delay
    RANGES: ClassVar[dict[str, Range]] = {
        **Base.RANGES, "train_fracs": P.OPEN_FRACTION, "small_wds": P.WEIGHT_DECAY,
        "large_wds": P.WEIGHT_DECAY}

    def fracs(self) -> tuple[float, ...]:
        return (self.train_frac, *self.train_fracs)

    def runs(self) -> list[ModRun]:
        fracs = [self.run(train_frac=f, seed=s) for f in self.train_fracs
                 for s in range(self.seeds)]
        wds = sorted(set(self.small_wds) | set(self.large_wds))
        decays = [self.run(weight_decay=wd, seed=s) for wd in wds for s in range(self.seeds)]
        return list(dict.fromkeys(fracs + decays))  # the default run is in both lists

