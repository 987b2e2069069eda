"""Peak memory of an ensemble before anything is allocated: one formula per model family.

Each formula counts the bytes that live on the device while one ensemble chunk trains
(float32 = 4 bytes, int64 labels = 8):

* data: every member's training set (padded to the largest) and the shared test set;
* weights: parameters, gradients and the optimizer's two moments (4 copies per parameter);
* activations: the larger of one training step (each layer's output kept for the backward
  pass, before and after its nonlinearity) and one evaluation (no gradients: a layer's input
  and outputs alive at once; :func:`grokpaper.core.train.train_ensemble` evaluates the
  training rows, then the test rows, in chunks of :data:`EVAL_CHUNK`, see :func:`eval_rows`).

Total = data + weights + max(training step, evaluation). Torch's allocator and the CUDA
context come on top, so an ensemble may plan to use only a share of the free memory
(:data:`USABLE`, :func:`budget`). ``tests/test_memory.py`` checks each formula against the
tensors a real ensemble allocates.

Every formula is linear in the members, so two estimates give the bytes each member adds and
the bytes they share: :func:`members_per_chunk` sizes the sweeps' ensembles to the budget
(:mod:`grokpaper.core.sweep`), and pre-flight refuses only what would not fit one member at a
time. A chunk that runs out of memory all the same is split (:func:`is_out_of_memory`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil  # a dependency of dask.distributed

FLOAT, LABEL = 4, 8  # bytes of a float32 and of an int64 label
EVAL_CHUNK = 4096  # rows per forward pass of an evaluation (grokpaper.core.evaluate)
USABLE = 0.8  # share of the free memory an ensemble may plan to use
#: Environment variable overriding the budget, e.g. "6GiB" or "800MB".
BUDGET_ENV = "GROKPAPER_MEMORY_BUDGET"
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


@dataclass(frozen=True)
class Estimate:
    """Bytes of an ensemble chunk, by kind."""

    data: int
    weights: int
    activations: int

    @property
    def total(self) -> int:
        return self.data + self.weights + self.activations

    def __str__(self) -> str:
        return (f"{size(self.total)} (data {size(self.data)}, weights and optimizer state "
                f"{size(self.weights)}, activations {size(self.activations)})")


def size(n: float) -> str:
    """Bytes in words: '512 MiB', '3.2 GiB'."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def mlp_params(n_in: int, hidden: Sequence[int], n_out: int) -> int:
    """Parameters of one MLP (weights and biases)."""
    sizes = [n_in, *hidden, n_out]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def eval_rows(n_train: int, n_test: int) -> int:
    """Rows one evaluation of :func:`grokpaper.core.train.train_ensemble` runs at once: its
    training rows, then its test rows, ``EVAL_CHUNK`` at a time."""
    return min(max(n_train, n_test), EVAL_CHUNK)


def mlp(*, members: int, n_in: int, hidden: Sequence[int], n_out: int, n_train: int,
        n_test: int, batch: int | None, extra_params: int = 0,
        evaluated: int | None = None) -> Estimate:
    """An ensemble of MLPs ``n_in -> hidden -> n_out`` (:class:`grokpaper.core.models.
    EnsembleMLP`); ``extra_params``: per member, e.g. learned input embeddings;
    ``evaluated``: rows evaluated at once (default :func:`eval_rows`)."""
    widths = [*hidden, n_out]
    rows = n_train if batch is None else min(batch, n_train)
    evaluated = eval_rows(n_train, n_test) if evaluated is None else evaluated
    data = members * n_train * (n_in * FLOAT + LABEL) + n_test * (n_in * FLOAT + LABEL)
    weights = 4 * members * (mlp_params(n_in, hidden, n_out) + extra_params) * FLOAT
    step = members * rows * (n_in + 2 * sum(widths)) * FLOAT
    # a layer's input, its matmul, the bias sum and the activation alive at once; and each
    # row's hit and loss for every member
    evaluation = members * (4 * max(widths) * evaluated + 2 * (n_train + n_test)) * FLOAT
    return Estimate(data, weights, max(step, evaluation))


