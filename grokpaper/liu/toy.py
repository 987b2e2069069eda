"""Liu et al. 2022 toy model as a vectorized ensemble: embeddings + MLP decoder, two optimizers.

``(a, b) -> Dec(E_a + E_b)`` (Sec. 2); for S_n the embeddings are n x n matrices and the model
hard-codes their product, ``Dec(E_a E_b)`` (Sec. 4.1). Member e has its own embeddings, decoder,
targets, training set and its own learning rate and weight decay for each of the two parameter
groups (embeddings, decoder), so a whole phase diagram trains in one loop. Every step is full
batch; the first steps at which train/test accuracy reach 90% and RQI exceeds 0.95 are tracked
at every step, the curves at log-spaced evaluation steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from grokpaper.core.member_adamw import MemberAdamW
from grokpaper.core.models import _linear_init
from grokpaper.core.train import eval_steps
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
            layers.append([_linear_init(a, b, gd) for a, b in zip(sizes[:-1], sizes[1:],
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


@dataclass
class ToyHistory:
    """Curves (E, T) at ``steps`` (T,), embeddings (E, T, p, d), first-crossing steps (E,)."""

    steps: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    rqi: np.ndarray  # NaN unless the task is addition
    emb: np.ndarray
    step_train: np.ndarray  # first step with train acc >= threshold, -1 if never
    step_test: np.ndarray
    step_rqi: np.ndarray  # first step with RQI > 0.95, -1 if never
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def member(self, e: int) -> dict[str, np.ndarray]:
        out = {k: (v if k == "steps" else v[e]) for k, v in self.__dict__.items()
               if isinstance(v, np.ndarray)}
        out.update({k: v[e] for k, v in self.extra.items()})
        return out


def _per_member(x: torch.Tensor | float, e: int, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=torch.float32)
    return t.expand(e).clone() if t.ndim == 0 else t


def train_toy(model: ToyEnsemble, train: torch.Tensor, cfg: ToyTrainConfig, *,
              lr_emb: torch.Tensor | float, wd_emb: torch.Tensor | float,
              lr_dec: torch.Tensor | float, wd_dec: torch.Tensor | float) -> ToyHistory:
    """Full-batch training of every member on its training mask ``train`` (E, N) bool.

    Two AdamW optimizers as the authors' code: one over the embeddings, one over the decoder,
    each with its own (per-member) learning rate and weight decay.
    """
    device = model.emb.device
    e, task = model.n_members, model.task
    if train.shape != (e, task.n_samples):
        raise ValueError(f"train mask must be ({e}, {task.n_samples}), got {tuple(train.shape)}")
    pairs = torch.as_tensor(task.pairs, device=device)
    labels = torch.as_tensor(task.labels, device=device)
    mask = train.to(device).float()
    n_tr, n_te = mask.sum(1), (1 - mask).sum(1)
    if int(n_tr.min()) == 0:
        raise ValueError("every member needs at least one training sample")
    quads = (torch.tensor(toydata.parallelograms(task)[0], device=device)
             if task.name == "addition" else None)
    hyper = [_per_member(x, e, device) for x in (lr_emb, wd_emb, lr_dec, wd_dec)]
    opts = [MemberAdamW([model.emb], hyper[0], hyper[1], betas=cfg.betas),
            MemberAdamW(model.decoder_params(), hyper[2], hyper[3], betas=cfg.betas)]
    at = eval_steps(cfg.steps, cfg.n_evals)
    rec = {k: torch.full((e, len(at)), float("nan"), device=device)
           for k in ("train_acc", "test_acc", "train_loss", "test_loss", "rqi")}
    embs = torch.zeros(e, len(at), *model.emb.shape[1:], device=device)
    first = {k: torch.full((e,), -1, dtype=torch.long, device=device)
             for k in ("train", "test", "rqi")}
    alive = torch.ones(e, dtype=torch.bool, device=device)
    params = [model.emb, *model.decoder_params()]
    k = 0
    for step in range(cfg.steps + 1):
        out = model(pairs)
        per = model.per_example_loss(out, labels)
        loss_tr = (per * mask).sum(1) / n_tr
        with torch.no_grad():
            hit = (model.predict(out) == labels).float()
            acc_tr = (hit * mask).sum(1) / n_tr
            acc_te = (hit * (1 - mask)).sum(1) / n_te  # NaN when there is no test sample
            r = rqi.rqi(model.emb, quads) if quads is not None else None
            for name, ok in (("train", acc_tr >= cfg.acc_threshold),
                             ("test", acc_te >= cfg.acc_threshold),
                             ("rqi", r > rqi.RQI_THRESHOLD if r is not None else None)):
                if ok is not None:
                    first[name] = torch.where((first[name] < 0) & ok & alive, step, first[name])
            if step == at[k]:
                for name, v in (("train_acc", acc_tr), ("test_acc", acc_te),
                                ("train_loss", loss_tr),
                                ("test_loss", (per * (1 - mask)).sum(1) / n_te), ("rqi", r)):
                    if v is not None:
                        rec[name][:, k] = v
                embs[:, k] = model.emb
                k += 1
        if step == cfg.steps:
            break
        grads = torch.autograd.grad(loss_tr.sum(), params)
        # A member whose loss turns non-finite is frozen; the others go on.
        alive = alive & torch.isfinite(loss_tr.detach())
        active = None if bool(alive.all()) else alive
        opts[0].step([grads[0]], active)
        opts[1].step(list(grads[1:]), active)
    host = {k: v.cpu().numpy() for k, v in rec.items()}
    return ToyHistory(steps=at, emb=embs.cpu().numpy(),
                      **{f"step_{k}": v.cpu().numpy() for k, v in first.items()}, **host)


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
