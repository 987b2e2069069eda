"""Numbers the Li & Sakib pages quote and judge, derived from the run tables of
:func:`grokpaper.lisakib.experiments.run` (and, for Fig. 5, the stored loss surfaces)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from grokpaper.core import landscape
from grokpaper.core.store import Store
from grokpaper.lisakib import experiments
from grokpaper.lisakib.figures import LandscapeParams, NormParams


def n_with_delay(df: pd.DataFrame) -> int:
    """Runs with a grokking delay: both training and validation accuracy reached 95%."""
    return int(np.isfinite(df["delay"].astype(float)).sum())


def agreement(df: pd.DataFrame) -> dict[str, float]:
    """Share of runs on which Li & Sakib's "grokking" (delay >= 1,000 steps) agrees with Liu's
    grokking phase (``"liu"``) and with Definition 3.1 (``"def31"``) about whether it grokked."""
    li = df["li_class"] == "grokking"
    return {"liu": float((li == (df["liu_phase"] == "grokking")).mean()),
            "def31": float((li == df["def31_grokked"].eq(True)).mean())}


class NormPanels(NamedTuple):
    """The runs behind the Figs. 6-8 panels."""

    fracs: pd.DataFrame  # Fig. 6: every training fraction, at the default weight decay
    decays: pd.DataFrame  # Figs. 7-8: every weight decay, at the default training fraction


def norm_panels(df: pd.DataFrame, params: NormParams) -> NormPanels:
    """Split the runs of ``params`` (``df``) into :class:`NormPanels` (the default run is in
    both)."""
    fracs = df[(df["weight_decay"] == params.weight_decay)
               & df["train_frac"].isin(params.train_fracs)]
    return NormPanels(fracs, df[df["train_frac"] == params.train_frac])


def landscape_specs(params: LandscapeParams) -> list[experiments.LandscapeSpec]:
    """Fig. 5's loss surfaces: every run of ``params.runs()`` in both normalizations (in that
    order), each normalization with its extent."""
    return [experiments.LandscapeSpec(
        run, normalization=norm, resolution=params.resolution,
        extent=params.tensor_extent if norm == "tensor" else params.extent,
        direction_seed=params.direction_seed, on=params.on)
        for run in params.runs() for norm in landscape.NORMALIZATIONS]


def landscapes(params: LandscapeParams, df: pd.DataFrame, *, store: Store | None = None
               ) -> tuple[list[dict], pd.DataFrame]:
    """Fig. 5: the loss surface around every run's final weights in both normalizations.

    ``df`` holds the runs of ``params.runs()``, in order. Returns one dict per surface
    (``label``, ``normalization``, ``surface``, ``coords`` and :func:`landscape.roughness`) for
    the figure, and one table row per surface (the run's class and accuracies, the extent and
    the roughness) for the verdict.
    """
    specs = landscape_specs(params)
    rows_of = [r for _, r in df.iterrows() for _ in landscape.NORMALIZATIONS]
    pairs = [(s.run, r, s.normalization) for s, r in zip(specs, rows_of, strict=True)]
    extents = [s.extent for s in specs]
    found, rows = [], []
    for (_, r, norm), ext, surf in zip(pairs, extents, experiments.surfaces(specs, store=store),
                                       strict=True):
        stats = landscape.roughness(surf)
        label = f"x {r['op']} y, batch {r['batch_size']}, seed {r['seed']}: {r['li_class']}"
        found.append({"label": label, "normalization": norm, "surface": surf,
                      "coords": np.linspace(-ext, ext, params.resolution), **stats})
        rows.append({"op": r["op"], "batch_size": r["batch_size"], "seed": r["seed"],
                     "li_class": r["li_class"], "delay": r["delay"],
                     "final_train_acc": r["final_train_acc"],
                     "final_val_acc": r["final_val_acc"], "normalization": norm,
                     "extent": ext, **stats})
    return found, pd.DataFrame(rows)
