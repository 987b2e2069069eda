"""Liu et al. 2022 Sec. 4.2: a small transformer on modular addition, as a vectorized ensemble.

The two symbols are embedded (learnable, 256-D in the paper), passed through pre-norm encoder
layers with one attention head, and the outputs of the two positions are concatenated into a
linear classifier (the authors' ``Decoder(concat=True)``). Attention is written with plain
matmuls: ``nn.MultiheadAttention`` has no batching rule under ``vmap`` and falls back to a slow
per-member loop on CPU. Dropout rates are per-member buffers, so one ensemble can sweep them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from grokpaper.core import cost
from grokpaper.core.ensemble import VmapEnsemble
from grokpaper.core.ensemble_data import EnsembleData
from grokpaper.core.optim import ParamGroup
from grokpaper.core.train import Crossing, History, Probe, TrainConfig, train_ensemble


@dataclass(frozen=True)
class ModAddTransformerConfig:
    """Architecture (shared by every member); defaults are the authors' values."""

    p: int = 53  # "we first encode p = 53 integers" (Sec. 4.2)
    d_model: int = 256  # "into 256D learnable embeddings" (Sec. 4.2)
    d_ff: int = 256  # the authors' decoder_width (feed-forward width); not in the paper
    n_layers: int = 2  # the authors' decoder_depth = 2; not in the paper
    stochastic: bool = False  # build dropout layers (their rates are per member)

    def __post_init__(self) -> None:
        if min(self.p, self.d_model, self.d_ff, self.n_layers) < 1:
            raise ValueError("p, d_model, d_ff and n_layers must be positive")


def _dropout(x: torch.Tensor, rate: torch.Tensor | None) -> torch.Tensor:
    # Written out (not F.dropout) because the rate is a tensor that differs between members.
    if rate is None:
        return x
    keep = (torch.rand_like(x) >= rate).to(x.dtype)
    return x * keep / (1 - rate)


class PreNormLayer(nn.Module):
    """``nn.TransformerEncoderLayer(norm_first=True, nhead=1, activation="relu")``, unrolled."""

    def __init__(self, d: int, d_ff: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ff1, self.ff2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)
        with torch.no_grad():  # nn.MultiheadAttention's initialization
            nn.init.xavier_uniform_(self.qkv.weight)
            self.qkv.bias.zero_()
            self.out.bias.zero_()

    def forward(self, x: torch.Tensor, rate: torch.Tensor | None) -> torch.Tensor:
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        # Broadcast-multiply-sum rather than matmul: with 2 tokens the score and mixing
        # matrices are 2 x 2, and a batched matmul of thousands of tiny matrices is slow.
        scores = (q.unsqueeze(-2) * k.unsqueeze(-3)).sum(-1) / math.sqrt(q.shape[-1])
        att = _dropout(torch.softmax(scores, dim=-1), rate)
        x = x + _dropout(self.out((att.unsqueeze(-1) * v.unsqueeze(-3)).sum(-2)), rate)
        h = self.ff2(_dropout(torch.relu(self.ff1(self.norm2(x))), rate))
        return x + _dropout(h, rate)


