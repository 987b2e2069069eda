"""Vectorized ensemble training: every member its own data, seed and hyperparameters, one loop.

All tensors stay on one device; evaluation happens on device at pre-chosen steps and is copied
to the host once at the end. A member whose loss turns NaN/inf is frozen and its divergence step
recorded; the other members go on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from grokpaper.core import optim

LOSSES = ("ce", "mse")
OPTIMIZERS = ("adamw", "adam", "sgd")
SPACINGS = ("log", "linear")
_EVAL_CHUNK = 4096  # test rows per forward pass: bounds memory at E x chunk x width


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings shared by every member of an ensemble."""

    steps: int = 20_000  # optimizer steps; Carvalho et al. do not give their epoch budget
    # "we set the learning rate of the models to 10^-3, the weight decay to 10^-4" (Sec. 5.1)
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"  # "adamw": decoupled decay; "adam"/"sgd": L2 added to the gradient
    loss: str = "ce"  # "ce" cross-entropy, or "mse" against one-hot targets (Omnigrok)
    batch_size: int | None = 200  # "200" per the authors' thesis; None means full batch
    n_evals: int = 100  # evaluation points, log-spaced over the run (curves use a log x-axis)
    betas: tuple[float, float] = (0.9, 0.999)  # torch defaults; no paper gives them
    # Linear warm-up: step t uses lr * min(1, (t + 1) / warmup_steps); 0 = none. With 10 this
    # is torch's LinearLR(start_factor=0.1, total_iters=9) (the Power et al. reimplementation).
    warmup_steps: int = 0
    eval_spacing: str = "log"  # "log" (curves on a log x-axis) or "linear" evaluation steps

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int)
                                            or self.batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer or None, "
                             f"got {self.batch_size!r}")
        if not isinstance(self.n_evals, int) or self.n_evals < 2:
            raise ValueError(f"n_evals must be an integer >= 2, got {self.n_evals!r}")
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
        if self.eval_spacing not in SPACINGS:
            raise ValueError(f"eval_spacing must be one of {SPACINGS}, "
                             f"got {self.eval_spacing!r}")


@dataclass
class EnsembleData:
    """Training data per member (padded to a common length) and one shared test set."""

    x_train: torch.Tensor  # (E, n_max, ...) per member
    y_train: torch.Tensor  # (E, n_max) class labels
    n_train: torch.Tensor  # (E,) real training-set size of each member; rows beyond are padding
    x_test: torch.Tensor  # (N, ...) shared by all members
    y_test: torch.Tensor  # (N,)
    n_classes: int
    test_groups: torch.Tensor | None = None  # (N,) group id per test row, for per-group accuracy

    def __post_init__(self) -> None:
        e, n_max = self.y_train.shape
        if self.x_train.shape[:2] != (e, n_max) or self.n_train.shape != (e,):
            raise ValueError("x_train, y_train and n_train disagree on the ensemble size")
        if int(self.n_train.min()) <= 0 or int(self.n_train.max()) > n_max:
            raise ValueError(f"n_train must lie in [1, {n_max}]")

    def to(self, device: torch.device | str) -> EnsembleData:
        move = {k: (v.to(device) if isinstance(v, torch.Tensor) else v)
                for k, v in self.__dict__.items()}
        return EnsembleData(**move)


@dataclass
class History:
    """Curves of every member at the evaluation steps (numpy, on the host)."""

    steps: np.ndarray  # (T,)
    train_acc: np.ndarray  # (E, T)
    train_loss: np.ndarray
    test_acc: np.ndarray
    test_loss: np.ndarray
    weight_norm: np.ndarray
    diverged_step: np.ndarray  # (E,) step of the first non-finite loss, -1 if none
    test_group_acc: np.ndarray | None = None  # (E, T, G)
    test_group_loss: np.ndarray | None = None  # (E, T, G)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        out.update({f"extra_{k}": v for k, v in self.extra.items()})
        return out

    def member(self, e: int) -> dict[str, np.ndarray]:
        """The curves of member ``e`` alone."""
        return {k: (v if k == "steps" else v[e]) for k, v in self.arrays().items()}


def eval_steps(steps: int, n_evals: int, spacing: str = "log") -> np.ndarray:
    """About ``n_evals`` distinct integer steps from 0 to ``steps`` inclusive, log-spaced or
    (``spacing="linear"``) evenly spaced."""
    if spacing == "linear":
        return np.unique(np.round(np.linspace(0, steps, n_evals)).astype(int))
    pts = np.unique(np.round(np.geomspace(1, steps + 1, n_evals)).astype(int) - 1)
    return np.union1d(pts, [0, steps])


