"""What a figure's parameter dataclass takes: ranges and cross-field rules, stated once.

Each figure's frozen parameter dataclass (defaults = the paper's values) declares

* ``CHOICES``: the allowed values of each string field (``ClassVar[dict[str, tuple]]``);
* ``RANGES``: the :class:`Range` of each number field (of each element of a tuple field);
* ``rules(self)``: its cross-field rules, raising ValueError naming the fields involved;
* ``memory(self, max_members=...)``: the :class:`~grokpaper.core.memory.Estimate` of its
  largest ensemble of at most ``max_members``, from the formula of its model family
  (:mod:`grokpaper.core.memory`);
* optionally ``check_data(self, train_labels)``: rules against the data found (MNIST).

Its ``__post_init__`` calls :func:`check` (ranges, then rules), so a bad value fails where the
object is made, in a notebook or in ``grokpaper run``'s pre-flight (which also reads
``RANGES`` to say what a parameter takes, and compares ``memory(max_members=1)`` with what is
free: the sweeps cut larger ensembles to the memory budget).

A range has bounds from the meaning of the field (``lo``/``hi``: a fraction is in [0, 1]) and
a sanity ``cap`` (seeds <= 1,000, steps <= 10^7): beyond it a value is a typo or a run that
would not finish; raise the cap here if a study really needs more.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any


def number(x: float) -> str:
    """``x`` as a user types it: 1000000, 0.5, 1e-09."""
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return f"{x:g}"


@dataclass(frozen=True)
class Range:
    """Allowed numbers: ``lo``/``hi`` from the field's meaning (open or closed), ``cap`` a
    sanity limit (inclusive)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    cap: float | None = None

    def bounds(self) -> str:
        """The meaning's bounds in words: 'in [0, 1]', '>= 1', '> 0'."""
        if self.lo is not None and self.hi is not None:
            return (f"in {'(' if self.lo_open else '['}{number(self.lo)}, {number(self.hi)}"
                    f"{')' if self.hi_open else ']'}")
        if self.lo is not None:
            return f"{'>' if self.lo_open else '>='} {number(self.lo)}"
        if self.hi is not None:
            return f"{'<' if self.hi_open else '<='} {number(self.hi)}"
        return "any number"

    def __str__(self) -> str:
        return self.bounds() + (f" and <= {number(self.cap)}" if self.cap is not None else "")

    def problem(self, x: float) -> str | None:
        """Why ``x`` is out of range ('out of range (>= 1)'), or None if it is in it."""
        if not math.isfinite(x):
            return f"{number(x)} is not finite"
        low = self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo)
        high = self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi)
        if low or high:
            return f"{number(x)} is out of range ({self.bounds()})"
        if self.cap is not None and x > self.cap:
            return (f"{number(x)} is out of range (<= {number(self.cap)}, a sanity limit: "
                    f"see grokpaper/core/params.py)")
        return None


# Ranges shared by the studies' parameter dataclasses.
SEEDS = Range(1, cap=1000)  # members per condition; the papers use 1-100
SEED = Range(0, cap=2**31 - 1)  # a random state
STEPS = Range(1, cap=10_000_000)
N_EVALS = Range(2, cap=100_000)
SAMPLES = Range(1, cap=1_000_000)  # training or test set sizes
BATCH = Range(1, cap=1_000_000)
WIDTH = Range(1, cap=16_384)  # hidden widths, d_model, d_ff
LAYERS = Range(1, cap=64)
# Large learning rates are allowed on purpose: the phase diagrams cross into divergence, and
# diverged runs are marked and counted apart.
LR = Range(0, lo_open=True, cap=1e6)
WEIGHT_DECAY = Range(0, cap=1e4)
SCALE = Range(0, lo_open=True, cap=1e4)  # initialization scales, noise levels > 0, extents
NOISE = Range(0, cap=1e4)  # noise levels that may be 0
FRACTION = Range(0, 1)
OPEN_FRACTION = Range(0, 1, lo_open=True, hi_open=True)
RATE = Range(0, 1, hi_open=True)  # dropout
PRIME = Range(2, cap=2000)  # modulus p: p^2 examples
RESOLUTION = Range(2, cap=1000)  # grid points per side
CLUSTERS = Range(2, cap=1000)
COUNT = Range(0, cap=1_000_000)  # counts that may be 0


def check(params: Any) -> None:
    """Raise ValueError naming the field unless every number of ``params`` is in its
    ``RANGES`` entry, then run its ``rules()``."""
    ranges: dict[str, Range] = getattr(type(params), "RANGES", {})
    for name, rng in ranges.items():
        value = getattr(params, name)
        for x in value if isinstance(value, (tuple, list)) else [value]:
            if x is None or isinstance(x, bool) or not isinstance(x, (int, float)):
                continue  # None: "the default"; types are the type checks' business
            why = rng.problem(x)
            if why is not None:
                raise ValueError(f"{name}={number(x) if value is x else list(value)}: {why}")
    rules = getattr(params, "rules", None)
    if rules is not None:
        rules()


def numeric_fields(cls: type) -> list[str]:
    """The fields of dataclass ``cls`` that hold numbers (or tuples of numbers)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        args = {a for a in typing.get_args(hints[f.name]) if a is not type(None)} or {
            hints[f.name]}
        if typing.get_origin(hints[f.name]) is tuple:
            args = {typing.get_args(hints[f.name])[0]}
        if args & {int, float} and bool not in args:
            out.append(f.name)
    return out
