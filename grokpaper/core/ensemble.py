"""Any ``nn.Module`` as an ensemble: stacked parameters + ``torch.func.vmap`` over members.

For architectures without a hand-batched version (transformers), this gives the same interface
as :class:`grokpaper.core.models.EnsembleMLP`: parameters with a leading member axis E, inputs
``(E, N, *example_shape)`` per member or ``(N, *example_shape)`` shared, outputs ``(E, N, C)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap


class VmapEnsemble(nn.Module):
    """E copies of ``factory()``, member e built under ``torch.manual_seed(seeds[e])``.

    ``init_scale`` multiplies every parameter after construction (Liu et al.'s alpha).
    ``example_ndim`` is the number of dims of one example (1 for a token sequence or a feature
    vector); it tells per-member inputs from shared ones. Modules with dropout get different
    randomness per member.
    """

    def __init__(self, factory: Callable[[], nn.Module], seeds: list[int], *,
                 example_ndim: int = 1, init_scale: float = 1.0) -> None:
        super().__init__()
        if not seeds:
            raise ValueError("seeds must name at least one ensemble member")
        self.seeds = list(seeds)
        self.example_ndim = example_ndim
        members = []
        for s in seeds:
            # fork_rng keeps the caller's global RNG untouched by the per-member seeding.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(s))
                m = factory()
            with torch.no_grad():
                for p in m.parameters():
                    p.mul_(init_scale)
            members.append(m)
        params, buffers = stack_module_state(members)
        self._names = list(params)
        self.stacked = nn.ParameterList(nn.Parameter(params[n]) for n in self._names)
        self._buffer_names = list(buffers)
        for i, n in enumerate(self._buffer_names):
            self.register_buffer(f"_buf{i}", buffers[n])
        # A parameter-free skeleton to call functionally (kept off the module's parameters).
        self._skeleton = [copy.deepcopy(members[0]).to("meta")]

    @property
    def n_members(self) -> int:
        return len(self.seeds)

    def named_member_params(self) -> dict[str, torch.Tensor]:
        """Stacked parameters by their name in the member module."""
        return dict(zip(self._names, self.stacked, strict=True))

    def named_member_buffers(self) -> dict[str, torch.Tensor]:
        """Stacked buffers by their name in the member module (writable per member)."""
        return {n: getattr(self, f"_buf{i}") for i, n in enumerate(self._buffer_names)}

    def train(self, mode: bool = True) -> VmapEnsemble:
        """Set the mode here and on the skeleton the members run through, so that
        mode-dependent layers (dropout, training-only noise) follow ``train()``/``eval()``."""
        super().train(mode)
        self._skeleton[0].train(mode)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = self.named_member_params()
        buffers = self.named_member_buffers()
        skeleton = self._skeleton[0]

        def one(p: dict, b: dict, xx: torch.Tensor) -> torch.Tensor:
            return functional_call(skeleton, (p, b), (xx,))

        shared = x.ndim == self.example_ndim + 1
        if not shared and x.ndim != self.example_ndim + 2:
            raise ValueError(f"input must have {self.example_ndim + 1} (shared) or "
                             f"{self.example_ndim + 2} (per member) dims, got {tuple(x.shape)}")
        return vmap(one, in_dims=(0, 0, None if shared else 0), randomness="different")(
            params, buffers, x)

    def member_norms(self) -> torch.Tensor:
        """(E,) L2 norm of all parameters of each member."""
        return sum(p.pow(2).flatten(1).sum(1) for p in self.stacked).sqrt()
