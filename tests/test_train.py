"""The vectorized ensemble trainer against plain one-model references (micrograd style)."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.core import optim
from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.train import (
    EnsembleData,
    TrainConfig,
    eval_steps,
    train_ensemble,
)


def _data(e: int, n: list[int], n_in: int = 7, n_classes: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    n_max = max(n)
    x = torch.randn(e, n_max, n_in, generator=g)
    y = torch.randint(0, n_classes, (e, n_max), generator=g)
    xt = torch.randn(50, n_in, generator=g)
    yt = torch.randint(0, n_classes, (50,), generator=g)
    return EnsembleData(x, y, torch.tensor(n), xt, yt, n_classes,
                        test_groups=(torch.arange(50) % 2))


def _sub(data: EnsembleData, e: int) -> EnsembleData:
    n = int(data.n_train[e])
    return EnsembleData(data.x_train[e : e + 1, :n], data.y_train[e : e + 1, :n],
                        data.n_train[e : e + 1], data.x_test, data.y_test, data.n_classes,
                        test_groups=data.test_groups)


@pytest.mark.parametrize("batch_size", [None, 4])
@pytest.mark.parametrize(("optimizer", "loss"), [("adamw", "ce"), ("adam", "mse")])
def test_ensemble_equals_separate_runs(batch_size, optimizer, loss):
    seeds = [3, 11, 5]
    data = _data(3, [12, 9, 12])
    cfg = TrainConfig(steps=40, lr=3e-3, weight_decay=0.1, batch_size=batch_size,
                      optimizer=optimizer, loss=loss, n_evals=6)
    mcfg = MLPConfig(hidden=(16, 8), alpha=2.0)
    ens = EnsembleMLP(7, 3, mcfg, seeds)
    hist = train_ensemble(ens, data, cfg, seeds=seeds)
    for e, s in enumerate(seeds):
        alone = EnsembleMLP(7, 3, mcfg, [s])
        h1 = train_ensemble(alone, _sub(data, e), cfg, seeds=[s])
        for k in ("train_acc", "train_loss", "test_acc", "test_loss", "weight_norm"):
            np.testing.assert_allclose(getattr(hist, k)[e], getattr(h1, k)[0], rtol=1e-4,
                                       atol=1e-5, err_msg=k)
        np.testing.assert_allclose(hist.test_group_acc[e], h1.test_group_acc[0], atol=1e-6)
        for p_ens, p_one in zip(ens.parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(p_ens[e], p_one[0], rtol=1e-4, atol=1e-5)


def _reference_mlp(ens: EnsembleMLP, e: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(zip(ens.weights, ens.biases, strict=True)):
        lin = nn.Linear(w.shape[1], w.shape[2])
        with torch.no_grad():
            lin.weight.copy_(w[e].T)
            lin.bias.copy_(b[e, 0])
        layers.append(lin)
        if i < len(ens.weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def test_full_batch_training_matches_torch_adamw_on_a_plain_mlp():
    seeds = [0, 1]
    data = _data(2, [10, 10])
    cfg = TrainConfig(steps=25, lr=1e-2, weight_decay=0.5, batch_size=None, n_evals=4)
    ens = EnsembleMLP(7, 3, MLPConfig(hidden=(8,), alpha=3.0), seeds)
    refs = [_reference_mlp(ens, e) for e in range(2)]
    train_ensemble(ens, data, cfg, seeds=seeds)
    for e, ref in enumerate(refs):
        opt = torch.optim.AdamW(ref.parameters(), lr=1e-2, weight_decay=0.5)
        for _ in range(25):
            opt.zero_grad()
            nn.functional.cross_entropy(ref(data.x_train[e]), data.y_train[e]).backward()
            opt.step()
        torch.testing.assert_close(ens.weights[0][e], ref[0].weight.T, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ens.weights[1][e], ref[2].weight.T, rtol=1e-4, atol=1e-5)


def test_coupled_adam_matches_torch_adam_with_l2():
    p = torch.randn(2, 5)
    ref = p.clone().requires_grad_(True)
    opt = torch.optim.Adam([ref], lr=0.01, weight_decay=0.3)
    state = optim.init_state([p])
    for i in range(10):
        g = torch.sin(p * (i + 1))
        optim.adamw_step([p], [g], state, lr=0.01, weight_decay=0.3, coupled=True)
        ref.grad = torch.sin(ref.detach() * (i + 1))
        opt.step()
    torch.testing.assert_close(p, ref.detach())


def test_per_member_lr_equals_separate_learning_rates():
    p = torch.randn(3, 4)
    lrs = torch.tensor([1e-3, 1e-2, 1e-1])
    wds = torch.tensor([0.0, 0.1, 1.0])
    state = optim.init_state([p])
    expect = []
    for e in range(3):
        q = p[e : e + 1].clone()
        s = optim.init_state([q])
        for _ in range(5):
            optim.adamw_step([q], [q.cos()], s, lr=float(lrs[e]), weight_decay=float(wds[e]))
        expect.append(q)
    for _ in range(5):
        optim.adamw_step([p], [p.cos()], state, lr=lrs, weight_decay=wds)
    torch.testing.assert_close(p, torch.cat(expect))


def test_padding_rows_are_ignored():
    seeds = [1, 2]
    data = _data(2, [6, 10])
    poisoned = EnsembleData(data.x_train.clone(), data.y_train.clone(), data.n_train,
                            data.x_test, data.y_test, data.n_classes)
    poisoned.x_train[0, 6:] = 1e3  # padding of member 0 must not matter
    cfg = TrainConfig(steps=10, batch_size=None, n_evals=3)
    h_a = train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), seeds), data, cfg, seeds=seeds)
    h_b = train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), seeds), poisoned, cfg,
                         seeds=seeds)
    np.testing.assert_allclose(h_a.train_loss, h_b.train_loss, rtol=1e-5)


def test_diverging_member_is_frozen_and_reported_while_others_go_on():
    seeds = [0, 1]
    data = _data(2, [8, 8])
    data.x_train[1, 0, 0] = float("nan")  # member 1's loss is NaN from step 0
    cfg = TrainConfig(steps=20, batch_size=None, n_evals=3, lr=1e-2)
    ens = EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), seeds)
    hist = train_ensemble(ens, data, cfg, seeds=seeds)
    assert hist.diverged_step.tolist() == [-1, 0]
    assert torch.isfinite(ens.weights[0]).all()
    assert hist.train_loss[0, -1] < hist.train_loss[0, 0]


def test_learns_a_separable_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 200, 5, generator=g)
    y = (x[..., 0] > 0).long()
    data = EnsembleData(x, y, torch.tensor([200]), x[0], y[0], 2)
    hist = train_ensemble(EnsembleMLP(5, 2, MLPConfig(hidden=(16,), alpha=1.0), [0]), data,
                          TrainConfig(steps=300, lr=1e-2, batch_size=50, n_evals=5), seeds=[0])
    assert hist.train_acc[0, 0] < 0.8 < 0.95 < hist.train_acc[0, -1]


def test_eval_steps_are_log_spaced_and_include_ends():
    s = eval_steps(10_000, 30)
    assert s[0] == 0 and s[-1] == 10_000 and np.all(np.diff(s) > 0)
    assert 20 <= len(s) <= 31


def test_bad_train_config_names_the_parameter():
    for kwargs, name in [({"steps": 0}, "steps"), ({"lr": -1.0}, "lr"),
                         ({"optimizer": "sgdx"}, "optimizer"), ({"loss": "hinge"}, "loss"),
                         ({"batch_size": 0}, "batch_size"), ({"weight_decay": -1}, "weight_decay")]:
        with pytest.raises(ValueError, match=name):
            TrainConfig(**kwargs)
