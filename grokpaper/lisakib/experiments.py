"""Li & Sakib runs: modular arithmetic with the report's transformer, one config per run.

Runs of one ensemble share the prime, the architecture, the batch size and the step budget;
learning rate, weight decay, init scale, embedding noise, seed, operation, training fraction
and split may differ per member. Members with different splits (or operations) get their
training rows padded to a common length, and the ensemble's test set is the union of their
validation sets, each member scored on its own (a test mask per member).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from grokpaper.core import landscape, phases, processes, sweep
from grokpaper.core import memory as mem
from grokpaper.core.memory import Estimate
from grokpaper.core.metrics import definition31, first_crossing, grokking_delay
from grokpaper.core.paths import default_device
from grokpaper.core.store import Store, config_key
from grokpaper.core.threads import one_cpu_thread
from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble
from grokpaper.lisakib import data as modular
from grokpaper.lisakib.transformer import (
    ModularTransformer,
    ModularTransformerConfig,
    ensemble,
    qkv_norms,
)

# "-2": runs train with torch's fused Adam/AdamW kernel on a CPU (grokpaper/core/optim.py: the
# same update, rounded differently, 12-34% less time a step: BENCHMARKS.md); runs stored
# under the earlier arithmetic are not mixed in.
# "-3": CPU training flushes denormals (grokpaper.core.threads.flush_denormals says why).
KIND = "lisakib-modular-3"
LANDSCAPE_KIND = "lisakib-landscape"
#: "Grokking (grokking delay > 1000 steps); 2) Comprehension (grokking delay < 1000 steps);
#: 3) Confusion (other cases)" (Sec. 3.2). A delay of exactly 1000 counts as grokking here.
DELAY_GAP = 1000
THRESHOLD = 0.95  # "the points when training and validation accuracies reach 95%" (Sec. 2)
LI_CLASSES = ("comprehension", "grokking", "confusion")
WEIGHT_PREFIX = "weight__"

#: The forked code's optimizer: AdamW, betas (0.9, 0.98), lr 1e-3, weight decay 1, batch 512,
#: a 10-step linear warm-up from 0.1 x lr; the report's budget is 10,000 steps (Sec. 3.1).
PAPER_TRAIN = TrainConfig(steps=10_000, lr=1e-3, weight_decay=1.0, optimizer="adamw",
                          loss="ce", batch_size=512, n_evals=201, betas=(0.9, 0.98),
                          warmup_steps=10, eval_spacing="linear")


@dataclass(frozen=True)
class ModRun:
    """Everything that determines one run; its hash is the store key."""

    op: str = "/"  # Sec. 3.1-3.4 use division
    p: int = 97  # as in Power et al. and the forked code
    train_frac: float = 0.3  # "training/validation ratio to be 30/70" (Sec. 3.1)
    split_seed: int = 0  # which pairs are in the training set
    model: ModularTransformerConfig = field(default_factory=ModularTransformerConfig)
    init_scale: float = 1.0  # multiplies every parameter at initialization
    noise: float = 0.0  # std of the Gaussian noise added to the embeddings in training
    train: TrainConfig = PAPER_TRAIN  # lr and weight_decay apply per member
    seed: int = 0  # initialization and minibatch order
    save_weights: bool = False  # keep the final weights (for loss landscapes)

    def __post_init__(self) -> None:
        modular.train_size(self.op, self.p, self.train_frac)  # validates op, p and fraction
        if not self.init_scale > 0 or not self.noise >= 0:
            raise ValueError(f"init_scale must be > 0 and noise >= 0, got {self.init_scale}, "
                             f"{self.noise}")

    @property
    def n_train(self) -> int:
        return modular.train_size(self.op, self.p, self.train_frac)


#: The most members one ensemble takes (fewer when they would not fit the memory budget), and
#: on a CPU: the transformer gains little from vmap there beyond a few members
#: (BENCHMARKS.md), and chunks this small train side by side on its cores
#: (grokpaper.core.processes).
MAX_MEMBERS, CPU_MEMBERS = 32, 4


def ensemble_key(run: ModRun) -> tuple:
    """Runs with equal keys train as one ensemble."""
    # lr and weight decay are per-member tensors; everything else in TrainConfig is shared.
    return (run.p, run.model, replace(run.train, lr=1.0, weight_decay=0.0), run.save_weights)


def _task(run: ModRun) -> tuple:
    return (run.op, run.train_frac, run.split_seed)


def train_runs(runs: list[ModRun], device: str) -> list[dict[str, np.ndarray]]:
    """Train ``runs`` (one group of :func:`run`) as one ensemble; the arrays of each run."""
    with one_cpu_thread(device):
        return _train_ensemble(runs, device)


def _train_ensemble(runs: list[ModRun], device: str) -> list[dict[str, np.ndarray]]:
    r0 = runs[0]
    tasks = sorted({_task(r) for r in runs}, key=str)
    x_te, y_te, g_te, train_rows = [], [], [], {}
    for gi, (op, frac, split_seed) in enumerate(tasks):
        x, y = modular.table(op, r0.p)
        tr, va = modular.split(op, r0.p, frac, seed=split_seed)
        train_rows[(op, frac, split_seed)] = (x[tr], y[tr])
        x_te.append(x[va])
        y_te.append(y[va])
        g_te.append(torch.full((len(va),), gi))
    e = len(runs)
    n = [len(train_rows[_task(r)][1]) for r in runs]
    x_tr = torch.zeros(e, max(n), 4, dtype=torch.long)
    y_tr = torch.zeros(e, max(n), dtype=torch.long)
    for i, r in enumerate(runs):
        xs, ys = train_rows[_task(r)]
        x_tr[i, : n[i]], y_tr[i, : n[i]] = xs, ys
    # Each member is scored on its own validation set: the test rows of its task.
    groups = torch.cat(g_te)
    own = torch.stack([groups == tasks.index(_task(r)) for r in runs])
    data = EnsembleData(x_tr, y_tr, torch.tensor(n), torch.cat(x_te), torch.cat(y_te), r0.p,
                        test_mask=own).to(device)
    seeds = [r.seed for r in runs]
    # Embedding noise comes from a generator train_ensemble seeds from all members' seeds: runs
    # with noise > 0 also depend on their ensemble-mates.
    model = ensemble(r0.model, modular.vocab_size(r0.p), r0.p, seeds,
                     init_scale=[r.init_scale for r in runs],
                     noise_std=[r.noise for r in runs]).to(device)
    hist = train_ensemble(model, data, r0.train, seeds=seeds,
                          lr=torch.tensor([r.train.lr for r in runs]),
                          weight_decay=torch.tensor([r.train.weight_decay for r in runs]),
                          probe=qkv_norms, fused=True)
    outs = []
    for i, r in enumerate(runs):
        a = hist.member(i)
        if r.save_weights:
            a.update({WEIGHT_PREFIX + k: v[i].detach().cpu().numpy()
                      for k, v in model.named_member_params().items()})
        outs.append(a)
    return outs


def li_class(delay: float | None, gap: int = DELAY_GAP) -> str:
    """Li & Sakib's category of a run from its grokking delay in steps (None: not reached)."""
    if delay is None or not np.isfinite(delay):
        return "confusion"
    return "grokking" if delay >= gap else "comprehension"


