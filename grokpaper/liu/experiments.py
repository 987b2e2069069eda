"""Liu et al. 2022 toy-model runs: one config per member, trained as ensembles, cached.

Each figure's parameters are a frozen dataclass whose defaults are the paper's values (or the
authors' code's where the paper is silent); ``runs()`` lists its members. :func:`run` trains or
loads them and adds the derived numbers of Sec. 3 (Acc, Acc-hat, nullity, lambda_3) and Sec. 4
(phase), plus Definition 3.1 of Carvalho et al. for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from grokpaper.core.threads import one_cpu_thread
from grokpaper.liu import data as toydata
from grokpaper.liu import rqi
from grokpaper.liu.toy import (
    LOSSES,
    TASKS,
    ToyConfig,
    ToyEnsemble,
    ToyTrainConfig,
    decoder_map,
    train_toy,
)

# "-2": CPU training flushes denormals (grokpaper.core.threads.flush_denormals says why).
KIND = "liu-toy-2"
#: "16 lr values 1e-5..1e-2" (the phase diagrams' learning-rate axis)
PAPER_LRS = tuple(float(x) for x in np.logspace(-5, -2, 16))


@dataclass(frozen=True)
class ToyRun:
    """One member: architecture, optimization, its training-set size, seed and hyperparameters."""

    model: ToyConfig = field(default_factory=ToyConfig)
    train: ToyTrainConfig = field(default_factory=ToyTrainConfig)
    n_train: int = 45  # "default split 45 train / 10 test"
    seed: int = 0  # data split, embeddings, decoder and targets
    lr_emb: float = 1e-3  # embeddings: AdamW lr 1e-3, wd 0 (the authors' code)
    wd_emb: float = 0.0
    lr_dec: float = 1e-4  # decoder: AdamW lr 1e-4, wd 0 (the authors' code)
    wd_dec: float = 0.0
    map_resolution: int = 0  # > 0: also store the decoder's class map (2-D pictures)


def ensemble_key(r: ToyRun) -> tuple:
    """Runs with equal keys train as one ensemble."""
    return (r.model, r.train, r.map_resolution)


#: The arrays stored per run (as before the trainers were merged, so that results cached then
#: read like new ones), plus the probes ``rqi`` and ``emb`` and the training mask.
_STORED = ("steps", "train_acc", "test_acc", "train_loss", "test_loss", "step_train",
           "step_test", "step_rqi")


def train_runs(runs: list[ToyRun], device: str) -> list[dict[str, np.ndarray]]:
    """Train ``runs`` (one group of :func:`run`) as one ensemble; the arrays of each run."""
    with one_cpu_thread(device):
        r0 = runs[0]
        seeds = [r.seed for r in runs]
        model = ToyEnsemble(r0.model, seeds).to(device)
        n = model.task.n_samples
        masks = np.stack([toydata.train_mask(n, r.n_train, r.seed) for r in runs])

        def col(name: str) -> torch.Tensor:
            return torch.tensor([getattr(r, name) for r in runs], dtype=torch.float32)

        hist = train_toy(model, torch.as_tensor(masks), r0.train, lr_emb=col("lr_emb"),
                         wd_emb=col("wd_emb"), lr_dec=col("lr_dec"), wd_dec=col("wd_dec"))
        outs = []
        for e in range(len(runs)):
            a = hist.member(e)
            outs.append({k: a[k] for k in _STORED} | {"rqi": a["extra_rqi"], "emb": a["extra_emb"],
                                                      "train_mask": masks[e]})
        if r0.map_resolution:
            classes, extent = decoder_map(model, resolution=r0.map_resolution)
            for e, o in enumerate(outs):
                o["map_classes"], o["map_extent"] = classes[e], extent[e]
        return outs


def _derived(r: ToyRun, a: dict[str, np.ndarray]) -> dict:
    """Sec. 3 and Sec. 4 numbers of one finished run."""
    task = r.model.make_task()
    train = a["train_mask"].astype(bool)
    n_tr, n = int(train.sum()), task.n_samples
    acc = (n_tr * a["train_acc"] + (n - n_tr) * np.nan_to_num(a["test_acc"])) / n
    out: dict = {"acc": acc, "frac": n_tr / n, "acc_final": float(acc[-1]),
                 "train_final": float(a["train_acc"][-1]), "test_final": float(a["test_acc"][-1])}
    if task.name == "addition":
        out["acc_hat"], out["acc_hat_test"] = rqi.predicted_accuracy(a["emb"][-1], train, task)
        out["acc_ideal"], out["acc_ideal_test"] = rqi.ideal_accuracy(train, task)
        out["nullity"] = rqi.nullity(train, task)
        out["lambda3"] = rqi.grokking_rate(train, task)
        out["lambda3_sum"] = rqi.grokking_rate(train, task, mean=False)
    budget = r.train.steps
    st, ss = (float(a["step_train"]), float(a["step_test"]))
    out["phase"] = phases.phase(st, ss, budget=budget)
    for key in ("train", "test", "rqi"):
        v = float(a[f"step_{key}"])
        out[f"t_{key}"] = v if v >= 0 else np.nan
    ok = np.isfinite(a["test_acc"]).all()
    stats = definition31(a["steps"], a["train_acc"], a["test_acc"]) if ok else None
    out.update({f"def31_{k}": v for k, v in (stats.as_dict().items() if stats else [])})
    return out


#: Members per ensemble chunk (see grokpaper.core.sweep), and on a CPU: 8 toy models
#: already train ~1.9x faster than one and as fast per member as 64 (BENCHMARKS.md), and
#: chunks this small train side by side on its cores (grokpaper.core.processes).
MAX_MEMBERS, CPU_MEMBERS = 512, 16


def ensemble_memory(runs: list[ToyRun], members: int) -> Estimate:
    """Peak memory of an ensemble of ``members`` runs like ``runs`` (one
    :func:`ensemble_key`): learned embeddings and the decoder MLP over every pair
    (:func:`grokpaper.core.memory.mlp`)."""
    r0 = runs[0]
    cfg, task = r0.model, r0.model.make_task()
    return mem.mlp(members=members, n_in=cfg.input_dim, hidden=(cfg.width, cfg.width),
                   n_out=cfg.target_dim if cfg.loss == "mse" else task.n_classes,
                   n_train=task.n_samples, n_test=(r0.map_resolution or 0) ** 2, batch=None,
                   extra_params=task.n_symbols * cfg.input_dim)


def memory(runs: list[ToyRun], *, max_members: int = MAX_MEMBERS) -> Estimate:
    """Peak memory of the largest ensemble of at most ``max_members`` that :func:`run`
    trains for ``runs``."""
    chunks = [[runs[i] for i in c] for c in sweep.cut(runs, ensemble_key, max_members)]
    return max((ensemble_memory(c, len(c)) for c in chunks), key=lambda e: e.total)


def run(runs: list[ToyRun], *, store: Store | None = None, device: str | None = None,
        max_members: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Train (or load) ``runs``; one row per run: config, curves and derived numbers."""
    cap = max_members or processes.chunk_members(device, cpu=CPU_MEMBERS, elsewhere=MAX_MEMBERS)
    results = sweep.run_cached(KIND, runs, train_runs, group_key=ensemble_key,
                               seed_of=lambda r: r.seed, store=store, device=device,
                               max_members=cap, memory=ensemble_memory, progress=progress)
    rows = []
    for r, res in zip(runs, results, strict=True):
        a = res.arrays
        rows.append({"task": r.model.task, "loss": r.model.loss, "n_train": r.n_train,
                     "seed": r.seed, "lr_emb": r.lr_emb, "wd_emb": r.wd_emb,
                     "lr_dec": r.lr_dec, "wd_dec": r.wd_dec, **a, **_derived(r, a),
                     "provenance": res.meta["provenance"]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FractionSweep:
    """Figs. 3, 4b and 5b: addition (p = 10) regression over training-set sizes and seeds.

    The same runs feed the three figures (cached once). ``theory_*`` size the combinatorial
    sampling of training sets behind Figs. 4a and 5a (no training).
    """

    p: int = 10  # "Addition with p = 10" (Fig. 4)
    sizes: tuple[int, ...] = (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 54)  # the authors' code
    seeds: int = 3  # the authors' code (train_nums x seeds [0, 1, 2])
    steps: int = 10_000  # "steps=int(1e4)" (authors' Fig. 4 data; Fig. 3 used 5e3)
    width: int = 200
    lr_emb: float = 1e-3  # "eta = 10^-3 is the learning rate of the embeddings" (Fig. 5)
    lr_dec: float = 1e-4
    n_evals: int = 100
    theory_sizes: tuple[int, ...] = tuple(range(3, 55, 3))  # "np.arange(1,19)*3" (authors)
    theory_sets: int = 100  # "seeds = 100" random training sets per size (authors)
    #: Ranges of the number fields (grokpaper.core.params); rules() has the cross-field ones.
    RANGES: ClassVar[dict[str, Range]] = {
        "p": P.PRIME, "sizes": P.SAMPLES, "seeds": P.SEEDS, "steps": P.STEPS,
        "width": P.WIDTH, "lr_emb": P.LR, "lr_dec": P.LR, "n_evals": P.N_EVALS,
        "theory_sizes": P.SAMPLES, "theory_sets": Range(1, cap=100_000)}

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        """Every training set leaves at least one of the p (p + 1) / 2 pairs for testing."""
        n = toydata.addition(self.p).n_samples
        for name in ("sizes", "theory_sizes"):
            too_big = [k for k in getattr(self, name) if k >= n]
            if too_big:
                raise ValueError(f"{name} has {too_big[0]}, but addition with p={self.p} has "
                                 f"{n} pairs: every size must be below {n}")

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory)."""
        return memory(self.runs(), max_members=max_members)

    def runs(self) -> list[ToyRun]:
        model = ToyConfig(size=self.p, width=self.width)
        train = ToyTrainConfig(steps=self.steps, n_evals=self.n_evals)
        return [ToyRun(model, train, n_train=n, seed=s, lr_emb=self.lr_emb, lr_dec=self.lr_dec)
                for n in self.sizes for s in range(self.seeds)]

    def theory(self) -> pd.DataFrame:
        """Nullity and lambda_3 of ``theory_sets`` random training sets per size (Figs. 4a, 5a).

        Training sets use seeds 10_000 + k, apart from the trained runs' seeds.
        """
        task = toydata.addition(self.p)
        rows = []
        for n in self.theory_sizes:
            for k in range(self.theory_sets):
                m = toydata.train_mask(task.n_samples, n, 10_000 + k)
                rows.append({"n_train": n, "frac": n / task.n_samples, "set": k,
                             "nullity": rqi.nullity(m, task),
                             "lambda3": rqi.grokking_rate(m, task),
                             "lambda3_sum": rqi.grokking_rate(m, task, mean=False)})
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class Representations:
    """Fig. 2: 2-D embeddings of addition and modular addition with the decoder's regions."""

    #: Allowed values of the string fields (read by ``grokpaper run``'s pre-flight checks).
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"tasks": TASKS, "loss": LOSSES}
    p: int = 11  # "Visualization of the learned set of embeddings (p = 11)" (Fig. 2)
    tasks: tuple[str, ...] = ("addition", "modular")  # parallelogram (a, b); circle (c, d)
    seeds: int = 2  # two pictures per task, as the paper's two panels per task
    frac: float = 0.8  # not given for Fig. 2
    steps: int = 20_000  # not given
    width: int = 200
    # "the color at each point represents the highest probability class": classification
    loss: str = "ce"
    lr_emb: float = 1e-3
    lr_dec: float = 1e-4
    wd_dec: float = 0.0
    # "For visualization purposes, the decoder is trained on inputs of the form (E_i + E_j)/2"
    mean_inputs: bool = True
    resolution: int = 80  # decoder map pixels per side
    RANGES: ClassVar[dict[str, Range]] = {
        "p": P.PRIME, "seeds": P.SEEDS, "frac": P.OPEN_FRACTION, "steps": P.STEPS,
        "width": P.WIDTH, "lr_emb": P.LR, "lr_dec": P.LR, "wd_dec": P.WEIGHT_DECAY,
        "resolution": P.RESOLUTION}

    def __post_init__(self) -> None:
        P.check(self)

    def rules(self) -> None:
        """The training fraction leaves at least one training and one test pair."""
        n = self.p * (self.p + 1) // 2
        if not 1 <= round(self.frac * n) < n:
            raise ValueError(f"frac={self.frac} of the {n} pairs of p={self.p} leaves no "
                             f"training or no test pair")

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory)."""
        return memory(self.runs(), max_members=max_members)

    def runs(self) -> list[ToyRun]:
        n = self.p * (self.p + 1) // 2
        out = []
        for task in self.tasks:
            # "the decoder is trained on inputs of the form (E_i + E_j)/2"
            model = ToyConfig(task=task, size=self.p, emb_dim=2, width=self.width,
                              loss=self.loss, mean_inputs=self.mean_inputs)
            train = ToyTrainConfig(steps=self.steps, n_evals=20)
            out += [ToyRun(model, train, n_train=round(self.frac * n), seed=s,
                           lr_emb=self.lr_emb, lr_dec=self.lr_dec, wd_dec=self.wd_dec,
                           map_resolution=self.resolution) for s in range(self.seeds)]
        return out


#: The four panels of Fig. 6: (task, loss, y axis) with x = decoder learning rate.
PANELS = {"a": ("addition", "mse", "lr_emb"), "b": ("addition", "mse", "wd_dec"),
          "c": ("addition", "ce", "wd_dec"), "d": ("permutation", "mse", "wd_dec")}


@dataclass(frozen=True)
class PhaseDiagrams:
    """Fig. 6: phase diagrams over decoder lr x (representation lr | decoder weight decay).

    Every cell of every panel is one member; one ensemble per panel (each member its own lr
    and wd for both optimizers).
    """

    #: Allowed values of the string fields (read by ``grokpaper run``'s pre-flight checks).
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"panels": tuple(PANELS)}
    panels: tuple[str, ...] = ("a", "b", "c", "d")
    lrs: tuple[float, ...] = PAPER_LRS  # decoder lr: "[10^-5, 10^-2]" (Sec. 4.1)
    emb_lrs: tuple[float, ...] = PAPER_LRS  # representation lr, panel (a)
    wds_reg: tuple[float, ...] = tuple(float(x) for x in np.linspace(0, 10, 11))  # "[0, 10]"
    wds_cls: tuple[float, ...] = tuple(float(x) for x in np.linspace(0, 20, 11))  # "[0, 20]"
    seeds: int = 1
    steps: int = 100_000  # budget 1e5 ("in paper we report results for steps=1e5", authors)
    width: int = 200
    n_evals: int = 80
    RANGES: ClassVar[dict[str, Range]] = {
        "lrs": P.LR, "emb_lrs": P.LR, "wds_reg": P.WEIGHT_DECAY, "wds_cls": P.WEIGHT_DECAY,
        "seeds": P.SEEDS, "steps": P.STEPS, "width": P.WIDTH, "n_evals": P.N_EVALS}

    def __post_init__(self) -> None:
        P.check(self)

    def memory(self, max_members: int = MAX_MEMBERS) -> Estimate:
        """Peak memory of the largest ensemble (grokpaper.core.memory)."""
        return memory(self.runs(), max_members=max_members)

    def panel_runs(self, panel: str) -> list[ToyRun]:
        task, loss, y = PANELS[panel]
        # 45/10 for addition, 24/12 for S_3 (Sec. 4.1); S_3 embeddings N(0,1) (authors' code)
        size, n_train, init = (3, 24, "normal") if task == "permutation" else (10, 45, "uniform")
        model = ToyConfig(task=task, size=size, width=self.width, loss=loss, emb_init=init,
                          target_dim=10 if task == "permutation" else 30)
        train = ToyTrainConfig(steps=self.steps, n_evals=self.n_evals)
        ys = self.emb_lrs if y == "lr_emb" else (self.wds_cls if loss == "ce" else self.wds_reg)
        return [ToyRun(model, train, n_train=n_train, seed=s, lr_dec=lr,
                       **{y: float(v)}) for v in ys for lr in self.lrs for s in range(self.seeds)]

    def runs(self) -> list[ToyRun]:
        return [r for p in self.panels for r in self.panel_runs(p)]

    def frames(self, **run_options: object) -> dict[str, pd.DataFrame]:
        """One :func:`run` table per panel, all panels trained in one sweep (so that their
        ensembles can train side by side)."""
        df = run(self.runs(), **run_options)
        out, i = {}, 0
        for p in self.panels:
            n = len(self.panel_runs(p))
            out[p] = df.iloc[i : i + n].reset_index(drop=True)
            i += n
        return out
