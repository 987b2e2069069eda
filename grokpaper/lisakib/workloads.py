"""What each Li & Sakib page trains and what it computes (the plan's input,
:mod:`grokpaper.core.plan`): the transformers of every figure, and Fig. 5's loss surfaces
around their final weights."""

from __future__ import annotations

from typing import Any

from grokpaper.core import cost as costs
from grokpaper.core import memory as mem
from grokpaper.core.landscape import GRID_CHUNK
from grokpaper.core.memory import Estimate
from grokpaper.core.models import count_parameters
from grokpaper.core.plan import Work
from grokpaper.core.train import eval_steps
from grokpaper.lisakib import data as modular
from grokpaper.lisakib import experiments
from grokpaper.lisakib.analysis import landscape_specs
from grokpaper.lisakib.experiments import LandscapeSpec, ModRun
from grokpaper.lisakib.figures import LandscapeParams
from grokpaper.lisakib.transformer import ModularTransformer, forward_cost


def _params(run: ModRun) -> int:
    return count_parameters(lambda: ModularTransformer(run.model, modular.vocab_size(run.p),
                                                       run.p))


def cost(runs: list[ModRun]) -> costs.EnsembleCost:
    """What an ensemble of ``runs`` (one :func:`experiments.ensemble_key`) computes
    (:mod:`grokpaper.core.cost`): training rows padded to the largest split; every member is
    scored on them and on the union of the members' validation sets."""
    r0 = runs[0]
    tasks = {(r.op, r.train_frac, r.split_seed): r.n_train for r in runs}
    n = max(tasks.values())
    n_test = sum(modular.n_pairs(op, r0.p) - k for (op, _, _), k in tasks.items())
    t = r0.train
    return costs.EnsembleCost(
        "modular_transformer", _params(r0), forward_cost(r0.model, r0.p),
        batch=n if t.batch_size is None else min(t.batch_size, n), steps=t.steps,
        eval_rows=n + n_test, evals=len(eval_steps(t.steps, t.n_evals, t.eval_spacing)))


def _rows(spec: LandscapeSpec) -> int:
    r = spec.run
    return r.n_train if spec.on == "train" else modular.n_pairs(r.op, r.p) - r.n_train


def landscape_cost(specs: list[LandscapeSpec]) -> costs.EnsembleCost:
    """One loss surface: a forward pass over its rows at every grid point, ``GRID_CHUNK``
    points (stacked weight copies) per pass; nothing trains."""
    spec, n = specs[0], _rows(specs[0])
    return costs.EnsembleCost(
        "modular_transformer", 0, forward_cost(spec.run.model, spec.run.p), batch=0, steps=0,
        eval_rows=spec.resolution ** 2 * n, evals=1, eval_chunk=GRID_CHUNK * n)


def landscape_memory(specs: list[LandscapeSpec], members: int) -> Estimate:
    """Peak memory of one surface (:func:`grokpaper.core.landscape.grid_loss`): its rows once,
    ``GRID_CHUNK`` weight copies (no gradients, no optimizer), and a forward pass over the rows
    at ``GRID_CHUNK`` points at once (``members``: surfaces are computed one at a time)."""
    spec, n = specs[0], _rows(specs[0])
    cfg, p = spec.run.model, spec.run.p
    per_row = mem.transformer(  # one row's activations in an evaluation
        members=1, seq=4, d_model=cfg.d_model, d_ff=cfg.d_ff, n_heads=cfg.n_heads,
        n_layers=cfg.n_layers, n_out=p, head_in=cfg.d_model,
        embed_params=(modular.vocab_size(p) + 4) * cfg.d_model, n_train=0, n_test=0,
        row_bytes=4 * mem.LABEL, batch=0, evaluated=1).activations
    return Estimate(n * 5 * mem.LABEL, (GRID_CHUNK + 3) * _params(spec.run) * mem.FLOAT,
                    GRID_CHUNK * n * per_row)


def _runs(runs: list[ModRun]) -> list[Work]:
    return [Work(experiments.KIND, runs, experiments.ensemble_key, cost,
                 experiments.ensemble_memory, experiments.MAX_MEMBERS)]


def _landscape(params: LandscapeParams, context: dict[str, Any]) -> list[Work]:
    return [*_runs(params.runs()),
            Work(experiments.LANDSCAPE_KIND, landscape_specs(params), lambda s: s,
                 landscape_cost, landscape_memory, 1)]


WORKLOADS = {
    **{figure: (lambda p, c: _runs(p.runs())) for figure in (
        "lisakib.curves", "lisakib.sweep", "lisakib.batch", "lisakib.norms")},
    "lisakib.landscape": _landscape,
}
