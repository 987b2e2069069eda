"""train_ensemble options added for Li & Sakib: warm-up, linear evaluation steps, probes,
per-group test loss, and train/eval mode (training-only noise)."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.train import (
    EnsembleData,
    TrainConfig,
    eval_steps,
    train_ensemble,
)


def _data(e: int = 2, n: int = 10):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(e, n, 7, generator=g)
    y = torch.randint(0, 3, (e, n), generator=g)
    xt = torch.randn(12, 7, generator=g)
    yt = torch.randint(0, 3, (12,), generator=g)
    return EnsembleData(x, y, torch.full((e,), n), xt, yt, 3, test_groups=torch.arange(12) % 3)


def test_warmup_matches_torch_linear_lr():
    data = _data(1)
    cfg = TrainConfig(steps=15, lr=1e-2, weight_decay=0.5, batch_size=None, n_evals=3,
                      betas=(0.9, 0.98), warmup_steps=10)
    ens = EnsembleMLP(7, 3, MLPConfig(hidden=(8,), alpha=1.0), [0])
    ref = nn.Sequential(nn.Linear(7, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        ref[0].weight.copy_(ens.weights[0][0].T)
        ref[0].bias.copy_(ens.biases[0][0, 0])
        ref[2].weight.copy_(ens.weights[1][0].T)
        ref[2].bias.copy_(ens.biases[1][0, 0])
    train_ensemble(ens, data, cfg, seeds=[0])
    opt = torch.optim.AdamW(ref.parameters(), lr=1e-2, weight_decay=0.5, betas=(0.9, 0.98))
    # The forked Power et al. code: LinearLR(start_factor=0.1, total_iters=9).
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=9)
    for _ in range(15):
        opt.zero_grad()
        nn.functional.cross_entropy(ref(data.x_train[0]), data.y_train[0]).backward()
        opt.step()
        sched.step()
    torch.testing.assert_close(ens.weights[1][0], ref[2].weight.T, rtol=1e-4, atol=1e-5)


def test_linear_eval_steps():
    s = eval_steps(1000, 11, "linear")
    assert s.tolist() == list(range(0, 1001, 100))
    with pytest.raises(ValueError, match="eval_spacing"):
        TrainConfig(eval_spacing="cubic")
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainConfig(warmup_steps=-1)


def test_probe_and_group_loss_are_recorded():
    data = _data()
    ens = EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), [0, 1])
    cfg = TrainConfig(steps=6, batch_size=None, n_evals=4, eval_spacing="linear")
    hist = train_ensemble(ens, data, cfg, seeds=[0, 1],
                          probe=lambda m: {"w0": m.weights[0].flatten(1).norm(dim=1)})
    assert hist.extra["w0"].shape == (2, len(hist.steps))
    np.testing.assert_allclose(hist.extra["w0"][:, -1],
                               ens.weights[0].flatten(1).norm(dim=1).detach(), rtol=1e-6)
    assert hist.member(1)["extra_w0"].shape == (len(hist.steps),)
    # Groups are equal-sized here, so the mean of the group losses is the test loss.
    np.testing.assert_allclose(hist.test_group_loss.mean(-1), hist.test_loss, rtol=1e-5)


class _ModeSpy(nn.Module):
    """Counts forward calls by mode; a linear model otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), [0, 1])
        self.calls = {True: 0, False: 0}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls[self.training] += 1
        return self.lin(x)

    def member_norms(self) -> torch.Tensor:
        return self.lin.member_norms()


def test_steps_run_in_train_mode_and_evaluation_in_eval_mode():
    spy = _ModeSpy().eval()
    cfg = TrainConfig(steps=5, batch_size=None, n_evals=2)
    train_ensemble(spy, _data(), cfg, seeds=[0, 1])
    assert spy.calls[True] == 5  # one forward per optimizer step
    assert spy.calls[False] == 2 * 2  # train and test set at 2 evaluation points
    assert not spy.training  # the caller's mode is restored
