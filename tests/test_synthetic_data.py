"""Carvalho et al. synthetic datasets: geometry (App. A), Eq. (1) counts, the f-subsampling."""

import itertools

import networkx as nx
import pytest
import torch

from grokpaper.carvalho import data as syn


def test_eq1_worked_example_as_printed_and_exact():
    # Sec. 4: gamma_D = 2000, f = 0.2, one of two subclasses per class subsampled, 4 classes.
    assert syn.eq1_counts(2000, 0.2, 4, 4) == (83, 416)  # the floor of Eq. (1) as printed
    counts = syn.subsample_counts(2000, 0.2, [False, True] * 4)
    assert counts == [416, 84] * 4  # the paper's stated s_s = 84, s_r = 416
    assert sum(counts) == 2000


@pytest.mark.parametrize("total", [100, 199, 2000, 4001, 5000])
@pytest.mark.parametrize("f", [0.0, 0.01, 0.05, 0.2, 1.0])
def test_subsample_counts_total_is_exact_and_ordered(total, f):
    mask = [False, True] * 4
    counts = syn.subsample_counts(total, f, mask)
    assert sum(counts) == total
    sub = [c for c, m in zip(counts, mask, strict=True) if m]
    rem = [c for c, m in zip(counts, mask, strict=True) if not m]
    if f == 0:
        assert sub == [0] * 4
    assert max(sub) <= min(rem) or f == 1.0
    assert max(rem) - min(rem) <= 1 and max(sub) - min(sub) <= 1
    s_s, s_r = syn.eq1_counts(total, f, 4, 4)
    assert min(rem) == s_r and min(sub) >= s_s  # Eq. (1) is a lower bound that we only top up


def test_distance_graph_is_hamming():
    g = syn.distance_graph()
    assert g.number_of_nodes() == 512
    assert g.number_of_edges() == 512 * 511 // 2
    assert g[5][1]["weight"] == 1 and g[1][2]["weight"] == 2  # App. A's own examples


def test_equidistant_layout_is_a_hamming2_clique():
    lay = syn.equidistant_layout()
    codes = lay.codes().tolist()
    assert sorted(codes) == sorted(syn.EQUIDISTANT_CODES)
    assert lay.n_classes == 4 and all(len(c) == 2 for c in lay.classes)
    assert all(syn.hamming(a, b) == 2 for a, b in itertools.combinations(codes, 2))
    # The largest Hamming-2 clique has 9 codes; the thesis used 8 of one (4 classes x 2).
    assert max(len(c) for c in nx.find_cliques(syn.distance_subgraph(2))) == 9


def test_equivariant_layout_satisfies_the_paper_inequalities():
    lay = syn.equivariant_layout()
    assert lay.n_classes == 4 and all(len(c) == 10 for c in lay.classes)
    assert len(set(lay.codes().tolist())) == 40
    for (i, ci), (j, cj) in itertools.product(enumerate(lay.classes), repeat=2):
        for a, b in itertools.product(ci, cj):
            if i != j:
                assert syn.hamming(a, b) >= 4  # App. A.2: D >= 4 across super-classes
            else:
                assert syn.hamming(a, b) <= 2  # and D <= 2 within one


def test_base_distribution_means_are_one_apart_and_centroid_distances_follow_hamming():
    base = syn.make_base_distributions(random_state=3)
    gap = (base.mu[:, 1] - base.mu[:, 0]).norm(dim=1)
    torch.testing.assert_close(gap, torch.ones(9))
    assert base.mu[:, 0].abs().max() <= 1.0
    codes = torch.tensor(syn.EQUIDISTANT_CODES)
    c = base.centroids(codes)
    d = torch.cdist(c, c)
    off = ~torch.eye(8, dtype=torch.bool)
    # Hamming 2 with unit gaps: every centroid pair is sqrt(2) apart (truly equidistant).
    torch.testing.assert_close(d[off], torch.full((56,), 2**0.5))


def test_samples_have_the_stated_covariance():
    base = syn.make_base_distributions(noise=0.3, random_state=1)
    g = torch.Generator().manual_seed(0)
    x = syn.sample(base, torch.full((20000,), 5), generator=g)
    torch.testing.assert_close(x.mean(0), base.centroids(torch.tensor([5]))[0], atol=0.02, rtol=0)
    block = x[:, :13]
    cov = torch.cov(block.T)
    torch.testing.assert_close(cov, base.chol[0] @ base.chol[0].T, atol=0.01, rtol=0)
    assert 0.25 < cov.diagonal().mean().sqrt() < 0.35


def test_f_zero_removes_the_subclass_from_training_but_not_from_test():
    base = syn.make_base_distributions(random_state=0)
    x, y, sub = syn.make_split(n_samples=1000, f=0.0, base=base, random_state=4)
    assert len(y) == 1000 and x.shape == (1000, 117)
    mask = torch.tensor(syn.subsampled_mask(syn.equidistant_layout(), 1))
    assert not mask[sub].any()
    assert torch.bincount(y, minlength=4).tolist() == [250] * 4  # classes stay balanced
    _, yt, st = syn.make_test_set(n_samples=10_000, base=base, random_state=9)
    assert torch.bincount(st, minlength=8).tolist() == [1250] * 8
    assert torch.bincount(yt).tolist() == [2500] * 4


