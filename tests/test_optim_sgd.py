"""Plain SGD and the minibatch transform hook of the ensemble trainer."""

import torch
from torch import nn

from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble


def _data(e=2, n=10, n_in=7, k=3):
    g = torch.Generator().manual_seed(0)
    return EnsembleData(torch.randn(e, n, n_in, generator=g),
                        torch.randint(0, k, (e, n), generator=g), torch.full((e,), n),
                        torch.randn(20, n_in, generator=g),
                        torch.randint(0, k, (20,), generator=g), k)


def test_sgd_matches_torch_sgd_with_weight_decay_per_member():
    data = _data()
    ens = EnsembleMLP(7, 3, MLPConfig(hidden=(8,), alpha=2.0), [0, 1])
    refs = []
    for e in range(2):
        lin1, lin2 = nn.Linear(7, 8), nn.Linear(8, 3)
        with torch.no_grad():
            lin1.weight.copy_(ens.weights[0][e].T)
            lin1.bias.copy_(ens.biases[0][e, 0])
            lin2.weight.copy_(ens.weights[1][e].T)
            lin2.bias.copy_(ens.biases[1][e, 0])
        refs.append(nn.Sequential(lin1, nn.ReLU(), lin2))
    lrs, wds = [0.05, 0.01], [0.1, 0.0]
    cfg = TrainConfig(steps=15, optimizer="sgd", loss="mse", batch_size=None, n_evals=3)
    train_ensemble(ens, data, cfg, seeds=[0, 1], lr=torch.tensor(lrs),
                   weight_decay=torch.tensor(wds))
    for e, ref in enumerate(refs):
        opt = torch.optim.SGD(ref.parameters(), lr=lrs[e], weight_decay=wds[e])
        target = nn.functional.one_hot(data.y_train[e], 3).float()
        for _ in range(15):
            opt.zero_grad()
            nn.functional.mse_loss(ref(data.x_train[e]), target).backward()
            opt.step()
        torch.testing.assert_close(ens.weights[0][e], ref[0].weight.T, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ens.biases[1][e, 0], ref[2].bias, rtol=1e-4, atol=1e-5)


def test_transform_sees_every_training_batch_but_not_evaluation():
    data = _data()
    seen = []

    def zero_inputs(x, step):
        seen.append((step, tuple(x.shape)))
        return torch.zeros_like(x)

    cfg = TrainConfig(steps=6, batch_size=5, n_evals=3, weight_decay=0.0)
    ens = EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), [0, 1])
    first = [w.detach().clone() for w in ens.weights]
    train_ensemble(ens, data, cfg, seeds=[0, 1], transform=zero_inputs)
    assert seen == [(s, (2, 5, 7)) for s in range(6)]
    # inputs were all zero, so the first layer's weights got no gradient and did not move
    torch.testing.assert_close(ens.weights[0], first[0])
    assert not torch.allclose(ens.weights[1], first[1])
