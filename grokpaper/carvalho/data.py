"""Carvalho et al. 2025 synthetic datasets (Appendix A) and the f-subsampling of Eq. (1).

Every sample concatenates ``N_POSITIONS`` blocks of ``DIM_PER_POSITION`` dims. Base distribution
``D_j`` (``j`` in 0..511) draws block ``i`` from ``N(mu_i^{b_i(j)}, Sigma_i)`` where ``b_i(j)`` is
bit ``i`` of ``j``; so the distance between two base distributions is the Hamming distance of
their codes. A *subclass* is one base distribution; a *class* is a set of subclasses.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import networkx as nx
import torch

# "we constructed a base set of classes with p = 9, resulting in 512 distinct classes" (App. A)
N_POSITIONS = 9
# "and r = 13, which implies that each data point x in R^117" (App. A)
DIM_PER_POSITION = 13
N_FEATURES = N_POSITIONS * DIM_PER_POSITION
N_CODES = 2**N_POSITIONS

# The authors' thesis pairs a clique of the Hamming-2 subgraph (App. A.1) into 4 classes.
EQUIDISTANT_CODES = (192, 320, 384, 449, 450, 452, 456, 464)
# "extract a clique from the sub-graph of edges with a weight of 6. This yields a subset of
# classes {63, 240, 323, 396}" (App. A.2)
EQUIVARIANT_CENTERS = (63, 240, 323, 396)

DATASETS = ("equidistant", "equivariant")


def hamming(a: int, b: int) -> int:
    """Hamming distance of two codes: the paper's distance D between base distributions."""
    return (a ^ b).bit_count()


@functools.lru_cache(maxsize=2)
def distance_graph(n_positions: int = N_POSITIONS) -> nx.Graph:
    """Complete graph on the 2^p codes, edges weighted by Hamming distance (App. A.1)."""
    g = nx.Graph()
    n = 2**n_positions
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from((a, b, hamming(a, b)) for a in range(n) for b in range(a + 1, n))
    return g


def distance_subgraph(weight: int, n_positions: int = N_POSITIONS) -> nx.Graph:
    """The sub-graph of all edges with the given weight (App. A.1, A.2)."""
    g = distance_graph(n_positions)
    return g.edge_subgraph((a, b) for a, b, w in g.edges(data="weight") if w == weight)


@dataclass(frozen=True)
class Layout:
    """Which base distribution (code) each subclass of each class uses."""

    name: str
    classes: tuple[tuple[int, ...], ...]  # classes[c][k] = code of subclass k of class c

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_subclasses(self) -> int:
        return sum(len(c) for c in self.classes)

    def codes(self) -> torch.Tensor:
        """Flat (n_subclasses,) codes in class-major order."""
        return torch.tensor([code for c in self.classes for code in c])

    def subclass_labels(self) -> torch.Tensor:
        """Flat (n_subclasses,) class label of every subclass."""
        return torch.tensor([ci for ci, c in enumerate(self.classes) for _ in c])


def equidistant_layout() -> Layout:
    """Dataset 1: 4 classes x 2 subclasses, all 8 subclasses pairwise at Hamming distance 2."""
    codes = EQUIDISTANT_CODES
    sub = distance_subgraph(2)
    if not all(sub.has_edge(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]):
        raise AssertionError("EQUIDISTANT_CODES is not a clique of the Hamming-2 subgraph")
    # Every pairing of an equidistant set is equivalent; consecutive pairs keep it readable.
    return Layout("equidistant", tuple(tuple(codes[i : i + 2]) for i in range(0, 8, 2)))


def equivariant_layout() -> Layout:
    """Dataset 2: 4 classes x 10 subclasses: each Hamming-6 clique centre and its 9 neighbours."""
    sub = distance_subgraph(6)
    centers = EQUIVARIANT_CENTERS
    if not all(sub.has_edge(a, b) for i, a in enumerate(centers) for b in centers[i + 1 :]):
        raise AssertionError("EQUIVARIANT_CENTERS is not a clique of the Hamming-6 subgraph")
    # "For each of these classes, we identify all classes that are at a distance of 1" (App. A.2)
    classes = tuple((c, *(c ^ (1 << i) for i in range(N_POSITIONS))) for c in centers)
    return Layout("equivariant", classes)


@functools.lru_cache(maxsize=len(DATASETS))
def layout(name: str) -> Layout:
    """The subclass layout of dataset ``name`` (one of ``DATASETS``); built once, then cached
    (checking the cliques takes a scan of all 130k edges of the distance graph)."""
    if name == "equidistant":
        return equidistant_layout()
    if name == "equivariant":
        return equivariant_layout()
    raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")


@dataclass(frozen=True)
class BaseDistributions:
    """Locations and covariances of the 2 x 9 sub-distributions d_i^0, d_i^1 (App. A)."""

    mu: torch.Tensor  # (N_POSITIONS, 2, DIM_PER_POSITION)
    chol: torch.Tensor  # (N_POSITIONS, DIM, DIM): Cholesky factor of Sigma_i, shared by both codes

    def centroids(self, codes: torch.Tensor) -> torch.Tensor:
        """(n, N_FEATURES) centroids of base distributions ``codes``."""
        bits = (codes[:, None] >> torch.arange(N_POSITIONS)) & 1
        return self.mu[torch.arange(N_POSITIONS), bits].reshape(len(codes), N_FEATURES)


