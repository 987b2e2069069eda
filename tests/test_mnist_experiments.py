"""MNIST experiments on fake data: the cluster-shift builder, Table 3 rows, ensemble members that
differ in init scale, and the per-run outcome rule."""

import numpy as np
import pytest

from grokpaper.carvalho.data import subsample_counts
from grokpaper.core import mnist_data as mnist
from grokpaper.core.store import Store
from grokpaper.mnist import claims as claims_mnist
from grokpaper.mnist import cluster_shift as ms
from grokpaper.mnist import clusters as clustershift
from grokpaper.mnist import experiments as em


def _blobs(n_per: int, k: int = 2, seed: int = 0, sizes=(0.7, 0.3)):
    """Embeddings with k well-separated blobs per digit, blob j holding sizes[j] of the digit."""
    rng = np.random.default_rng(seed)
    emb, labels, truth = [], [], []
    for d in range(10):
        for j in range(k):
            m = int(n_per * sizes[j])
            centre = np.zeros(8)
            centre[d % 8] = 10 * (d + 1)
            centre[(d + 3) % 8] += 20 * j
            emb.append(centre + rng.normal(size=(m, 8)))
            labels += [d] * m
            truth += [d * k + j] * m
    return np.concatenate(emb), np.array(labels), np.array(truth)


@pytest.fixture(scope="module")
def clusters():
    tr, ytr, truth_tr = _blobs(300)
    te, yte, truth_te = _blobs(100, seed=1)
    cl = clustershift.cluster_digits(tr, ytr, te, yte, k=2, n_subsampled=1)
    return cl, ytr, truth_tr, truth_te


def test_kmeans_finds_the_blobs_largest_first_and_marks_the_smallest(clusters):
    cl, _, truth_tr, truth_te = clusters
    np.testing.assert_array_equal(cl.train, truth_tr)  # blob 0 (70%) is cluster 0 of its digit
    np.testing.assert_array_equal(cl.test, truth_te)
    assert cl.subsampled.tolist() == [False, True] * 10
    assert cl.counts().tolist() == [210, 90] * 10
    assert cl.fingerprint.startswith("k2-")


def test_trimmed_kmeans_does_not_spend_a_cluster_on_a_few_outliers():
    emb, labels, truth = _blobs(200, sizes=(0.5, 0.5))
    emb[:5] += 1000.0  # five far-away images of digit 0
    plain = clustershift.cluster_digits(emb, labels, emb, labels, trim=0.0)
    trimmed = clustershift.cluster_digits(emb, labels, emb, labels, trim=0.05)
    assert plain.counts()[:2].tolist() == [195, 5]  # plain k-means isolates the outliers
    assert trimmed.counts()[:2].min() >= 95


@pytest.mark.parametrize("f", [0.0, 0.05, 0.2, 1.0])
def test_shifted_subset_has_the_eq1_count_in_every_cluster(clusters, f):
    cl, labels, _, _ = clusters
    idx = clustershift.shifted_subset(1000, f, cl, seed=3)
    got = np.bincount(cl.train[idx], minlength=20)
    assert got.tolist() == subsample_counts(1000, f, cl.subsampled.tolist())
    assert len(idx) == len(set(idx.tolist())) == 1000
    assert set(labels[idx]) == set(range(10))  # every digit kept, even at f = 0
    if f == 0:
        assert got[cl.subsampled].sum() == 0
    again = clustershift.shifted_subset(1000, f, cl, seed=3)
    np.testing.assert_array_equal(idx, again)


def test_too_small_a_cluster_is_refused_and_random_subset_is_class_balanced(clusters):
    cl, labels, _, _ = clusters
    with pytest.raises(ValueError, match="cluster 1 .digit 0. has 90 images"):
        clustershift.shifted_subset(2500, 1.0, cl, seed=0)
    idx = clustershift.random_subset(1003, labels, seed=0)
    assert np.bincount(labels[idx]).tolist() == [101, 101, 101] + [100] * 7


def _fake_data(n_train: int = 1000, n_test: int = 200) -> mnist.MnistData:
    rng = np.random.default_rng(0)

    def pool(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), labels * 2 + 3, 5:20] = 255  # a class-dependent stroke
        return images, labels

    return mnist.MnistData(*pool(n_train), *pool(n_test), "t10k-parity", "fake")


def test_member_with_its_own_init_scale_equals_the_run_alone(tmp_path):
    data = _fake_data()
    table = em.LiSakibTable(rows=("1K (original)", "init scale 0.1", "no weight decay",
                                  "augmentation 0.3"), hidden=(8,), steps=30, n_evals=4)
    runs, names = table.runs(data)
    assert names == list(table.rows)
    assert [r.model.alpha for r in runs] == [8.0, 0.1, 8.0, 8.0]
    assert [r.train.weight_decay for r in runs] == [0.01, 0.01, 0.0, 0.01]
    assert [r.augment for r in runs] == [0.0, 0.0, 0.0, 0.3]
    together = em.run(runs, data, store=Store(tmp_path / "a"), device="cpu", progress=False)
    alone = em.run([runs[1]], data, store=Store(tmp_path / "b"), device="cpu", progress=False)
    np.testing.assert_allclose(together["weight_norm"].iloc[1], alone["weight_norm"].iloc[0],
                               rtol=1e-4)
    np.testing.assert_allclose(together["test_acc"].iloc[1], alone["test_acc"].iloc[0],
                               atol=1e-6)
    assert together["weight_norm"].iloc[1][0] < together["weight_norm"].iloc[0][0] / 50
    with pytest.raises(ValueError, match="unknown row"):
        em.LiSakibTable(rows=("dropout",)).runs(data)


