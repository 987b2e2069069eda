"""Modular arithmetic data, the report's transformer and its ensemble (small sizes, fast)."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble
from grokpaper.lisakib import data as md
from grokpaper.lisakib.transformer import (
    ModularTransformer,
    ModularTransformerConfig,
    ensemble,
    qkv_norms,
)


@pytest.mark.parametrize("op", md.OPERATIONS)
@pytest.mark.parametrize("p", [5, 7])
def test_labels_are_the_operation_mod_p(op, p):
    seq, z = md.table(op, p)
    assert len(z) == md.n_pairs(op, p) == (p * (p - 1) if op == "/" else p * p)
    assert (seq[:, 1] == p).all() and (seq[:, 3] == p + 1).all()
    assert ((z >= 0) & (z < p)).all()
    pairs = {(int(a), int(b)) for a, b in seq[:, [0, 2]]}
    assert len(pairs) == len(z)  # every pair once
    for (x, _, y, _), label in zip(seq.tolist(), z.tolist(), strict=True):
        if op == "+":
            assert label == (x + y) % p
        elif op == "-":
            assert label == (x - y) % p
        elif op == "*":
            assert label == (x * y) % p
        else:  # division: label * y == x (mod p), y != 0
            assert y != 0 and (label * y) % p == x


def test_modinv():
    y = torch.arange(1, 97)
    assert ((md.modinv(y, 97) * y) % 97 == 1).all()


def test_split_sizes_match_the_report():
    # Table 2's training-set sizes are 0.3 p (p - 1) (division, 30/70 split).
    # The report prints them in thousands: 0.6K, 2.8K, then whole thousands.
    report = {47: 0.6, 97: 2.8, 197: 12, 293: 26, 563: 95, 997: 298}
    for p, size in report.items():
        n = md.train_size("/", p, 0.3)
        assert n == int(0.3 * p * (p - 1))
        assert round(n / 1e3, 1 if size < 10 else 0) == size
    tr, va = md.split("-", 11, 0.3, seed=4)
    assert len(tr) == int(0.3 * 121) and len(va) == 121 - len(tr)
    assert set(tr.tolist()).isdisjoint(va.tolist())
    assert torch.equal(md.split("-", 11, 0.3, seed=4)[0], tr)
    with pytest.raises(ValueError, match="prime"):
        md.table("+", 9)
    with pytest.raises(ValueError, match="op"):
        md.table("^", 7)


def _reference(m: ModularTransformer, x: torch.Tensor) -> torch.Tensor:
    """The same weights run through nn.MultiheadAttention on the whole sequence."""
    h = m.token_embeddings(x) + m.position_embeddings.weight[: x.shape[1]]
    mask = torch.full((x.shape[1],) * 2, float("-inf")).triu(1)
    for b in m.blocks:
        d = h.shape[-1]
        mha = nn.MultiheadAttention(d, b.attn.n_heads, batch_first=True)
        mha.in_proj_weight.data.copy_(b.attn.in_proj.weight)
        mha.in_proj_bias.data.copy_(b.attn.in_proj.bias)
        mha.out_proj.weight.data.copy_(b.attn.out_proj.weight)
        mha.out_proj.bias.data.copy_(b.attn.out_proj.bias)
        a, _ = mha(h, h, h, attn_mask=mask)
        h = b.attn_norm(h + a)
        h = b.ff_norm(h + b.ff(h))
    return m.head(m.ln_f(h[:, -1]))


def test_transformer_matches_multihead_attention_reference():
    torch.manual_seed(0)
    m = ModularTransformer(ModularTransformerConfig(d_model=16, d_ff=32), 9, 7).eval()
    x = torch.randint(0, 9, (10, 4))
    with torch.no_grad():
        torch.testing.assert_close(m(x), _reference(m, x))


def test_noise_only_in_training_and_per_member():
    cfg = ModularTransformerConfig(n_layers=1, d_model=8, n_heads=2, d_ff=16)
    ens = ensemble(cfg, 7, 5, [0, 1], init_scale=[1.0, 2.0], noise_std=[0.0, 1.0])
    x = torch.randint(0, 7, (6, 4))
    with torch.no_grad():
        ens.eval()
        torch.testing.assert_close(ens(x), ens(x))
        quiet = ens(x)
        ens.train()
        noisy = ens(x)
    torch.testing.assert_close(noisy[0], quiet[0])  # member 0 has no noise
    assert not torch.allclose(noisy[1], quiet[1])
    ref = ModularTransformer(cfg, 7, 5)
    torch.manual_seed(1)
    ref = ModularTransformer(cfg, 7, 5)
    w = ens.named_member_params()["blocks.0.attn.in_proj.weight"][1]
    torch.testing.assert_close(w, 2.0 * ref.blocks[0].attn.in_proj.weight)
    norms = qkv_norms(ens)
    torch.testing.assert_close(norms["q0"][1], 2.0 * ref.blocks[0].attn.in_proj.weight[:8].norm())
    assert set(norms) == {"q0", "k0", "v0", "qkv"}


def _data(p: int, e: int):
    x, y = md.table("/", p)
    tr, va = md.split("/", p, 0.5, seed=0)
    return EnsembleData(x[tr].expand(e, -1, -1).clone(), y[tr].expand(e, -1).clone(),
                        torch.full((e,), len(tr)), x[va], y[va], p)


@pytest.mark.parametrize("batch_size", [None, 4])
def test_transformer_ensemble_equals_separate_runs(batch_size):
    cfg = ModularTransformerConfig(n_layers=2, d_model=8, n_heads=2, d_ff=16)
    tc = TrainConfig(steps=12, batch_size=batch_size, n_evals=4, betas=(0.9, 0.98),
                     warmup_steps=5, eval_spacing="linear")
    seeds, lrs, wds, scales = [0, 1], [1e-2, 3e-3], [1.0, 0.1], [1.0, 2.0]
    data = _data(5, 2)
    ens = ensemble(cfg, 7, 5, seeds, init_scale=scales)
    hist = train_ensemble(ens, data, tc, seeds=seeds, lr=torch.tensor(lrs),
                          weight_decay=torch.tensor(wds), probe=qkv_norms)
    assert hist.extra["qkv"].shape == hist.train_acc.shape
    for e, s in enumerate(seeds):
        one = ensemble(cfg, 7, 5, [s], init_scale=scales[e])
        sub = _data(5, 1)
        h1 = train_ensemble(one, sub, tc, seeds=[s], lr=torch.tensor(lrs[e : e + 1]),
                            weight_decay=torch.tensor(wds[e : e + 1]), probe=qkv_norms)
        for k in ("train_loss", "test_loss", "weight_norm"):
            np.testing.assert_allclose(getattr(hist, k)[e], getattr(h1, k)[0], rtol=1e-4,
                                       atol=1e-5, err_msg=k)
        np.testing.assert_allclose(hist.extra["q1"][e], h1.extra["q1"][0], rtol=1e-4)
