"""Liu et al. toy ensemble and transformer ensemble against one-model references."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.core.optim import EnsembleOptimizer, ParamGroup
from grokpaper.liu import data as toydata
from grokpaper.liu.toy import (
    ToyConfig,
    ToyEnsemble,
    ToyTrainConfig,
    decoder_map,
    train_toy,
)
from grokpaper.liu.transformer import (
    ModAddTransformer,
    ModAddTransformerConfig,
    PreNormLayer,
    TransformerTrainConfig,
    effective_dimension,
    make_ensemble,
    train_transformer,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one intra-op thread avoids synchronization overhead on a busy CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

HYPER = {"lr_emb": [1e-2, 3e-3, 1e-3], "wd_emb": [0.0, 0.1, 0.0],
         "lr_dec": [1e-3, 1e-2, 3e-3], "wd_dec": [0.5, 0.0, 2.0]}


def _masks(task, sizes, seeds):
    return torch.as_tensor(np.stack([toydata.train_mask(task.n_samples, n, s)
                                     for n, s in zip(sizes, seeds, strict=True)]))


def _hyper(idx=None):
    return {k: torch.tensor(v if idx is None else [v[idx]]) for k, v in HYPER.items()}


def _curve(hist, name):
    """A curve of the trainer's History: a metric, or a probe's output (rqi, emb, eff_dim)."""
    return hist.extra[name] if name in hist.extra else getattr(hist, name)


@pytest.mark.parametrize("cfg", [ToyConfig(width=16), ToyConfig(width=16, loss="ce", emb_dim=2),
                                 ToyConfig(task="permutation", size=3, width=16,
                                           emb_init="normal", target_dim=10)])
def test_toy_ensemble_with_per_member_lr_wd_equals_separate_runs(cfg):
    seeds, sizes = [4, 7, 9], [40, 30, 45] if cfg.task == "addition" else [24, 20, 30]
    ens = ToyEnsemble(cfg, seeds)
    masks = _masks(ens.task, sizes, seeds)
    tcfg = ToyTrainConfig(steps=15, n_evals=4)
    hist = train_toy(ens, masks, tcfg, **_hyper())
    for e, s in enumerate(seeds):
        one = ToyEnsemble(cfg, [s])
        h1 = train_toy(one, masks[e : e + 1], tcfg, **_hyper(e))
        for k in ("train_acc", "test_acc", "train_loss", "test_loss", "rqi", "emb"):
            np.testing.assert_allclose(_curve(hist, k)[e], _curve(h1, k)[0], rtol=1e-4,
                                       atol=1e-5, err_msg=k)
        for (w, b), (w1, b1) in zip(ens.layers(), one.layers(), strict=True):
            torch.testing.assert_close(w[e], w1[0], rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(b[e], b1[0], rtol=1e-4, atol=1e-5)


def test_toy_training_matches_torch_adamw_with_two_groups():
    cfg = ToyConfig(width=8)
    ens = ToyEnsemble(cfg, [3])
    task = ens.task
    mask = _masks(task, [45], [3])
    emb = ens.emb[0].detach().clone().requires_grad_()
    layers = [(w[0].detach().clone().requires_grad_(), b[0, 0].detach().clone().requires_grad_())
              for w, b in ens.layers()]
    opt = torch.optim.AdamW([{"params": [emb], "lr": 1e-2, "weight_decay": 0.1},
                             {"params": [t for wb in layers for t in wb], "lr": 3e-3,
                              "weight_decay": 1.0}])
    pairs, labels = torch.as_tensor(task.pairs), torch.as_tensor(task.labels)
    target = ens.targets[0][labels][mask[0]]
    for _ in range(25):
        h = emb[pairs[:, 0]] + emb[pairs[:, 1]]
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            h = torch.tanh(h) if i < 2 else h
        loss = (h[mask[0]] - target).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    train_toy(ens, mask, ToyTrainConfig(steps=25, n_evals=3), lr_emb=1e-2, wd_emb=0.1,
              lr_dec=3e-3, wd_dec=1.0)
    torch.testing.assert_close(ens.emb[0], emb, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ens.layers()[1][0][0], layers[1][0], rtol=1e-4, atol=1e-5)


def test_toy_first_crossings_and_decoder_map():
    cfg = ToyConfig(width=16, emb_dim=2, loss="ce", mean_inputs=True)
    ens = ToyEnsemble(cfg, [0, 1])
    hist = train_toy(ens, _masks(ens.task, [55, 55], [0, 1]), ToyTrainConfig(steps=80, n_evals=6),
                     lr_emb=3e-2, wd_emb=0.0, lr_dec=3e-2, wd_dec=0.0)
    assert np.all(np.isnan(hist.test_acc))  # no test samples
    for e in range(2):
        t = hist.first["train"][e]
        if t >= 0:  # the tracker agrees with the curve: not reached before t
            assert np.all(hist.train_acc[e][hist.steps < t] < 0.9)
    classes, extent = decoder_map(ens, resolution=10)
    assert classes.shape == (2, 10, 10) and extent.shape == (2, 4)
    assert classes.min() >= 0 and classes.max() < ens.task.n_classes


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("kind", ["adamw", "adam"])
@pytest.mark.parametrize("active", [None, torch.tensor([True, False, True])])
def test_fused_optimizer_equals_elementwise(active, kind, transposed):
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(3, 4, 5, generator=g), torch.randn(3, 1, 5, generator=g)]
    twins = [p.clone() for p in params]
    lr, wd = torch.tensor([1e-2, 3e-2, 1e-2]), torch.tensor([0.0, 1.0, 0.0])
    # Two groups, as the toy's embeddings and decoder.
    fused = EnsembleOptimizer([ParamGroup(params[:1], lr, wd), ParamGroup(params[1:], 3e-3, 0.5)],
                              kind=kind, fused=True)
    plain = EnsembleOptimizer([ParamGroup(twins[:1], lr, wd), ParamGroup(twins[1:], 3e-3, 0.5)],
                              kind=kind, fused=False)
    assert fused.fused and not plain.fused
    alive = torch.ones(3, dtype=torch.bool) if active is None else active
    before = [p.clone() for p in params]
    for i in range(4):
        grads = [torch.randn(p.shape, generator=g) for p in params]
        if transposed:  # laid out as vmap'd linear layers' weight gradients: not contiguous
            grads = [x.transpose(1, 2).contiguous().transpose(1, 2) for x in grads]
            assert not grads[0].is_contiguous()
        fused.step(grads, alive, lr_factor=min(1.0, (i + 1) / 3))  # with a warm-up
        plain.step(grads, alive, lr_factor=min(1.0, (i + 1) / 3))
    for a, b, a0 in zip(params, twins, before, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(a[~alive], a0[~alive], rtol=0, atol=0)  # frozen exactly


def test_prenorm_layer_equals_torch_encoder_layer():
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(8, 1, 16, dropout=0.0, activation="relu",
                                     batch_first=True, norm_first=True).eval()
    mine = PreNormLayer(8, 16)
    with torch.no_grad():
        mine.qkv.weight.copy_(ref.self_attn.in_proj_weight)
        mine.qkv.bias.copy_(ref.self_attn.in_proj_bias)
        mine.out.weight.copy_(ref.self_attn.out_proj.weight)
        mine.out.bias.copy_(ref.self_attn.out_proj.bias)
        for a, b in ((mine.ff1, ref.linear1), (mine.ff2, ref.linear2),
                     (mine.norm1, ref.norm1), (mine.norm2, ref.norm2)):
            a.weight.copy_(b.weight)
            a.bias.copy_(b.bias)
    x = torch.randn(5, 2, 8)
    torch.testing.assert_close(mine(x, None), ref(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch_size", [None, 8])
def test_transformer_ensemble_equals_separate_runs(batch_size):
    cfg = ModAddTransformerConfig(p=5, d_model=8, d_ff=8, n_layers=2)
    seeds = [0, 1]
    masks = _masks(toydata.ToyTask("m", np.zeros((25, 2)), np.zeros(25), 5, 5), [20, 20], seeds)
    hyper = {"lr_emb": [1e-2, 1e-3], "wd_emb": [0.0, 0.1], "lr_dec": [3e-3, 1e-2],
             "wd_dec": [1.0, 0.0]}
    tcfg = TransformerTrainConfig(steps=12, n_evals=4, check_every=3, batch_size=batch_size)
    ens = make_ensemble(cfg, seeds)
    out = train_transformer(ens, masks, tcfg, **{k: torch.tensor(v) for k, v in hyper.items()})
    assert out.extra["eff_dim"].shape == (2, len(out.steps))
    for e, s in enumerate(seeds):
        one = make_ensemble(cfg, [s])
        o1 = train_transformer(one, masks[e : e + 1], tcfg,
                               **{k: torch.tensor([v[e]]) for k, v in hyper.items()})
        for k in ("train_loss", "test_loss", "test_acc", "eff_dim"):
            np.testing.assert_allclose(_curve(out, k)[e], _curve(o1, k)[0], rtol=1e-4,
                                       atol=1e-5, err_msg=k)


def test_transformer_training_matches_torch_adamw_with_two_groups():
    """The ensemble's member 1 against the module it stacks, trained by torch.optim.AdamW on the
    same rows (full batch): its vmap'd weight gradients are transposed in memory, which the
    fused update once read in the wrong order (the model then never fitted its training set)."""
    cfg = ModAddTransformerConfig(p=5, d_model=8, d_ff=8)
    ens = make_ensemble(cfg, [3, 4])
    torch.manual_seed(4)
    ref = ModAddTransformer(cfg)
    masks = _masks(toydata.ToyTask("m", np.zeros((25, 2)), np.zeros(25), 5, 5), [20, 20], [3, 4])
    x = torch.stack(torch.meshgrid(torch.arange(5), torch.arange(5), indexing="ij"), -1)
    x = x.reshape(-1, 2)
    y = x.sum(1) % 5
    opt = torch.optim.AdamW([{"params": ref.emb.parameters(), "lr": 1e-2, "weight_decay": 0.1},
                             {"params": [p for n, p in ref.named_parameters()
                                         if not n.startswith("emb.")],
                              "lr": 3e-3, "weight_decay": 1.0}])
    for _ in range(15):
        loss = nn.functional.cross_entropy(ref(x[masks[1]]), y[masks[1]])
        opt.zero_grad()
        loss.backward()
        opt.step()
    hist = train_transformer(ens, masks, TransformerTrainConfig(steps=15, n_evals=3),
                             lr_emb=1e-2, wd_emb=0.1, lr_dec=3e-3, wd_dec=1.0)
    for name, p in ref.named_parameters():
        mine = ens.named_member_params()[name][1]
        if name.endswith("qkv.bias"):  # the key bias has zero gradient up to rounding, which
            keep = torch.ones(24, dtype=torch.bool)  # Adam turns into lr-sized steps
            keep[8:16] = False
            mine, p = mine[keep], p[keep]
        torch.testing.assert_close(mine, p, rtol=1e-4, atol=1e-5, msg=name)
    assert hist.train_loss[1, -1] < hist.train_loss[1, 0]


def test_transformer_member_is_the_module_and_dropout_is_per_member():
    cfg = ModAddTransformerConfig(p=5, d_model=8, d_ff=8, stochastic=True)
    ens = make_ensemble(cfg, [3, 4], dropouts=[0.0, 0.5])
    torch.manual_seed(4)
    ref = ModAddTransformer(cfg, 0.5).eval()
    x = torch.tensor([[0, 1], [2, 3], [4, 4]])
    with torch.no_grad():
        torch.testing.assert_close(ens.eval()(x)[1], ref(x))
        a, b = ens.train()(x), ens(x)
    torch.testing.assert_close(a[0], b[0])  # rate 0: deterministic
    assert not torch.allclose(a[1], b[1])  # rate 0.5: random
    with pytest.raises(ValueError, match="stochastic"):
        make_ensemble(ModAddTransformerConfig(p=5, d_model=8), [0], dropouts=[0.1])


def test_effective_dimension():
    circle = torch.stack([torch.cos(torch.arange(12.0)), torch.sin(torch.arange(12.0))], 1)
    emb = torch.cat([circle, torch.zeros(12, 6)], 1)
    assert float(effective_dimension(emb)) == pytest.approx(2.0, rel=0.05)
    iso = torch.randn(2000, 4)
    assert float(effective_dimension(iso)) == pytest.approx(4.0, rel=0.05)
    # A diverged member's NaN embeddings give NaN, not an error for the whole ensemble.
    both = effective_dimension(torch.stack([emb, emb * float("nan")]))
    assert float(both[0]) == pytest.approx(2.0, rel=0.05) and torch.isnan(both[1])


def test_a_diverging_member_is_frozen_in_the_toy_and_the_transformer():
    # Member 1 starts from NaN embeddings: its loss is NaN at step 0, so it is frozen there
    # (its decoder keeps its initial weights exactly) while member 0 trains as if alone.
    toy = ToyEnsemble(ToyConfig(width=8), [0, 1])
    masks = _masks(toy.task, [40, 40], [0, 1])
    with torch.no_grad():
        toy.emb[1] = float("nan")
    start = [w[1].clone() for w, _ in toy.layers()]
    hist = train_toy(toy, masks, ToyTrainConfig(steps=10, n_evals=3),
                     **{k: torch.tensor(v[:2]) for k, v in HYPER.items()})
    alone = ToyEnsemble(ToyConfig(width=8), [0])
    h0 = train_toy(alone, masks[:1], ToyTrainConfig(steps=10, n_evals=3), **_hyper(0))
    assert hist.diverged_step.tolist() == [-1, 0]
    for (w, _), w0 in zip(toy.layers(), start, strict=True):
        torch.testing.assert_close(w[1], w0, rtol=0, atol=0)
    np.testing.assert_allclose(hist.train_loss[0], h0.train_loss[0], rtol=1e-5)

    cfg = ModAddTransformerConfig(p=5, d_model=8, d_ff=8)
    ens = make_ensemble(cfg, [0, 1])
    with torch.no_grad():
        ens.named_member_params()["emb.weight"][1] = float("nan")
    head = ens.named_member_params()["head.weight"][1].clone()
    out = train_transformer(ens, masks[:, :25], TransformerTrainConfig(steps=6, n_evals=3),
                            lr_emb=1e-2, wd_emb=0.0, lr_dec=1e-2, wd_dec=1.0)
    assert out.diverged_step.tolist() == [-1, 0]
    torch.testing.assert_close(ens.named_member_params()["head.weight"][1], head, rtol=0, atol=0)
    assert np.isfinite(out.train_loss[0]).all()


def test_dropout_depends_on_the_seeds_alone():
    # The training-time randomness is drawn from a generator seeded by the members' seeds: the
    # caller's global RNG state neither changes the result nor is changed by training.
    cfg = ModAddTransformerConfig(p=5, d_model=8, d_ff=8, stochastic=True)
    masks = _masks(toydata.ToyTask("m", np.zeros((25, 2)), np.zeros(25), 5, 5), [20, 20],
                   [0, 1])
    tcfg = TransformerTrainConfig(steps=8, n_evals=3, batch_size=8)
    runs = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        ens = make_ensemble(cfg, [0, 1], dropouts=[0.3, 0.5])
        runs.append(train_transformer(ens, masks, tcfg, lr_emb=1e-2, wd_emb=0.0, lr_dec=1e-2,
                                      wd_dec=0.0))
    np.testing.assert_array_equal(runs[0].train_loss, runs[1].train_loss)
    state = torch.random.get_rng_state()
    train_transformer(make_ensemble(cfg, [0, 1], dropouts=[0.3, 0.5]), masks, tcfg,
                      lr_emb=1e-2, wd_emb=0.0, lr_dec=1e-2, wd_dec=0.0)
    assert torch.equal(torch.random.get_rng_state(), state)
