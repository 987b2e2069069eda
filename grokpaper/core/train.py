"""Vectorized ensemble training: every member its own data, seed and hyperparameters, one loop.

Model, objective (loss and prediction), data layout and optimizer groups are plugged in; the
loop does the rest once for every experiment family: full batch or per-member minibatches,
warm-up, freezing of members whose loss turns non-finite, evaluation in eval mode at chosen
steps, probes, and first-crossing trackers. Everything stays on the device: the host reads
nothing while training (per-step decisions use device tensors) and copies the curves once, at
the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from grokpaper.core import optim
from grokpaper.core.batches import TrainingBatches
from grokpaper.core.ensemble_data import EnsembleData
from grokpaper.core.evaluate import LOSSES, ClassLoss, Objective, Scorer
from grokpaper.core.threads import flush_denormals

OPTIMIZERS = optim.KINDS
SPACINGS = ("log", "linear")
METRICS = ("train_acc", "train_loss", "test_acc", "test_loss")


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


@dataclass(frozen=True)
class Crossing:
    """First-crossing tracker: the first checked step at which ``curve`` (a metric such as
    ``"test_acc"``, or a probe's output) is ``>= threshold`` (``>`` when ``strict``) while the
    member is alive. Reported as ``History.first[name]`` (-1: never)."""

    name: str
    curve: str
    threshold: float
    strict: bool = False


@dataclass
class History:
    """Curves of every member at the evaluation steps (numpy, on the host)."""

    steps: np.ndarray  # (T,)
    train_acc: np.ndarray  # (E, T)
    train_loss: np.ndarray
    test_acc: np.ndarray  # NaN for a member without test rows
    test_loss: np.ndarray
    weight_norm: np.ndarray
    diverged_step: np.ndarray  # (E,) step of the first non-finite loss, -1 if none
    test_group_acc: np.ndarray | None = None  # (E, T, G)
    test_group_loss: np.ndarray | None = None  # (E, T, G)
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # probes: (E, T, ...)
    first: dict[str, np.ndarray] = field(default_factory=dict)  # crossings: (E,) steps

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by name; probes as ``extra_<name>``, crossings as ``step_<name>``."""
        out = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        out.update({f"extra_{k}": v for k, v in self.extra.items()})
        out.update({f"step_{k}": v for k, v in self.first.items()})
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


#: Measures (E, ...) values per member at each evaluation step, e.g. weight norms of one layer.
Probe = Callable[[nn.Module], dict[str, torch.Tensor]]
#: Maps a training minibatch (E, B, ...) at an optimizer step to new inputs (augmentation).
Transform = Callable[[torch.Tensor, int], torch.Tensor]


class _Monitor:
    """Scores, probes and first crossings at the checked steps; curves kept on the device.

    Curves are recorded at the evaluation steps ``at``; the crossings are updated there and
    every ``check_every`` steps, where only what they read is measured.
    """

    def __init__(self, scorer: Scorer, probe: Probe | None, crossings: Sequence[Crossing],
                 at: np.ndarray, check_every: int, e: int, device: torch.device) -> None:
        self.scorer, self.probe, self.crossings, self.at, self.k = scorer, probe, crossings, at, 0
        self.checks = set(at.tolist())
        if crossings:
            self.checks |= set(range(0, int(at[-1]) + 1, check_every))
        reads = {c.curve for c in crossings}
        self.loss_checks = bool(reads & {"train_loss", "test_loss"})
        self.norm_checks = "weight_norm" in reads
        self.probe_checks = bool(reads - {*METRICS, "weight_norm"})
        self.curves: dict[str, torch.Tensor] = {}
        self.extra: dict[str, torch.Tensor] = {}
        self.first = {c.name: torch.full((e,), -1, dtype=torch.long, device=device)
                      for c in crossings}

    def check(self, model: nn.Module, step: int, alive: torch.Tensor,
              outputs: torch.Tensor | None = None, losses: torch.Tensor | None = None) -> None:
        """Measure ``model`` at ``step`` (a member of ``checks``), before its update."""
        due = self.k < len(self.at) and step == self.at[self.k]
        metrics = self.scorer(model, outputs=outputs, losses=losses,
                              accuracy_only=not (due or self.loss_checks))
        extra: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            if due or self.norm_checks:
                metrics["weight_norm"] = model.member_norms()
            if (due or self.probe_checks) and self.probe is not None:
                extra = self.probe(model)
        for c in self.crossings:
            value = metrics[c.curve] if c.curve in metrics else extra.get(c.curve)
            if value is None:
                raise ValueError(f"crossing {c.name!r} reads {c.curve!r}, which is neither a "
                                 f"metric {tuple(metrics)} nor a probe output {tuple(extra)}")
            ok = value > c.threshold if c.strict else value >= c.threshold
            self.first[c.name] = torch.where((self.first[c.name] < 0) & ok & alive, step,
                                             self.first[c.name])
        if due:
            for store, values in ((self.curves, metrics), (self.extra, extra)):
                for name, v in values.items():
                    if name not in store:
                        store[name] = v.new_zeros(v.shape[0], len(self.at), *v.shape[1:])
                    store[name][:, self.k] = v
            self.k += 1

    def history(self, diverged: torch.Tensor) -> History:
        host = {k: v.cpu().numpy() for k, v in self.curves.items()}
        return History(steps=self.at, diverged_step=diverged.cpu().numpy(),
                       extra={k: v.cpu().numpy() for k, v in self.extra.items()},
                       first={k: v.cpu().numpy() for k, v in self.first.items()}, **host)


def train_ensemble(model: nn.Module, data: EnsembleData, cfg: TrainConfig, *, seeds: list[int],
                   lr: torch.Tensor | None = None, weight_decay: torch.Tensor | None = None,
                   groups: list[optim.ParamGroup] | None = None,
                   objective: Objective | None = None, probe: Probe | None = None,
                   transform: Transform | None = None, crossings: Sequence[Crossing] = (),
                   check_every: int = 1, eval_from_step: bool = False,
                   fused: bool = False) -> History:
    """Train every member of ``model`` on its own rows of ``data``; curves at :func:`eval_steps`.

    ``seeds`` fix each member's minibatch order, and together the training-time randomness
    (dropout, noise: one generator for the ensemble, so a member with random layers also
    depends on its ensemble-mates' seeds). Optimizer: ``cfg.optimizer`` over ``groups`` (each
    with per-member lr and weight decay), or over all parameters with ``lr`` / ``weight_decay``
    (E,) (default: ``cfg``'s values); ``fused``: see :class:`optim.EnsembleOptimizer`.
    ``objective``: loss and prediction (default: ``cfg.loss`` on class labels).

    ``probe(model)`` is called without gradients at every evaluation step; each of its (E, ...)
    outputs becomes an (E, T, ...) curve in ``History.extra``. ``transform(x, step)`` replaces
    every training batch's inputs (data augmentation); evaluation sees the untransformed data.
    ``crossings`` are checked at the evaluation steps and every ``check_every`` steps.

    The model is in training mode for the optimizer steps and in eval mode while evaluated.
    ``eval_from_step``: the model has no mode-dependent layers and trains full batch on a
    shared pool (:meth:`EnsembleData.from_pool`), so an evaluation reads the step's own
    forward pass instead of running another. A member whose loss turns non-finite is frozen
    (its parameters keep their last values) and its step recorded; the others go on.
    """
    e = data.n_members
    if len(seeds) != e:
        raise ValueError(f"seeds has {len(seeds)} entries for an ensemble of {e} members")
    if not isinstance(check_every, int) or check_every < 1:
        raise ValueError(f"check_every must be a positive integer, got {check_every!r}")
    if groups is None:
        groups = [optim.ParamGroup(list(model.parameters()),
                                   cfg.lr if lr is None else lr,
                                   cfg.weight_decay if weight_decay is None else weight_decay)]
    elif lr is not None or weight_decay is not None:
        raise ValueError("give lr and weight_decay per parameter group, not both")
    opt = optim.EnsembleOptimizer(groups, kind=cfg.optimizer, betas=cfg.betas, fused=fused)
    objective = objective if objective is not None else ClassLoss(cfg.loss, data.n_classes)
    batches = TrainingBatches(data, seeds, cfg.batch_size)
    if eval_from_step and not (batches.full and data.x_test is None and transform is None):
        raise ValueError("eval_from_step needs full batches on a shared pool and no transform")
    device = opt.params[0].device
    monitor = _Monitor(Scorer(data, objective), probe, crossings,
                       eval_steps(cfg.steps, cfg.n_evals, cfg.eval_spacing), check_every, e,
                       device)
    alive = torch.ones(e, dtype=torch.bool, device=device)
    lived = torch.zeros(e, dtype=torch.long, device=device)  # steps each member took
    was_training = model.training
    model.train()
    # Training-time randomness (dropout, noise) comes from the global generator: seeded from
    # the members' seeds here, and the caller's generator state restored after.
    with (torch.random.fork_rng(devices=[device] if device.type == "cuda" else []),
          flush_denormals(device)):
        torch.manual_seed(sum(int(s) * 1_000_003**i for i, s in enumerate(seeds)) % 2**62)
        for step in range(cfg.steps + 1):
            per = None
            if step in monitor.checks:
                if eval_from_step:  # this step's forward pass is the evaluation's
                    out = model(data.x_train)
                    per = objective.per_example_loss(out, data.y_train)
                    monitor.check(model, step, alive, outputs=out, losses=per)
                else:
                    monitor.check(model, step, alive)
            if step == cfg.steps:
                break
            if per is None:
                x, y = batches.at(step)
                out = model(x if transform is None else transform(x, step))
                per = objective.per_example_loss(out, y)
            loss_e = batches.mean(per)
            # Members are independent: the gradient of the sum is each member's own gradient.
            grads = torch.autograd.grad(loss_e.sum(), opt.params)
            alive = alive & torch.isfinite(loss_e.detach())
            lived += alive  # a member whose loss first fails at step d took d steps
            warm = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
            opt.step(list(grads), alive, warm)
    model.train(was_training)
    return monitor.history(torch.where(alive, -1, lived))


def n_params(model: nn.Module) -> int:
    """Parameters per member."""
    return sum(math.prod(p.shape[1:]) for p in model.parameters())
