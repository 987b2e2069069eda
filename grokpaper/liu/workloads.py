"""What each Liu et al. page trains and what it computes (the plan's input,
:mod:`grokpaper.core.plan`)."""

from __future__ import annotations

from grokpaper.core import cost as costs
from grokpaper.core.models import count_parameters
from grokpaper.core.plan import Work
from grokpaper.core.train import eval_steps
from grokpaper.liu import experiments, transformer_experiments
from grokpaper.liu.experiments import ToyRun
from grokpaper.liu.toy import forward_cost as toy_forward
from grokpaper.liu.transformer import ModAddTransformer
from grokpaper.liu.transformer import forward_cost as transformer_forward
from grokpaper.liu.transformer_experiments import TransformerRun


def toy_cost(runs: list[ToyRun]) -> costs.EnsembleCost:
    """An ensemble of toy models (one :func:`experiments.ensemble_key`;
    :mod:`grokpaper.core.cost`): every step is one forward pass over all the task's samples
    (the loss weighs each member's own), which the evaluations and the every-step crossing
    checks reuse."""
    r0 = runs[0]
    task, cfg = r0.model.make_task(), r0.model
    n_out = cfg.target_dim if cfg.loss == "mse" else task.n_classes
    sizes = [cfg.input_dim, cfg.width, cfg.width, n_out]
    params = task.n_symbols * cfg.input_dim + sum(
        a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return costs.EnsembleCost(
        "toy", params, toy_forward(cfg), batch=task.n_samples, steps=r0.train.steps,
        eval_rows=0, evals=len(eval_steps(r0.train.steps, r0.train.n_evals)))


def transformer_cost(runs: list[TransformerRun]) -> costs.EnsembleCost:
    """An ensemble of Sec. 4.2 transformers (one
    :func:`transformer_experiments.ensemble_key`): each member trains on its training pairs
    and is scored on them and on every pair, at the evaluation steps and, for accuracy alone,
    every ``check_every`` steps."""
    r0 = runs[0]
    p, t = r0.model.p, r0.train
    n = round(r0.frac * p * p)
    return costs.EnsembleCost(
        "liu_transformer", count_parameters(lambda: ModAddTransformer(r0.model)),
        transformer_forward(r0.model), batch=n if t.batch_size is None else min(t.batch_size, n),
        steps=t.steps, eval_rows=n + p * p, evals=len(eval_steps(t.steps, t.n_evals)),
        checks=t.steps // t.check_every)


def _toy(runs: list[ToyRun]) -> list[Work]:
    return [Work(experiments.KIND, runs, experiments.ensemble_key, toy_cost,
                 experiments.ensemble_memory, experiments.MAX_MEMBERS)]


def _transformer(*run_lists: list[TransformerRun]) -> list[Work]:
    return [Work(transformer_experiments.KIND, runs, transformer_experiments.ensemble_key,
                 transformer_cost, transformer_experiments.ensemble_memory,
                 transformer_experiments.MAX_MEMBERS) for runs in run_lists]


WORKLOADS = {
    "liu.fig2": lambda p, c: _toy(p.runs()),
    # Figs. 3-5 share one sweep; the effective theory (Figs. 4a, 5a) trains nothing.
    "liu.fraction": lambda p, c: _toy(p.runs()),
    "liu.fig6": lambda p, c: [w for panel in p.panels for w in _toy(p.panel_runs(panel))],
    "liu.fig7": lambda p, c: _transformer(p.pca_runs(), p.dropout_runs()),
    "liu.fig7_phases": lambda p, c: _transformer(p.runs()),
}
