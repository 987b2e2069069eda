"""The token transformer: attention maths, the vmapped ensemble against separate runs."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.carvalho import transformer as tt
from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble

SMALL = tt.TokenTransformerConfig(d_model=8, n_heads=2, d_ff=16, alpha=2.0)


def test_attention_equals_torch_multihead_attention():
    torch.manual_seed(0)
    ours = tt.SelfAttention(8, 2)
    ref = nn.MultiheadAttention(8, 2, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.out.weight)
        ref.out_proj.bias.copy_(ours.out.bias)
    h = torch.randn(5, 9, 8)
    torch.testing.assert_close(ours(h), ref(h, h, h, need_weights=False)[0])


def test_reads_117_features_as_9_tokens_of_13():
    model = tt.TokenTransformer(SMALL, n_classes=4)
    x = torch.randn(6, 117)
    assert model(x).shape == (6, 4)
    # Each token is one 13-dim block: embedding block 2 alone equals embedding x[:, 26:39].
    tokens = model.embed(x.unflatten(-1, (9, 13)))
    torch.testing.assert_close(tokens[:, 2], model.embed(x[:, 26:39]))


def test_member_e_is_the_model_built_with_seed_e():
    ens = tt.ensemble(SMALL, 4, [3, 8])
    torch.manual_seed(8)
    ref = tt.TokenTransformer(SMALL, 4)
    x = torch.randn(5, 117)
    with torch.no_grad():
        torch.testing.assert_close(ens(x)[1], ref(x))


def test_alpha_scales_layer_weights_but_not_layernorm():
    torch.manual_seed(0)
    one = tt.TokenTransformer(
        tt.TokenTransformerConfig(d_model=8, n_heads=2, d_ff=16, alpha=1.0), 4)
    torch.manual_seed(0)
    big = tt.TokenTransformer(SMALL, 4)  # alpha = 2
    for (name, p1), (_, p2) in zip(one.named_parameters(), big.named_parameters(), strict=True):
        factor = 1.0 if ".ln" in f".{name}" else SMALL.alpha
        torch.testing.assert_close(p2, p1 * factor, msg=name)


def _data(sizes: list[int]) -> EnsembleData:
    g = torch.Generator().manual_seed(0)
    e, n_max = len(sizes), max(sizes)
    x = torch.randn(e, n_max, 117, generator=g)
    y = torch.randint(0, 4, (e, n_max), generator=g)
    xt = torch.randn(30, 117, generator=g)
    return EnsembleData(x, y, torch.tensor(sizes), xt, torch.randint(0, 4, (30,), generator=g),
                        4, test_groups=torch.arange(30) % 2)


@pytest.mark.parametrize("batch_size", [None, 4])
def test_ensemble_training_equals_separate_runs(batch_size):
    # Members with different training-set sizes (padding) and their own seeds.
    seeds, data = [5, 1, 7], _data([10, 6, 10])
    cfg = TrainConfig(steps=12, lr=3e-3, weight_decay=0.1, optimizer="adam",
                      batch_size=batch_size, n_evals=4)
    hist = train_ensemble(tt.ensemble(SMALL, 4, seeds), data, cfg, seeds=seeds)
    for e, s in enumerate(seeds):
        n = int(data.n_train[e])
        one = EnsembleData(data.x_train[e : e + 1, :n], data.y_train[e : e + 1, :n],
                           data.n_train[e : e + 1], data.x_test, data.y_test, 4,
                           test_groups=data.test_groups)
        h1 = train_ensemble(tt.ensemble(SMALL, 4, [s]), one, cfg, seeds=[s])
        for k in ("train_loss", "test_loss", "weight_norm"):
            np.testing.assert_allclose(getattr(hist, k)[e], getattr(h1, k)[0], rtol=1e-4,
                                       atol=1e-5, err_msg=k)
        np.testing.assert_allclose(hist.test_group_acc[e], h1.test_group_acc[0])


@pytest.mark.parametrize(("kwargs", "match"), [({"d_model": 10, "n_heads": 4}, "divisible"),
                                               ({"n_layers": 0}, "n_layers"),
                                               ({"alpha": 0.0}, "alpha")])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tt.TokenTransformerConfig(**kwargs)
