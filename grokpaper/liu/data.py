"""Liu et al. 2022 toy datasets: addition of 0..p-1 and the permutation group S_n.

A *sample* is a pair of symbols ``(a, b)``; its label is the symbol of ``a o b``. For addition,
``a + b`` and ``b + a`` are one sample (``i <= j``), so there are ``p (p + 1) / 2`` samples and
``2p - 1`` labels (Sec. 2). For S_n every ordered pair is a sample (the group is not abelian).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

TASKS = ("addition", "permutation")


@dataclass(frozen=True)
class ToyTask:
    """A full dataset D0: every sample, its label, and the sizes of the symbol/label sets."""

    name: str
    pairs: np.ndarray  # (N, 2) symbol indices
    labels: np.ndarray  # (N,) label index
    n_symbols: int
    n_classes: int

    @property
    def n_samples(self) -> int:
        return len(self.labels)


def addition(p: int = 10) -> ToyTask:
    """Non-modular addition: samples (i, j) with 0 <= i <= j < p, label i + j."""
    if not isinstance(p, int) or p < 2:
        raise ValueError(f"p must be an integer >= 2, got {p!r}")
    pairs = np.array([(i, j) for i in range(p) for j in range(i, p)], dtype=np.int64)
    return ToyTask("addition", pairs, pairs.sum(1), p, 2 * p - 1)


def permutations(n: int) -> list[tuple[int, ...]]:
    """The elements of S_n in lexicographic order (element 0 is the identity)."""
    return list(itertools.permutations(range(n)))


def permutation_group(n: int = 3) -> ToyTask:
    """S_n: every ordered pair (a, b), label the index of a o b, where (a o b)(k) = a(b(k)).

    With permutation matrices ``P_a e_k = e_{a(k)}`` this convention gives
    ``P_a P_b = P_{a o b}``, the product the toy model hard-codes for this task.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    elems = permutations(n)
    index = {g: k for k, g in enumerate(elems)}
    pairs = np.array(list(itertools.product(range(len(elems)), repeat=2)), dtype=np.int64)
    labels = np.array([index[tuple(elems[a][elems[b][k]] for k in range(n))] for a, b in pairs])
    return ToyTask("permutation", pairs, labels, len(elems), len(elems))


def make_task(name: str, size: int) -> ToyTask:
    """``addition(size)`` or ``permutation_group(size)``."""
    if name == "addition":
        return addition(size)
    if name == "permutation":
        return permutation_group(size)
    raise ValueError(f"task must be one of {TASKS}, got {name!r}")


def train_mask(n_samples: int, n_train: int, seed: int) -> np.ndarray:
    """(N,) bool: the first ``n_train`` samples of a random permutation drawn with ``seed``.

    For one seed the training sets of different sizes are nested, so a fraction sweep over
    sizes changes one thing at a time.
    """
    if not 1 <= n_train <= n_samples:
        raise ValueError(f"n_train must lie in [1, {n_samples}], got {n_train!r}")
    order = np.random.default_rng(seed).permutation(n_samples)
    mask = np.zeros(n_samples, dtype=bool)
    mask[order[:n_train]] = True
    return mask


def parallelograms(task: ToyTask) -> tuple[np.ndarray, np.ndarray]:
    """P0 of Eq. (1) for addition: every pair of distinct samples with equal sums.

    Returns ``quads`` (Q, 4) rows ``(i, j, m, n)`` with ``i + j = m + n`` and ``samples``
    (Q, 2), the indices of ``(i, j)`` and ``(m, n)`` in ``task.pairs``. |P0| = 70 for p = 10.
    Arrays are cached per p and read-only.
    """
    if task.name != "addition":
        raise ValueError("parallelograms are defined for the addition task")
    return _parallelograms(task.n_symbols)


def equations(task: ToyTask) -> np.ndarray:
    """A(P0) of Eq. (7): one row per parallelogram, E_i + E_j - E_m - E_n = 0 as (Q, p) ints."""
    if task.name != "addition":
        raise ValueError("parallelograms are defined for the addition task")
    return _equations(task.n_symbols)


@functools.lru_cache(maxsize=8)
def _parallelograms(p: int) -> tuple[np.ndarray, np.ndarray]:
    task = addition(p)
    quads, samples = [], []
    for a, b in itertools.combinations(range(task.n_samples), 2):
        if task.labels[a] == task.labels[b]:
            quads.append((*task.pairs[a], *task.pairs[b]))
            samples.append((a, b))
    out = np.array(quads, dtype=np.int64), np.array(samples, dtype=np.int64)
    for arr in out:
        arr.flags.writeable = False
    return out


@functools.lru_cache(maxsize=8)
def _equations(p: int) -> np.ndarray:
    quads, _ = _parallelograms(p)
    rows = np.zeros((len(quads), p), dtype=np.int64)
    for r, (i, j, m, n) in enumerate(quads):
        np.add.at(rows[r], [i, j], 1)
        np.add.at(rows[r], [m, n], -1)
    rows.flags.writeable = False
    return rows