def transformer_params(*, d_model: int, d_ff: int, n_layers: int, embed_params: int,
                       head_in: int, n_out: int) -> int:
    """Parameters of one transformer: embeddings, ``n_layers`` blocks (attention projections,
    feed-forward, two layer norms) and the output head."""
    block = 4 * d_model * d_model + 4 * d_model + 2 * d_model * d_ff + d_ff + 5 * d_model
    return embed_params + n_layers * block + head_in * n_out + n_out


def transformer(*, members: int, seq: int, d_model: int, d_ff: int, n_heads: int,
                n_layers: int, n_out: int, embed_params: int, head_in: int, n_train: int,
                n_test: int, row_bytes: int, batch: int | None,
                evaluated: int | None = None) -> Estimate:
    """An ensemble of transformers over ``seq`` tokens; ``row_bytes``: one input row;
    ``evaluated``: rows evaluated at once (default :func:`eval_rows`)."""
    rows = n_train if batch is None else min(batch, n_train)
    evaluated = eval_rows(n_train, n_test) if evaluated is None else evaluated
    params = transformer_params(d_model=d_model, d_ff=d_ff, n_layers=n_layers,
                                embed_params=embed_params, head_in=head_in, n_out=n_out)
    data = members * n_train * (row_bytes + LABEL) + n_test * (row_bytes + LABEL)
    weights = 4 * members * params * FLOAT
    # Per row and layer, kept for backward: the normed input, Q, K, V, the mixed values, the
    # projection and residual (7 d), the feed-forward's two sides (2 d_ff) and its output
    # (d), plus scores and probabilities (2 heads x seq x seq); then the logits.
    per_row = n_layers * (seq * (8 * d_model + 2 * d_ff) + 2 * n_heads * seq * seq) + 2 * n_out
    step = members * rows * (seq * d_model + per_row) * FLOAT
    # evaluating: a block's input, its widest inner tensor (Q, K, V or the feed-forward hidden)
    # with its activation, and the sums, alive at once; the scores; the logits
    alive = seq * 4 * max(d_ff, 3 * d_model) + n_heads * seq * seq + 2 * n_out
    evaluation = members * evaluated * alive * FLOAT
    return Estimate(data, weights, max(step, evaluation))


def free_bytes(device: str) -> int:
    """Memory free on ``device`` now: host RAM for ``cpu``, the GPU's own for ``cuda``."""
    if device.startswith("cuda"):
        import torch  # only for a GPU: torch costs ~2-4 s at start-up

        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    return int(psutil.virtual_memory().available)


def parse_bytes(text: str) -> int:
    """``"6GiB"``, ``"800 MB"``, ``"1e9"`` -> bytes."""
    raw = text.strip().upper().replace(" ", "")
    unit = raw.lstrip("0123456789.E+-")
    try:
        value = float(raw[: len(raw) - len(unit)]) * _UNITS[unit]
    except (KeyError, ValueError):
        raise ValueError(f"{BUDGET_ENV} must be a size such as 6GiB or 800MB, "
                         f"got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{BUDGET_ENV} must be positive, got {text!r}")
    return int(value)


def budget(device: str) -> int:
    """Bytes one ensemble may plan to use on ``device``: ``$GROKPAPER_MEMORY_BUDGET`` if set,
    else :data:`USABLE` of what is free there now."""
    env = os.environ.get(BUDGET_ENV, "").strip()
    return parse_bytes(env) if env else int(USABLE * free_bytes(device))


def per_member(estimate: Callable[[int], Estimate]) -> tuple[float, float]:
    """(bytes each member adds, bytes the members share) of an ensemble whose estimate for
    ``m`` members is ``estimate(m)`` (every formula here is linear in the members)."""
    one, two = estimate(1).total, estimate(2).total
    return two - one, 2 * one - two


def members_per_chunk(estimate: Callable[[int], Estimate], budget: float,
                      max_members: int) -> int:
    """How many members one ensemble may have within ``budget`` bytes: all ``max_members``
    when they fit, else the largest power of two that fits (so that small changes in free
    memory do not move the chunks), at least one."""
    each, shared = per_member(estimate)
    fit = (budget - shared) / each if each > 0 else math.inf
    if fit >= max_members:
        return max_members
    return 2 ** int(math.log2(fit)) if fit >= 1 else 1


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says an allocation failed: CUDA's OutOfMemoryError, the CPU allocator's
    "can't allocate memory", Python's MemoryError."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text
                                              or "can't allocate memory" in text)
