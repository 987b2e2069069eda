"""Liu et al. 2022 Sec. 3: representation quality (RQI), predicted accuracy, effective theory.

All functions take the addition task's parallelograms from :mod:`grokpaper.liu.data`:
``quads`` (Q, 4) rows ``(i, j, m, n)`` with ``i + j = m + n`` and ``samples`` (Q, 2) the two
samples each parallelogram joins. Representations ``E`` are ``(..., p, d)`` (any leading batch
dims: members, time), numpy or torch.
"""

from __future__ import annotations

import numpy as np
import torch

from grokpaper.liu.data import ToyTask, equations, parallelograms

#: "count those with mean squared residual under 0.01" (the authors' code, threshold_P)
RQI_DELTA = 0.01
#: "steps to RQI > 0.95" (Sec. 3.2, Fig. 4b)
RQI_THRESHOLD = 0.95
#: Eigenvalues below this count as zero (the authors' code, for integer matrices A^T A).
EIG_TOL = 1e-8


def standardize(E: torch.Tensor) -> torch.Tensor:
    """Each embedding dimension to zero mean and unit (unbiased) std over the p symbols."""
    mu = E.mean(-2, keepdim=True)
    return (E - mu) / E.std(-2, keepdim=True)


def residuals(E: torch.Tensor, quads: torch.Tensor) -> torch.Tensor:
    """(..., Q) mean squared residual |E_i + E_j - E_m - E_n|^2 / d of standardized E."""
    z = standardize(E)
    i, j, m, n = quads.T
    r = z[..., i, :] + z[..., j, :] - z[..., m, :] - z[..., n, :]
    return r.pow(2).mean(-1)


def rqi(E: torch.Tensor | np.ndarray, quads: torch.Tensor | np.ndarray,
        delta: float = RQI_DELTA) -> torch.Tensor:
    """Eq. (3): share of the parallelograms of P0 present in E within ``delta``, shape (...)."""
    E = torch.as_tensor(E)
    q = (quads.to(E.device) if isinstance(quads, torch.Tensor)
         else torch.tensor(np.asarray(quads), device=E.device))  # copies read-only arrays
    return (residuals(E, q) < delta).to(E.dtype).mean(-1)


