"""Loss landscapes around final weights along two random directions (Li et al. 2018).

``L(a, b) = loss(theta + a * d1 + b * d2)`` on a grid of ``(a, b)``. Two ways to scale the
random Gaussian directions:

- ``"tensor"`` (Li & Sakib's): each parameter tensor's direction has unit Frobenius norm, so a
  step moves every tensor by the same absolute amount whatever its size;
- ``"filter"`` (Li et al. 2018, Sec. 4): each row of a weight matrix (one output unit, or one
  embedding vector) is scaled to the norm of the weights it perturbs; directions on 1-D
  parameters (biases, LayerNorm gains and shifts) are zeroed ("ignore biasbn").

The grid is evaluated as an ensemble: the weights of a chunk of grid points are stacked and the
model is run once per chunk with ``torch.func.vmap`` over them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

NORMALIZATIONS = ("tensor", "filter")
GRID_CHUNK = 64  # grid points evaluated in one vmapped forward pass
_EPS = 1e-10


def random_direction(params: Mapping[str, torch.Tensor], *, seed: int) -> dict[str, torch.Tensor]:
    """A Gaussian direction with the shapes of ``params``, drawn in name order from ``seed``."""
    g = torch.Generator().manual_seed(int(seed))
    return {k: torch.randn(v.shape, generator=g, dtype=v.dtype).to(v.device)
            for k, v in sorted(params.items())}


def normalize(direction: Mapping[str, torch.Tensor], params: Mapping[str, torch.Tensor],
              method: str) -> dict[str, torch.Tensor]:
    """``direction`` scaled by ``method`` (see the module docstring) relative to ``params``."""
    if method not in NORMALIZATIONS:
        raise ValueError(f"method must be one of {NORMALIZATIONS}, got {method!r}")
    out = {}
    for k, d in direction.items():
        w = params[k]
        if d.shape != w.shape:
            raise ValueError(f"direction {k} has shape {tuple(d.shape)}, weights {tuple(w.shape)}")
        if method == "tensor":
            out[k] = d / (d.norm() + _EPS)
        elif d.ndim <= 1:
            out[k] = torch.zeros_like(d)
        else:
            rows_d = d.flatten(1).norm(dim=1)
            rows_w = w.flatten(1).norm(dim=1)
            out[k] = d * (rows_w / (rows_d + _EPS)).reshape(-1, *([1] * (d.ndim - 1)))
    return out


def directions(params: Mapping[str, torch.Tensor], method: str, *, seed: int
               ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Two normalized random directions (seeds ``seed`` and ``seed + 1``)."""
    return (normalize(random_direction(params, seed=seed), params, method),
            normalize(random_direction(params, seed=seed + 1), params, method))


@torch.no_grad()
def grid_loss(module: nn.Module, params: Mapping[str, torch.Tensor],
              d1: Mapping[str, torch.Tensor], d2: Mapping[str, torch.Tensor], coords: np.ndarray,
              x: torch.Tensor, y: torch.Tensor, *, chunk: int = GRID_CHUNK) -> np.ndarray:
    """Mean cross-entropy of ``module`` on ``(x, y)`` at ``theta + a d1 + b d2`` for every
    ``a, b`` in ``coords``; returns an array of shape ``(len(coords), len(coords))`` [a, b].

    ``module`` gives the architecture and its buffers; it is run in eval mode.
    """
    module = module.eval()
    buffers = dict(module.named_buffers())
    c = torch.as_tensor(np.asarray(coords, dtype=np.float32))
    aa, bb = torch.meshgrid(c, c, indexing="ij")
    aa, bb = aa.reshape(-1), bb.reshape(-1)
    names = sorted(params)

    def one(p: dict, xx: torch.Tensor) -> torch.Tensor:
        return functional_call(module, (p, buffers), (xx,))

    losses = []
    for i in range(0, len(aa), chunk):
        a, b = aa[i : i + chunk], bb[i : i + chunk]
        stacked = {}
        for k in names:
            shape = (-1, *([1] * params[k].ndim))
            stacked[k] = (params[k] + a.reshape(shape).to(params[k]) * d1[k]
                          + b.reshape(shape).to(params[k]) * d2[k])
        logits = vmap(one, in_dims=(0, None))(stacked, x)  # (G, N, C)
        ce = nn.functional.cross_entropy(logits.transpose(1, 2), y.expand(len(a), -1),
                                         reduction="none")
        losses.append(ce.mean(1))
    return torch.cat(losses).reshape(len(c), len(c)).cpu().numpy()


def roughness(surface: np.ndarray) -> dict[str, float]:
    """Summaries of a loss surface: its range (max - min), the loss at the centre, and the
    mean absolute discrete Laplacian (how uneven the surface is, in loss units per cell)."""
    s = np.asarray(surface, dtype=float)
    lap = (s[2:, 1:-1] + s[:-2, 1:-1] + s[1:-1, 2:] + s[1:-1, :-2] - 4 * s[1:-1, 1:-1])
    mid = s[s.shape[0] // 2, s.shape[1] // 2]
    return {"range": float(s.max() - s.min()), "centre": float(mid),
            "laplacian": float(np.abs(lap).mean()) if lap.size else float("nan")}
