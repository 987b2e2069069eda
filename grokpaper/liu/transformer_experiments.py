"""Liu et al. 2022 Sec. 4.2 / Figs. 1 and 7: transformer on modular addition, cached runs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import pandas as pd
import torch

from grokpaper.core import memory as mem
from grokpaper.core import params as P
from grokpaper.core import phases, processes, sweep
from grokpaper.core.memory import Estimate
from grokpaper.core.metrics import definition31
from grokpaper.core.params import Range
from grokpaper.core.store import Store
from grokpaper.liu import data as toydata
from grokpaper.liu.transformer import (
    ModAddTransformerConfig,
    TransformerTrainConfig,
    make_ensemble,
    train_transformer,
)

#: "-2": runs stored before the fused AdamW read transposed (vmap'd) gradients in the right
#: order (grokpaper/core/optim.py) never fitted their training set; they are not reused.
#: "-3": CPU training flushes denormals (grokpaper.core.threads.flush_denormals says why).
KIND = "liu-transformer-3"


@dataclass(frozen=True)
class TransformerRun:
    """One member: architecture, optimization, split, seed, its two optimizers and dropout."""

    model: ModAddTransformerConfig = field(default_factory=ModAddTransformerConfig)
    train: TransformerTrainConfig = field(default_factory=TransformerTrainConfig)
    frac: float = 0.8  # "split_ratio = 0.8" (authors' config): an 80/20 split
    seed: int = 0
    lr_emb: float = 1e-3  # "the learning rate of the embeddings is kept fixed at 10^-3"
    wd_emb: float = 0.0  # "(with zero weight decay)" (Fig. 7); the authors' code: 0.01
    lr_dec: float = 1e-3
    wd_dec: float = 0.0
    dropout: float = 0.0


def ensemble_key(r: TransformerRun) -> tuple:
    """Runs with equal keys train as one ensemble."""
    return (r.model, r.train, r.frac)


def train_runs(runs: list[TransformerRun], device: str) -> list[dict[str, np.ndarray]]:
    """Train ``runs`` (one group of :func:`run`) as one ensemble; the arrays of each run."""
    r0 = runs[0]
    n = r0.model.p ** 2
    masks = np.stack([toydata.train_mask(n, round(r.frac * n), r.seed) for r in runs])
    ens = make_ensemble(r0.model, [r.seed for r in runs], [r.dropout for r in runs]).to(device)

    def col(name: str) -> torch.Tensor:
        return torch.tensor([getattr(r, name) for r in runs], dtype=torch.float32)

    hist = train_transformer(ens, torch.as_tensor(masks), r0.train, lr_emb=col("lr_emb"),
                             wd_emb=col("wd_emb"), lr_dec=col("lr_dec"), wd_dec=col("wd_dec"))
    outs = []
    for e in range(len(runs)):
        a = hist.member(e)
        # The probes under their own names: eff_dim, and emb when kept.
        outs.append({k.removeprefix("extra_"): v for k, v in a.items()} | {"train_mask": masks[e]})
    return outs


#: Members per ensemble chunk (see grokpaper.core.sweep), and on a CPU: vmap gains
#: little there beyond a few members (BENCHMARKS.md), and chunks this small train side by
#: side on its cores (grokpaper.core.processes).
MAX_MEMBERS, CPU_MEMBERS = 256, 4


def ensemble_memory(runs: list[TransformerRun], members: int) -> Estimate:
    """Peak memory of an ensemble of ``members`` runs like ``runs`` (one
    :func:`ensemble_key`; :func:`grokpaper.core.memory.transformer`, plus the embeddings kept
    for PCA): each member's training pairs, then every pair, are evaluated."""
    r0 = runs[0]
    m, n = r0.model, r0.model.p ** 2
    n_train = round(r0.frac * n)
    est = mem.transformer(
        members=members, seq=2, d_model=m.d_model, d_ff=m.d_ff, n_heads=1,
        n_layers=m.n_layers, n_out=m.p, embed_params=m.p * m.d_model,
        head_in=2 * m.d_model, n_train=n_train, n_test=n - n_train,
        row_bytes=2 * mem.LABEL, batch=r0.train.batch_size,
        evaluated=mem.eval_rows(n_train, n))  # the test rows are all pairs
    kept = members * r0.train.n_evals * m.p * m.d_model * mem.FLOAT
    return replace(est, data=est.data + (kept if r0.train.keep_emb else 0))


