"""Grokking metrics: Carvalho et al. 2025 Definition 3.1 and the Li & Sakib grokking delay.

Definition 3.1 (Carvalho et al., Sec. 3): "Let Delta_T denote an interval with lower bound
sigma_E containing the limit value of a converging training set performance curve at time
alpha0. Let sigma_S << sigma_E denote an upper bound on the test set performance measured up to
time point alpha0. We say that grokking took place if at time point alpha1 (not <= alpha0), the
test set performance is within Delta_T and remains within Delta_T for an interval
S >> (alpha1 - alpha0)." Fig. 2 places alpha0 at "an inflection point ... where the model's test
set performance escapes a low performing region", after the training performance has converged;
sigma_S is "the upper limit of the low performing region", sigma_E "the lower limit of the high
performing region", and S lasts as long as the test score does not drop below sigma_E.

:func:`definition31` reads it as Fig. 2 draws it, on a (train, test) pair of accuracy curves in
[0, 1] sampled at strictly increasing (possibly log-spaced) steps; every threshold is a field of
:class:`Def31Options`:

1. ``train_limit`` = mean of the last ``tail`` points of the train curve
   (``tail = max(min_tail, ceil(tail_frac * n))``); training *converged* iff every tail point lies
   within ``conv_tol`` of it. ``t_converged`` = first step from which the train curve stays
   ``>= train_limit - conv_tol`` to the end.
2. The low-performing region: ``level`` = the median test score from ``t_converged`` to
   ``plateau_ratio * t_converged``. The high-performing region: ``high`` = the best level the
   test curve holds after convergence (the largest median of ``tail`` consecutive points, so
   that neither a one-point spike nor a late dip moves it); ``sigma_E = min(high - high_tol,
   train_limit)``, so that ``Delta_T = [sigma_E, 1]`` contains the training limit.
3. The escape that counts is the one that leads into the high region: the first step at which
   the test curve (read on a running median of 3 points, so that one noisy evaluation is no
   escape) reaches ``sigma_E``, provided ``sigma_E`` lies above the plateau
   (``> level + plateau_tol``); an excursion off the plateau that falls back to it is not the
   escape. ``alpha0`` is its knee: the last step before that entry at which the curve was still
   within ``plateau_tol / 2`` of its level. A *plateau* exists only if the test curve stayed
   there a while after training converged: ``alpha0 >= plateau_ratio * t_converged``. A test
   curve that keeps rising with training has no plateau, and does not grok; one that never
   reaches a region above its plateau has no alpha1 (alpha0 is then the last step).
4. ``sigma_S`` = the best test score at steps ``<= alpha0`` (the low region's upper limit).
5. ``alpha1`` = the first step after alpha0 at which the test score is ``>= sigma_E``.
6. ``S`` = from alpha1 to the first later step at which the test score drops below
   ``sigma_E - stay_tol``, or to the end of the run (then S is right-censored).
7. ``grokked`` iff there is a plateau, alpha1 exists, ``delta_S = sigma_E - sigma_S >=
   min_delta_s`` (quantifies ``<<``) and ``|S| >= support_ratio * (alpha1 - alpha0)``
   (quantifies ``>>``); optionally also ``delta_T <= max_delta_t``.

:func:`definition31_at_convergence` keeps this project's earlier reading (alpha0 = the step
training converged; sigma_E the lowest score of the final stretch; no plateau required), so that
the Carvalho pages can show how much the verdicts lean on the operationalization
(:func:`grokpaper.core.report.definition31_sensitivity`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Def31Options:
    """The thresholds that make Definition 3.1 an algorithm (see the module docstring)."""

    tail_frac: float = 0.1  # share of the points (at least min_tail) that form the final stretch
    min_tail: int = 3
    conv_tol: float = 0.02  # train stays this close (absolute accuracy) to its limit: converged
    plateau_tol: float = 0.05  # the test curve stays this close above its level: still on it
    plateau_ratio: float = 2.0  # the plateau must last to plateau_ratio x t_converged
    high_tol: float = 0.02  # sigma_E lies this far below the best level held after alpha0
    stay_tol: float = 0.02  # slack below sigma_E before the support interval S ends
    min_delta_s: float = 0.1  # smallest sigma_E - sigma_S read as "sigma_S << sigma_E"
    support_ratio: float = 2.0  # |S| >= support_ratio (alpha1 - alpha0) reads "S >> ..."
    max_delta_t: float | None = None  # the paper sets no bound on the room for improvement
    smooth: int = 1  # odd window of a running median applied to both curves (1 = off)

    def __post_init__(self) -> None:
        if not 0 < self.tail_frac <= 1:
            raise ValueError(f"tail_frac must be in (0, 1], got {self.tail_frac}")
        if self.min_tail < 1:
            raise ValueError(f"min_tail must be >= 1, got {self.min_tail}")
        if self.smooth < 1 or self.smooth % 2 == 0:
            raise ValueError(f"smooth must be an odd integer >= 1, got {self.smooth}")
        for name in ("conv_tol", "plateau_tol", "high_tol", "stay_tol", "min_delta_s",
                     "support_ratio", "plateau_ratio"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class GrokkingStats:
    """Quantities of Definition 3.1 for one run (None where undefined)."""

    alpha0: float | None  # last step on the low plateau (None: training never converged)
    alpha1: float | None  # step where the test curve enters Delta_T after alpha0
    sigma_S: float | None  # best test score up to alpha0 (upper limit of the low region)
    sigma_E: float | None  # lower limit of the high region (lower bound of Delta_T)
    train_limit: float | None  # limit value of the training curve
    delta_S: float | None  # sigma_E - sigma_S: grokking intensity
    delta_T: float | None  # train_limit - sigma_E: room for improvement
    support: tuple[float, float] | None  # S = [alpha1, the test score's first drop or the end]
    grokked: bool
    t_converged: float | None = None  # step from which training stays converged
    plateau: bool | None = None  # the test curve sat on a low plateau after convergence

    def as_dict(self) -> dict[str, float | bool | None]:
        """Flat row of plain floats/None for tables; ``support`` is split into start and end."""
        row: dict[str, float | bool | None] = {
            k: getattr(self, k)
            for k in ("alpha0", "alpha1", "sigma_S", "sigma_E", "train_limit", "delta_S",
                      "delta_T", "t_converged")
        }
        row["support_start"] = None if self.support is None else self.support[0]
        row["support_end"] = None if self.support is None else self.support[1]
        row["plateau"] = None if self.plateau is None else bool(self.plateau)
        row["grokked"] = bool(self.grokked)
        return row


NOT_CONVERGED = GrokkingStats(None, None, None, None, None, None, None, None, False)


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


def _converged(s: np.ndarray, tr: np.ndarray, opt: Def31Options) -> tuple[int, float, int] | None:
    """(index of t_converged, train limit, tail length), or None if training never converged."""
    tail = min(s.size, max(opt.min_tail, math.ceil(opt.tail_frac * s.size)))
    limit = float(tr[-tail:].mean())
    i0 = _stays_from(tr >= limit - opt.conv_tol)
    # Converged = flat tail: a still-rising curve has tail points far below its tail mean.
    if i0 is None or np.any(np.abs(tr[-tail:] - limit) > opt.conv_tol):
        return None
    return i0, limit, tail


def _curves(steps: Any, train: Any, test: Any, options: dict[str, Any]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Def31Options]:
    opt = Def31Options(**options)
    s = _check_steps(steps)
    tr = _running_median(_check_curve(train, "train", s.size), opt.smooth)
    te = _running_median(_check_curve(test, "test", s.size), opt.smooth)
    return s, tr, te, opt


def definition31(steps: Any, train: Any, test: Any, **options: Any) -> GrokkingStats:
    """Definition 3.1 of one run, read as the paper's Fig. 2 draws it (module docstring).

    ``options`` are the fields of :class:`Def31Options` (every threshold, named and documented).
    """
    s, tr, te, opt = _curves(steps, train, test, options)
    conv = _converged(s, tr, opt)
    if conv is None:
        return NOT_CONVERGED
    ic, limit, tail = conv
    t_conv = float(s[ic])
    # The plateau's level is the median over the stretch it must last; a running median of 3
    # keeps one noisy evaluation from counting as an escape.
    held_test = _running_median(te, 3)
    window = int(np.searchsorted(s, opt.plateau_ratio * t_conv))
    level = float(np.median(held_test[ic: max(window, ic) + 1]))
    # The high region: the best level held for `tail` points after convergence.
    w = min(tail, s.size - ic)
    high = np.median(np.lib.stride_tricks.sliding_window_view(te[ic:], w), axis=-1).max()
    sigma_e = min(float(high) - opt.high_tol, limit)
    # The escape that counts is the one that leads into the high region (Fig. 2): the test
    # curve's first entry there; an excursion off the plateau that falls back is not it.
    # It is looked for once the curve has sat at its plateau level: a test score already high
    # when training converged, that then falls to the plateau, is not that entry.
    on = np.flatnonzero(held_test[ic:] <= level + opt.plateau_tol / 2)
    entry = (np.flatnonzero(held_test[ic:] >= sigma_e) if sigma_e > level + opt.plateau_tol
             else np.array([], dtype=int))
    entry = entry[entry > on[0]] if on.size else entry
    if not entry.size:  # the test curve never rose from its plateau to a higher region
        sigma_s = float(te.max())
        return GrokkingStats(float(s[-1]), None, sigma_s, sigma_e, limit, sigma_e - sigma_s,
                             limit - sigma_e, None, False, t_conv,
                             bool(s[-1] >= opt.plateau_ratio * t_conv))
    ie = ic + int(entry[0])
    # alpha0, the knee: the last step before the entry at which the curve was still within
    # half the tolerance of its level, so that sigma_S is the plateau's top, not the rise.
    low = np.flatnonzero(held_test[ic:ie] <= level + opt.plateau_tol / 2)
    i0 = ic + int(low[-1]) if low.size else ic
    alpha0 = float(s[i0])
    plateau = alpha0 >= opt.plateau_ratio * t_conv
    sigma_s = float(te[: i0 + 1].max())
    above = np.flatnonzero(te[i0 + 1:] >= sigma_e)
    i1 = i0 + 1 + int(above[0]) if above.size else ie
    dropped = np.flatnonzero(te[i1:] < sigma_e - opt.stay_tol)
    end = float(s[i1 + int(dropped[0])]) if dropped.size else float(s[-1])
    alpha1 = float(s[i1])
    delta_s, delta_t = sigma_e - sigma_s, limit - sigma_e
    grokked = (
        plateau
        and delta_s >= opt.min_delta_s
        and (end - alpha1) >= opt.support_ratio * (alpha1 - alpha0)
        and (opt.max_delta_t is None or delta_t <= opt.max_delta_t)
    )
    return GrokkingStats(alpha0, alpha1, sigma_s, sigma_e, limit, delta_s, delta_t,
                         (alpha1, end), bool(grokked), t_conv, bool(plateau))


def definition31_at_convergence(steps: Any, train: Any, test: Any, **options: Any
                                ) -> GrokkingStats:
    """The earlier reading of Definition 3.1: alpha0 = the step training converged, sigma_S
    the best test score up to it, sigma_E the lowest test score of the final stretch (capped at
    the train limit), alpha1 the step from which the test curve stays ``>= sigma_E -
    stay_tol`` to the end, S from alpha1 to the end of the run; no plateau is required.

    Kept for :func:`definition31_sensitivity`: it calls a curve that rises with training and
    merely saturates later "grokked", and a transition that completed long ago "not grokked"
    when the run stops too soon after it (its alpha1 - alpha0 spans the whole plateau).
    """
    s, tr, te, opt = _curves(steps, train, test, options)
    conv = _converged(s, tr, opt)
    if conv is None:
        return NOT_CONVERGED
    i0, limit, tail = conv
    alpha0 = float(s[i0])
    sigma_s = float(te[: i0 + 1].max())
    sigma_e = min(float(te[-tail:].min()), limit)
    i1 = _stays_from(te >= sigma_e - opt.stay_tol)
    assert i1 is not None  # the last point is >= sigma_E by construction
    alpha1 = float(s[i1])
    support = (alpha1, float(s[-1]))
    delta_s, delta_t = sigma_e - sigma_s, limit - sigma_e
    grokked = (
        alpha1 > alpha0
        and delta_s >= opt.min_delta_s
        and (support[1] - support[0]) >= opt.support_ratio * (alpha1 - alpha0)
        and (opt.max_delta_t is None or delta_t <= opt.max_delta_t)
    )
    return GrokkingStats(alpha0, alpha1, sigma_s, sigma_e, limit, delta_s, delta_t, support,
                         bool(grokked), alpha0, None)


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