def _none(x: float | None) -> float:
    return np.nan if x is None else float(x)


def summarize(run: ModRun, a: dict[str, np.ndarray]) -> dict:
    """One table row: the run's settings, curves and every grokking measure."""
    s = a["steps"]
    batch = run.n_train if run.train.batch_size is None else min(run.train.batch_size,
                                                                 run.n_train)
    t_tr, t_va = (first_crossing(s, a[k], THRESHOLD) for k in ("train_acc", "test_acc"))
    delay = grokking_delay(s, a["train_acc"], a["test_acc"], threshold=THRESHOLD)
    t_tr90, t_va90 = (first_crossing(s, a[k], 0.9) for k in ("train_acc", "test_acc"))
    qkv = a["extra_qkv"]
    peak = int(np.argmax(qkv))
    diverged = bool(a["diverged_step"] >= 0)
    return {
        "op": run.op, "p": run.p, "train_frac": run.train_frac, "n_train": run.n_train,
        "batch_size": batch, "lr": run.train.lr, "weight_decay": run.train.weight_decay,
        "init_scale": run.init_scale, "noise": run.noise, "d_model": run.model.d_model,
        "seed": run.seed, "split_seed": run.split_seed, "budget": run.train.steps,
        **{k: v for k, v in a.items() if not k.startswith(WEIGHT_PREFIX)},
        "steps_per_epoch": run.n_train / batch,
        "t_train95": _none(t_tr), "t_val95": _none(t_va), "delay": _none(delay),
        "epoch_train95": _none(t_tr) * batch / run.n_train,
        "epoch_val95": _none(t_va) * batch / run.n_train,
        "delay_epochs": _none(delay) * batch / run.n_train,
        # a diverged run has no class or phase: its curves stop at the divergence
        "li_class": phases.DIVERGED if diverged else li_class(delay),
        "liu_phase": phases.DIVERGED if diverged else phases.phase(
            t_tr90, t_va90, budget=run.train.steps + 1),
        # Definition 3.1: whether the run grokked, and if not, whether there was a plateau
        **{f"def31_{k}": v for k, v in definition31(s, a["train_acc"], a["test_acc"])
           .as_dict().items() if k in ("grokked", "plateau", "t_converged")},
        # The Q/K/V-norm peak: an early signal if it comes before validation reaches 95%.
        "qkv_peak_step": float(s[peak]), "qkv_peak": float(qkv[peak]),
        "qkv_final": float(qkv[-1]),
        "final_train_acc": float(a["train_acc"][-1]), "final_val_acc": float(a["test_acc"][-1]),
        "diverged": diverged,
    }


