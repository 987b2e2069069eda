"""What each Carvalho et al. page trains and what it computes (the plan's input,
:mod:`grokpaper.core.plan`), and the run lists of the pages that train more than their
parameters' ``runs()``."""

from __future__ import annotations

import dataclasses
from typing import Any

from grokpaper.carvalho import data as syn
from grokpaper.carvalho import experiments
from grokpaper.carvalho import transformer as token_transformer
from grokpaper.carvalho.data import DATASETS
from grokpaper.carvalho.experiments import ShiftSweep, SyntheticRun
from grokpaper.core import cost as costs
from grokpaper.core.models import count_parameters
from grokpaper.core.plan import Work
from grokpaper.core.train import eval_steps


def cost(runs: list[SyntheticRun]) -> costs.EnsembleCost:
    """What an ensemble of ``runs`` (one :func:`experiments.ensemble_key`) computes
    (:mod:`grokpaper.core.cost`): every member pads to the largest training set, and is
    scored on all its rows and the shared test set."""
    r0, n = runs[0], max(r.data.n_train for r in runs)
    n_classes = syn.layout(r0.data.dataset).n_classes
    if experiments.model_name(r0.model) == "mlp":
        family, fwd = "synthetic_mlp", costs.mlp([syn.N_FEATURES, *r0.model.hidden, n_classes])
    else:
        family = "token_transformer"
        fwd = token_transformer.forward_cost(r0.model, n_classes)
    t = r0.train
    params = count_parameters(lambda: experiments.build_ensemble(r0.model, n_classes, [0]))
    return costs.EnsembleCost(
        family, params, fwd, batch=n if t.batch_size is None else min(t.batch_size, n),
        steps=t.steps, eval_rows=n + r0.data.n_test,
        evals=len(eval_steps(t.steps, t.n_evals, t.eval_spacing)))


def intensity_runs(params: ShiftSweep) -> list[SyntheticRun]:
    """The intensity page: its size x f grid on both datasets."""
    return [r for ds in DATASETS for r in dataclasses.replace(params, dataset=ds).runs()]


def with_mlp_partners(params: dict[str, ShiftSweep]) -> list[SyntheticRun]:
    """The transformer appendix: each figure's transformer runs, then the MLP on exactly the
    same training sets, steps and minibatches."""
    mlp = [dataclasses.replace(p, model="mlp") for p in params.values()]
    return [r for p in [*params.values(), *mlp] for r in p.runs()]


def _work(runs: list[SyntheticRun]) -> list[Work]:
    return [Work(experiments.KIND, runs, experiments.ensemble_key, cost,
                 experiments.ensemble_memory, experiments.MAX_MEMBERS)]


def _appendix(params: ShiftSweep, context: dict[str, Any]) -> list[Work]:
    return _work(with_mlp_partners({"figure": params}))


WORKLOADS = {
    **{figure: (lambda p, c: _work(p.runs())) for figure in (
        "carvalho.fig3a", "carvalho.fig3b", "carvalho.fig3c", "carvalho.fig4")},
    "carvalho.intensity": lambda p, c: _work(intensity_runs(p)),
    "carvalho.appendix_fig3b": _appendix,
    "carvalho.appendix_fig4": _appendix,
}
