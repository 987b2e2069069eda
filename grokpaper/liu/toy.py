"""Liu et al. 2022 toy model as a vectorized ensemble: embeddings + MLP decoder, two optimizers.

``(a, b) -> Dec(E_a + E_b)`` (Sec. 2); for S_n the embeddings are n x n matrices and the model
hard-codes their product, ``Dec(E_a E_b)`` (Sec. 4.1). Member e has its own embeddings, decoder,
targets, training set and its own learning rate and weight decay for each of the two parameter
groups (embeddings, decoder), so a whole phase diagram trains in one loop
(:func:`grokpaper.core.train.train_ensemble`). Every step is full batch; the first steps at
which train/test accuracy reach 90% and RQI exceeds 0.95 are tracked at every step, the curves
at log-spaced evaluation steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from grokpaper.core import cost
from grokpaper.core.ensemble_data import EnsembleData
from grokpaper.core.models import linear_init
from grokpaper.core.optim import ParamGroup
from grokpaper.core.train import Crossing, History, Probe, TrainConfig, train_ensemble
from grokpaper.liu import data as toydata
from grokpaper.liu import rqi

TASKS = ("addition", "modular", "permutation")
LOSSES = ("mse", "ce")


@dataclass(frozen=True)
class ToyConfig:
    """Architecture and task; defaults are the authors' addition regression setup."""

    task: str = "addition"  # "addition", "modular" (mod p, for Fig. 2) or "permutation" (S_n)
    size: int = 10  # p for addition ("p = 10", Fig. 4); n of S_n for permutation (S_3)
    emb_dim: int = 1  # "1D embeddings" (Sec. 4.1); 2 for pictures; n*n for S_n (ignored)
    width: int = 200  # decoder Linear(d,200)-tanh-Linear(200,200)-tanh-Linear(200,out)
    loss: str = "mse"  # "mse": regression on fixed random targets; "ce": classification
    target_dim: int = 30  # regression targets: N(0,1) vectors in R^30 (the authors' code)
    emb_init: str = "uniform"  # U(-0.5, 0.5) (addition code); "normal": N(0, 1) (S_3 code)
    mean_inputs: bool = False  # decode (E_a + E_b) / 2 instead of the sum (Fig. 2 pictures)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.emb_init not in ("uniform", "normal"):
            raise ValueError(f"emb_init must be 'uniform' or 'normal', got {self.emb_init!r}")
        if min(self.size, self.emb_dim, self.width, self.target_dim) < 1:
            raise ValueError("size, emb_dim, width and target_dim must be positive")

    def make_task(self) -> toydata.ToyTask:
        if self.task == "modular":
            t = toydata.addition(self.size)
            return toydata.ToyTask("modular", t.pairs, t.labels % self.size, self.size, self.size)
        return toydata.make_task(self.task, self.size)

    @property
    def input_dim(self) -> int:
        return self.size * self.size if self.task == "permutation" else self.emb_dim


def forward_cost(cfg: ToyConfig) -> float:
    """FLOPs of one member's forward pass on one sample (:mod:`grokpaper.core.cost`): the
    decoder's; the embeddings' sum (or S_n product) is next to nothing."""
    n_out = cfg.target_dim if cfg.loss == "mse" else cfg.make_task().n_classes
    return cost.mlp([cfg.input_dim, cfg.width, cfg.width, n_out])


