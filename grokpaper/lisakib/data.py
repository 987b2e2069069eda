"""Modular arithmetic tables ``(x o y) mod p`` as 4-token sequences ``[x, op, y, =]``.

Tokens: the numbers ``0..p-1`` are their own ids, ``p`` is the operation token and ``p + 1``
the ``=`` token (as in the Power et al. reimplementation Li & Sakib forked). Pair sets:

- ``+``, ``-``, ``*``: all ``p**2`` pairs ``0 <= x, y < p``;
- ``/``: ``0 <= x < p``, ``1 <= y < p`` (``p(p-1)`` pairs; Li & Sakib's Table 2 sizes are
  ``0.3 p(p-1)``), label ``x * y^-1 mod p`` with the inverse from Fermat's little theorem.

Every label is reduced mod ``p``. (The forked code left ``x + y`` and ``x - y`` unreduced, so
``-`` produced negative class ids and ``+`` ids up to ``2p - 2``; we do not copy that.)
"""

from __future__ import annotations

import torch

OPERATIONS = ("+", "-", "*", "/")
#: Names for file names and plot titles.
OP_NAMES = {"+": "addition", "-": "subtraction", "*": "multiplication", "/": "division"}


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % k for k in range(2, int(p**0.5) + 1))


def _check(op: str, p: int) -> None:
    if op not in OPERATIONS:
        raise ValueError(f"op must be one of {OPERATIONS}, got {op!r}")
    if not isinstance(p, int) or not is_prime(p):
        raise ValueError(f"p must be a prime integer, got {p!r}")


def vocab_size(p: int) -> int:
    """Numbers, the operation token and ``=``."""
    return p + 2


def n_pairs(op: str, p: int) -> int:
    _check(op, p)
    return p * (p - 1) if op == "/" else p * p


def modinv(y: torch.Tensor, p: int) -> torch.Tensor:
    """``y^-1 mod p`` elementwise for ``y`` not divisible by a prime ``p`` (Fermat)."""
    out = torch.ones_like(y)
    base, e = y % p, p - 2
    while e:  # square-and-multiply keeps every intermediate below p**2
        if e & 1:
            out = out * base % p
        base = base * base % p
        e >>= 1
    return out


def table(op: str, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs as ``(N, 4)`` token sequences ``[x, op, y, =]`` and their ``(N,)`` labels."""
    _check(op, p)
    x = torch.arange(p)
    y = torch.arange(1 if op == "/" else 0, p)
    x, y = torch.cartesian_prod(x, y).T
    if op == "+":
        z = (x + y) % p
    elif op == "-":
        z = (x - y) % p  # torch's % is non-negative for a positive modulus
    elif op == "*":
        z = x * y % p
    else:
        z = x * modinv(y, p) % p
    seq = torch.stack([x, torch.full_like(x, p), y, torch.full_like(x, p + 1)], dim=1)
    return seq, z


def train_size(op: str, p: int, train_frac: float) -> int:
    """``int(train_frac * N)`` training pairs, as ``random_split`` sizes in the forked code."""
    if not 0 < train_frac < 1:
        raise ValueError(f"train_frac must be in (0, 1), got {train_frac!r}")
    n = int(train_frac * n_pairs(op, p))
    if n < 1 or n >= n_pairs(op, p):
        raise ValueError(f"train_frac {train_frac} leaves an empty training or validation set")
    return n


def split(op: str, p: int, train_frac: float, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Disjoint (train, validation) row indices into :func:`table`, a random split by ``seed``."""
    n_train = train_size(op, p, train_frac)
    perm = torch.randperm(n_pairs(op, p), generator=torch.Generator().manual_seed(int(seed)))
    return perm[:n_train].sort().values, perm[n_train:].sort().values
