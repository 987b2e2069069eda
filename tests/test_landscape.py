"""Loss-landscape directions keep their stated norms; the vmapped grid equals direct loss."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.core import landscape
from grokpaper.lisakib.transformer import ModularTransformer, ModularTransformerConfig


def _model() -> ModularTransformer:
    torch.manual_seed(0)
    return ModularTransformer(ModularTransformerConfig(n_layers=1, d_model=8, n_heads=2,
                                                       d_ff=16), 7, 5)


def test_tensor_normalization_gives_unit_frobenius_norm_per_tensor():
    params = dict(_model().named_parameters())
    d = landscape.normalize(landscape.random_direction(params, seed=1), params, "tensor")
    for k, v in d.items():
        assert v.shape == params[k].shape
        assert v.norm().item() == pytest.approx(1.0, rel=1e-5)


def test_filter_normalization_matches_row_norms_and_zeroes_1d():
    params = {k: v.detach() * 3 for k, v in _model().named_parameters()}
    d = landscape.normalize(landscape.random_direction(params, seed=2), params, "filter")
    for k, v in d.items():
        w = params[k]
        if w.ndim <= 1:  # biases and LayerNorm parameters
            assert torch.count_nonzero(v) == 0
        else:
            torch.testing.assert_close(v.flatten(1).norm(dim=1), w.flatten(1).norm(dim=1))
    with pytest.raises(ValueError, match="method"):
        landscape.normalize(d, params, "layer")


def test_grid_loss_equals_direct_evaluation():
    m = _model().eval()
    params = {k: v.detach().clone() for k, v in m.named_parameters()}
    d1, d2 = landscape.directions(params, "filter", seed=0)
    x = torch.randint(0, 7, (9, 4))
    y = torch.randint(0, 5, (9,))
    coords = np.array([-0.5, 0.0, 0.5])
    grid = landscape.grid_loss(m, params, d1, d2, coords, x, y, chunk=4)
    assert grid.shape == (3, 3)
    with torch.no_grad():
        for i, a in enumerate(coords):
            for j, b in enumerate(coords):
                for k, p in m.named_parameters():
                    p.copy_(params[k] + a * d1[k] + b * d2[k])
                want = nn.functional.cross_entropy(m(x), y).item()
                assert grid[i, j] == pytest.approx(want, rel=1e-4, abs=1e-5)
    summary = landscape.roughness(grid)
    assert summary["range"] == pytest.approx(grid.max() - grid.min())
    assert summary["centre"] == pytest.approx(grid[1, 1])
