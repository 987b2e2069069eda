"""Ensemble models: E independent networks stored as batched weights with a leading axis E.

Inputs are ``(E, N, features)`` (one batch per member) or ``(N, features)`` (shared by all
members, e.g. a common test set); outputs are ``(E, N, classes)``. Member ``e`` is initialized
exactly like a fresh ``torch.nn.Linear`` stack seeded with ``seeds[e]``, then scaled by alpha,
so member ``e`` of an ensemble equals a model trained alone with the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "gelu": nn.functional.gelu}


@dataclass(frozen=True)
class MLPConfig:
    """Fully connected network; Carvalho et al. do not give its size, so it is a parameter."""

    hidden: tuple[int, ...] = (200, 200)  # Omnigrok's MNIST MLP width; unspecified by Carvalho
    activation: str = "relu"  # ReLU as in Liu et al.'s MNIST MLP; unspecified by Carvalho
    # "an initialization scale factor of 8 (i.e., we multiply all the weights of the model to
    # this number as described in Liu et al. (2022)" (Carvalho et al., Sec. 5.1)
    alpha: float = 8.0

    def __post_init__(self) -> None:
        if not self.hidden or any(not isinstance(h, int) or h <= 0 for h in self.hidden):
            raise ValueError(
                f"hidden must be a non-empty tuple of positive ints, got {self.hidden!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        if not self.alpha > 0:
            raise ValueError(f"alpha (init scale) must be positive, got {self.alpha!r}")


def linear_init(n_in: int, n_out: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A fresh ``nn.Linear(n_in, n_out)``'s weight (transposed: (n_in, n_out)) and bias, drawn
    from ``g``."""
    # nn.Linear's default (kaiming_uniform with a=sqrt(5)) is U(-1/sqrt(n_in), 1/sqrt(n_in)).
    bound = 1.0 / math.sqrt(n_in)
    w = (torch.rand(n_out, n_in, generator=g) * 2 - 1) * bound
    b = (torch.rand(n_out, generator=g) * 2 - 1) * bound
    return w.T.contiguous(), b


class EnsembleMLP(nn.Module):
    """E MLPs ``n_in -> hidden... -> n_out`` evaluated together with batched matmuls."""

    def __init__(self, n_in: int, n_out: int, config: MLPConfig, seeds: list[int]) -> None:
        super().__init__()
        if not seeds:
            raise ValueError("seeds must name at least one ensemble member")
        self.config = config
        self.seeds = list(seeds)
        sizes = [n_in, *config.hidden, n_out]
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            ws, bs = zip(*(linear_init(a, b, g) for g in gens), strict=True)
            # "multiply all the weights of the model" by alpha: weights and biases alike, as in
            # Liu et al.'s code (every parameter is scaled).
            self.weights.append(nn.Parameter(torch.stack(ws) * config.alpha))
            self.biases.append(nn.Parameter(torch.stack(bs)[:, None, :] * config.alpha))
        self._act = ACTIVATIONS[config.activation]

    @property
    def n_members(self) -> int:
        return len(self.seeds)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            # (N, in) @ (E, in, out) broadcasts to (E, N, out); (E, N, in) uses a batched matmul.
            h = torch.matmul(h, w) + b
            if i < last:
                h = self._act(h)
        return h

    def member_norms(self) -> torch.Tensor:
        """(E,) L2 norm of all parameters of each member."""
        sq = sum(p.pow(2).flatten(1).sum(1) for p in self.parameters())
        return sq.sqrt()


def count_parameters(factory: Callable[[], nn.Module]) -> int:
    """Parameters of the module ``factory()`` builds, built on the meta device (no memory,
    no random numbers drawn)."""
    with torch.device("meta"):
        return sum(p.numel() for p in factory().parameters())
