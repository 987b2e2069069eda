"""What each Liu et al. page trains (the plan's input, :mod:`grokpaper.core.plan`)."""

from __future__ import annotations

from grokpaper.core.plan import Work
from grokpaper.liu import experiments, transformer_experiments

_TOY = (experiments.KIND, experiments.ensemble_key, experiments.cost, experiments.MAX_MEMBERS)
_TRANSFORMER = (transformer_experiments.KIND, transformer_experiments.ensemble_key,
                transformer_experiments.cost, transformer_experiments.MAX_MEMBERS)


def _toy(runs: list) -> list[Work]:
    kind, key, cost, most = _TOY
    return [Work(kind, runs, key, cost, most)]


def _transformer(*run_lists: list) -> list[Work]:
    kind, key, cost, most = _TRANSFORMER
    return [Work(kind, runs, key, cost, most) for runs in run_lists]


WORKLOADS = {
    "liu.fig2": lambda p, c: _toy(p.runs()),
    # Figs. 3-5 share one sweep; the effective theory (Figs. 4a, 5a) trains nothing.
    "liu.fraction": lambda p, c: _toy(p.runs()),
    "liu.fig6": lambda p, c: [w for panel in p.panels for w in _toy(p.panel_runs(panel))],
    "liu.fig7": lambda p, c: _transformer(p.pca_runs(), p.dropout_runs()),
    "liu.fig7_phases": lambda p, c: _transformer(p.runs()),
}