def inferred(train: np.ndarray, samples: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(N,) samples the model can answer: training samples, plus every sample joined by a
    present parallelogram to a training sample (``calculate_Dbar`` of the authors' code)."""
    out = np.asarray(train, dtype=bool).copy()
    a, b = samples[present, 0], samples[present, 1]
    out[a[train[b]]] = True
    out[b[train[a]]] = True
    return out


def predicted_accuracy(E: np.ndarray, train: np.ndarray, task: ToyTask,
                       delta: float = RQI_DELTA) -> tuple[float, float]:
    """Acc-hat (Sec. 3.1, App. D): (accuracy over D0, accuracy over the test set) that the
    parallelograms present in ``E`` allow, assuming the decoder fits every training sample."""
    quads, samples = parallelograms(task)
    present = residuals(torch.as_tensor(E, dtype=torch.float64),
                        torch.tensor(quads)).numpy() < delta
    ok = inferred(train, samples, present)
    n_test = int((~train).sum())
    test = float(ok[~train].mean()) if n_test else float("nan")
    return float(ok.mean()), test


def train_equations(train: np.ndarray, task: ToyTask) -> np.ndarray:
    """A(P0(D)): the rows of Eq. (7) whose two samples both lie in the training set D."""
    _, samples = parallelograms(task)
    return equations(task)[train[samples[:, 0]] & train[samples[:, 1]]]


def nullity(train: np.ndarray, task: ToyTask, tol: float = EIG_TOL) -> int:
    """Dimension of the null space of A(P0(D)): 2 means a unique linear structure."""
    a = train_equations(train, task).astype(float)
    return int((np.linalg.eigvalsh(a.T @ a) < tol).sum())


def ideal_accuracy(train: np.ndarray, task: ToyTask, tol: float = 1e-6) -> tuple[float, float]:
    """Acc-bar: (D0, test) accuracy if the representation holds exactly the parallelograms
    implied by D, i.e. every row of A(P0) in the row space of A(P0(D))."""
    a = train_equations(train, task).astype(float)
    _, s, vt = np.linalg.svd(a if len(a) else np.zeros((1, task.n_symbols)))
    rank = int((s > tol).sum())
    null = vt[rank:].T  # (p, nullity) basis of the null space
    implied = np.abs(equations(task) @ null).max(1) < tol
    ok = inferred(train, parallelograms(task)[1], implied)
    return float(ok.mean()), float(ok[~train].mean()) if (~train).any() else float("nan")


def hessian(train: np.ndarray, task: ToyTask, z0: float | None = None,
            mean: bool = True) -> np.ndarray:
    """Eq. (8): H = (1/Z0) d^2 l0 / dE^2 = 2 A^T A / (|P0(D)| Z0), with A = A(P0(D)).

    ``z0`` defaults to p: the sum of squares of p standardized 1-D embeddings (unit variance).
    ``mean=False`` drops the 1/|P0(D)| of Eq. (5), as the authors' code (which sums).
    """
    a = train_equations(train, task).astype(float)
    p = task.n_symbols
    if len(a) == 0:
        return np.zeros((p, p))
    return 2.0 * a.T @ a / ((len(a) if mean else 1) * (p if z0 is None else z0))


def grokking_rate(train: np.ndarray, task: ToyTask, z0: float | None = None,
                  mean: bool = True) -> float:
    """lambda_3: the third smallest eigenvalue of H (the first two are always zero)."""
    lam = np.linalg.eigvalsh(hessian(train, task, z0, mean))
    # Round-off leaves ~1e-17 where the eigenvalue is exactly zero (nullity > 2).
    return float(lam[2]) if lam[2] > EIG_TOL * max(lam[-1], 1.0) else 0.0


def effective_trajectory(E0: np.ndarray, rows: np.ndarray, *, eta: float, steps: np.ndarray,
                         mean: bool = True) -> np.ndarray:
    """Gradient descent on the effective loss of Eq. (5) from 1-D embeddings ``E0`` (p,).

    ``l_eff = l0 / Z0`` with ``l0 = sum_rows (row . E)^2`` divided by the number of rows when
    ``mean`` (the paper's Eq. (5), over P0(D)); the authors' code sums without dividing, over
    all of P0. Starts from standardized E0, takes steps of size ``eta`` and returns the
    representation at each of ``steps`` (sorted ints), shape (len(steps), p).
    """
    e = np.asarray(E0, dtype=float)
    e = (e - e.mean()) / e.std(ddof=1)
    a = np.asarray(rows, dtype=float)
    gram = a.T @ a / (max(len(a), 1) if mean else 1.0)
    out, k = [], 0
    steps = np.asarray(steps)
    for t in range(int(steps[-1]) + 1):
        while k < len(steps) and steps[k] == t:
            out.append(e.copy())
            k += 1
        z0 = e @ e
        l0 = e @ gram @ e
        # d(l0/Z0)/dE = 2 G E / Z0 - 2 l0 E / Z0^2: orthogonal to E, so Z0 is conserved by the
        # flow, and rows of A sum to zero, so the centroid C = sum E is conserved too (Eq. 6).
        e = e - eta * (2 * gram @ e / z0 - 2 * l0 * e / z0**2)
    return np.array(out)


def circularity(points: np.ndarray) -> float:
    """How well 2-D points lie on an ellipse: 1 - std/mean of their radii after centring and
    whitening (1 on an ellipse, about 0.5 for a Gaussian cloud). Structure measure for the
    circles of modular addition (Figs. 1 and 2)."""
    z = np.asarray(points, float) - np.mean(points, 0)
    vals, vecs = np.linalg.eigh(np.cov(z.T))
    r = np.linalg.norm(z @ vecs / np.sqrt(np.maximum(vals, 1e-12)), axis=1)
    return float(1 - r.std() / r.mean())