def make_base_distributions(*, noise: float = 0.25, random_state: int = 0) -> BaseDistributions:
    """Draw mu_i^0 ~ U[-1,1]^13, mu_i^1 = mu_i^0 + a random unit vector, one Sigma_i per position.

    ``noise`` is the mean per-dimension standard deviation of the samples. The paper does not
    give the covariances; we use a random rotation of a diagonal with variances spread over
    [0.5, 1.5] x noise^2 so that the blocks are anisotropic but equally hard on average.
    """
    if not noise > 0 or not math.isfinite(noise):
        raise ValueError(f"noise must be a positive finite number, got {noise!r}")
    g = torch.Generator().manual_seed(random_state)
    r = DIM_PER_POSITION
    mu0 = torch.rand(N_POSITIONS, r, generator=g, dtype=torch.float64) * 2 - 1
    step = torch.randn(N_POSITIONS, r, generator=g, dtype=torch.float64)
    # "we set ||mu_i^0 - mu_i^1|| = 1 for all i" (App. A)
    mu1 = mu0 + step / step.norm(dim=1, keepdim=True)
    q, _ = torch.linalg.qr(torch.randn(N_POSITIONS, r, r, generator=g, dtype=torch.float64))
    var = noise**2 * (0.5 + torch.rand(N_POSITIONS, r, generator=g, dtype=torch.float64))
    cov = q @ torch.diag_embed(var) @ q.transpose(1, 2)
    chol = torch.linalg.cholesky(cov)
    return BaseDistributions(mu=torch.stack([mu0, mu1], dim=1).float(), chol=chol.float())


def sample(base: BaseDistributions, codes: torch.Tensor, *, generator: torch.Generator
           ) -> torch.Tensor:
    """One sample (row) from base distribution ``codes[k]`` for every k: (len(codes), 117)."""
    n = len(codes)
    z = torch.randn(n, N_POSITIONS, DIM_PER_POSITION, generator=generator)
    noise = torch.einsum("pij,npj->npi", base.chol, z).reshape(n, N_FEATURES)
    return base.centroids(codes) + noise


def eq1_counts(total: int, f: float, n_subsampled: int, n_remaining: int) -> tuple[int, int]:
    """Eq. (1) as printed: s_s = floor(f g_D / (f g_s + g_r)), s_r = floor(g_D / (f g_s + g_r))."""
    denom = f * n_subsampled + n_remaining
    return math.floor(f * total / denom), math.floor(total / denom)


def subsample_counts(total: int, f: float, subsampled: list[bool]) -> list[int]:
    """Samples per subclass for a training set of exactly ``total`` samples (Eq. 1, exact).

    Eq. (1) floors both counts, so the total can fall short: the paper's own example
    (g_D = 2000, f = 0.2, 4 of 8 subclasses subsampled) prints s_s = 84, s_r = 416 (sum 2000)
    while the floor gives s_s = 83 (sum 1996). We keep s_r from Eq. (1) and hand the samples
    that the floors lost out one at a time, subsampled subclasses first (unless f = 0, which
    must remove them entirely), which reproduces 84/416 and makes the total exact.
    """
    _check_f(f)
    if not isinstance(total, int) or total <= 0:
        raise ValueError(f"n_train (gamma_D) must be a positive integer, got {total!r}")
    n_s, n_r = sum(subsampled), len(subsampled) - sum(subsampled)
    if n_r == 0 and f == 0:
        raise ValueError("cannot remove every subclass (f = 0 with all subclasses subsampled)")
    s_s, s_r = eq1_counts(total, f, n_s, n_r)
    counts = [s_s if s else s_r for s in subsampled]
    order = [i for i, s in enumerate(subsampled) if s and f > 0] + [
        i for i, s in enumerate(subsampled) if not s]
    left = total - sum(counts)
    for k in range(left):
        counts[order[k % len(order)]] += 1
    return counts


def _check_f(f: float) -> None:
    if not isinstance(f, (int, float)) or not 0.0 <= f <= 1.0:
        raise ValueError(f"f must be a number in [0, 1], got {f!r}")


def subsampled_mask(lay: Layout, n_subsampled_per_class: int) -> list[bool]:
    """Which subclasses are subsampled: the last ``n`` subclasses of every class."""
    per_class = min(len(c) for c in lay.classes)
    if not 0 <= n_subsampled_per_class <= per_class:
        raise ValueError(
            f"n_subsampled_per_class must be in [0, {per_class}] for the {lay.name} dataset, "
            f"got {n_subsampled_per_class!r}")
    return [k >= len(c) - n_subsampled_per_class for c in lay.classes for k in range(len(c))]


def make_split(*, dataset: str = "equidistant", n_samples: int, f: float = 1.0,
               n_subsampled_per_class: int = 1, base: BaseDistributions, random_state: int
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A training set of exactly ``n_samples`` drawn with Eq. (1) counts.

    Returns ``(x, y, subclass)``: features (n, 117), class labels (n,), subclass index (n,)
    into the layout's flat subclass order. Rows are shuffled. ``f = 1`` is balanced sampling.
    """
    lay = layout(dataset)
    counts = subsample_counts(n_samples, f, subsampled_mask(lay, n_subsampled_per_class))
    sub = torch.repeat_interleave(torch.arange(lay.n_subclasses), torch.tensor(counts))
    g = torch.Generator().manual_seed(random_state)
    sub = sub[torch.randperm(len(sub), generator=g)]
    x = sample(base, lay.codes()[sub], generator=g)
    return x, lay.subclass_labels()[sub], sub


def make_test_set(*, dataset: str = "equidistant", n_samples: int = 10_000,
                  base: BaseDistributions, random_state: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed balanced test set: every subclass equally often (f = 1), whatever f trains."""
    return make_split(dataset=dataset, n_samples=n_samples, f=1.0, n_subsampled_per_class=0,
                      base=base, random_state=random_state)
