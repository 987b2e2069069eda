"""AdamW (and plain SGD) over stacked ensemble parameters, with per-member lr and weight decay.

Adam's update is elementwise, so stepping the stacked (E, ...) parameters equals stepping each
member alone; per-member ``lr``/``weight_decay`` tensors of shape (E,) let one ensemble cover a
grid of hyperparameters (phase diagrams). Pure functions: state in, state out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class AdamWState:
    """Moment estimates and the step count shared by all members."""

    step: int
    exp_avg: list[torch.Tensor]
    exp_avg_sq: list[torch.Tensor]


def init_state(params: list[torch.Tensor]) -> AdamWState:
    return AdamWState(0, [torch.zeros_like(p) for p in params],
                      [torch.zeros_like(p) for p in params])


def _per_member(value: torch.Tensor | float, p: torch.Tensor) -> torch.Tensor | float:
    if isinstance(value, torch.Tensor) and value.ndim == 1:
        return value.to(p).reshape(-1, *([1] * (p.ndim - 1)))
    return value


@torch.no_grad()
def adamw_step(params: list[torch.Tensor], grads: list[torch.Tensor], state: AdamWState, *,
               lr: torch.Tensor | float, weight_decay: torch.Tensor | float,
               betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
               coupled: bool = False) -> AdamWState:
    """One step of AdamW (decoupled decay, as ``torch.optim.AdamW``), in place on ``params``.

    ``coupled=True`` gives Adam with L2 regularization instead (``torch.optim.Adam`` with
    ``weight_decay``): the decay term is added to the gradient and normalized with it.
    """
    b1, b2 = betas
    state.step += 1
    bc1 = 1 - b1**state.step
    bc2 = 1 - b2**state.step
    for p, g, m, v in zip(params, grads, state.exp_avg, state.exp_avg_sq, strict=True):
        lr_p = _per_member(lr, p)
        wd_p = _per_member(weight_decay, p)
        if coupled:
            g = g + wd_p * p
        else:
            p.mul_(1 - lr_p * wd_p)
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (v / bc2).sqrt_().add_(eps)
        p.sub_(lr_p * (m / bc1) / denom)
    return state


@torch.no_grad()
def sgd_step(params: list[torch.Tensor], grads: list[torch.Tensor], *,
             lr: torch.Tensor | float, weight_decay: torch.Tensor | float) -> None:
    """One step of plain SGD with L2 (``torch.optim.SGD`` without momentum), in place:
    ``p -= lr * (g + weight_decay * p)``; ``lr``/``weight_decay`` may be (E,) per member."""
    for p, g in zip(params, grads, strict=True):
        p.sub_(_per_member(lr, p) * (g + _per_member(weight_decay, p) * p))
