"""A small transformer that reads a synthetic sample x in R^117 as 9 tokens of 13 dims.

Carvalho et al. (Sec. 5.1, App. A) also train "a 2-layer Transformer" but do not describe it.
Each of the 9 binary positions of App. A is one 13-dim block of x, so a natural tokenization is
one token per block. The model is pre-LayerNorm: linear token embedding plus a learned position
embedding, ``n_layers`` blocks of multi-head self-attention and a ReLU feed-forward, a final
LayerNorm, mean pooling over tokens and a linear read-out.

Attention is written with einsum rather than ``nn.MultiheadAttention`` or SDPA: under
``torch.func.vmap`` (see :class:`grokpaper.core.ensemble.VmapEnsemble`) those fall back to a slow
per-member loop on CPU, while einsum becomes one batched matmul.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from grokpaper.core import cost
from grokpaper.core.ensemble import VmapEnsemble


@dataclass(frozen=True)
class TokenTransformerConfig:
    """Architecture of :class:`TokenTransformer`; the paper gives only its depth and alpha."""

    n_tokens: int = 9  # "p = 9" binary positions (App. A): one token each
    token_dim: int = 13  # "r = 13" dims per position (App. A)
    n_layers: int = 2  # "a 2-layer Transformer" (Sec. 5.1)
    d_model: int = 64  # not given
    n_heads: int = 4  # not given
    d_ff: int = 256  # not given; the usual 4 x d_model
    # "an initialization scale factor of 8 ... for both architectures tested" (Sec. 5.1):
    # multiplies the weights and biases of every layer, not LayerNorm's (see _scale_weights).
    alpha: float = 8.0

    def __post_init__(self) -> None:
        for name in ("n_tokens", "token_dim", "n_layers", "d_model", "n_heads", "d_ff"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads "
                             f"({self.n_heads})")
        if not self.alpha > 0:
            raise ValueError(f"alpha (init scale) must be positive, got {self.alpha!r}")

    @property
    def n_features(self) -> int:
        return self.n_tokens * self.token_dim


class SelfAttention(nn.Module):
    """Multi-head self-attention with plain matmuls (same maths as nn.MultiheadAttention)."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)  # rows: q, k, v (as in_proj_weight)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        # (N, T, 3 * d) -> three (N, T, heads, d_head)
        q, k, v = self.qkv(h).unflatten(-1, (3, self.n_heads, -1)).unbind(-3)
        scores = torch.einsum("nqhc,nkhc->nhqk", q, k) / math.sqrt(q.shape[-1])
        mixed = torch.einsum("nhqk,nkhc->nqhc", scores.softmax(-1), v)
        return self.out(mixed.flatten(-2))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(LN(x)), then x + ff(LN(x))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h + self.attn(self.ln1(h))
        return h + self.ff(self.ln2(h))


class TokenTransformer(nn.Module):
    """One model: ``(N, n_tokens * token_dim)`` features to ``(N, n_classes)`` logits."""

    def __init__(self, config: TokenTransformerConfig, n_classes: int) -> None:
        super().__init__()
        c = config
        self.config = config
        self.embed = nn.Linear(c.token_dim, c.d_model)
        # Small like GPT-2's position table: the blocks are told apart by content already.
        self.pos = nn.Parameter(0.02 * torch.randn(c.n_tokens, c.d_model))
        self.blocks = nn.ModuleList(Block(c.d_model, c.n_heads, c.d_ff)
                                    for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, n_classes)
        self._scale_weights(c.alpha)

    @torch.no_grad()
    def _scale_weights(self, alpha: float) -> None:
        # LayerNorm's gain and shift stay at 1 and 0: they normalize rather than weigh, and
        # scaling them too multiplies the attention logits by another alpha^2 (64), after
        # which the model could not even fit its training set in our budgets (train accuracy
        # 0.65 after 1,500 steps, against 1.00 with LayerNorm left alone).
        for module in self.modules():
            if not isinstance(module, nn.LayerNorm):
                for p in module.parameters(recurse=False):
                    p.mul_(alpha)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        h = self.embed(x.unflatten(-1, (c.n_tokens, c.token_dim))) + self.pos
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln_f(h).mean(-2))


def ensemble(config: TokenTransformerConfig, n_classes: int, seeds: list[int]) -> VmapEnsemble:
    """E transformers; member e is ``TokenTransformer(config)`` built under seed ``seeds[e]``."""
    return VmapEnsemble(lambda: TokenTransformer(config, n_classes), seeds, example_ndim=1)


def forward_cost(config: TokenTransformerConfig, n_classes: int) -> float:
    """FLOPs of one member's forward pass on one sample (:mod:`grokpaper.core.cost`)."""
    c = config
    return (cost.linear(c.token_dim, c.d_model, rows=c.n_tokens)
            + c.n_layers * cost.attention_layer(c.n_tokens, c.d_model, c.d_ff)
            + cost.linear(c.d_model, n_classes))
