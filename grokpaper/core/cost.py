"""What an ensemble computes: FLOPs per step and per evaluation, from formulas, not measurements.

Each family describes one member's forward pass on one example with the helpers below (the
matmul and convolution FLOPs), and its experiment module turns a chunk of runs into an
:class:`EnsembleCost` (rows per step, rows per evaluation, steps, evaluations); its bytes come
from :mod:`grokpaper.core.memory`. ``tests/test_cost.py`` holds each family's formula to
``torch.utils.flop_counter``'s count of a real run.

Conventions: a multiply-add is 2 FLOPs; a training step costs 3 forward passes (the backward
pass computes gradients of the inputs and of the weights); only matmuls and convolutions are
counted: the elementwise work is part of the fixed time per step that a calibration measures
(:mod:`grokpaper.core.throughput`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from grokpaper.core.memory import EVAL_CHUNK


def linear(n_in: int, n_out: int, rows: float = 1.0) -> float:
    """FLOPs of ``rows`` rows through a dense layer."""
    return 2.0 * n_in * n_out * rows


def mlp(sizes: list[int]) -> float:
    """FLOPs of one row through a dense network ``sizes[0] -> ... -> sizes[-1]``."""
    return sum(linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def attention_layer(tokens: int, d: int, d_ff: int, *, queries: int | None = None) -> float:
    """FLOPs of one transformer layer on one sequence: K and V of every token, Q of the
    ``queries`` last positions (all by default), scores and mixing, the output projection and
    a two-layer feed-forward of width ``d_ff``."""
    q = tokens if queries is None else queries
    return (linear(d, 2 * d, tokens) + linear(d, d, q) + 2.0 * 2 * q * tokens * d
            + linear(d, d, q) + linear(d, d_ff, q) + linear(d_ff, d, q))


def optimizer_flops(params: int) -> float:
    """An Adam-style update: about 10 elementwise operations per parameter (memory-bound: the
    calibration's fixed time per step carries them; counted here for the record)."""
    return 10.0 * params


@dataclass(frozen=True)
class EnsembleCost:
    """What one member of an ensemble computes: ``steps`` optimizer steps on ``batch`` rows
    each; ``evals`` evaluations on ``eval_rows`` rows each (its training and test rows), and
    ``checks`` accuracy checks in between (first-crossing trackers) on the same rows."""

    family: str  # which calibrated rate applies (grokpaper.core.throughput)
    params: int  # per member
    forward: float  # FLOPs of one example's forward pass
    batch: float  # rows per member per optimizer step
    steps: int
    eval_rows: float  # rows per member per evaluation
    evals: int
    checks: int = 0
    eval_chunk: int = EVAL_CHUNK  # rows per forward pass of an evaluation

    @property
    def train_flops(self) -> float:
        """Per member per optimizer step."""
        return 3.0 * self.forward * self.batch + optimizer_flops(self.params)

    @property
    def eval_flops(self) -> float:
        """Per member per evaluation."""
        return self.forward * self.eval_rows

    @property
    def eval_batches(self) -> int:
        """Forward passes per evaluation."""
        return max(1, math.ceil(self.eval_rows / self.eval_chunk))

    def flops(self, members: int) -> float:
        """Every FLOP of an ensemble of ``members``: steps, evaluations and checks."""
        return members * (self.steps * self.train_flops
                          + (self.evals + self.checks) * self.eval_flops)
