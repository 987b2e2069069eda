"""What each Li & Sakib page trains (the plan's input, :mod:`grokpaper.core.plan`): the
transformers of every figure, and Fig. 5's loss surfaces around their final weights."""

from __future__ import annotations

from typing import Any

from grokpaper.core import cost as costs
from grokpaper.core.landscape import GRID_CHUNK
from grokpaper.core.models import count_parameters
from grokpaper.core.plan import Work
from grokpaper.lisakib import data as modular
from grokpaper.lisakib import experiments
from grokpaper.lisakib.analysis import landscape_specs
from grokpaper.lisakib.figures import LandscapeParams
from grokpaper.lisakib.transformer import ModularTransformer, forward_cost


def landscape_cost(specs: list[experiments.LandscapeSpec]) -> costs.EnsembleCost:
    """One loss surface: a forward pass over its rows at every grid point, ``GRID_CHUNK``
    points (stacked weight copies) per pass; nothing trains."""
    spec = specs[0]
    r = spec.run
    n = r.n_train if spec.on == "train" else modular.n_pairs(r.op, r.p) - r.n_train
    params = count_parameters(lambda: ModularTransformer(r.model, modular.vocab_size(r.p), r.p))
    points = spec.resolution ** 2
    return costs.EnsembleCost(
        "modular_transformer", 0, forward_cost(r.model, r.p), batch=0, steps=0,
        eval_rows=points * n, evals=1, eval_chunk=GRID_CHUNK * n, states=0,
        shared_bytes=(GRID_CHUNK + 3) * params * costs.FLOAT + n * 5 * costs.INDEX)


def _runs(runs: list[experiments.ModRun]) -> list[Work]:
    return [Work(experiments.KIND, runs, experiments.ensemble_key, experiments.cost,
                 experiments.MAX_MEMBERS)]


def _landscape(params: LandscapeParams, context: dict[str, Any]) -> list[Work]:
    return [*_runs(params.runs()),
            Work(experiments.LANDSCAPE_KIND, landscape_specs(params), lambda s: s,
                 landscape_cost, 1)]


WORKLOADS = {
    **{figure: (lambda p, c: _runs(p.runs())) for figure in (
        "lisakib.curves", "lisakib.sweep", "lisakib.batch", "lisakib.norms")},
    "lisakib.landscape": _landscape,
}
