"""AdamW over stacked ensemble parameters, a learning rate and weight decay per member, fused.

Same update as :func:`grokpaper.core.optim.adamw_step` (``torch.optim.AdamW``), but run through
torch's fused AdamW kernel on per-member row views, one call per distinct (lr, weight decay):
for small models on a CPU this is ~5x faster than eleven elementwise passes over the stacked
tensors (measured: 5.5 vs 29 ms per step for 24 toy decoders). Falls back to
:func:`~grokpaper.core.optim.adamw_step` where the fused kernel is missing.
"""

from __future__ import annotations

import torch

from grokpaper.core import optim

_FUSED = hasattr(torch, "_fused_adamw_")


class MemberAdamW:
    """AdamW for ``params`` (each (E, ...)), member e with ``lr[e]`` and ``weight_decay[e]``."""

    def __init__(self, params: list[torch.Tensor], lr: torch.Tensor, weight_decay: torch.Tensor,
                 *, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 fused: bool | None = None) -> None:
        self.params, self.betas, self.eps = params, betas, eps
        e = params[0].shape[0]
        self.lr = torch.as_tensor(lr, dtype=torch.float32).flatten().expand(e).clone()
        self.wd = torch.as_tensor(weight_decay, dtype=torch.float32).flatten().expand(e).clone()
        self.fused = _FUSED if fused is None else fused and _FUSED
        if self.fused:
            self.m = [torch.zeros_like(p) for p in params]
            self.v = [torch.zeros_like(p) for p in params]
            dev = params[0].device
            self.steps = [torch.zeros((), dtype=torch.float32, device=dev) for _ in range(e)]
            self.groups: dict[tuple[float, float], list[int]] = {}
            for k, key in enumerate(zip(self.lr.tolist(), self.wd.tolist(), strict=True)):
                self.groups.setdefault(key, []).append(k)
            # Row views stay valid (updates are in place); building them is per-step overhead.
            self.rows = [[(p[k], m[k], v[k]) for p, m, v in zip(params, self.m, self.v,
                                                                 strict=True)]
                         for k in range(e)]
        else:
            self.state = optim.init_state(params)

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], active: torch.Tensor | None = None) -> None:
        """One update; members with ``active[e] == False`` are left untouched (frozen)."""
        if not self.fused:
            on = (torch.ones_like(self.lr) if active is None
                  else active.to(self.lr.device, torch.float32))
            lr = (self.lr.to(on.device) * on).to(self.params[0].device)
            optim.adamw_step(self.params, grads, self.state, lr=lr,
                             weight_decay=self.wd.to(self.params[0].device), betas=self.betas,
                             eps=self.eps)
            return
        act = None if active is None else active.tolist()
        b1, b2 = self.betas
        for (lr, wd), members in self.groups.items():
            idx = [k for k in members if act is None or act[k]]
            if not idx:
                continue
            for k in idx:
                self.steps[k] += 1  # the fused kernel reads the incremented step count
            pmv = [t for k in idx for t in self.rows[k]]
            torch._fused_adamw_(
                [t[0] for t in pmv], [g[k] for k in idx for g in grads],
                [t[1] for t in pmv], [t[2] for t in pmv], [],
                [self.steps[k] for k in idx for _ in grads], lr=lr, beta1=b1, beta2=b2,
                weight_decay=wd, eps=self.eps, amsgrad=False, maximize=False)
