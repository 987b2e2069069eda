"""Liu et al. toy datasets, RQI, predicted accuracy, effective theory and the phase rule."""

import numpy as np
import pytest
import torch

from grokpaper.core import phases
from grokpaper.liu import data as toy
from grokpaper.liu import rqi


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one intra-op thread avoids synchronization overhead on a busy CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

def test_addition_dataset_and_p0_size():
    task = toy.addition(10)
    assert task.n_samples == 55 and task.n_classes == 19
    assert all(i <= j for i, j in task.pairs)
    quads, samples = toy.parallelograms(task)
    assert len(quads) == 70  # |P0| for p = 10
    assert np.all(quads[:, 0] + quads[:, 1] == quads[:, 2] + quads[:, 3])
    assert np.all(task.labels[samples[:, 0]] == task.labels[samples[:, 1]])
    assert np.all(toy.equations(task).sum(1) == 0)


def test_permutation_group_is_s3_with_matrix_convention():
    task = toy.permutation_group(3)
    assert task.n_samples == 36 and task.n_classes == 6
    elems = toy.permutations(3)
    mats = np.stack([np.eye(3)[:, list(g)] for g in elems])  # P_g e_k = e_{g(k)}
    for (a, b), c in zip(task.pairs, task.labels, strict=True):
        np.testing.assert_array_equal(mats[a] @ mats[b], mats[c])
    # a Latin square: every row of the table holds every element once
    table = task.labels.reshape(6, 6)
    assert all(len(set(r)) == 6 for r in table) and all(len(set(c)) == 6 for c in table.T)


def test_train_masks_are_nested_per_seed():
    small, big = toy.train_mask(55, 20, seed=3), toy.train_mask(55, 45, seed=3)
    assert small.sum() == 20 and big.sum() == 45 and np.all(big[small])
    with pytest.raises(ValueError):
        toy.train_mask(55, 0, seed=0)


def test_rqi_is_one_for_linear_and_near_zero_for_random():
    quads, _ = toy.parallelograms(toy.addition(10))
    k = torch.arange(10.0)[:, None]
    linear = torch.tensor([0.3, -1.0]) + k * torch.tensor([2.0, 0.5])  # E_k = a + k b, d = 2
    assert float(rqi.rqi(linear, quads)) == 1.0
    g = torch.Generator().manual_seed(0)
    rand = torch.randn(200, 10, 1, generator=g)
    assert float(rqi.rqi(rand, quads).mean()) < 0.05
    # batched over leading dims
    assert rqi.rqi(torch.stack([linear, linear]), quads).shape == (2,)


def test_nullity_two_for_full_data_and_larger_for_small_sets():
    task = toy.addition(10)
    assert rqi.nullity(np.ones(55, bool), task) == 2
    assert rqi.nullity(toy.train_mask(55, 5, seed=0), task) > 2
    assert rqi.grokking_rate(np.ones(55, bool), task) > 0
    assert rqi.grokking_rate(toy.train_mask(55, 3, seed=0), task) == 0.0


def test_predicted_and_ideal_accuracy():
    task = toy.addition(10)
    train = toy.train_mask(55, 45, seed=1)
    linear = np.arange(10.0)[:, None]
    full, test = rqi.predicted_accuracy(linear, train, task)
    ideal_full, ideal_test = rqi.ideal_accuracy(train, task)
    assert test <= 1.0 and full >= train.mean()
    assert ideal_test <= test + 1e-12  # a perfect representation infers at least the implied
    random = np.random.default_rng(0).normal(size=(10, 1))
    assert rqi.predicted_accuracy(random, train, task)[0] == pytest.approx(45 / 55, abs=0.05)
    # the full dataset leaves nothing to infer
    assert rqi.ideal_accuracy(np.ones(55, bool), task)[0] == 1.0


def test_effective_theory_conserves_and_converges_to_linear():
    task = toy.addition(10)
    rows = toy.equations(task)
    e0 = np.random.default_rng(0).uniform(-0.5, 0.5, 10)
    traj = rqi.effective_trajectory(e0, rows, eta=0.05, steps=np.array([0, 10, 4000]))
    assert traj.shape == (3, 10)
    np.testing.assert_allclose(traj[:, :].sum(1), 0.0, atol=1e-9)  # centroid C (Eq. 6)
    np.testing.assert_allclose((traj**2).sum(1), (traj[0] ** 2).sum(), rtol=1e-2)  # Z0
    quads, _ = toy.parallelograms(task)
    assert float(rqi.rqi(traj[-1][:, None], quads)) == 1.0


@pytest.mark.parametrize(("t_train", "t_test", "expected"), [
    (100, 500, "comprehension"),
    (100, 5000, "grokking"),
    (100, -1, "memorization"),
    (100, np.nan, "memorization"),
    (-1, -1, "confusion"),
    (-1, 300, "confusion"),
    (100, 20_000, "memorization"),  # test reached after the budget
    (600, 300, "comprehension"),  # test first
])
def test_phase_rule_on_hand_made_histories(t_train, t_test, expected):
    assert phases.phase(t_train, t_test, budget=10_000) == expected


def test_phase_grid_and_sandwich():
    grid = phases.phase_grid(np.array([[10, 10, 10], [10, 10, -1]]),
                             np.array([[20, 5000, -1], [20, 5000, -1]]), budget=10_000)
    assert grid.tolist() == [["comprehension", "grokking", "memorization"],
                             ["comprehension", "grokking", "confusion"]]
    ok, text = phases.sandwiched(grid)
    assert ok and "2 grokking cells" in text
    assert not phases.sandwiched(np.array([["confusion", "grokking"]], dtype=object))[0]
    assert phases.majority(["grokking", "memorization", "grokking"]) == "grokking"

