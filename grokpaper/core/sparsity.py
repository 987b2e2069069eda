"""Weight sparsity of every ensemble member: a probe for the trainer (see
:func:`grokpaper.core.train.train_ensemble`'s ``probe``).

Two scale-free measures over all parameters of a member (every parameter of an ensemble model
has the members on its leading axis), so that shrinking every weight alike (what weight decay
alone would do) changes neither:

- ``l1_l2``: ``||w||_1 / (sqrt(n) ||w||_2)``, the normalized L1/L2 ratio (Hoyer 2004): 1 when
  every weight has the same magnitude, ``sqrt(2 / pi) = 0.80`` for Gaussian weights, ``0.87``
  for uniform ones (a mix of layers with PyTorch's default init, each uniform with its own
  width: ~0.78), towards ``1 / sqrt(n)`` as a few weights come to dominate. *Lower is
  sparser.*
- ``small_frac``: the share of weights smaller in magnitude than :data:`SMALL` times the
  member's root-mean-square weight (0.080 for Gaussian weights, 0.058 for uniform ones).
  *Higher is sparser.*
"""

from __future__ import annotations

import torch
from torch import nn

#: A weight is "near zero" below this fraction of its member's root-mean-square weight.
SMALL = 0.1
#: The probe's outputs, as they appear in a run's arrays (``extra_<name>``).
NAMES = ("l1_l2", "small_frac")


def weight_sparsity(model: nn.Module) -> dict[str, torch.Tensor]:
    """``{"l1_l2": (E,), "small_frac": (E,)}`` of the members of ``model`` (see the module
    docstring); every parameter's leading axis is the member."""
    flat = torch.cat([p.detach().flatten(1) for p in model.parameters()], dim=1)
    n = flat.shape[1]
    l2 = flat.norm(dim=1)
    rms = l2 / n**0.5
    return {"l1_l2": flat.abs().sum(1) / (n**0.5 * l2),
            "small_frac": (flat.abs() < SMALL * rms[:, None]).float().mean(1)}
