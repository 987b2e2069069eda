"""Carvalho et al. synthetic-data runs: one config per ensemble member, trained as ensembles.

The architecture is part of every run's config (:class:`MLPConfig` or
:class:`TokenTransformerConfig`), so the MLP figures and the transformer appendix share one
sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from grokpaper.carvalho import data as syn
from grokpaper.carvalho import transformer as token_transformer
from grokpaper.carvalho.transformer import TokenTransformerConfig
from grokpaper.core import memory, sweep
from grokpaper.core import params as P
from grokpaper.core.memory import Estimate
from grokpaper.core.metrics import NOT_CONVERGED, definition31
from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.params import Range
from grokpaper.core.sparsity import weight_sparsity
from grokpaper.core.store import Store, config_key
from grokpaper.core.train import LOSSES, OPTIMIZERS, EnsembleData, TrainConfig, train_ensemble

# "-2": runs record the weight-sparsity probe (extra_l1_l2, extra_small_frac); results stored
# before it lack those curves, so every run trains once more under the new kind.
# "-3": runs train with torch's fused Adam/AdamW kernel on a CPU (grokpaper/core/optim.py: the
# same update, rounded differently, 12-34% less time a step: BENCHMARKS.md); runs stored
# under the earlier arithmetic are not mixed in.
# "-4": CPU training flushes denormals (grokpaper.core.threads.flush_denormals says why).
KIND = "carvalho-synthetic-4"
# "a Multi-layer Perceptron (MLP) and a 2-layer Transformer" (Sec. 5.1)
MODELS = ("mlp", "transformer")
ModelConfig = MLPConfig | TokenTransformerConfig


@dataclass(frozen=True)
class SyntheticDataConfig:
    """One training set drawn from a Carvalho et al. synthetic dataset."""

    dataset: str = "equidistant"  # "equidistant" (dataset 1) or "equivariant" (dataset 2)
    # "if gamma_D = 2000, f = 0.2 and we want to subsample one subclass per class" (Sec. 4)
    n_train: int = 2000
    f: float = 0.2
    n_subsampled_per_class: int = 1
    n_test: int = 10_000  # "we use a test set consisting of 10,000 samples" (Sec. 4)
    noise: float = 0.25  # mean per-dim std of each block; not given by the paper
    geometry_seed: int = 0  # draws the 18 block means and 9 covariances (one dataset)
    test_seed: int = 1  # draws the fixed test set, the same for every f

    def __post_init__(self) -> None:
        syn.layout(self.dataset)  # rejects an unknown dataset name
        syn.subsample_counts(self.n_train, self.f, syn.subsampled_mask(
            syn.layout(self.dataset), self.n_subsampled_per_class))
        if not isinstance(self.n_test, int) or self.n_test <= 0:
            raise ValueError(f"n_test must be a positive integer, got {self.n_test!r}")


@dataclass(frozen=True)
class SyntheticRun:
    """Everything that determines one member's result; its hash is the store key."""

    data: SyntheticDataConfig = field(default_factory=SyntheticDataConfig)
    model: ModelConfig = field(default_factory=MLPConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # training sample, initialization and minibatch order


def model_name(config: ModelConfig) -> str:
    """``"mlp"`` or ``"transformer"``: the entry of ``MODELS`` that ``config`` configures."""
    if isinstance(config, MLPConfig):
        return "mlp"
    if isinstance(config, TokenTransformerConfig):
        return "transformer"
    raise TypeError(f"unknown model config {type(config).__name__}")


def build_ensemble(config: ModelConfig, n_classes: int, seeds: list[int]) -> nn.Module:
    """The ensemble for ``config``: hand-batched MLPs, or vmapped token transformers."""
    if model_name(config) == "mlp":
        return EnsembleMLP(syn.N_FEATURES, n_classes, config, seeds)
    if config.n_features != syn.N_FEATURES:
        raise ValueError(f"the transformer reads {config.n_features} features, the synthetic "
                         f"data has {syn.N_FEATURES}")
    return token_transformer.ensemble(config, n_classes, seeds)


def training_set(run: SyntheticRun, base: syn.BaseDistributions
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x, y, subclass)`` of ``run``'s training set (drawn from its seed)."""
    d = run.data
    return syn.make_split(dataset=d.dataset, n_samples=d.n_train, f=d.f,
                          n_subsampled_per_class=d.n_subsampled_per_class, base=base,
                          random_state=run.seed)


def eval_set(data: SyntheticDataConfig, base: syn.BaseDistributions
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x, y, subclass)`` of the fixed balanced test set shared by every f and size."""
    return syn.make_test_set(dataset=data.dataset, n_samples=data.n_test, base=base,
                             random_state=data.test_seed)


def base_distributions(data: SyntheticDataConfig) -> syn.BaseDistributions:
    """The dataset's block means and covariances (one per geometry seed and noise level)."""
    return syn.make_base_distributions(noise=data.noise, random_state=data.geometry_seed)


def ensemble_key(run: SyntheticRun) -> tuple:
    """Runs with equal keys train as one ensemble."""
    d = run.data
    # Members share the test set, the architecture and the optimizer settings.
    return (d.dataset, d.noise, d.geometry_seed, d.test_seed, d.n_test, run.model, run.train)


def ensemble_memory(runs: list[SyntheticRun], members: int) -> Estimate:
    """Peak memory of an ensemble of ``members`` runs like ``runs`` (one
    :func:`ensemble_key`; grokpaper.core.memory): every member pads to the largest set."""
    r0 = runs[0]
    n_out = syn.layout(r0.data.dataset).n_classes
    common = dict(members=members, n_train=max(r.data.n_train for r in runs),
                  n_test=r0.data.n_test, batch=r0.train.batch_size)
    if isinstance(r0.model, MLPConfig):
        return memory.mlp(n_in=syn.N_FEATURES, hidden=r0.model.hidden, n_out=n_out, **common)
    cfg = r0.model
    return memory.transformer(
        seq=cfg.n_tokens, d_model=cfg.d_model, d_ff=cfg.d_ff, n_heads=cfg.n_heads,
        n_layers=cfg.n_layers, n_out=n_out, head_in=cfg.d_model,
        embed_params=(cfg.token_dim + 1 + cfg.n_tokens) * cfg.d_model,
        row_bytes=syn.N_FEATURES * memory.FLOAT, **common)


def train_runs(runs: list[SyntheticRun], device: str) -> list[dict[str, np.ndarray]]:
    """Train ``runs`` (one group of :func:`run`) as one ensemble; the arrays of each run."""
    d0 = runs[0].data
    base = base_distributions(d0)
    lay = syn.layout(d0.dataset)
    xs, ys, ns = [], [], []
    for r in runs:
        x, y, _ = training_set(r, base)
        xs.append(x)
        ys.append(y)
        ns.append(len(y))
    n_max = max(ns)
    x_tr = torch.zeros(len(runs), n_max, syn.N_FEATURES)
    y_tr = torch.zeros(len(runs), n_max, dtype=torch.long)
    for e, (x, y) in enumerate(zip(xs, ys, strict=True)):
        x_tr[e, : len(y)], y_tr[e, : len(y)] = x, y
    x_te, y_te, sub_te = eval_set(d0, base)
    # Test accuracy is also tracked on the subsampled subclasses (group 1) vs the rest (group 0).
    marked = torch.tensor(syn.subsampled_mask(lay, runs[0].data.n_subsampled_per_class))
    data = EnsembleData(x_tr, y_tr, torch.tensor(ns), x_te, y_te, lay.n_classes,
                        test_groups=marked[sub_te].long()).to(device)
    seeds = [r.seed for r in runs]
    model = build_ensemble(runs[0].model, lay.n_classes, seeds).to(device)
    # Weight sparsity at every evaluation: Sec. 5.2's mechanism (grokpaper.carvalho.mechanism).
    hist = train_ensemble(model, data, runs[0].train, seeds=seeds, probe=weight_sparsity,
                          fused=True)
    return [hist.member(e) for e in range(len(runs))]


#: Members per ensemble chunk (see grokpaper.core.sweep).
MAX_MEMBERS = 64


def run(runs: list[SyntheticRun], *, store: Store | None = None, device: str | None = None,
        max_members: int = MAX_MEMBERS, progress: bool | None = None) -> pd.DataFrame:
    """Train (or load) ``runs``; one row per run, in the order of ``runs``, with its curves and
    Definition 3.1 numbers: ``def31_*`` on the whole test set, ``sub31_*`` on the subsampled
    subclasses alone."""
    if any(r.data.n_subsampled_per_class != runs[0].data.n_subsampled_per_class for r in runs):
        # The per-group test accuracy needs one subsampling pattern per ensemble.
        positions: dict[int | None, list[int]] = {}
        for i, r in enumerate(runs):
            positions.setdefault(r.data.n_subsampled_per_class, []).append(i)
        parts = [run([runs[i] for i in at], store=store, device=device,
                     max_members=max_members, progress=progress).set_axis(at)
                 for at in positions.values()]
        return pd.concat(parts).sort_index().reset_index(drop=True)
    results = sweep.run_cached(KIND, runs, train_runs, group_key=ensemble_key,
                               seed_of=lambda r: r.seed, store=store, device=device,
                               max_members=max_members, memory=ensemble_memory,
                               progress=progress)
    rows = []
    for r, res in zip(runs, results, strict=True):
        a = res.arrays
        stats = definition31(a["steps"], a["train_acc"], a["test_acc"])
        group = a["test_group_acc"]
        # test accuracy on the subsampled subclasses alone (NaN if there are none)
        sub = group[:, 1] if group.shape[1] > 1 else np.full(len(a["steps"]), np.nan)
        # Definition 3.1 on the subsampled subclasses alone (Fig. 4's f = 0 claim is about them)
        sub_stats = (definition31(a["steps"], a["train_acc"], sub) if np.isfinite(sub).all()
                     else NOT_CONVERGED)
        rows.append({"model": model_name(r.model), "dataset": r.data.dataset,
                     "n_train": r.data.n_train, "f": r.data.f, "seed": r.seed,
                     **{k: a[k] for k in a}, "test_acc_subsampled": sub,
                     **{f"def31_{k}": v for k, v in stats.as_dict().items()},
                     **{f"sub31_{k}": v for k, v in sub_stats.as_dict().items()},
                     "wall_time_s": res.meta["provenance"]["wall_time_s"],
                     "provenance": res.meta["provenance"]})
    return pd.DataFrame(rows)


def run_reusing(runs: list[SyntheticRun], *, store: Store | None = None,
                **kwargs: Any) -> pd.DataFrame:
    """Like :func:`run`, but runs already stored (e.g. trained by another page with the same
    settings) are loaded, and only the others train, as ensembles of their own.

    :func:`run` trains whole ensemble chunks, so a grid that overlaps other pages' runs would
    retrain them; an ensemble member equals the same run trained alone (see the tests), so
    splitting changes nothing but the cost. Rows: the stored runs first, then the new ones.
    """
    store = store or Store()
    stored = [store.has(KIND, config_key(KIND, r)) for r in runs]
    parts = [run([r for r, s in zip(runs, stored, strict=True) if s == flag], store=store,
                 **kwargs) for flag in (True, False) if flag in stored]
    return pd.concat(parts, ignore_index=True)


def grid(*, datasets: tuple[str, ...] = ("equidistant",), sizes: tuple[int, ...] = (2000,),
         fs: tuple[float, ...] = (0.2,), seeds: int = 10, data: SyntheticDataConfig | None = None,
         model: ModelConfig | None = None, train: TrainConfig | None = None
         ) -> list[SyntheticRun]:
    """All runs of a dataset x size x f x seed grid (seeds 0..seeds-1, shared across cells)."""
    if not isinstance(seeds, int) or seeds <= 0:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    d = data or SyntheticDataConfig()
    return [SyntheticRun(replace(d, dataset=ds, n_train=n, f=float(f)), model or MLPConfig(),
                         train or TrainConfig(), seed=s)
            for ds in datasets for n in sizes for f in fs for s in range(seeds)]


@dataclass(frozen=True)
class ShiftSweep:
    """Parameters of one Carvalho et al. figure: a size x f grid of runs over seeds.

    Defaults are the paper's values where it gives them, and Fig. 3b's design otherwise; the
    other figures change ``dataset``, ``sizes``, ``fs`` (see ``grokpaper.core.profiles``). Every
    choice the paper leaves open is argued in :mod:`grokpaper.carvalho.design`.
    """

    #: Allowed values of the string fields (read by ``grokpaper run``'s pre-flight checks).
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "dataset": syn.DATASETS, "model": ("mlp", "transformer"), "optimizer": OPTIMIZERS,
        "loss": LOSSES}
    #: Ranges of the number fields (grokpaper.core.params); rules() has the cross-field ones.
    RANGES: ClassVar[dict[str, Range]] = {
        "sizes": P.SAMPLES, "fs": P.FRACTION, "seeds": P.SEEDS, "n_test": P.SAMPLES,
        "n_subsampled_per_class": P.COUNT, "noise": P.SCALE, "hidden": P.WIDTH,
        "d_model": P.WIDTH, "n_heads": P.LAYERS, "n_layers": P.LAYERS, "alpha": P.SCALE,
        "lr": P.LR, "weight_decay": P.WEIGHT_DECAY, "batch_size": P.BATCH, "steps": P.STEPS,
        "n_evals": P.N_EVALS}
    dataset: str = "equidistant"
    # Fig. 3b: gamma_D = 2000 of the Sec. 4 worked example, and a smaller set.
    sizes: tuple[int, ...] = (500, 2000)
    # Fig. 3b's f = 0 and f = 0.2, the text's 0.01, Fig. 3c's 0.05; f = 1 is the reference.
    fs: tuple[float, ...] = (0.0, 0.01, 0.05, 0.2, 1.0)
    seeds: int = 10  # "aggregated from 10 independent runs" (Sec. 5)
    # Subsampled subclasses per class; None: half of them (1 of 2 equidistant, 5 of 10
    # equivariant). "subsample one subclass per class" (Sec. 4, equidistant example).
    n_subsampled_per_class: int | None = None
    n_test: int = 10_000  # "a test set consisting of 10,000 samples" (Sec. 4)
    noise: float = 0.25  # not given; see SyntheticDataConfig.noise
    model: str = "mlp"  # "mlp" or "transformer" (Sec. 5.1, App. A)
    hidden: tuple[int, ...] = (200, 200)  # MLP only; not given
    d_model: int = 64  # transformer only; not given
    n_heads: int = 4  # transformer only; not given
    n_layers: int = 2  # transformer only: "a 2-layer Transformer" (Sec. 5.1)
    alpha: float = 8.0  # "an initialization scale factor of 8" (Sec. 5.1), both models
    lr: float = 1e-3  # "learning rate of the models to 10^-3" (Sec. 5.1)
    weight_decay: float = 1e-4  # "the weight decay to 10^-4" (Sec. 5.1)
    optimizer: str = "adam"  # not given; see the chapter for why Adam with L2
    loss: str = "ce"  # not given
    # The authors' thesis: 200, and 100 for 100 samples. One ensemble shares one minibatch
    # size, at most its smallest training set; 100 everywhere keeps the figures comparable.
    batch_size: int | None = 100
    # Not given. Test accuracy jumps at ~5-14k steps; Definition 3.1's support clause
    # (S >= 2 (alpha1 - alpha0)) then needs the run to last to alpha1 + 2 (alpha1 - alpha0).
    steps: int = 50_000
    n_evals: int = 60

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        """Cross-field rules: subsampled subclasses within the dataset's, Eq. (1) possible at
        every f, one minibatch size for every training-set size, heads dividing d_model."""
        mask = syn.subsampled_mask(syn.layout(self.dataset), self.subsampled_per_class())
        if all(mask) and 0 in self.fs:
            raise ValueError(f"fs has f = 0 while n_subsampled_per_class="
                             f"{self.subsampled_per_class()} subsamples every subclass of the "
                             f"{self.dataset} dataset: f = 0 would remove them all; lower "
                             f"n_subsampled_per_class or drop f = 0")
        if self.batch_size is not None and self.batch_size > min(self.sizes):
            raise ValueError(f"batch_size={self.batch_size} exceeds the smallest training size "
                             f"(sizes has {min(self.sizes)}); lower batch_size, drop that size "
                             f"or use null (full batch)")
        if self.model == "transformer" and self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads="
                             f"{self.n_heads}")

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble chunk of at most ``max_members``
        (grokpaper.core.memory)."""
        runs = self.runs()
        return ensemble_memory(runs, min(max_members, len(runs)))

    def subsampled_per_class(self) -> int:
        """``n_subsampled_per_class``, with None resolved to half of each class's subclasses."""
        if self.n_subsampled_per_class is not None:
            return self.n_subsampled_per_class
        return min(len(c) for c in syn.layout(self.dataset).classes) // 2

    def architecture(self) -> ModelConfig:
        """The model config of every run (validates the model parameters)."""
        if self.model == "mlp":
            return MLPConfig(hidden=tuple(self.hidden), alpha=self.alpha)
        if self.model == "transformer":
            return TokenTransformerConfig(n_layers=self.n_layers, d_model=self.d_model,
                                          n_heads=self.n_heads, d_ff=4 * self.d_model,
                                          alpha=self.alpha)
        raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")

    def runs(self) -> list[SyntheticRun]:
        """Every member of the sweep (validates all parameters)."""
        if not self.sizes or not self.fs:
            raise ValueError("sizes and fs must each name at least one value")
        if any(not isinstance(n, int) or n <= 0 for n in self.sizes):
            raise ValueError(f"sizes (n_train) must be positive integers, got {self.sizes!r}")
        syn.layout(self.dataset)  # names the dataset parameter if it is unknown
        data = SyntheticDataConfig(dataset=self.dataset, n_test=self.n_test, noise=self.noise,
                                   n_subsampled_per_class=self.subsampled_per_class())
        batch = self.batch_size
        if batch is not None and batch > min(self.sizes):
            raise ValueError(f"batch_size {batch} exceeds the smallest training size "
                             f"{min(self.sizes)}; lower batch_size or use None (full batch)")
        train = TrainConfig(steps=self.steps, lr=self.lr, weight_decay=self.weight_decay,
                            optimizer=self.optimizer, loss=self.loss, batch_size=batch,
                            n_evals=self.n_evals)
        return grid(datasets=(self.dataset,), sizes=tuple(self.sizes), fs=tuple(self.fs),
                    seeds=self.seeds, data=data, model=self.architecture(), train=train)
