"""Grokking metrics: Carvalho et al. 2025 Definition 3.1 and the Li & Sakib grokking delay.

Definition 3.1 (paraphrased): training converges to a limit at ``alpha0``; ``sigma_S`` bounds the
test score up to ``alpha0`` from above; ``Delta_T`` is an interval with lower bound ``sigma_E``
that contains the training limit. Grokking took place if, at some ``alpha1 > alpha0``, the test
score enters ``Delta_T`` and stays there for a support interval ``S >> alpha1 - alpha0``, with
``sigma_S << sigma_E``.

:func:`definition31` makes this a deterministic algorithm on a (train, test) pair of accuracy
curves in [0, 1] sampled at strictly increasing (possibly log-spaced) steps:

1. ``train_limit`` = mean of the last ``tail`` points of the train curve, where
   ``tail = max(min_tail, ceil(tail_frac * n))``. Training *converged* iff every tail point lies
   within ``conv_tol`` of that limit (a still-rising or oscillating curve fails this).
2. ``alpha0`` = first step from which the train curve stays ``>= train_limit - conv_tol`` up to
   the end (memorization finished).
3. ``sigma_S`` = max test score at steps ``<= alpha0`` (the paper's "upper bound").
4. ``sigma_E`` = min test score over the same tail (the lower limit of the final high region),
   capped at ``train_limit`` so that ``Delta_T = [sigma_E, 1]`` contains the training limit.
5. ``alpha1`` = first step from which the test curve stays ``>= sigma_E - stay_tol`` up to the
   end. Requiring the *whole* rest of the run (not one point) keeps spikes from setting alpha1.
6. ``support`` = ``(alpha1, last step)``: by step 5 the test curve never leaves ``Delta_T``
   after alpha1, so S is right-censored by the end of the run.
7. ``grokked`` iff ``alpha1 > alpha0`` (immediate generalization is not grokking),
   ``delta_S = sigma_E - sigma_S >= min_delta_s`` (quantifies ``<<``) and
   ``S >= support_ratio * (alpha1 - alpha0)`` (quantifies ``>>``); optionally also
   ``delta_T <= max_delta_t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class GrokkingStats:
    """Quantities of Definition 3.1 for one run (None where undefined)."""

    alpha0: float | None  # step where training converged (None: never converged)
    alpha1: float | None  # step where the test curve enters Delta_T for good (None: undefined)
    sigma_S: float | None  # best test score up to alpha0 (upper bound of the low region)
    sigma_E: float | None  # lower bound of the high region (lower bound of Delta_T)
    train_limit: float | None  # limit value of the training curve
    delta_S: float | None  # sigma_E - sigma_S: grokking intensity
    delta_T: float | None  # train_limit - sigma_E: room for improvement
    support: tuple[float, float] | None  # S = [alpha1, end of the stretch with test >= sigma_E]
    grokked: bool

    def as_dict(self) -> dict[str, float | bool | None]:
        """Flat row of plain floats/None for tables; ``support`` is split into start and end."""
        row: dict[str, float | bool | None] = {
            k: getattr(self, k)
            for k in ("alpha0", "alpha1", "sigma_S", "sigma_E", "train_limit", "delta_S", "delta_T")
        }
        row["support_start"] = None if self.support is None else self.support[0]
        row["support_end"] = None if self.support is None else self.support[1]
        row["grokked"] = bool(self.grokked)
        return row


def _array(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor (possibly on GPU / requiring grad)
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {type(x).__name__}") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def _check_steps(steps: Any) -> np.ndarray:
    s = _array(steps, "steps")
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"steps must be 1-D with at least 2 points, got shape {s.shape}")
    if np.any(np.diff(s) <= 0):
        raise ValueError("steps must be strictly increasing")
    return s


def _check_curve(values: Any, name: str, n: int, ndim: int = 1) -> np.ndarray:
    v = _array(values, name)
    if v.ndim != ndim or v.shape[-1] != n:
        raise ValueError(f"{name} must have {ndim} dim(s) and last length {n}, got {v.shape}")
    if np.any((v < 0) | (v > 1)):
        raise ValueError(f"{name} must be accuracies in [0, 1]")
    return v


def _running_median(v: np.ndarray, window: int) -> np.ndarray:
    if window == 1:
        return v
    half = window // 2
    padded = np.pad(v, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=-1)


def _stays_from(ok: np.ndarray) -> int | None:
    """First index from which ``ok`` holds up to the end, or None if ``ok[-1]`` is False."""
    suffix = np.logical_and.accumulate(ok[::-1])[::-1]
    return int(np.argmax(suffix)) if suffix[-1] else None


def definition31(
    steps: Any,
    train: Any,
    test: Any,
    *,
    tail_frac: float = 0.1,
    min_tail: int = 3,
    conv_tol: float = 0.02,
    stay_tol: float = 0.02,
    min_delta_s: float = 0.1,
    support_ratio: float = 2.0,
    max_delta_t: float | None = None,
    smooth: int = 1,
) -> GrokkingStats:
    """Apply Definition 3.1 (see module docstring for the algorithm) to one run.

    Options: ``tail_frac``/``min_tail`` size the final stretch ("last few points", counted in
    points, not steps) that defines both limits; ``conv_tol`` is how close (absolute accuracy) the
    train curve must stay to its limit to count as converged; ``stay_tol`` is the slack below
    ``sigma_E`` the test curve may dip after ``alpha1``; ``min_delta_s`` is the smallest
    ``sigma_E - sigma_S`` read as ``sigma_S << sigma_E``; ``support_ratio`` is the factor for
    ``S >> alpha1 - alpha0``; ``max_delta_t`` (default None: the paper sets no bound) caps the room
    for improvement; ``smooth`` (odd, 1 = off) applies a running median to both curves first,
    which removes one-point spikes and dips of a noisy evaluation.
    """
    s = _check_steps(steps)
    tr = _check_curve(train, "train", s.size)
    te = _check_curve(test, "test", s.size)
    if not 0 < tail_frac <= 1:
        raise ValueError(f"tail_frac must be in (0, 1], got {tail_frac}")
    if min_tail < 1:
        raise ValueError(f"min_tail must be >= 1, got {min_tail}")
    if smooth < 1 or smooth % 2 == 0:
        raise ValueError(f"smooth must be an odd integer >= 1, got {smooth}")
    for name, val in (
        ("conv_tol", conv_tol),
        ("stay_tol", stay_tol),
        ("support_ratio", support_ratio),
        ("min_delta_s", min_delta_s),
    ):
        if not val >= 0:
            raise ValueError(f"{name} must be >= 0, got {val}")
    tr, te = _running_median(tr, smooth), _running_median(te, smooth)

    tail = min(s.size, max(min_tail, math.ceil(tail_frac * s.size)))
    limit = float(tr[-tail:].mean())
    i0 = _stays_from(tr >= limit - conv_tol)
    # Converged = flat tail: a still-rising curve has tail points far below its tail mean.
    if i0 is None or np.any(np.abs(tr[-tail:] - limit) > conv_tol):
        return GrokkingStats(None, None, None, None, None, None, None, None, False)

    alpha0 = float(s[i0])
    sigma_s = float(te[: i0 + 1].max())
    sigma_e = min(float(te[-tail:].min()), limit)  # Delta_T must contain the train limit
    i1 = _stays_from(te >= sigma_e - stay_tol)
    assert i1 is not None  # the last point is >= sigma_E by construction
    alpha1 = float(s[i1])
    support = (alpha1, float(s[-1]))
    delta_s, delta_t = sigma_e - sigma_s, limit - sigma_e

    grokked = (
        alpha1 > alpha0
        and delta_s >= min_delta_s
        and (support[1] - support[0]) >= support_ratio * (alpha1 - alpha0)
        and (max_delta_t is None or delta_t <= max_delta_t)
    )
    return GrokkingStats(
        alpha0, alpha1, sigma_s, sigma_e, limit, delta_s, delta_t, support, bool(grokked)
    )


def definition31_batch(steps: Any, train: Any, test: Any, **options: Any) -> list[GrokkingStats]:
    """:func:`definition31` on each row of ``train``/``test`` of shape (E, T), shared steps (T,)."""
    s = _check_steps(steps)
    tr = _check_curve(train, "train", s.size, ndim=2)
    te = _check_curve(test, "test", s.size, ndim=2)
    if tr.shape != te.shape:
        raise ValueError(f"train and test must have the same shape, got {tr.shape}, {te.shape}")
    return [definition31(s, a, b, **options) for a, b in zip(tr, te, strict=True)]


def _crossing(s: np.ndarray, v: np.ndarray, threshold: float) -> float | None:
    hit = np.flatnonzero(v >= threshold)
    return float(s[hit[0]]) if hit.size else None


def first_crossing(steps: Any, values: Any, threshold: float) -> float | None:
    """First step with ``value >= threshold``, or None if the curve never reaches it."""
    s = _check_steps(steps)
    return _crossing(s, _check_curve(values, "values", s.size), threshold)


def grokking_delay(steps: Any, train: Any, test: Any, *, threshold: float = 0.95) -> float | None:
    """Li & Sakib grokking delay: steps from train to test first reaching ``threshold``.

    ``test crossing - train crossing`` (negative if test gets there first); None if either curve
    never reaches the threshold.
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    s = _check_steps(steps)
    t_train = _crossing(s, _check_curve(train, "train", s.size), threshold)
    t_test = _crossing(s, _check_curve(test, "test", s.size), threshold)
    return None if t_train is None or t_test is None else t_test - t_train
