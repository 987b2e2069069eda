"""train_ensemble options: warm-up, linear evaluation steps, probes, per-group test loss,
train/eval mode (training-only noise) for Li & Sakib; shared pools, per-member test rows,
first crossings, evaluation from the step's forward pass and no host reads per step for the
Liu et al. models that train through it too."""

import numpy as np
import pytest
import torch
from torch import nn

from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.optim import ParamGroup
from grokpaper.core.threads import flushing_denormals
from grokpaper.core.train import (
    Crossing,
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


# --- one trainer for every layout: shared pools, per-member test rows, crossings -------------


def _pool(e: int = 3, n: int = 24, seed: int = 0):
    """Shared rows, a random training subset per member (at least 8 rows each)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 7, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    mask = torch.rand(e, n, generator=g) < 0.6
    mask[:, :8] = True
    return x, y, mask


@pytest.mark.parametrize("batch_size", [None, 4])
def test_shared_pool_equals_padded_rows_with_a_test_mask(batch_size):
    # The same runs two ways: rows shared with a train mask, or each member's rows gathered
    # (padded) with the rest of the pool as its test rows.
    x, y, mask = _pool()
    pool = EnsembleData.from_pool(x, y, mask, 3)
    padded = EnsembleData.from_pool(x, y, mask, 3, gather=True)
    assert pool.shared and not padded.shared
    for e in range(3):  # member e's own rows, in order, then padding
        n = int(mask[e].sum())
        torch.testing.assert_close(padded.x_train[e, :n], x[mask[e]])
    cfg = TrainConfig(steps=12, lr=1e-2, batch_size=batch_size, n_evals=4)
    hist = [train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(8,)), [0, 1, 2]), d, cfg,
                           seeds=[0, 1, 2]) for d in (pool, padded)]
    for k in ("train_acc", "train_loss", "test_acc", "test_loss", "weight_norm"):
        np.testing.assert_allclose(getattr(hist[0], k), getattr(hist[1], k), rtol=1e-5,
                                   atol=1e-6, err_msg=k)


def test_eval_from_step_equals_a_separate_evaluation():
    x, y, mask = _pool()
    data = EnsembleData.from_pool(x, y, mask, 3)
    cfg = TrainConfig(steps=10, lr=1e-2, batch_size=None, n_evals=4)
    crossings = (Crossing("train", "train_acc", 0.5),)
    hist = [train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(8,)), [0, 1, 2]), data, cfg,
                           seeds=[0, 1, 2], crossings=crossings, eval_from_step=reuse)
            for reuse in (True, False)]
    for k, v in hist[0].arrays().items():
        np.testing.assert_array_equal(v, hist[1].arrays()[k], err_msg=k)
    with pytest.raises(ValueError, match="eval_from_step"):
        train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(8,)), [0, 1]), _data(), cfg,
                       seeds=[0, 1], eval_from_step=True)  # a separate test set


@pytest.mark.parametrize("check_every", [1, 5])
def test_crossings_are_the_first_checked_steps_over_the_threshold(check_every):
    # Curves at every step (a first run) against crossings checked every `check_every` steps
    # and at the two evaluation steps 0 and 12 (a second run, trained the same).
    data = _data()
    steps = 12

    def run(n_evals, **kwargs):
        cfg = TrainConfig(steps=steps, lr=3e-2, batch_size=None, n_evals=n_evals,
                          eval_spacing="linear")
        return train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(8,)), [0, 1]), data, cfg,
                              seeds=[0, 1], **kwargs)

    dense = run(steps + 1)
    acc = dense.train_acc[0]
    assert acc.max() > acc[0]  # member 0 learns: a level passed during the run
    crossings = (Crossing("acc", "train_acc", float(acc[0] + acc.max()) / 2),
                 Crossing("norm", "weight_norm", float(np.median(dense.weight_norm))),
                 Crossing("w", "w0", 0.0, strict=True))
    hist = run(2, crossings=crossings, check_every=check_every,
               probe=lambda m: {"w0": m.weights[0].flatten(1).norm(dim=1)})
    np.testing.assert_array_equal(hist.train_acc, dense.train_acc[:, [0, -1]])
    checked = (dense.steps % check_every == 0) | (dense.steps == steps)
    for c, curve in zip(crossings[:2], (dense.train_acc, dense.weight_norm), strict=True):
        for e in range(2):
            hits = np.flatnonzero(checked & (curve[e] >= c.threshold))
            assert hist.first[c.name][e] == (dense.steps[hits[0]] if len(hits) else -1)
    assert hist.first["acc"][0] > 0
    assert hist.first["w"].tolist() == [0, 0]  # norms > 0 from the start (strict)
    assert hist.member(1)["step_acc"] == hist.first["acc"][1]


def test_a_member_is_scored_on_its_own_test_rows():
    # Li & Sakib: each member's validation set as a test mask equals its group's accuracy.
    data = _data(e=3)
    groups = data.test_groups
    own = torch.stack([groups == g for g in (2, 0, 1)])
    masked = EnsembleData(data.x_train, data.y_train, data.n_train, data.x_test, data.y_test,
                          3, test_groups=groups, test_mask=own)
    cfg = TrainConfig(steps=6, batch_size=None, n_evals=3)
    hist = train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), [0, 1, 2]), masked, cfg,
                          seeds=[0, 1, 2])
    for e, g in enumerate((2, 0, 1)):
        np.testing.assert_allclose(hist.test_acc[e], hist.test_group_acc[e, :, g], rtol=1e-6)
        np.testing.assert_allclose(hist.test_loss[e], hist.test_group_loss[e, :, g], rtol=1e-5)


_HOST_READS = ("item", "tolist", "__bool__", "__int__", "__float__", "__index__", "numpy",
               "cpu")


def _host_reads(monkeypatch, train) -> int:
    """How often ``train()`` reads a tensor's value back to the host (a device sync on a GPU)."""
    calls = []
    for name in _HOST_READS:
        original = getattr(torch.Tensor, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, spy)
    train()
    monkeypatch.undo()
    return len(calls)


@pytest.mark.parametrize("batch_size", [None, 3])
def test_no_host_reads_per_training_step(monkeypatch, batch_size):
    # The number of host reads does not grow with the steps: none per step, with crossings
    # checked at every step, a frozen member and two parameter groups.
    data = _data()
    data.x_train[1, 0, 0] = float("nan")  # member 1 diverges at step 0

    def train(steps: int):
        ens = EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), [0, 1])
        groups = [ParamGroup(list(ens.weights), torch.tensor([1e-2, 1e-3]), 0.1),
                  ParamGroup(list(ens.biases), 1e-2, 0.0)]
        cfg = TrainConfig(steps=steps, batch_size=batch_size, n_evals=3, warmup_steps=2)
        return lambda: train_ensemble(ens, data, cfg, seeds=[0, 1], groups=groups, fused=True,
                                      crossings=(Crossing("a", "test_acc", 0.5),))

    assert _host_reads(monkeypatch, train(10)) == _host_reads(monkeypatch, train(60))


def test_cpu_training_flushes_denormals_and_restores_the_callers_setting():
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero flags")
    data = _data()
    cfg = TrainConfig(steps=4, batch_size=None, n_evals=3)
    seen = []

    def probe(m: EnsembleMLP) -> dict[str, torch.Tensor]:
        seen.append(flushing_denormals())
        return {}

    try:
        for before in (False, True):
            torch.set_flush_denormal(before)
            train_ensemble(EnsembleMLP(7, 3, MLPConfig(hidden=(4,)), [0, 1]), data, cfg,
                           seeds=[0, 1], probe=probe)
            assert flushing_denormals() is before
    finally:
        torch.set_flush_denormal(False)
    assert len(seen) == 6 and all(seen)
