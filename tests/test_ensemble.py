"""VmapEnsemble: a generic module ensemble equals its members run one by one."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.core.ensemble import VmapEnsemble
from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble


class Tiny(nn.Module):
    """Token model: embedding, one encoder layer, read-out at the last position."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(5, 8)
        self.layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        self.out = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.layer(self.emb(x))[:, -1])


def _data(e: int):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 5, (e, 12, 3), generator=g)
    y = x.sum(-1) % 5
    xt = torch.randint(0, 5, (20, 3), generator=g)
    return EnsembleData(x, y, torch.full((e,), 12), xt, xt.sum(-1) % 5, 5)


def test_member_e_is_the_module_built_with_seed_e():
    ens = VmapEnsemble(Tiny, [4, 9], init_scale=2.0)
    torch.manual_seed(9)
    ref = Tiny()
    x = torch.randint(0, 5, (6, 3))
    with torch.no_grad():
        for p in ref.parameters():
            p.mul_(2.0)
        torch.testing.assert_close(ens(x)[1], ref(x))


def test_shared_and_per_member_inputs():
    ens = VmapEnsemble(Tiny, [0, 1, 2])
    x = torch.randint(0, 5, (6, 3))
    out_shared = ens(x)
    out_each = ens(x.expand(3, 6, 3))
    assert out_shared.shape == (3, 6, 5)
    torch.testing.assert_close(out_shared, out_each)
    with pytest.raises(ValueError, match="dims"):
        ens(torch.zeros(2, 2, 2, 3, dtype=torch.long))


@pytest.mark.parametrize("batch_size", [None, 4])
def test_vmap_ensemble_training_equals_separate_runs(batch_size):
    data = _data(2)
    cfg = TrainConfig(steps=15, lr=1e-2, weight_decay=0.1, batch_size=batch_size, n_evals=4)
    ens = VmapEnsemble(Tiny, [0, 1])
    hist = train_ensemble(ens, data, cfg, seeds=[0, 1])
    for e, s in enumerate([0, 1]):
        one = VmapEnsemble(Tiny, [s])
        sub = EnsembleData(data.x_train[e : e + 1], data.y_train[e : e + 1], data.n_train[:1],
                           data.x_test, data.y_test, 5)
        h1 = train_ensemble(one, sub, cfg, seeds=[s])
        np.testing.assert_allclose(hist.train_loss[e], h1.train_loss[0], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(hist.test_acc[e], h1.test_acc[0])