class ToyEnsemble(nn.Module):
    """E toy models; member e is drawn from ``seeds[e]`` alone (embeddings, decoder, targets).

    Decoder member e is initialized as :class:`grokpaper.core.models.EnsembleMLP` with seed e
    (``nn.Linear``'s default); weights are (E, in, out), biases (E, 1, out).
    """

    def __init__(self, cfg: ToyConfig, seeds: list[int]) -> None:
        super().__init__()
        if not seeds:
            raise ValueError("seeds must name at least one ensemble member")
        self.cfg, self.seeds, self.task = cfg, list(seeds), cfg.make_task()
        d, n_sym, n_cls = cfg.input_dim, self.task.n_symbols, self.task.n_classes
        n_out = cfg.target_dim if cfg.loss == "mse" else n_cls
        sizes = [d, cfg.width, cfg.width, n_out]
        embs, targets, layers = [], [], []
        for s in seeds:
            # A stream apart from the decoder's (seeded with s, as EnsembleMLP).
            g = torch.Generator().manual_seed(1_000_003 * int(s) + 17)
            embs.append(torch.rand(n_sym, d, generator=g) - 0.5 if cfg.emb_init == "uniform"
                        else torch.randn(n_sym, d, generator=g))
            targets.append(torch.randn(n_cls, cfg.target_dim, generator=g))
            gd = torch.Generator().manual_seed(int(s))
            layers.append([linear_init(a, b, gd) for a, b in zip(sizes[:-1], sizes[1:],
                                                                  strict=True)])
        self.emb = nn.Parameter(torch.stack(embs))
        self.weights = nn.ParameterList(nn.Parameter(torch.stack([m[i][0] for m in layers]))
                                        for i in range(len(sizes) - 1))
        self.biases = nn.ParameterList(nn.Parameter(torch.stack([m[i][1] for m in layers])[:, None])
                                       for i in range(len(sizes) - 1))
        self.register_buffer("targets", torch.stack(targets))

    def layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight (E, in, out), bias (E, 1, out)) per layer."""
        return list(zip(self.weights, self.biases, strict=True))

    def decoder_params(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """The decoder on (E, N, d) inputs: Linear-tanh-Linear-tanh-Linear."""
        layers = self.layers()
        for i, (w, b) in enumerate(layers):
            h = torch.baddbmm(b, h, w)
            if i < len(layers) - 1:
                h = torch.tanh(h)
        return h

    @property
    def n_members(self) -> int:
        return len(self.seeds)

    def member_norms(self) -> torch.Tensor:
        """(E,) L2 norm of all parameters of each member (embeddings and decoder)."""
        return sum(p.pow(2).flatten(1).sum(1) for p in self.parameters()).sqrt()

    def combine(self, pairs: torch.Tensor) -> torch.Tensor:
        """(E, N, d) decoder inputs of the samples ``pairs`` (N, 2)."""
        a, b = self.emb[:, pairs[:, 0]], self.emb[:, pairs[:, 1]]
        if self.cfg.task == "permutation":
            n = self.cfg.size
            prod = a.unflatten(-1, (n, n)) @ b.unflatten(-1, (n, n))
            return prod.flatten(-2)
        return (a + b) / 2 if self.cfg.mean_inputs else a + b

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.decode(self.combine(pairs))

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        """Class per output: the nearest target (regression) or the largest logit."""
        if self.cfg.loss == "ce":
            return out.argmax(-1)
        return torch.cdist(out, self.targets).argmin(-1)

    def per_example_loss(self, out: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(E, N): mean squared error to the label's target, or cross-entropy."""
        if self.cfg.loss == "ce":
            return nn.functional.cross_entropy(out.transpose(1, 2),
                                               labels.expand(out.shape[0], -1), reduction="none")
        return (out - self.targets[:, labels]).pow(2).mean(-1)


@dataclass(frozen=True)
class ToyTrainConfig:
    """Optimization shared by the members (their per-member lr/wd are given separately)."""

    steps: int = 10_000  # "the paper's budgets are 1e4-1e5 steps"
    n_evals: int = 100  # log-spaced evaluation points for the curves
    acc_threshold: float = 0.9  # "steps to reach high (90%) training/validation accuracy"
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW defaults, as the authors' code

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if not isinstance(self.n_evals, int) or self.n_evals < 2:
            raise ValueError(f"n_evals must be an integer >= 2, got {self.n_evals!r}")


