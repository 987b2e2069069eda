"""Liu et al. 2022 Sec. 4.2: a small transformer on modular addition, as a vectorized ensemble.

The two symbols are embedded (learnable, 256-D in the paper), passed through pre-norm encoder
layers with one attention head, and the outputs of the two positions are concatenated into a
linear classifier (the authors' ``Decoder(concat=True)``). Attention is written with plain
matmuls: ``nn.MultiheadAttention`` has no batching rule under ``vmap`` and falls back to a slow
per-member loop on CPU. Dropout rates are per-member buffers, so one ensemble can sweep them.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from grokpaper.core.ensemble import VmapEnsemble
from grokpaper.core.member_adamw import MemberAdamW
from grokpaper.core.train import _BatchStream, eval_steps


@dataclass(frozen=True)
class TransformerConfig:
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

    def __init__(self, cfg: TransformerConfig, dropout: float = 0.0) -> None:
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


def make_ensemble(cfg: TransformerConfig, seeds: list[int],
                  dropouts: list[float] | None = None) -> VmapEnsemble:
    """A :class:`VmapEnsemble` of :class:`ModAddTransformer`, member e with ``dropouts[e]``."""
    rates = list(dropouts) if dropouts is not None else [0.0] * len(seeds)
    if len(rates) != len(seeds):
        raise ValueError(f"{len(rates)} dropout rates for {len(seeds)} members")
    if any(r > 0 for r in rates) and not cfg.stochastic:
        raise ValueError("dropout > 0 needs TransformerConfig(stochastic=True)")
    it = iter(rates)
    # VmapEnsemble builds the members in order, one factory call each.
    return VmapEnsemble(lambda: ModAddTransformer(cfg, next(it)), seeds, example_ndim=1)


def param_groups(ens: VmapEnsemble) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(embedding parameters, decoder parameters) of the stacked ensemble."""
    named = ens.named_member_params()
    emb = [p for n, p in named.items() if n.startswith("emb.")]
    dec = [p for n, p in named.items() if not n.startswith("emb.")]
    return emb, dec


@contextmanager
def mode(ens: VmapEnsemble, training: bool):
    """Train/eval mode of the members: VmapEnsemble calls a skeleton module kept outside its
    submodules, so ``ens.train()`` does not reach it."""
    skeleton = ens._skeleton[0]
    before = skeleton.training
    skeleton.train(training)
    try:
        yield
    finally:
        skeleton.train(before)


def modular_pairs(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every ordered pair (a, b) of 0..p-1 and its label (a + b) mod p (the authors' data)."""
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    x = torch.stack([a.flatten(), b.flatten()], 1)
    return x, x.sum(1) % p


def effective_dimension(emb: torch.Tensor) -> torch.Tensor:
    """exp(entropy of the PCA explained-variance ratios) of embeddings (..., p, d) (Fig. 7)."""
    z = emb - emb.mean(-2, keepdim=True)
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
                      lr_emb: torch.Tensor, wd_emb: torch.Tensor, lr_dec: torch.Tensor,
                      wd_dec: torch.Tensor) -> dict[str, np.ndarray]:
    """AdamW on each member's training pairs, full batch or minibatches (member e's order
    from ``ens.seeds[e]`` alone); ``train`` (E, p*p) bool masks over :func:`modular_pairs`
    (equal counts). Two optimizers: embeddings and decoder.

    Returns curves (E, T) at ``steps`` (T,), ``eff_dim`` (E, T), optionally ``emb``
    (E, T, p, d), and ``step_train`` / ``step_test`` (E,): first checked step with accuracy
    >= the threshold (-1: never). Metrics use the eval mode (no dropout).
    """
    device = next(iter(ens.parameters())).device
    p = ens._skeleton[0].cfg.p
    x_all, y_all = (t.to(device) for t in modular_pairs(p))
    train = train.to(device)
    counts = train.sum(1)
    if int(counts.min()) != int(counts.max()) or int(counts.min()) == 0:
        raise ValueError("every member needs the same, positive number of training pairs")
    e = train.shape[0]
    idx = torch.stack([torch.nonzero(m).squeeze(1) for m in train])  # (E, n_train)
    x_tr, y_tr = x_all[idx], y_all[idx]
    n_tr = idx.shape[1]
    batch = cfg.batch_size if cfg.batch_size is not None and cfg.batch_size < n_tr else None
    # Same per-member epoch shuffles as the MLP trainer (grokpaper.core.train).
    stream = _BatchStream(ens.seeds, [n_tr] * e, batch, 256) if batch else None
    rows = torch.arange(e, device=device)[:, None]
    maskf = train.float()
    emb_p, dec_p = param_groups(ens)
    hyper = [torch.as_tensor(h, dtype=torch.float32).expand(e).clone()
             for h in (lr_emb, wd_emb, lr_dec, wd_dec)]
    opts = [MemberAdamW(emb_p, hyper[0], hyper[1], betas=cfg.betas),
            MemberAdamW(dec_p, hyper[2], hyper[3], betas=cfg.betas)]
    at = eval_steps(cfg.steps, cfg.n_evals)
    checks = set(at.tolist()) | set(range(0, cfg.steps + 1, cfg.check_every))
    rec = {k: torch.full((e, len(at)), float("nan"), device=device)
           for k in ("train_acc", "test_acc", "train_loss", "test_loss", "eff_dim")}
    embs = []
    first = {k: torch.full((e,), -1, dtype=torch.long, device=device) for k in ("train", "test")}
    k = 0
    for step in range(cfg.steps + 1):
        if step in checks:
            with torch.no_grad(), mode(ens, False):
                out = ens(x_all)
                loss = nn.functional.cross_entropy(out.transpose(1, 2), y_all.expand(e, -1),
                                                   reduction="none")
                hit = (out.argmax(-1) == y_all).float()
                acc = {"train": (hit * maskf).sum(1) / counts,
                       "test": (hit * (1 - maskf)).sum(1) / (1 - maskf).sum(1)}
                for name, a in acc.items():
                    ok = (first[name] < 0) & (a >= cfg.acc_threshold)
                    first[name] = torch.where(ok, step, first[name])
                if step == at[k]:
                    w = ens.named_member_params()["emb.weight"]
                    rec["train_acc"][:, k], rec["test_acc"][:, k] = acc["train"], acc["test"]
                    rec["train_loss"][:, k] = (loss * maskf).sum(1) / counts
                    rec["test_loss"][:, k] = (loss * (1 - maskf)).sum(1) / (1 - maskf).sum(1)
                    rec["eff_dim"][:, k] = effective_dimension(w)
                    if cfg.keep_emb:
                        embs.append(w.detach().clone())
                    k += 1
        if step == cfg.steps:
            break
        xb, yb = x_tr, y_tr
        if stream is not None:
            if step % 256 == 0:
                chunk = stream.next_chunk().to(device)
            xb, yb = x_tr[rows, chunk[step % 256]], y_tr[rows, chunk[step % 256]]
        with mode(ens, True):
            out = ens(xb)
        loss_e = nn.functional.cross_entropy(out.transpose(1, 2), yb, reduction="none").mean(1)
        grads = torch.autograd.grad(loss_e.sum(), emb_p + dec_p)
        opts[0].step(list(grads[: len(emb_p)]))
        opts[1].step(list(grads[len(emb_p):]))
    out = {"steps": at, **{k: v.cpu().numpy() for k, v in rec.items()},
           **{f"step_{k}": v.cpu().numpy() for k, v in first.items()}}
    if cfg.keep_emb:
        out["emb"] = torch.stack(embs, 1).cpu().numpy()
    return out
