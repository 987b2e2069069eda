"""The data of an ensemble: every member's training rows and the test rows it is scored on.

Two layouts of the training rows:

* per member, padded: ``x_train`` (E, n, ...), ``y_train`` (E, n); member e uses its first
  ``n_train[e]`` rows (its own draw of a dataset; Carvalho, Li & Sakib, MNIST);
* shared: ``x_train`` (n, ...), ``y_train`` (n,) seen by every member, ``train_mask`` (E, n)
  picks member e's rows (Liu et al.'s toy model: all pairs, a random training subset each).

The test rows ``x_test`` (N, ...) are shared; ``test_mask`` (E, N) scores member e on its own
rows only (the complement of its training pairs, or its own validation split), and
``test_groups`` (N,) adds an accuracy per group. :meth:`EnsembleData.from_pool` builds either
layout from one pool of rows and a training mask per member, the rest of the pool being its
test rows (shared: ``x_test`` None, one forward pass scores both).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch


@dataclass
class EnsembleData:
    """Training rows per member (padded, or shared with a mask) and shared test rows."""

    x_train: torch.Tensor  # (E, n, ...) per member, or (n, ...) shared
    y_train: torch.Tensor  # (E, n) class labels, or (n,) shared
    n_train: torch.Tensor  # (E,) training rows of each member
    x_test: torch.Tensor | None  # (N, ...) shared; None: the test rows are the shared pool
    y_test: torch.Tensor | None  # (N,)
    n_classes: int
    test_groups: torch.Tensor | None = None  # (N,) group id per test row (per-group accuracy)
    test_mask: torch.Tensor | None = None  # (E, N) bool: member e's test rows; None: all
    train_mask: torch.Tensor | None = None  # (E, n) bool, shared layout: member e's rows

    def __post_init__(self) -> None:
        e, n = self.n_train.shape[0], self.y_train.shape[-1]
        if self.shared:
            if self.train_mask is None or self.x_train.shape[0] != n:
                raise ValueError("shared training rows need x_train (n, ...) and a train_mask")
        elif self.y_train.shape != (e, n) or self.x_train.shape[:2] != (e, n):
            raise ValueError("x_train, y_train and n_train disagree on the ensemble size")
        if self.train_mask is not None and (
                self.train_mask.shape != (e, n)
                or not torch.equal(self.train_mask.sum(1), self.n_train)):
            raise ValueError(f"train_mask must be ({e}, {n}) with n_train rows per member")
        if int(self.n_train.min()) <= 0 or int(self.n_train.max()) > n:
            raise ValueError(f"n_train must lie in [1, {n}]: every member needs training rows")
        if (self.x_test is None) != (self.y_test is None) or (
                self.x_test is None and not self.shared):
            raise ValueError("x_test and y_test go together; only a shared pool may omit them")
        n_test = n if self.x_test is None else len(self.y_test)
        if self.test_mask is not None and self.test_mask.shape != (e, n_test):
            raise ValueError(f"test_mask must be ({e}, {n_test}), "
                             f"got {tuple(self.test_mask.shape)}")
        if self.test_groups is not None and self.test_groups.shape != (n_test,):
            raise ValueError(f"test_groups must be ({n_test},), "
                             f"got {tuple(self.test_groups.shape)}")

    @classmethod
    def from_pool(cls, x: torch.Tensor, y: torch.Tensor, train_mask: torch.Tensor,
                  n_classes: int, *, test_mask: torch.Tensor | None = None,
                  gather: bool = False) -> EnsembleData:
        """Every member draws from the rows ``x`` (N, ...), ``y`` (N,): it trains on those where
        ``train_mask`` (E, N) is True and is tested on the others (or on ``test_mask``).

        ``gather=False``: the pool is shared, so one forward pass over it can serve a training
        step and the scores (``train_ensemble(eval_from_step=True)``). ``gather=True``: each
        member's training rows are copied out (padded), so that a step runs on them alone.
        """
        train_mask = train_mask.bool()
        test_mask = ~train_mask if test_mask is None else test_mask.bool()
        n = train_mask.sum(1)
        if not gather:
            return cls(x, y, n, None, None, n_classes, test_mask=test_mask,
                       train_mask=train_mask)
        idx = own_rows_first(train_mask)[:, : int(n.max())]
        return cls(x[idx], y[idx], n, x, y, n_classes, test_mask=test_mask)

    @property
    def shared(self) -> bool:
        """Whether every member sees the same training rows (then ``train_mask`` picks)."""
        return self.y_train.ndim == 1

    @property
    def n_members(self) -> int:
        return self.n_train.shape[0]

    def train_rows(self) -> torch.Tensor:
        """(E, n) bool: which training rows member e uses (a prefix when padded)."""
        if self.train_mask is not None:
            return self.train_mask
        n = self.y_train.shape[-1]
        return torch.arange(n, device=self.n_train.device) < self.n_train[:, None]

    def to(self, device: torch.device | str) -> EnsembleData:
        return EnsembleData(**{f.name: _to(getattr(self, f.name), device) for f in fields(self)})


def _to(value: object, device: torch.device | str) -> object:
    return value.to(device) if isinstance(value, torch.Tensor) else value


def own_rows_first(mask: torch.Tensor) -> torch.Tensor:
    """(E, N) row numbers: member e's rows (``mask[e]`` True) first, in order, then the rest."""
    return torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
