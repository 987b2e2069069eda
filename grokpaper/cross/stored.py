"""The runs the book's chapters trained, read back from the store: nothing trains here.

Each figure's parameters are resolved under the profile (as its page resolves them, without
the page's ``-p`` overrides) and handed to its wing's workloads
(:func:`grokpaper.core.plan.works`), which list the runs the page hands to its sweeps; each
run's store key then finds its result. A run two figures share is read once. A figure whose
runs are not all in the store (its chapter has not run under this profile, or not to the end)
is reported, never trained.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from grokpaper.carvalho import experiments as carvalho
from grokpaper.core import mnist_data, profiles
from grokpaper.core.mnist_data import MnistNotFound
from grokpaper.core.plan import Work, works
from grokpaper.core.store import Store, config_key
from grokpaper.core.studies import CARVALHO, LISAKIB, LIU
from grokpaper.lisakib import experiments as lisakib
from grokpaper.liu import experiments as liu_toy
from grokpaper.liu import transformer_experiments as liu_transformer
from grokpaper.mnist import experiments as mnist

#: The families of runs with accuracy curves, by store kind: (study, family label). MNIST runs
#: are Omnigrok's MLP setting, which Li & Sakib's report takes up (their MNIST chapter).
FAMILIES: dict[str, tuple[str, str]] = {
    carvalho.KIND: (CARVALHO.name, "synthetic"),
    liu_toy.KIND: (LIU.name, "Liu toy model"),
    liu_transformer.KIND: (LIU.name, "Liu transformer"),
    lisakib.KIND: (LISAKIB.name, "Li & Sakib transformer"),
    mnist.KIND: (LISAKIB.name, "MNIST MLP"),
}
#: MNIST figures whose runs name the data by its fingerprint: listed with the real pools (the
#: plan's stand-in has another fingerprint, hence other store keys).
MNIST_RUNS = {"mnist.omnigrok": lambda p, d: p.runs(d), "mnist.phases": lambda p, d: p.runs(d),
              "mnist.lisakib": lambda p, d: p.runs(d)[0]}
#: Figures not read, and why.
NOT_READ = {"mnist.cluster_shift": "its runs depend on clusters of a ResNet embedding; not "
                                   "read here"}
#: Arrays every judged run needs.
CURVES = ("steps", "train_acc", "test_acc")


def family_names() -> tuple[str, ...]:
    """Every family :func:`family_of` can name, in the book's order."""
    out = []
    for kind, (_, family) in FAMILIES.items():
        out += ([f"{family} {m}" for m in ("MLP", "transformer")] if kind == carvalho.KIND
                else [family])
    return tuple(out)


def family_of(kind: str, run: Any) -> tuple[str, str]:
    """``(study, family)`` of a run of store kind ``kind``: Carvalho's runs are split by
    model (MLP or transformer)."""
    study, family = FAMILIES[kind]
    if kind == carvalho.KIND:
        family = f"{family} {carvalho.model_name(run.model).replace('mlp', 'MLP')}"
    return study, family


@dataclass
class Found:
    """What the store holds of the chapters' runs under one profile."""

    runs: pd.DataFrame  # one row per stored run (see :func:`collect`)
    #: figure -> (runs stored, runs planned) of every figure with curve runs
    figures: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: figure -> why it could not be listed (e.g. no MNIST data)
    skipped: dict[str, str] = field(default_factory=dict)

    def missing(self) -> dict[str, tuple[int, int]]:
        """The figures some of whose runs are not in the store."""
        return {f: c for f, c in self.figures.items() if c[0] < c[1]}


def planned(profile: str, figures: Iterable[str] | None = None,
            context: dict[str, Any] | None = None) -> tuple[dict[str, list], dict[str, str]]:
    """``({figure: [(kind, key, run), ...]}, {figure: why skipped})`` for the runs with
    accuracy curves each figure trains under ``profile``."""
    out: dict[str, list] = {}
    skipped: dict[str, str] = {}
    for figure in figures if figures is not None else profiles.figures():
        if figure in NOT_READ:
            skipped[figure] = NOT_READ[figure]
            continue
        params = profiles.resolve(figure, profiles.params_class(figure), profile)
        try:
            if figure in MNIST_RUNS:
                data = mnist_data.load((context or {}).get("data_dir"))
                work = [Work(mnist.KIND, MNIST_RUNS[figure](params, data), mnist.ensemble_key,
                             len, mnist.ensemble_memory, mnist.MAX_MEMBERS)]
            else:
                work = works(figure, params, context)
        except MnistNotFound:
            skipped[figure] = "no MNIST data"
            continue
        found = [(w.kind, config_key(w.kind, r), r) for w in work if w.kind in FAMILIES
                 for r in w.runs]
        if found:
            out[figure] = found
    return out, skipped


def collect(profile: str, *, store: Store | None = None, figures: Iterable[str] | None = None,
            context: dict[str, Any] | None = None) -> Found:
    """Every stored run of the chapters under ``profile``, one row each: ``study``,
    ``family``, ``kind``, ``key``, ``figures`` (those that train it, comma-separated), the
    curves (:data:`CURVES`), ``weight_norm`` (None where not recorded) and ``diverged``."""
    store = store or Store()
    plan, skipped = planned(profile, figures, context)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    counts = {}
    for figure, found in plan.items():
        have = 0
        for kind, key, run in found:
            if (kind, key) in rows:
                rows[(kind, key)]["figures"] += f", {figure}"
                have += 1
                continue
            res = store.load(kind, key)
            if res is None or not all(c in res.arrays for c in CURVES):
                continue
            have += 1
            a = res.arrays
            study, family = family_of(kind, run)
            diverged = int(np.asarray(a.get("diverged_step", -1))) >= 0
            rows[(kind, key)] = {
                "study": study, "family": family, "kind": kind, "key": key, "figures": figure,
                "run": run, **{c: np.asarray(a[c], dtype=float) for c in CURVES},
                "weight_norm": (np.asarray(a["weight_norm"], dtype=float)
                                if "weight_norm" in a else None),
                "diverged": diverged}
        counts[figure] = (have, len({(k, key) for k, key, _ in found}))
    return Found(pd.DataFrame(list(rows.values()), columns=[
        "study", "family", "kind", "key", "figures", "run", *CURVES, "weight_norm",
        "diverged"]), counts, skipped)


def with_test_curve(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, left out)``: a run without a test curve (NaN: no test rows, as a Liu toy run
    on the whole table) cannot be judged. Diverged runs are kept: the verdicts leave them out
    and say so (:func:`grokpaper.core.divergence.excluding`)."""
    bad = runs["test_acc"].map(lambda t: not np.isfinite(t).all())
    return runs[~bad].reset_index(drop=True), runs[bad].reset_index(drop=True)