def test_runs_another_page_stored_are_loaded_and_only_the_others_train(tmp_path):
    """Table 3's baseline row is the Omnigrok page's seed 0: with it in the store, only the
    other rows train, rows keep their order, and every result equals training all together."""
    data = _fake_data()
    table = em.LiSakibTable(rows=("init scale 0.1", "1K (original)", "no weight decay"),
                            hidden=(8,), steps=30, n_evals=4)
    runs, _ = table.runs(data)
    omnigrok = em.OmnigrokCurves(seeds=1, hidden=(8,), steps=30, n_evals=4).runs(data)
    assert omnigrok == [runs[1]]
    store = Store(tmp_path / "shared")
    em.run(omnigrok, data, store=store, device="cpu", progress=False)
    saved = store.load(em.KIND, em.config_key(em.KIND, runs[1])).meta["provenance"]
    shared = em.run(runs, data, store=store, device="cpu", progress=False)
    assert shared["provenance"].iloc[1] == saved  # loaded, not trained again
    assert list(shared["alpha"]) == [0.1, 8.0, 8.0]
    assert list(shared["weight_decay"]) == [0.01, 0.01, 0.0]
    together = em.run(runs, data, store=Store(tmp_path / "one"), device="cpu", progress=False)
    for col in ("test_acc", "train_acc", "weight_norm"):
        for a, b in zip(shared[col], together[col], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_shift_runs_train_as_one_ensemble_with_per_cluster_test_accuracy(tmp_path):
    data = _fake_data(400, 100)
    emb_tr = data.train_images.reshape(400, -1)[:, ::50].astype(np.float32)
    emb_te = data.test_images.reshape(100, -1)[:, ::50].astype(np.float32)
    cl = clustershift.cluster_digits(emb_tr, data.train_labels, emb_te, data.test_labels, k=2)
    params = ms.ClusterShift(n_train=100, fs=(0.0, 0.5), seeds=2, hidden=(8,), steps=20,
                             n_evals=4, batch_size=50)
    df = ms.run(params.runs(data, cl), data, cl, store=Store(tmp_path), device="cpu",
                progress=False)
    assert df["condition"].tolist() == ["f = 0"] * 2 + ["f = 0.5"] * 2 + ["random (balanced)"] * 2
    for _, r in df[df["condition"] != "random (balanced)"].iterrows():
        want = subsample_counts(100, r["f"], cl.subsampled.tolist())
        assert r["cluster_counts"].tolist() == want
    assert {"test_acc_subsampled", "def31_grokked"} <= set(df.columns)


def _curve(values):
    return np.array(values, dtype=float)


@pytest.mark.parametrize(("train", "test", "kind"), [
    ([0.1, 1, 1, 1, 1, 1, 1], [0.1, 0.2, 0.2, 0.3, 0.8, 0.85, 0.85], "grokking"),
    ([0.1, 0.96, 1, 1, 1, 1, 1], [0.1, 0.8, 0.85, 0.86, 0.86, 0.86, 0.86], "normal"),
    ([0.1, 1, 1, 1, 1, 1, 1], [0.1, 0.2, 0.2, 0.2, 0.21, 0.2, 0.2], "memorization"),
    ([0.1, 0.5, 0.6, 0.7, 0.7, 0.7, 0.7], [0.1, 0.5, 0.6, 0.7, 0.7, 0.7, 0.7], "not fit"),
])
def test_outcome_rule(train, test, kind):
    steps = _curve([0, 100, 1000, 3000, 10000, 30000, 100000])
    got = claims_mnist.outcome(steps, _curve(train), _curve(test))
    assert got["outcome"] == kind
    if kind == "grokking":
        assert got["t_mem"] == 100 and got["delay"] == 10000 - 100


@pytest.mark.parametrize(("figure", "cls"), [
    ("mnist.omnigrok", em.OmnigrokCurves), ("mnist.phases", em.PhaseGrid),
    ("mnist.lisakib", em.LiSakibTable), ("mnist.cluster_shift", ms.ClusterShift)])
def test_mnist_profiles_resolve_and_paper_is_the_default(figure, cls):
    from grokpaper.core import profiles

    assert profiles.resolve(figure, cls, "paper") == cls()
    for name in ("smoke", "quick"):
        assert isinstance(profiles.resolve(figure, cls, name), cls)
    p = em.OmnigrokCurves()
    assert (p.n_train, p.alpha, p.lr, p.weight_decay, p.batch_size, p.steps) == (
        1000, 8.0, 1e-3, 0.01, 200, 100_000)


def test_chunk_cost_orders_table3_by_the_work_each_ensemble_does():
    table = em.LiSakibTable(rows=("1K (original)", "batch 1024", "batch 32",
                                           "augmentation 0.2"), steps=100)
    runs, names = table.runs(_fake_data())
    cost = {n: em.chunk_cost([r]) for r, n in zip(runs, names, strict=True)}
    # rows per step: a batch of 1,024 from 1,000 images is the whole training set
    assert cost["batch 1024"] == 1000 / 200 * cost["1K (original)"]
    assert cost["batch 32"] == 32 / 200 * cost["1K (original)"]
    assert cost["augmentation 0.2"] == 1.5 * cost["1K (original)"]
    # an ensemble costs the sum of its members
    assert em.chunk_cost([runs[0], runs[3]]) == 2.5 * cost["1K (original)"]
