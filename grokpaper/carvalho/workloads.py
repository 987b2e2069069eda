"""What each Carvalho et al. page trains (the plan's input, :mod:`grokpaper.core.plan`), and the
run lists of the pages that train more than their parameters' ``runs()``."""

from __future__ import annotations

import dataclasses
from typing import Any

from grokpaper.carvalho import experiments
from grokpaper.carvalho.data import DATASETS
from grokpaper.carvalho.experiments import ShiftSweep, SyntheticRun
from grokpaper.core.plan import Work


def intensity_runs(params: ShiftSweep) -> list[SyntheticRun]:
    """The intensity page: its size x f grid on both datasets."""
    return [r for ds in DATASETS for r in dataclasses.replace(params, dataset=ds).runs()]


def with_mlp_partners(params: dict[str, ShiftSweep]) -> list[SyntheticRun]:
    """The transformer appendix: each figure's transformer runs, then the MLP on exactly the
    same training sets, steps and minibatches."""
    mlp = [dataclasses.replace(p, model="mlp") for p in params.values()]
    return [r for p in [*params.values(), *mlp] for r in p.runs()]


def _work(runs: list[SyntheticRun]) -> list[Work]:
    return [Work(experiments.KIND, runs, experiments.ensemble_key, experiments.cost,
                 experiments.MAX_MEMBERS)]


def _appendix(params: ShiftSweep, context: dict[str, Any]) -> list[Work]:
    return _work(with_mlp_partners({"figure": params}))


WORKLOADS = {
    **{figure: (lambda p, c: _work(p.runs())) for figure in (
        "carvalho.fig3a", "carvalho.fig3b", "carvalho.fig3c", "carvalho.fig4")},
    "carvalho.intensity": lambda p, c: _work(intensity_runs(p)),
    "carvalho.appendix_fig3b": _appendix,
    "carvalho.appendix_fig4": _appendix,
}