def train_toy(model: ToyEnsemble, train: torch.Tensor, cfg: ToyTrainConfig, *,
              lr_emb: torch.Tensor | float, wd_emb: torch.Tensor | float,
              lr_dec: torch.Tensor | float, wd_dec: torch.Tensor | float) -> History:
    """Full-batch training of every member on its training mask ``train`` (E, N) bool over the
    task's samples; its test set is the rest.

    Two AdamW groups as the authors' code: the embeddings and the decoder, each with its own
    (per-member) learning rate and weight decay. The first steps at which train/test accuracy
    reach ``cfg.acc_threshold`` and RQI exceeds 0.95 are checked at every step
    (``History.first``: ``train``, ``test``, ``rqi``); ``History.extra`` holds ``rqi`` (NaN
    unless the task is addition) and the embeddings ``emb`` (E, T, p, d).
    """
    task = model.task
    device = model.emb.device
    if train.shape != (model.n_members, task.n_samples):
        raise ValueError(f"train mask must be ({model.n_members}, {task.n_samples}), "
                         f"got {tuple(train.shape)}")
    data = EnsembleData.from_pool(torch.as_tensor(task.pairs, device=device),
                                  torch.as_tensor(task.labels, device=device),
                                  train.to(device), task.n_classes)
    groups = [ParamGroup([model.emb], lr_emb, wd_emb),
              ParamGroup(model.decoder_params(), lr_dec, wd_dec)]
    crossings = (Crossing("train", "train_acc", cfg.acc_threshold),
                 Crossing("test", "test_acc", cfg.acc_threshold),
                 Crossing("rqi", "rqi", rqi.RQI_THRESHOLD, strict=True))
    # lr and weight decay come with the groups; the loss and prediction with the model.
    schedule = TrainConfig(steps=cfg.steps, n_evals=cfg.n_evals, batch_size=None,
                           betas=cfg.betas)
    return train_ensemble(model, data, schedule, seeds=model.seeds, groups=groups,
                          objective=model, probe=_probe(model), crossings=crossings,
                          eval_from_step=True, fused=True)


def _probe(model: ToyEnsemble) -> Probe:
    """The embeddings and their RQI (NaN but for addition, whose parallelograms it counts)."""
    task = model.task
    quads = (torch.tensor(toydata.parallelograms(task)[0], device=model.emb.device)
             if task.name == "addition" else None)

    def probe(m: nn.Module) -> dict[str, torch.Tensor]:
        r = (rqi.rqi(m.emb, quads) if quads is not None
             else torch.full((m.n_members,), float("nan"), device=m.emb.device))
        return {"emb": m.emb.detach(), "rqi": r}  # the trainer copies what it records

    return probe


@torch.no_grad()
def decoder_map(model: ToyEnsemble, *, resolution: int = 60, margin: float = 0.15
                ) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class of the decoder on a grid over each member's 2-D embedding box.

    Returns ``classes`` (E, resolution, resolution) (rows: second coordinate) and ``extent``
    (E, 4) = (x0, x1, y0, y1), for ``imshow``. With ``mean_inputs`` the map is read at
    midpoints (E_a + E_b) / 2, as the paper's Fig. 2.
    """
    if model.cfg.input_dim != 2 or model.cfg.task == "permutation":
        raise ValueError("decoder maps need 2-D embeddings of an addition task")
    emb = model.emb
    lo, hi = emb.min(1).values, emb.max(1).values  # (E, 2)
    if not model.cfg.mean_inputs:
        lo, hi = 2 * lo, 2 * hi  # the decoder sees sums
    pad = (hi - lo) * margin
    lo, hi = lo - pad, hi + pad
    u = torch.linspace(0, 1, resolution, device=emb.device)
    xs = lo[:, None, 0] + u * (hi - lo)[:, None, 0]  # (E, R)
    ys = lo[:, None, 1] + u * (hi - lo)[:, None, 1]
    grid = torch.stack(torch.broadcast_tensors(xs[:, None, :], ys[:, :, None]), -1)  # (E,R,R,2)
    out = model.decode(grid.flatten(1, 2))
    classes = model.predict(out).view(-1, resolution, resolution)
    extent = torch.stack([lo[:, 0], hi[:, 0], lo[:, 1], hi[:, 1]], 1)
    return classes.cpu().numpy(), extent.cpu().numpy()
