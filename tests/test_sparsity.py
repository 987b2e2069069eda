"""The weight-sparsity probe (computed a second way, member by member) and the Sec. 5.2
mechanism verdict on hand-made runs with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from grokpaper.carvalho import data as syn
from grokpaper.carvalho import experiments as synthetic
from grokpaper.carvalho import mechanism
from grokpaper.core import verdicts
from grokpaper.core.metrics import definition31
from grokpaper.core.models import EnsembleMLP, MLPConfig
from grokpaper.core.sparsity import SMALL, weight_sparsity
from grokpaper.core.store import Store
from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED


def _by_hand(model: EnsembleMLP, member: int) -> tuple[float, float]:
    w = np.concatenate([p.detach()[member].numpy().ravel() for p in model.parameters()])
    rms = np.sqrt(np.mean(w**2))
    return (np.abs(w).sum() / (np.sqrt(w.size) * np.linalg.norm(w)),
            float(np.mean(np.abs(w) < SMALL * rms)))


def test_weight_sparsity_agrees_with_numpy_member_by_member() -> None:
    model = EnsembleMLP(117, 4, MLPConfig(hidden=(16, 8)), seeds=[0, 1, 2])
    got = weight_sparsity(model)
    assert set(got) == {"l1_l2", "small_frac"} and got["l1_l2"].shape == (3,)
    for e in range(3):
        l1_l2, small = _by_hand(model, e)
        assert got["l1_l2"][e].item() == pytest.approx(l1_l2, rel=1e-5)
        assert got["small_frac"][e].item() == pytest.approx(small)


def test_weight_sparsity_of_known_distributions() -> None:
    class Members(torch.nn.Module):
        def __init__(self, w: torch.Tensor) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(w)

    g = torch.Generator().manual_seed(0)
    uniform = weight_sparsity(Members(torch.rand(2, 200_000, generator=g) * 2 - 1))
    # mean |w| / rms(w) = 0.5 / (1 / sqrt(3)); P(|w| < 0.1 rms) = 0.1 / sqrt(3)
    assert uniform["l1_l2"].numpy() == pytest.approx(np.sqrt(3) / 2, abs=0.003)
    assert uniform["small_frac"].numpy() == pytest.approx(0.1 / np.sqrt(3), abs=0.003)
    gauss = weight_sparsity(Members(torch.randn(2, 200_000, generator=g)))
    assert gauss["l1_l2"].numpy() == pytest.approx(np.sqrt(2 / np.pi), abs=0.003)
    assert gauss["small_frac"].numpy() == pytest.approx(0.0797, abs=0.003)  # P(|z| < 0.1)


def test_weight_sparsity_is_scale_free_and_sees_zeros() -> None:
    model = EnsembleMLP(117, 4, MLPConfig(hidden=(16,)), seeds=[0, 1])
    before = weight_sparsity(model)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)  # shrinking every weight alike (weight decay alone) changes nothing
    after = weight_sparsity(model)
    for k in before:
        torch.testing.assert_close(before[k], after[k])
    with torch.no_grad():
        model.weights[0][1, :, ::2] = 0.0  # member 1 loses half its first-layer weights
    zeroed = weight_sparsity(model)
    assert zeroed["l1_l2"][1] < after["l1_l2"][1] - 0.05
    assert zeroed["small_frac"][1] > after["small_frac"][1] + 0.3
    torch.testing.assert_close(zeroed["l1_l2"][0], after["l1_l2"][0])


STEPS = np.unique(np.geomspace(1, 20_000, 60).astype(int)).astype(float)
TRAIN = np.clip(STEPS / 300, 0, 1)


def _run(grokking: bool, l1_l2_drop: float, seed: int = 0, f: float = 0.2) -> dict:
    """A run whose test curve groks around step 1,500 (or stays flat) while its L1/L2 ratio
    falls by ``l1_l2_drop`` around the same step."""
    rise = 1 / (1 + np.exp(-(STEPS - 1500) / 60))
    test = 0.55 * TRAIN + (0.44 * rise if grokking else 0.0)
    st = definition31(STEPS, TRAIN, test).as_dict()
    return {"n_train": 500, "f": f, "seed": seed, "steps": STEPS, "train_acc": TRAIN,
            "test_acc": test, "extra_l1_l2": 0.86 - l1_l2_drop * rise,
            "extra_small_frac": 0.06 + 2 * l1_l2_drop * rise,
            **{f"def31_{k}": v for k, v in st.items()}}


def test_sparsity_change_is_read_at_alpha0_and_alpha1() -> None:
    df = pd.DataFrame([_run(True, 0.05)])
    got = mechanism.sparsity_change(df).iloc[0]
    rise = 1 / (1 + np.exp(-(np.array([df["def31_alpha0"][0], df["def31_alpha1"][0]])
                             - 1500) / 60))
    assert got["d_l1_l2"] == pytest.approx(-0.05 * (rise[1] - rise[0]))
    assert got["d_l1_l2"] < -0.04 and got["sparser"]
    assert abs(got["plateau_d_l1_l2"]) < 0.001  # flat over the plateau before alpha0
    assert got["d_small_frac"] == pytest.approx(-2 * got["d_l1_l2"])


@pytest.mark.parametrize(("runs", "expected"), [
    ([(True, 0.05), (True, 0.05)], SUPPORTED),
    ([(True, 0.05), (True, 0.0), (True, 0.0)], PARTLY),
    ([(True, 0.0), (True, -0.05)], NOT_SUPPORTED),  # denser, or unchanged
    ([(False, 0.05), (False, 0.05)], INCONCLUSIVE),  # no transition to look at
])
def test_mechanism_verdict_gives_each_outcome(runs: list[tuple[bool, float]],
                                              expected: str) -> None:
    df = pd.DataFrame([_run(g, d, seed=i) for i, (g, d) in enumerate(runs)])
    (v,) = mechanism.carvalho_sparsity(df, page="p")
    assert v.verdict == expected
    assert bool(v.decide) == (expected == INCONCLUSIVE)
    assert len(v.measured) <= 160
    table = mechanism.sparsity_table(df, by=["f"])
    assert table["grokking runs"].sum() == sum(g for g, _ in runs)


def test_carvalho_runs_record_the_probe_from_their_initial_weights(tmp_path) -> None:
    p = synthetic.ShiftSweep(seeds=2, sizes=(40,), fs=(0.2,), n_test=80, steps=6, n_evals=3,
                             batch_size=20, hidden=(8,))
    runs = p.runs()
    df = synthetic.run(runs, store=Store(tmp_path), device="cpu", progress=False)
    assert df["extra_l1_l2"].map(len).tolist() == df["steps"].map(len).tolist()
    # the first evaluation (step 0) sees the initial weights: the probe on a fresh ensemble
    fresh = weight_sparsity(synthetic.build_ensemble(runs[0].model, syn.layout("equidistant")
                                                     .n_classes, [r.seed for r in runs]))
    assert df["steps"][0][0] == 0
    np.testing.assert_allclose([c[0] for c in df["extra_l1_l2"]], fresh["l1_l2"].numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose([c[0] for c in df["extra_small_frac"]],
                               fresh["small_frac"].numpy())


def test_decoupled_shrink_is_what_adamw_does_to_a_weight_without_gradient() -> None:
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.AdamW([w], lr=1e-2, weight_decay=0.1)
    for _ in range(1000):
        w.grad = torch.zeros(3)
        opt.step()
    got = mechanism.decoupled_shrink(lr=1e-2, weight_decay=0.1, steps=1000)
    assert 1 - w.detach()[0].item() == pytest.approx(got, rel=1e-4)
    # the paper's lr 1e-3 and weight decay 1e-4 over 50,000 steps: about half a percent
    assert mechanism.decoupled_shrink(lr=1e-3, weight_decay=1e-4, steps=50_000) == \
        pytest.approx(0.005, abs=2e-4)


def test_no_transition_under_adamw_names_the_shrink_not_longer_runs() -> None:
    df = pd.DataFrame([_run(False, 0.05, seed=i) for i in range(2)])
    (plain,) = mechanism.carvalho_sparsity(df, page="p")
    assert "longer runs" in plain.decide
    (adamw,) = mechanism.carvalho_sparsity(df, page="p", shrink=0.005)
    assert adamw.verdict == INCONCLUSIVE
    assert "0.5%" in adamw.decide and "longer runs" not in adamw.decide
    assert verdicts.problems(adamw) == [] and verdicts.problems(plain) == []