class _BatchStream:
    """Per-member epoch shuffles drawn in chunks, so member e's order depends only on its seed."""

    def __init__(self, seeds: list[int], n_train: list[int], batch: int, chunk: int) -> None:
        self.gens = [torch.Generator().manual_seed(10_007 * int(s) + 1) for s in seeds]
        self.n, self.batch, self.chunk = n_train, batch, chunk
        self.buffers = [torch.empty(0, dtype=torch.long) for _ in seeds]

    def next_chunk(self) -> torch.Tensor:
        """(chunk, E, batch) indices into each member's own training rows."""
        need = self.chunk * self.batch
        out = []
        for e, g in enumerate(self.gens):
            buf = self.buffers[e]
            while len(buf) < need:
                buf = torch.cat([buf, torch.randperm(self.n[e], generator=g)])
            out.append(buf[:need].view(self.chunk, self.batch))
            self.buffers[e] = buf[need:]
        return torch.stack(out, dim=1)


def _member_loss(logits: torch.Tensor, y: torch.Tensor, kind: str, n_classes: int) -> torch.Tensor:
    """Per-example loss (E, N)."""
    if kind == "ce":
        return nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none")
    target = nn.functional.one_hot(y, n_classes).to(logits.dtype)
    return (logits - target).pow(2).mean(-1)


@torch.no_grad()
def _evaluate(model: nn.Module, data: EnsembleData, cfg: TrainConfig
              ) -> tuple[torch.Tensor, ...]:
    # Evaluation mode (no dropout or training noise); the caller's mode is restored after.
    was_training = model.training
    model.eval()
    try:
        return _evaluate_eval_mode(model, data, cfg)
    finally:
        model.train(was_training)


def _evaluate_eval_mode(model: nn.Module, data: EnsembleData, cfg: TrainConfig
                        ) -> tuple[torch.Tensor, ...]:
    e, n_max = data.y_train.shape
    mask = torch.arange(n_max, device=data.y_train.device) < data.n_train[:, None]
    logits = model(data.x_train)
    loss = _member_loss(logits, data.y_train, cfg.loss, data.n_classes)
    hit = (logits.argmax(-1) == data.y_train).float()
    n = data.n_train.to(loss.dtype)
    train_loss = (loss * mask).sum(1) / n
    train_acc = (hit * mask).sum(1) / n
    hits, losses = [], []
    for i in range(0, len(data.y_test), _EVAL_CHUNK):
        x, y = data.x_test[i : i + _EVAL_CHUNK], data.y_test[i : i + _EVAL_CHUNK]
        out = model(x)
        yy = y.expand(e, -1)
        losses.append(_member_loss(out, yy, cfg.loss, data.n_classes))
        hits.append((out.argmax(-1) == yy).float())
    hit_test = torch.cat(hits, dim=1)
    loss_test = torch.cat(losses, dim=1)
    test_acc = hit_test.mean(1)
    test_loss = loss_test.mean(1)
    group_acc = group_loss = None
    if data.test_groups is not None:
        g = data.test_groups
        n_groups = int(g.max()) + 1
        counts = torch.bincount(g, minlength=n_groups).to(hit_test.dtype)
        zeros = torch.zeros(e, n_groups, device=hit_test.device)
        group_acc = zeros.index_add(1, g, hit_test) / counts
        group_loss = zeros.index_add(1, g, loss_test) / counts
    return train_acc, train_loss, test_acc, test_loss, group_acc, group_loss


#: Measures (E,) values per member at each evaluation step, e.g. weight norms of one layer.
Probe = Callable[[nn.Module], dict[str, torch.Tensor]]
#: Maps a training minibatch (E, B, ...) at an optimizer step to new inputs (augmentation).
Transform = Callable[[torch.Tensor, int], torch.Tensor]


