"""What the ensemble trainer measures: the objective (per-example loss and prediction) and every
member's loss and accuracy on its own training rows and its own test rows, on the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from grokpaper.core.ensemble_data import EnsembleData

LOSSES = ("ce", "mse")
EVAL_CHUNK = 4096  # rows per forward pass: bounds memory at E x chunk x width


class Objective(Protocol):
    """The loss plug: model outputs (E, N, C) and labels (E, N) or shared (N,) to a loss per
    example (E, N), and outputs to predicted classes (E, N)."""

    def per_example_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor: ...

    def predict(self, out: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class ClassLoss:
    """Cross-entropy (``"ce"``) or mean squared error against one-hot targets (``"mse"``, as
    Omnigrok's MNIST runs); the prediction is the largest output."""

    kind: str
    n_classes: int

    def __post_init__(self) -> None:
        if self.kind not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.kind!r}")

    def per_example_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = y.expand(out.shape[0], -1) if y.ndim == 1 else y
        if self.kind == "ce":
            return nn.functional.cross_entropy(out.transpose(1, 2), y, reduction="none")
        # Not one_hot: it reads the labels back to check their range (a GPU sync per step).
        classes = torch.arange(self.n_classes, device=y.device)
        target = (y.unsqueeze(-1) == classes).to(out.dtype)
        return (out - target).pow(2).mean(-1)

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        return out.argmax(-1)


class Scorer:
    """Loss and accuracy (E,) of every member on its training rows and on its test rows, and per
    test group (E, G); the row weights and counts are computed once, here."""

    def __init__(self, data: EnsembleData, objective: Objective) -> None:
        self.data, self.objective = data, objective
        self.train_w = data.train_rows().float()
        self.n_train = data.n_train.float()
        self.test_w = None if data.test_mask is None else data.test_mask.float()
        self.n_test = None if self.test_w is None else self.test_w.sum(1)  # 0: NaN scores
        g = data.test_groups
        self.group_n = None if g is None else torch.bincount(g).float()

    @torch.no_grad()
    def __call__(self, model: nn.Module, *, outputs: torch.Tensor | None = None,
                 losses: torch.Tensor | None = None, accuracy_only: bool = False
                 ) -> dict[str, torch.Tensor]:
        """``train_acc``, ``test_acc``, and unless ``accuracy_only`` ``train_loss``,
        ``test_loss`` (E,) and, when the data has test groups, ``test_group_acc``,
        ``test_group_loss`` (E, G).

        The model runs in eval mode (no dropout or training noise; the caller's mode is
        restored), unless its ``outputs`` (and optionally their per-example ``losses``) on the
        training rows are given: a model without mode-dependent layers, trained full batch on a
        shared pool (see ``train_ensemble``).
        """
        d, obj = self.data, self.objective
        test = None
        if outputs is None:
            was_training = model.training
            model.eval()
            try:
                hit, per = self._rows(model, d.x_train, d.y_train, accuracy_only)
                if d.x_test is not None:
                    test = self._rows(model, d.x_test, d.y_test, accuracy_only)
            finally:
                model.train(was_training)
        else:
            hit = (obj.predict(outputs) == d.y_train).float()
            per = None if accuracy_only else (
                losses if losses is not None else obj.per_example_loss(outputs, d.y_train))
        hit_test, loss_test = (hit, per) if test is None else test
        out = {"train_acc": (hit * self.train_w).sum(1) / self.n_train,
               "test_acc": self._test_mean(hit_test)}
        if accuracy_only:
            return out
        out["train_loss"] = (per * self.train_w).sum(1) / self.n_train
        out["test_loss"] = self._test_mean(loss_test)
        if self.group_n is not None:
            zeros = torch.zeros(hit_test.shape[0], len(self.group_n), device=hit_test.device)
            out["test_group_acc"] = zeros.index_add(1, d.test_groups, hit_test) / self.group_n
            out["test_group_loss"] = zeros.index_add(1, d.test_groups, loss_test) / self.group_n
        return out

    def _test_mean(self, v: torch.Tensor) -> torch.Tensor:
        return v.mean(1) if self.test_w is None else (v * self.test_w).sum(1) / self.n_test

    def _rows(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, accuracy_only: bool
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Hits and losses (E, N) on rows ``x`` with labels ``y``: per member ((E, N, ...),
        (E, N)) or shared ((N, ...), (N,)), ``EVAL_CHUNK`` rows per forward pass (so that memory
        does not grow with the number of rows)."""
        obj, own = self.objective, y.ndim == 2
        hits, losses = [], []
        for i in range(0, y.shape[-1], EVAL_CHUNK):
            xx = x[:, i : i + EVAL_CHUNK] if own else x[i : i + EVAL_CHUNK]
            yy = y[:, i : i + EVAL_CHUNK] if own else y[i : i + EVAL_CHUNK]
            out = model(xx)
            hits.append((obj.predict(out) == yy).float())
            if not accuracy_only:
                losses.append(obj.per_example_loss(out, yy))
        return torch.cat(hits, dim=1), None if accuracy_only else torch.cat(losses, dim=1)
