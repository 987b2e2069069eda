"""A plan of what pages will train, before anything trains: their runs cut into ensembles the way
the sweeps will cut them, each ensemble's FLOPs (:mod:`grokpaper.core.cost`), peak memory
(:mod:`grokpaper.core.memory`) and predicted time on a device (:mod:`grokpaper.core.throughput`).

Each wing says what its figures train in ``grokpaper/<wing>/workloads.py``: ``WORKLOADS`` maps a
figure name to a function of its resolved parameters (and a context: the MNIST folder) giving
the :class:`Work` its page hands to the sweeps. The core finds that module by the figure's
prefix, as :mod:`grokpaper.core.profiles` does, so it imports no study. Runs another page already
planned (same store key) are counted once, where they first train, as the store would.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from grokpaper.core.cost import EnsembleCost
from grokpaper.core.memory import Estimate
from grokpaper.core.store import config_key
from grokpaper.core.sweep import MemoryFn, cut
from grokpaper.core.throughput import Rate


@dataclass(frozen=True)
class Work:
    """Runs a page passes to one family's sweep (:func:`grokpaper.core.sweep.run_cached`)."""

    kind: str  # the store kind: runs planned before under it are not counted again
    runs: list[Any]
    group_key: Callable[[Any], Hashable]
    cost: Callable[[list[Any]], EnsembleCost]
    memory: MemoryFn
    max_members: int


def works(figure: str, params: Any, context: dict[str, Any] | None = None) -> list[Work]:
    """What ``figure``'s page trains with ``params`` (its wing's ``workloads.WORKLOADS``)."""
    wing = figure.split(".", 1)[0]
    module = importlib.import_module(f"grokpaper.{wing}.workloads")
    return module.WORKLOADS[figure](params, context or {})


@dataclass(frozen=True)
class Ensemble:
    """One planned ensemble: ``members`` runs of one family trained together."""

    kind: str
    members: int
    cost: EnsembleCost
    memory: Estimate

    @property
    def model_steps(self) -> int:
        return self.members * self.cost.steps

    @property
    def flops(self) -> float:
        return self.cost.flops(self.members)

    @property
    def peak_bytes(self) -> float:
        return self.memory.total


def ensembles(work: Work, budget: float, seen: set[tuple[str, str]]) -> list[Ensemble]:
    """The ensembles ``work`` trains within ``budget`` bytes, leaving out runs in ``seen``
    (``(kind, key)`` pairs, updated: a later page finds these in the store)."""
    new = []
    for run in work.runs:
        key = (work.kind, config_key(work.kind, run))
        if key not in seen:
            seen.add(key)
            new.append(run)
    out = []
    for chunk in cut(new, work.group_key, work.max_members, memory=work.memory, budget=budget):
        runs = [new[i] for i in chunk]
        out.append(Ensemble(work.kind, len(runs), work.cost(runs), work.memory(runs, len(runs))))
    return out


@dataclass
class PagePlan:
    """What one page trains (new runs only) and, when it will not run, why."""

    name: str
    runs: int = 0  # runs this page trains
    reused: int = 0  # runs of this page an earlier page trains
    ensembles: list[Ensemble] = field(default_factory=list)
    note: str = ""

    @property
    def model_steps(self) -> int:
        return sum(e.model_steps for e in self.ensembles)

    @property
    def flops(self) -> float:
        return sum(e.flops for e in self.ensembles)

    @property
    def peak_bytes(self) -> float:
        return max((e.peak_bytes for e in self.ensembles), default=0.0)

    @property
    def max_members(self) -> int:
        return max((e.members for e in self.ensembles), default=0)

    def seconds(self, rates: dict[str, Rate]) -> float:
        """Predicted training time with ``rates`` per family (NaN if one is missing)."""
        return sum(rates[e.cost.family].seconds(e.cost, e.members) if e.cost.family in rates
                   else math.nan for e in self.ensembles)


def plan_page(name: str, work: Iterable[Work], budget: float, seen: set[tuple[str, str]]
              ) -> PagePlan:
    """The plan of one page from the work its figures hand to the sweeps."""
    page = PagePlan(name)
    for w in work:
        before = len(seen)
        page.ensembles += ensembles(w, budget, seen)
        fresh = len(seen) - before
        page.runs += fresh
        page.reused += len({config_key(w.kind, r) for r in w.runs}) - fresh
    return page