def train_ensemble(model: nn.Module, data: EnsembleData, cfg: TrainConfig, *, seeds: list[int],
                   lr: torch.Tensor | None = None, weight_decay: torch.Tensor | None = None,
                   probe: Probe | None = None, transform: Transform | None = None) -> History:
    """Train every member of ``model`` on its own data; returns curves at :func:`eval_steps`.

    ``seeds`` fix each member's minibatch order. ``lr``/``weight_decay`` optionally give one
    value per member (shape (E,)); otherwise ``cfg``'s values apply to all. ``probe(model)``,
    if given, is called (without gradients) at every evaluation step; each of its (E,) outputs
    becomes an (E, T) curve in ``History.extra``. ``transform(x, step)``, if given, replaces
    every training minibatch's inputs before the forward pass (data augmentation); evaluation
    sees the untransformed data. The model is in training mode
    (``model.train()``) for the optimizer steps and in eval mode while evaluated.
    """
    params = list(model.parameters())
    device = params[0].device
    e, n_max = data.y_train.shape
    if len(seeds) != e:
        raise ValueError(f"seeds has {len(seeds)} entries for an ensemble of {e} members")
    lr_t = lr.to(device) if lr is not None else torch.full((e,), cfg.lr, device=device)
    wd_t = (weight_decay.to(device) if weight_decay is not None
            else torch.full((e,), cfg.weight_decay, device=device))
    full_batch = cfg.batch_size is None or cfg.batch_size >= int(data.n_train.max())
    if not full_batch and cfg.batch_size > int(data.n_train.min()):
        raise ValueError(f"batch_size {cfg.batch_size} exceeds the smallest training set "
                         f"({int(data.n_train.min())} samples)")
    chunk = 256
    stream = None if full_batch else _BatchStream(seeds, data.n_train.tolist(),
                                                  cfg.batch_size, chunk)
    mask = (torch.arange(n_max, device=device) < data.n_train[:, None]).float()
    rows = torch.arange(e, device=device)[:, None]
    at = eval_steps(cfg.steps, cfg.n_evals, cfg.eval_spacing)
    t = len(at)
    rec = {k: torch.zeros(e, t, device=device) for k in
           ("train_acc", "train_loss", "test_acc", "test_loss", "weight_norm")}
    extra: dict[str, torch.Tensor] = {}
    was_training = model.training
    model.train()
    group_rec = group_loss_rec = None
    alive = torch.ones(e, dtype=torch.bool, device=device)
    diverged = torch.full((e,), -1, dtype=torch.long, device=device)
    state = optim.init_state(params)
    coupled = cfg.optimizer == "adam"
    k = 0
    idx_chunk = None
    for step in range(cfg.steps + 1):
        if step == at[k]:
            out = _evaluate(model, data, cfg)
            for name, val in zip(("train_acc", "train_loss", "test_acc", "test_loss"), out[:4],
                                 strict=True):
                rec[name][:, k] = val
            with torch.no_grad():
                rec["weight_norm"][:, k] = model.member_norms()
                for name, val in (probe(model) if probe is not None else {}).items():
                    extra.setdefault(name, torch.zeros(e, t, device=device))[:, k] = val
            if out[4] is not None:
                if group_rec is None:
                    group_rec = torch.zeros(e, t, out[4].shape[1], device=device)
                    group_loss_rec = torch.zeros_like(group_rec)
                group_rec[:, k] = out[4]
                group_loss_rec[:, k] = out[5]
            k += 1
        if step == cfg.steps:
            break
        if full_batch:
            x = data.x_train if transform is None else transform(data.x_train, step)
            logits = model(x)
            per = _member_loss(logits, data.y_train, cfg.loss, data.n_classes)
            loss_e = (per * mask).sum(1) / data.n_train
        else:
            if step % chunk == 0:
                idx_chunk = stream.next_chunk().to(device)
            idx = idx_chunk[step % chunk]
            x = data.x_train[rows, idx]
            logits = model(x if transform is None else transform(x, step))
            per = _member_loss(logits, data.y_train[rows, idx], cfg.loss, data.n_classes)
            loss_e = per.mean(1)
        # Members are independent: the gradient of the sum is each member's own gradient.
        grads = torch.autograd.grad(loss_e.sum(), params)
        finite = torch.isfinite(loss_e)
        diverged = torch.where(alive & ~finite, step, diverged)
        alive = alive & finite
        grads = [torch.where(_bcast(alive, g), g, 0.0) for g in grads]
        live = alive.to(lr_t.dtype)
        if cfg.warmup_steps:
            live = live * min(1.0, (step + 1) / cfg.warmup_steps)
        if cfg.optimizer == "sgd":
            optim.sgd_step(params, grads, lr=lr_t * live, weight_decay=wd_t)
        else:
            optim.adamw_step(params, grads, state, lr=lr_t * live, weight_decay=wd_t,
                             betas=cfg.betas, coupled=coupled)
    model.train(was_training)
    host = {k: v.cpu().numpy() for k, v in rec.items()}
    return History(steps=at, diverged_step=diverged.cpu().numpy(),
                   test_group_acc=None if group_rec is None else group_rec.cpu().numpy(),
                   test_group_loss=None if group_rec is None else group_loss_rec.cpu().numpy(),
                   extra={k: v.cpu().numpy() for k, v in extra.items()}, **host)


def _bcast(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return mask.reshape(-1, *([1] * (like.ndim - 1)))


def n_params(model: nn.Module) -> int:
    """Parameters per member."""
    return sum(math.prod(p.shape[1:]) for p in model.parameters())
