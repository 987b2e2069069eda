"""What an ensemble costs: FLOPs, bytes on the device, and how many members fit a memory budget.

Formulas, not measurements: each family describes one member's forward pass per example
(:class:`Forward`: matmul/convolution FLOPs, floats kept for the backward pass, floats alive in
a forward pass without gradients) with the helpers below, and its experiment module turns a
chunk of runs into an :class:`EnsembleCost` (rows per step, rows per evaluation, data, curves).
The tests hold the formulas to a count: FLOPs against ``torch.utils.flop_counter`` and the peak
bytes against the tensors alive while a small ensemble of each family trains.

Conventions: a multiply-add is 2 FLOPs; a training step costs 3 forward passes (the backward
pass computes gradients of the inputs and of the weights); only matmuls and convolutions are
counted (the elementwise work is the per-step overhead a calibration measures, see
:mod:`grokpaper.core.throughput`). Memory is float32.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

FLOAT = 4  # bytes of a float32
INDEX = 8  # bytes of an int64 (token ids, labels)
#: Test rows per forward pass of an evaluation (grokpaper.core.evaluate.EVAL_CHUNK).
EVAL_CHUNK = 4096
#: Environment variable overriding the memory budget, e.g. "6GiB" or "800MB".
BUDGET_ENV = "GROKPAPER_MEMORY_BUDGET"
#: Share of a GPU's free memory an ensemble may plan to use: the allocator's fragmentation and
#: the formulas' error (see the tests: within a factor 2) take the rest.
CUDA_SHARE = 0.7
#: Share of the machine's RAM on a CPU (the kernel, the notebook's data frames and other
#: processes take the rest).
CPU_SHARE = 0.5
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


@dataclass(frozen=True)
class Forward:
    """One member's forward pass on one example."""

    flops: float  # matmul and convolution FLOPs
    saved: float  # floats kept for the backward pass (training)
    live: float  # floats alive at once without gradients (evaluation)

    def __add__(self, other: Forward) -> Forward:
        return Forward(self.flops + other.flops, self.saved + other.saved,
                       max(self.live, other.live))

    def times(self, n: float) -> Forward:
        """``n`` of these in sequence (e.g. layers)."""
        return Forward(self.flops * n, self.saved * n, self.live)


def linear(n_in: int, n_out: int, rows: float = 1.0) -> Forward:
    """``rows`` rows through a dense layer (the input is kept for the weight gradient)."""
    return Forward(2.0 * n_in * n_out * rows, float(n_in * rows), float((n_in + n_out) * rows))


def mlp(sizes: list[int]) -> Forward:
    """A dense network ``sizes[0] -> ... -> sizes[-1]`` with an activation between layers: each
    layer keeps its input and its activation's output."""
    out = Forward(0.0, 0.0, 0.0)
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        out = out + linear(a, b)
    hidden = sum(sizes[1:-1])
    return Forward(out.flops, out.saved + hidden + 2 * sizes[-1], out.live)


def attention_layer(tokens: int, d: int, d_ff: int, heads: int, *, queries: int | None = None,
                    extra_saved: float = 0.0) -> Forward:
    """One transformer layer: Q/K/V and output projections, attention over ``tokens`` keys from
    ``queries`` query positions (all by default), a two-layer feed-forward of width ``d_ff``,
    two LayerNorms. ``extra_saved``: floats a particular implementation keeps on top (e.g.
    broadcast products instead of matmuls, dropout masks)."""
    q = tokens if queries is None else queries
    flops = (2.0 * tokens * d * 2 * d + 2.0 * q * d * d  # K, V of every token; Q of the queries
             + 2.0 * 2 * q * tokens * d  # scores and mixing
             + 2.0 * q * d * d + 2.0 * 2 * q * d * d_ff)  # output projection, feed-forward
    # Kept: LayerNorm in/out, Q/K/V, scores and their softmax, the mix, the projection, the
    # residual sums, the feed-forward's hidden layer before and after its activation.
    saved = tokens * 4 * d + q * 6 * d + 2 * heads * q * tokens + 2 * q * d_ff + extra_saved
    live = tokens * 4 * d + heads * q * tokens + q * (2 * d + d_ff)
    return Forward(flops, float(saved), float(live))