def memory(runs: list[TransformerRun], *, max_members: int = MAX_MEMBERS) -> Estimate:
    """Peak memory of the largest ensemble of at most ``max_members`` that :func:`run`
    trains for ``runs``."""
    chunks = [[runs[i] for i in c] for c in sweep.cut(runs, ensemble_key, max_members)]
    return max((ensemble_memory(c, len(c)) for c in chunks), key=lambda e: e.total)


def run(runs: list[TransformerRun], *, store: Store | None = None, device: str | None = None,
        max_members: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Train (or load) ``runs``; one row per run with curves, phase and Definition 3.1."""
    cap = max_members or processes.chunk_members(device, cpu=CPU_MEMBERS, elsewhere=MAX_MEMBERS)
    results = sweep.run_cached(KIND, runs, train_runs, group_key=ensemble_key,
                               seed_of=lambda r: r.seed, store=store, device=device,
                               max_members=cap, memory=ensemble_memory, progress=progress)
    rows = []
    for r, res in zip(runs, results, strict=True):
        a = res.arrays
        t_tr, t_te = float(a["step_train"]), float(a["step_test"])
        stats = definition31(a["steps"], a["train_acc"], a["test_acc"])
        rows.append({"p": r.model.p, "seed": r.seed, "lr_emb": r.lr_emb, "wd_emb": r.wd_emb,
                     "lr_dec": r.lr_dec, "wd_dec": r.wd_dec, "dropout": r.dropout, **a,
                     "t_train": t_tr if t_tr >= 0 else np.nan,
                     "t_test": t_te if t_te >= 0 else np.nan,
                     "phase": phases.phase(t_tr, t_te, budget=r.train.steps),
                     **{f"def31_{k}": v for k, v in stats.as_dict().items()},
                     "provenance": res.meta["provenance"]})
    return pd.DataFrame(rows)


def split_rule(p: int, frac: float) -> None:
    """The split of the p^2 pairs keeps at least one training and one test pair."""
    if not 1 <= round(frac * p * p) < p * p:
        raise ValueError(f"frac={frac} of the {p * p} pairs of p={p} leaves no training or no "
                         f"test pair")


@dataclass(frozen=True)
class TransformerFigures:
    """Figs. 1 and 7 (left, centre): embeddings over training, effective dimension, dropout."""

    p: int = 53  # "p = 53" (Sec. 4.2)
    d_model: int = 256  # "256D learnable embeddings"
    d_ff: int = 256  # the authors' decoder_width
    n_layers: int = 2  # the authors' decoder_depth
    frac: float = 0.8
    steps: int = 10_000  # not given; Fig. 7's step axes
    n_evals: int = 60
    batch_size: int | None = None  # full batch (the authors' batch_size = -1)
    lr: float = 1e-3  # the authors' lr_rep = lr_decoder = 1e-3
    # Fig. 1: "Training both the encoder and the decoder with the same optimizer (i.e., with
    # the same hyperparameters) leads to the grokking phenomenon"; the weight decay is not
    # given (Power et al. use 1), so both groups get ``wd``.
    wd: float = 1.0
    seeds: int = 100  # Fig. 7 left: "evaluated over 100 seeds"
    dropouts: tuple[float, ...] = tuple(float(x) for x in np.linspace(0, 0.5, 10))  # authors
    dropout_wd: float = 0.0  # the authors' dropout runs keep the default (no) weight decay
    dropout_seeds: int = 3  # the authors' Ranges.seed = [1, 2, 3]
    #: Ranges of the number fields (grokpaper.core.params); rules() has the cross-field ones.
    RANGES: ClassVar[dict[str, Range]] = {
        "p": P.PRIME, "d_model": P.WIDTH, "d_ff": P.WIDTH, "n_layers": P.LAYERS,
        "frac": P.OPEN_FRACTION, "steps": P.STEPS, "n_evals": P.N_EVALS, "batch_size": P.BATCH,
        "lr": P.LR, "wd": P.WEIGHT_DECAY, "seeds": P.SEEDS, "dropouts": P.RATE,
        "dropout_wd": P.WEIGHT_DECAY, "dropout_seeds": P.SEEDS}

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        split_rule(self.p, self.frac)

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory)."""
        return memory([*self.pca_runs(), *self.dropout_runs()], max_members=max_members)

    def model(self, stochastic: bool = False) -> ModAddTransformerConfig:
        return ModAddTransformerConfig(p=self.p, d_model=self.d_model, d_ff=self.d_ff,
                                 n_layers=self.n_layers, stochastic=stochastic)

    def pca_runs(self) -> list[TransformerRun]:
        train = TransformerTrainConfig(steps=self.steps, n_evals=self.n_evals, keep_emb=True,
                                       batch_size=self.batch_size)
        return [TransformerRun(self.model(), train, self.frac, seed=s, lr_emb=self.lr,
                               wd_emb=self.wd, lr_dec=self.lr, wd_dec=self.wd)
                for s in range(self.seeds)]

    def frames(self, **run_options: object) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:func:`run` tables of :meth:`pca_runs` and :meth:`dropout_runs`, trained in one sweep
        (so that their ensembles can train side by side)."""
        pca, drop = self.pca_runs(), self.dropout_runs()
        df = run(pca + drop, **run_options)
        return (df.iloc[: len(pca)].reset_index(drop=True),
                df.iloc[len(pca) :].reset_index(drop=True))

    def dropout_runs(self) -> list[TransformerRun]:
        train = TransformerTrainConfig(steps=self.steps, n_evals=self.n_evals,
                                       batch_size=self.batch_size)
        return [TransformerRun(self.model(stochastic=True), train, self.frac, seed=s,
                               lr_emb=self.lr, lr_dec=self.lr, wd_dec=self.dropout_wd,
                               dropout=float(d))
                for d in self.dropouts for s in range(self.dropout_seeds)]


@dataclass(frozen=True)
class TransformerPhases:
    """Fig. 7 right: decoder weight decay x decoder learning rate, embeddings at lr 1e-3, wd 0.

    Grids are the authors' ``Ranges`` (``definitions.py``).
    """

    p: int = 53
    d_model: int = 256
    d_ff: int = 256
    n_layers: int = 2
    frac: float = 0.8
    steps: int = 10_000
    n_evals: int = 40
    batch_size: int | None = None  # full batch (the authors' batch_size = -1)
    lrs: tuple[float, ...] = tuple(float(x) for x in 10 ** np.linspace(-9, -1, 15))
    wds: tuple[float, ...] = tuple(float(x) for x in np.exp(np.linspace(-4, 3, 19)))
    lr_emb: float = 1e-3
    wd_emb: float = 0.0  # the paper; the authors' code silently used AdamW's default 0.01
    seeds: int = 1
    RANGES: ClassVar[dict[str, Range]] = {
        "p": P.PRIME, "d_model": P.WIDTH, "d_ff": P.WIDTH, "n_layers": P.LAYERS,
        "frac": P.OPEN_FRACTION, "steps": P.STEPS, "n_evals": P.N_EVALS, "batch_size": P.BATCH,
        "lrs": P.LR, "wds": P.WEIGHT_DECAY, "lr_emb": P.LR, "wd_emb": P.WEIGHT_DECAY,
        "seeds": P.SEEDS}

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        split_rule(self.p, self.frac)

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory)."""
        return memory(self.runs(), max_members=max_members)

    def runs(self) -> list[TransformerRun]:
        model = ModAddTransformerConfig(p=self.p, d_model=self.d_model, d_ff=self.d_ff,
                                  n_layers=self.n_layers)
        train = TransformerTrainConfig(steps=self.steps, n_evals=self.n_evals,
                                       batch_size=self.batch_size)
        return [TransformerRun(model, train, self.frac, seed=s, lr_emb=self.lr_emb,
                               wd_emb=self.wd_emb, lr_dec=float(lr), wd_dec=float(wd))
                for wd in self.wds for lr in self.lrs for s in range(self.seeds)]


def pca_frames(emb: np.ndarray, *, basis: str = "each") -> np.ndarray:
    """First two principal components of embeddings (T, p, d) at every time, shape (T, p, 2).

    ``basis="each"``: each frame's own PCA (Fig. 1); ``"final"``: every frame projected on the
    principal axes of the last frame (App. K's view of the initialization).
    """
    z = emb - emb.mean(1, keepdims=True)
    if basis == "final":
        axes = np.linalg.svd(z[-1], full_matrices=False)[2][:2]
        return z @ axes.T
    out = []
    for f in z:
        axes = np.linalg.svd(f, full_matrices=False)[2][:2]
        out.append(f @ axes.T)
    return np.array(out)