def test_labels_match_the_layout():
    base = syn.make_base_distributions(random_state=0)
    lay = syn.equivariant_layout()
    _, y, sub = syn.make_split(dataset="equivariant", n_samples=400, f=0.2,
                               n_subsampled_per_class=5, base=base, random_state=0)
    assert torch.equal(y, lay.subclass_labels()[sub])


def test_same_seed_same_data_other_seed_other_data():
    base = syn.make_base_distributions(random_state=0)
    a = syn.make_split(n_samples=50, base=base, random_state=1)[0]
    b = syn.make_split(n_samples=50, base=base, random_state=1)[0]
    c = syn.make_split(n_samples=50, base=base, random_state=2)[0]
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"f": 1.5}, "f"), ({"f": -0.1}, "f"), ({"n_samples": 0}, "n_train"),
     ({"dataset": "nope"}, "dataset"), ({"n_subsampled_per_class": 3}, "n_subsampled_per_class")],
)
def test_bad_input_names_the_parameter(kwargs, name):
    base = syn.make_base_distributions(random_state=0)
    args = {"n_samples": 100, "base": base, "random_state": 0, **kwargs}
    with pytest.raises(ValueError, match=name):
        syn.make_split(**args)


def test_cannot_remove_every_subclass():
    with pytest.raises(ValueError, match="every subclass"):
        syn.subsample_counts(100, 0.0, [True] * 8)


def test_bad_noise():
    with pytest.raises(ValueError, match="noise"):
        syn.make_base_distributions(noise=0.0)


def test_equivariant_centroid_distances_follow_the_paper_inequalities():
    # Euclidean, not just Hamming: within a class <= sqrt(2), across classes >= 2 (App. A.2),
    # so every within-class distance is below every across-class one (Sec. 4, dataset 2).
    base = syn.make_base_distributions(random_state=5)
    lay = syn.equivariant_layout()
    c = base.centroids(lay.codes())
    d = torch.cdist(c.double(), c.double())
    cls = lay.subclass_labels()
    same = (cls[:, None] == cls[None, :]) & ~torch.eye(40, dtype=torch.bool)
    ham = torch.tensor([[syn.hamming(int(a), int(b)) for b in lay.codes()] for a in lay.codes()])
    torch.testing.assert_close(d, ham.double().sqrt(), atol=1e-5, rtol=0)
    assert d[same].max() <= 2**0.5 + 1e-5 and d[~same & (cls[:, None] != cls)].min() >= 2 - 1e-5


def test_sample_centroids_reproduce_the_designed_distances():
    # The empirical subclass means of a large sample sit where the layout says they should.
    base = syn.make_base_distributions(random_state=2)
    x, _, sub = syn.make_split(n_samples=16_000, f=1.0, base=base, random_state=3)
    means = torch.stack([x[sub == s].mean(0) for s in range(8)])
    d = torch.cdist(means, means)[~torch.eye(8, dtype=torch.bool)]
    assert (d - 2**0.5).abs().max() < 0.05


@pytest.mark.parametrize(("dataset", "n_sub"), [("equidistant", 1), ("equivariant", 5)])
@pytest.mark.parametrize("f", [0.0, 0.05, 0.2, 1.0])
def test_training_set_composition_follows_eq1_for_both_datasets(dataset, n_sub, f):
    base = syn.make_base_distributions(random_state=0)
    lay = syn.layout(dataset)
    mask = syn.subsampled_mask(lay, n_sub)
    _, y, sub = syn.make_split(dataset=dataset, n_samples=800, f=f, n_subsampled_per_class=n_sub,
                               base=base, random_state=1)
    counts = torch.bincount(sub, minlength=lay.n_subclasses).tolist()
    assert counts == syn.subsample_counts(800, f, mask)
    # Classes stay balanced whatever f: each class has the same subsampling pattern.
    assert torch.bincount(y, minlength=4).tolist() == [200] * 4
    if f == 0:
        assert all(c == 0 for c, m in zip(counts, mask, strict=True) if m)
        assert all(c > 0 for c, m in zip(counts, mask, strict=True) if not m)


def test_equivariant_f_zero_removes_half_the_subclasses_from_training_only():
    base = syn.make_base_distributions(random_state=0)
    lay = syn.equivariant_layout()
    mask = torch.tensor(syn.subsampled_mask(lay, 5))
    assert mask.sum() == 20 and mask.view(4, 10).sum(1).tolist() == [5] * 4
    _, _, sub = syn.make_split(dataset="equivariant", n_samples=400, f=0.0,
                               n_subsampled_per_class=5, base=base, random_state=2)
    assert not mask[sub].any()
    _, yt, st = syn.make_test_set(dataset="equivariant", n_samples=2000, base=base,
                                  random_state=1)
    assert torch.bincount(st, minlength=40).tolist() == [50] * 40  # every subclass, balanced
    assert mask[st].float().mean() == 0.5