def ensemble_memory(runs: list[ModRun], members: int) -> Estimate:
    """Peak memory of an ensemble of ``members`` runs like ``runs`` (one :func:`ensemble_key`;
    :func:`grokpaper.core.memory.transformer`): training pairs padded to the largest split,
    every task's validation pairs in the shared test set."""
    r0 = runs[0]
    tasks = {_task(r): r.n_train for r in runs}
    cfg = r0.model
    return mem.transformer(
        members=members, seq=4, d_model=cfg.d_model, d_ff=cfg.d_ff, n_heads=cfg.n_heads,
        n_layers=cfg.n_layers, n_out=r0.p, head_in=cfg.d_model,
        embed_params=(modular.vocab_size(r0.p) + 4) * cfg.d_model, n_train=max(tasks.values()),
        n_test=sum(modular.n_pairs(op, r0.p) - n for (op, _, _), n in tasks.items()),
        row_bytes=4 * mem.LABEL, batch=r0.train.batch_size)


def memory(runs: list[ModRun], *, max_members: int = MAX_MEMBERS) -> Estimate:
    """Peak memory of the largest ensemble of at most ``max_members`` that :func:`run`
    trains for ``runs``."""
    chunks = [[runs[i] for i in c] for c in sweep.cut(runs, ensemble_key, max_members)]
    return max((ensemble_memory(c, len(c)) for c in chunks), key=lambda e: e.total)


def _cap(device: str | None) -> int:
    return processes.chunk_members(device, cpu=CPU_MEMBERS, elsewhere=MAX_MEMBERS)


def run(runs: list[ModRun], *, store: Store | None = None, device: str | None = None,
        max_members: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Train (or load) ``runs``; one :func:`summarize` row per run, plus its provenance."""
    results = sweep.run_cached(KIND, runs, train_runs, group_key=ensemble_key,
                               seed_of=lambda r: r.seed, store=store, device=device,
                               max_members=max_members or _cap(device), memory=ensemble_memory,
                               progress=progress)
    rows = []
    for r, res in zip(runs, results, strict=True):
        row = summarize(r, res.arrays)
        row["provenance"] = res.meta["provenance"]
        rows.append(row)
    return pd.DataFrame(rows)


def final_weights(runs: list[ModRun], *, store: Store | None = None, device: str | None = None
                  ) -> list[dict[str, np.ndarray]]:
    """Final weights (by parameter name) of runs trained with ``save_weights=True``."""
    if not all(r.save_weights for r in runs):
        raise ValueError("final weights are stored only for runs with save_weights=True")
    results = sweep.run_cached(KIND, runs, train_runs, group_key=ensemble_key,
                               seed_of=lambda r: r.seed, store=store, device=device,
                               max_members=_cap(device), memory=ensemble_memory,
                               progress=False)
    return [{k.removeprefix(WEIGHT_PREFIX): v for k, v in res.arrays.items()
             if k.startswith(WEIGHT_PREFIX)} for res in results]


@dataclass(frozen=True)
class LandscapeSpec:
    """One loss surface around a run's final weights (its hash is the store key)."""

    run: ModRun
    normalization: str = "filter"  # see grokpaper.core.landscape
    resolution: int = 21
    extent: float = 1.0
    direction_seed: int = 0
    on: str = "train"  # "train" or "val": which pairs the loss is averaged over


def _surface(spec: LandscapeSpec, weights: dict[str, np.ndarray], device: str) -> np.ndarray:
    r = spec.run
    x, y = modular.table(r.op, r.p)
    tr, va = modular.split(r.op, r.p, r.train_frac, seed=r.split_seed)
    rows = tr if spec.on == "train" else va
    module = ModularTransformer(r.model, modular.vocab_size(r.p), r.p).to(device)
    params = {k: torch.as_tensor(v, device=device) for k, v in weights.items()}
    d1, d2 = landscape.directions(params, spec.normalization, seed=spec.direction_seed)
    coords = np.linspace(-spec.extent, spec.extent, spec.resolution)
    with one_cpu_thread(device):
        return landscape.grid_loss(module, params, d1, d2, coords, x[rows].to(device),
                                   y[rows].to(device))


def surfaces(specs: list[LandscapeSpec], *, store: Store | None = None,
             device: str | None = None) -> list[np.ndarray]:
    """Loss surfaces of ``specs`` (cached in the store), training their runs if needed, on
    ``device`` (default: the one the runs train on)."""
    if any(s.on not in ("train", "val") for s in specs):
        raise ValueError("on must be 'train' or 'val'")
    store = store or Store()
    device = device or default_device()
    out = []
    for spec in specs:
        key = config_key(LANDSCAPE_KIND, spec)
        hit = store.load(LANDSCAPE_KIND, key)
        if hit is None:
            (weights,) = final_weights([spec.run], store=store)
            store.save(LANDSCAPE_KIND, key, {"surface": _surface(spec, weights, device)},
                       {"kind": LANDSCAPE_KIND, "config": spec})
            hit = store.load(LANDSCAPE_KIND, key)
        out.append(hit.arrays["surface"])
    return out
