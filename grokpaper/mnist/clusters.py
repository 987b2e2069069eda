"""Distribution shift from clusters of a classifier's latents (Carvalho et al., MNIST).

Each digit's embeddings are split into ``k`` clusters with (trimmed) k-means; a cluster plays
the role of a *subclass* of the synthetic datasets. A training set of exactly ``n`` images
keeps every digit but draws the clusters with the Eq. (1) counts of
:func:`grokpaper.carvalho.data.subsample_counts`: the *subsampled* cluster of each digit
(by default its smallest) gets a fraction ``f`` of what every other cluster gets. The test set
stays the untouched test pool, so the shift is between training and test distributions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from grokpaper.carvalho.data import subsample_counts

#: Share of each digit's images, farthest from its mean, left out of the k-means fit.
TRIM = 0.05


@dataclass(frozen=True)
class Clusters:
    """Cluster of every training-pool and test-pool image; clusters are numbered digit-major:
    cluster ``digit * k + j``."""

    k: int
    train: np.ndarray  # (N_train,) cluster id of each training-pool image
    test: np.ndarray  # (N_test,) cluster id of each test-pool image (nearest centroid, own digit)
    subsampled: np.ndarray  # (10 * k,) bool: which clusters are downsampled by f

    @property
    def fingerprint(self) -> str:
        """Short hash of the assignment: part of the store key of runs built on it."""
        h = hashlib.sha256()
        for a in (self.train, self.test, self.subsampled):
            h.update(np.ascontiguousarray(a).tobytes())
        return f"k{self.k}-{h.hexdigest()[:16]}"

    def counts(self, which: str = "train") -> np.ndarray:
        """(10 * k,) images per cluster in the training or test pool."""
        return np.bincount(getattr(self, which), minlength=10 * self.k)


def cluster_digits(train_emb: np.ndarray, train_labels: np.ndarray, test_emb: np.ndarray,
                   test_labels: np.ndarray, *, k: int = 2, n_subsampled: int = 1,
                   trim: float = TRIM, seed: int = 0) -> Clusters:
    """Trimmed k-means (k per digit) on the training pool; every image then joins its digit's
    nearest centroid. The ``n_subsampled`` smallest clusters of every digit are marked.

    ``trim``: the centroids are fitted without the share ``trim`` of each digit's images that
    lie farthest from the digit's mean: plain k-means spends a centroid on a handful of odd
    images (we saw a 10-image "cluster" of ones), which is no subclass to downsample.
    """
    if not isinstance(k, int) or k < 2:
        raise ValueError(f"k must be an integer >= 2, got {k!r}")
    if not 0 <= n_subsampled < k:
        raise ValueError(f"n_subsampled must be in [0, {k - 1}], got {n_subsampled!r}")
    if not 0 <= trim < 1:
        raise ValueError(f"trim must be in [0, 1), got {trim!r}")
    train_c = np.empty(len(train_labels), dtype=np.int64)
    test_c = np.empty(len(test_labels), dtype=np.int64)
    marked = np.zeros(10 * k, dtype=bool)
    for d in range(10):
        tr, te = train_labels == d, test_labels == d
        pts = train_emb[tr]
        dist = np.linalg.norm(pts - pts.mean(0), axis=1)
        core = pts[dist <= np.quantile(dist, 1 - trim)]
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(core)
        own = km.predict(pts)
        # Relabel clusters by size (largest first) so that ids do not depend on k-means' order.
        sizes = np.bincount(own, minlength=k)
        rank = np.empty(k, dtype=np.int64)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(k)
        train_c[tr] = d * k + rank[own]
        test_c[te] = d * k + rank[km.predict(test_emb[te])]
        marked[d * k + k - n_subsampled : d * k + k] = True  # the smallest ones
    return Clusters(k, train_c, test_c, marked)


def silhouettes(emb: np.ndarray, labels: np.ndarray, ks: tuple[int, ...] = (2, 3, 4, 5), *,
                seed: int = 0, max_points: int = 2000) -> np.ndarray:
    """(10, len(ks)) silhouette score of k-means with each k, per digit (context for k)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((10, len(ks)))
    for d in range(10):
        pts = emb[labels == d]
        if len(pts) > max_points:
            pts = pts[rng.choice(len(pts), max_points, replace=False)]
        for j, k in enumerate(ks):
            lab = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(pts)
            out[d, j] = silhouette_score(pts, lab)
    return out


def cluster_counts(n: int, f: float, clusters: Clusters) -> np.ndarray:
    """(10 * k,) images to draw per cluster: Eq. (1) with exactly ``n`` images in total."""
    return np.array(subsample_counts(n, float(f), clusters.subsampled.tolist()))


def shifted_subset(n: int, f: float, clusters: Clusters, *, seed: int) -> np.ndarray:
    """Training-pool indices of a training set with the Eq. (1) cluster counts (sorted).

    Raises if a cluster holds fewer images than it must contribute.
    """
    want = cluster_counts(n, f, clusters)
    have = clusters.counts("train")
    short = np.flatnonzero(want > have)
    if short.size:
        c = int(short[0])
        raise ValueError(f"cluster {c} (digit {c // clusters.k}) has {have[c]} images but the "
                         f"training set of {n} with f = {f:g} needs {want[c]}; lower n")
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(clusters.train == c), w, replace=False)
             for c, w in enumerate(want) if w > 0]
    return np.sort(np.concatenate(picks))


def random_subset(n: int, labels: np.ndarray, *, seed: int) -> np.ndarray:
    """Training-pool indices of ``n`` images, equally many per digit (remainder to the lowest
    digits), drawn uniformly within each digit: the unshifted baseline (sorted)."""
    rng = np.random.default_rng(seed)
    per = [n // 10 + (d < n % 10) for d in range(10)]
    picks = [rng.choice(np.flatnonzero(labels == d), m, replace=False)
             for d, m in enumerate(per)]
    return np.sort(np.concatenate(picks))
