"""The decoder-only transformer of Li & Sakib (after a Power et al. reimplementation).

Input ``[x, op, y, =]``; token plus learned position embeddings; ``n_layers`` *post*-LayerNorm
blocks (``LN(h + attn(h))`` then ``LN(h + ff(h))``) of causal multi-head self-attention and a
GELU feed-forward; a final LayerNorm and a linear read-out at the last position. Gaussian noise
of std ``noise_std`` (a per-member buffer) is added to the embeddings in training mode only.

Attention is written with einsum (``nn.MultiheadAttention``/SDPA fall back to a slow
per-member loop under ``vmap`` on CPU). Its input projection keeps ``nn.MultiheadAttention``'s
layout and init: one ``(3d, d)`` matrix whose row blocks are Q, K and V (see :func:`qkv_norms`).
Only the last position is read out and attention is causal, so the last block computes its
query, feed-forward and norms at that position alone: the same logits, less work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from grokpaper.core import cost
from grokpaper.core.ensemble import VmapEnsemble

QKV = ("q", "k", "v")


@dataclass(frozen=True)
class ModularTransformerConfig:
    """Architecture; defaults are the report's (Sec. 3) and its code's."""

    n_layers: int = 2  # "a 2-layer transformer model"
    n_heads: int = 4  # "with 4 heads"
    d_model: int = 128  # "The dimension of the embeddings is 128"
    d_ff: int = 512  # "the hidden layer ... has an internal width 4 times larger"

    def __post_init__(self) -> None:
        for name in ("n_layers", "n_heads", "d_model", "d_ff"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads "
                             f"({self.n_heads})")


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention, the maths of ``nn.MultiheadAttention``."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.in_proj = nn.Linear(d_model, 3 * d_model)  # rows: Q, K, V
        self.out_proj = nn.Linear(d_model, d_model)
        # nn.MultiheadAttention's init: xavier-uniform input projection, zero biases.
        nn.init.xavier_uniform_(self.in_proj.weight)
        nn.init.zeros_(self.in_proj.bias)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, h: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """``(N, T, d)`` -> ``(N, T, d)``, or ``(N, 1, d)`` for the last query alone."""
        w, b = self.in_proj.weight, self.in_proj.bias
        d = h.shape[-1]
        kv = nn.functional.linear(h, w[d:], b[d:]).unflatten(-1, (2, self.n_heads, -1))
        k, v = kv.unbind(-3)
        hq = h[..., -1:, :] if last_only else h
        q = nn.functional.linear(hq, w[:d], b[:d]).unflatten(-1, (self.n_heads, -1))
        scores = torch.einsum("nqhc,nkhc->nhqk", q, k) / math.sqrt(q.shape[-1])
        if not last_only:  # the last query sees every key anyway
            t = h.shape[-2]
            future = torch.ones(t, t, dtype=torch.bool, device=h.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        mixed = torch.einsum("nhqk,nkhc->nqhc", scores.softmax(-1), v)
        return self.out_proj(mixed.flatten(-2))


class PostLNBlock(nn.Module):
    """``h = LN(h + attn(h))``, then ``h = LN(h + ff(h))`` (the forked code's DecoderBlock)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.attn_norm = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.ff_norm = nn.LayerNorm(d_model)

    def forward(self, h: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        a = self.attn(h, last_only)
        h = self.attn_norm((h[..., -1:, :] if last_only else h) + a)
        return self.ff_norm(h + self.ff(h))


class ModularTransformer(nn.Module):
    """One model: ``(N, T)`` token ids to ``(N, n_out)`` logits at the last position."""

    def __init__(self, config: ModularTransformerConfig, vocab: int, n_out: int,
                 seq_len: int = 4) -> None:
        super().__init__()
        c = config
        self.token_embeddings = nn.Embedding(vocab, c.d_model)
        self.position_embeddings = nn.Embedding(seq_len, c.d_model)
        self.blocks = nn.ModuleList(PostLNBlock(c.d_model, c.n_heads, c.d_ff)
                                    for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, n_out)
        # A buffer, not a constant: VmapEnsemble stacks it, so every member has its own std.
        self.register_buffer("noise_std", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[-1]
        h = self.token_embeddings(x) + self.position_embeddings.weight[:t]
        if self.training:
            h = h + self.noise_std * torch.randn_like(h)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            h = block(h, last_only=i == last)
        return self.head(self.ln_f(h[..., -1, :]))


def ensemble(config: ModularTransformerConfig, vocab: int, n_out: int, seeds: list[int], *,
             init_scale: torch.Tensor | list[float] | float = 1.0,
             noise_std: torch.Tensor | list[float] | float = 0.0) -> VmapEnsemble:
    """E transformers, member e built under ``seeds[e]``; then every parameter of member e is
    multiplied by ``init_scale[e]`` and its embedding noise set to ``noise_std[e]``."""
    ens = VmapEnsemble(lambda: ModularTransformer(config, vocab, n_out), seeds, example_ndim=1)
    e = len(seeds)
    scale = torch.as_tensor(init_scale, dtype=torch.float32).expand(e)
    noise = torch.as_tensor(noise_std, dtype=torch.float32).expand(e)
    if (scale <= 0).any() or (noise < 0).any():
        raise ValueError("init_scale must be positive and noise_std >= 0")
    with torch.no_grad():
        for p in ens.parameters():
            p.mul_(scale.reshape(-1, *([1] * (p.ndim - 1))))
        ens.named_member_buffers()["noise_std"].copy_(noise)
    return ens


def qkv_norms(model: VmapEnsemble) -> dict[str, torch.Tensor]:
    """(E,) Frobenius norms of each layer's Q, K and V matrices (``q0``, ``k0``, ...), and
    ``qkv``: the mean over all of them (the report plots "the norm of attention weights")."""
    out: dict[str, torch.Tensor] = {}
    for name, w in model.named_member_params().items():
        if name.endswith("attn.in_proj.weight"):
            layer = name.split(".")[1]
            for tag, block in zip(QKV, w.chunk(3, dim=1), strict=True):
                out[f"{tag}{layer}"] = block.flatten(1).norm(dim=1)
    out["qkv"] = torch.stack(list(out.values())).mean(0)
    return out


def forward_cost(config: ModularTransformerConfig, n_out: int, seq_len: int = 4) -> float:
    """FLOPs of one member's forward pass on one sequence (:mod:`grokpaper.core.cost`): the
    last block computes its query and feed-forward at the last position alone."""
    c, t = config, seq_len
    return ((c.n_layers - 1) * cost.attention_layer(t, c.d_model, c.d_ff)
            + cost.attention_layer(t, c.d_model, c.d_ff, queries=1)
            + cost.linear(c.d_model, n_out))