class ModAddTransformer(nn.Module):
    """One member: ``(a, b) -> Linear(concat(layers(emb(a), emb(b))))`` with p classes."""

    def __init__(self, cfg: ModAddTransformerConfig, dropout: float = 0.0) -> None:
        super().__init__()
        self.cfg = cfg
        self.emb = nn.Embedding(cfg.p, cfg.d_model)  # N(0, 1), as the authors' randn
        self.layers = nn.ModuleList(PreNormLayer(cfg.d_model, cfg.d_ff)
                                    for _ in range(cfg.n_layers))
        self.head = nn.Linear(2 * cfg.d_model, cfg.p)
        self.register_buffer("rate", torch.tensor(float(dropout)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rate = self.rate if (self.cfg.stochastic and self.training) else None
        h = self.emb(x)
        for layer in self.layers:
            h = layer(h, rate)
        return self.head(h.flatten(-2))


def make_ensemble(cfg: ModAddTransformerConfig, seeds: list[int],
                  dropouts: list[float] | None = None) -> VmapEnsemble:
    """A :class:`VmapEnsemble` of :class:`ModAddTransformer`, member e with ``dropouts[e]``."""
    rates = list(dropouts) if dropouts is not None else [0.0] * len(seeds)
    if len(rates) != len(seeds):
        raise ValueError(f"{len(rates)} dropout rates for {len(seeds)} members")
    if any(r > 0 for r in rates) and not cfg.stochastic:
        raise ValueError("dropout > 0 needs ModAddTransformerConfig(stochastic=True)")
    it = iter(rates)
    # VmapEnsemble builds the members in order, one factory call each.
    return VmapEnsemble(lambda: ModAddTransformer(cfg, next(it)), seeds, example_ndim=1)


def param_groups(ens: VmapEnsemble) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(embedding parameters, decoder parameters) of the stacked ensemble."""
    named = ens.named_member_params()
    emb = [p for n, p in named.items() if n.startswith("emb.")]
    dec = [p for n, p in named.items() if not n.startswith("emb.")]
    return emb, dec


def modular_pairs(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every ordered pair (a, b) of 0..p-1 and its label (a + b) mod p (the authors' data)."""
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    x = torch.stack([a.flatten(), b.flatten()], 1)
    return x, x.sum(1) % p


def forward_cost(cfg: ModAddTransformerConfig) -> float:
    """FLOPs of one member's forward pass on one pair (:mod:`grokpaper.core.cost`)."""
    return (cfg.n_layers * cost.attention_layer(2, cfg.d_model, cfg.d_ff)
            + cost.linear(2 * cfg.d_model, cfg.p))


def effective_dimension(emb: torch.Tensor) -> torch.Tensor:
    """exp(entropy of the PCA explained-variance ratios) of embeddings (..., p, d) (Fig. 7);
    NaN for embeddings with a non-finite entry (a diverged member)."""
    z = emb - emb.mean(-2, keepdim=True)
    # The SVD raises on non-finite input: zeros instead give 0 / 0 = NaN below.
    z = torch.where(torch.isfinite(z).flatten(-2).all(-1)[..., None, None], z, 0.0)
    s = torch.linalg.svdvals(z).pow(2)
    ratio = s / s.sum(-1, keepdim=True)
    ent = -(ratio * torch.log(ratio.clamp_min(1e-30))).sum(-1)
    return ent.exp()


@dataclass(frozen=True)
class TransformerTrainConfig:
    """Optimization shared by the members; learning rates and weight decays are per member."""

    steps: int = 10_000  # not given in the paper; Fig. 7's step axes reach 1e4
    n_evals: int = 60  # log-spaced points for curves (and embeddings when keep_emb)
    check_every: int = 10  # resolution of the "first step to 90%" trackers
    acc_threshold: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW defaults, as the authors' code
    keep_emb: bool = False  # store embeddings at the evaluation steps (PCA pictures)
    batch_size: int | None = None  # None: full batch (the authors' batch_size = -1)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be positive or None, got {self.batch_size!r}")
        if self.check_every < 1 or self.n_evals < 2:
            raise ValueError("check_every must be >= 1 and n_evals >= 2")


def train_transformer(ens: VmapEnsemble, train: torch.Tensor, cfg: TransformerTrainConfig, *,
                      lr_emb: torch.Tensor | float, wd_emb: torch.Tensor | float,
                      lr_dec: torch.Tensor | float, wd_dec: torch.Tensor | float) -> History:
    """AdamW on each member's training pairs, full batch or minibatches (member e's order
    from ``ens.seeds[e]`` alone); ``train`` (E, p*p) bool masks over :func:`modular_pairs`,
    the test pairs being the rest. Two parameter groups: embeddings and decoder.

    Returns curves (E, T), ``extra["eff_dim"]`` (E, T) and, with ``cfg.keep_emb``,
    ``extra["emb"]`` (E, T, p, d); ``first["train"]`` / ``first["test"]`` (E,): first checked
    step with accuracy >= the threshold (-1: never). Metrics use the eval mode (no dropout).
    """
    device = next(iter(ens.parameters())).device
    emb_p, dec_p = param_groups(ens)
    p = emb_p[0].shape[1]
    x_all, y_all = (t.to(device) for t in modular_pairs(p))
    # Each member's training pairs copied out: a step runs on them alone (not on all pairs).
    data = EnsembleData.from_pool(x_all, y_all, train.to(device), p, gather=True)
    groups = [ParamGroup(emb_p, lr_emb, wd_emb), ParamGroup(dec_p, lr_dec, wd_dec)]
    crossings = (Crossing("train", "train_acc", cfg.acc_threshold),
                 Crossing("test", "test_acc", cfg.acc_threshold))
    schedule = TrainConfig(steps=cfg.steps, n_evals=cfg.n_evals, batch_size=cfg.batch_size,
                           betas=cfg.betas)
    return train_ensemble(ens, data, schedule, seeds=ens.seeds, groups=groups,
                          probe=_probe(cfg.keep_emb), crossings=crossings,
                          check_every=cfg.check_every, fused=True)


def _probe(keep_emb: bool) -> Probe:
    """The embeddings' effective dimension, and the embeddings themselves if ``keep_emb``."""

    def probe(ens: nn.Module) -> dict[str, torch.Tensor]:
        w = ens.named_member_params()["emb.weight"]
        out = {"eff_dim": effective_dimension(w)}
        if keep_emb:
            out["emb"] = w.detach()  # the trainer copies what it records
        return out

    return probe