def optimizer_flops(params: int) -> float:
    """An Adam-style update: about 10 elementwise operations per parameter (for the record:
    they are memory-bound, so the calibration's per-step time carries them)."""
    return 10.0 * params


@dataclass(frozen=True)
class EnsembleCost:
    """What one ensemble of a family costs: per member, and once for the ensemble.

    ``steps`` optimizer steps on ``batch`` rows each; ``evals`` evaluations on ``eval_rows``
    rows each (the member's training and test rows); ``checks`` accuracy checks in between
    (first-crossing trackers) on the same rows.
    """

    family: str  # which calibrated rate applies (grokpaper.core.throughput)
    params: int  # per member
    forward: Forward  # per example
    batch: float  # rows per member per optimizer step
    steps: int
    eval_rows: float  # rows per member per evaluation
    evals: int
    checks: int = 0
    data_bytes: float = 0.0  # per member on the device (its training rows, masks)
    curve_bytes: float = 0.0  # per member: curves and probes at every evaluation point
    shared_bytes: float = 0.0  # once per ensemble (a test set or pool every member reads)
    states: int = 2  # optimizer moments per parameter (Adam 2, SGD 0)
    eval_chunk: int = EVAL_CHUNK

    @property
    def train_flops(self) -> float:
        """Per member per optimizer step."""
        return 3.0 * self.forward.flops * self.batch + optimizer_flops(self.params)

    @property
    def eval_flops(self) -> float:
        """Per member per evaluation."""
        return self.forward.flops * self.eval_rows

    @property
    def eval_batches(self) -> int:
        """Forward passes per evaluation."""
        return max(1, math.ceil(self.eval_rows / self.eval_chunk))

    def flops(self, members: int) -> float:
        """Every FLOP of the ensemble: steps, evaluations and checks."""
        return members * (self.steps * self.train_flops
                          + (self.evals + self.checks) * self.eval_flops)

    def member_bytes(self) -> float:
        """Device bytes each member adds: parameters, gradients, optimizer moments, the larger
        of a step's saved activations and an evaluation chunk's, its data and curves (and the
        per-row hits and losses an evaluation gathers)."""
        weights = self.params * FLOAT * (2 + self.states)
        rows = min(self.eval_rows, self.eval_chunk)
        act = FLOAT * max(self.batch * self.forward.saved, rows * self.forward.live)
        return weights + act + self.data_bytes + self.curve_bytes + 2 * FLOAT * self.eval_rows

    def peak_bytes(self, members: int) -> float:
        return members * self.member_bytes() + self.shared_bytes


def members_per_chunk(cost: EnsembleCost, budget: float, max_members: int) -> int:
    """How many members one ensemble of ``cost`` may have within ``budget`` bytes: all
    ``max_members`` when they fit, else the largest power of two that fits (so that small
    changes in free memory do not change the chunks), at least one."""
    fit = (budget - cost.shared_bytes) / cost.member_bytes()
    if fit >= max_members:
        return max_members
    return 2 ** int(math.log2(fit)) if fit >= 1 else 1


def parse_bytes(text: str) -> int:
    """``"6GiB"``, ``"800 MB"``, ``"1e9"`` -> bytes."""
    raw = text.strip().upper().replace(" ", "")
    unit = raw.lstrip("0123456789.E+-")
    number = raw[: len(raw) - len(unit)]
    try:
        value = float(number) * _UNITS[unit]
    except (KeyError, ValueError):
        raise ValueError(f"{BUDGET_ENV} must be a size such as 6GiB or 800MB, "
                         f"got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{BUDGET_ENV} must be positive, got {text!r}")
    return int(value)


def ram_bytes() -> int:
    """Physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_budget(device: str) -> int:
    """Bytes an ensemble may plan to use on ``device``: ``$GROKPAPER_MEMORY_BUDGET`` if set,
    else ``CUDA_SHARE`` of the GPU's free memory, else ``CPU_SHARE`` of the RAM."""
    env = os.environ.get(BUDGET_ENV, "").strip()
    if env:
        return parse_bytes(env)
    if str(device).startswith("cuda"):
        import torch  # only for a GPU: the CPU budget needs no torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(CUDA_SHARE * free)
    return int(CPU_SHARE * ram_bytes())


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says an allocation failed (CUDA's OutOfMemoryError, the CPU allocator's
    "can't allocate memory", Python's MemoryError)."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text
                                              or "can't allocate memory" in text)
