"""Plot helpers: one figure per call, whatever the number of conditions (a book cell with a
caption and a label must show exactly one image)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from grokpaper.core.plots import SHIFT_PANELS, curves_grid, shift_curves


def _runs(sizes: list[int], fs: list[float], seeds: int = 2) -> pd.DataFrame:
    steps = np.array([0, 10, 100, 1000])
    rows = []
    for n in sizes:
        for f in fs:
            for s in range(seeds):
                curve = np.linspace(0.2, 0.9, 4) + 0.01 * s
                rows.append({"n_train": n, "f": f, "seed": s, "steps": steps,
                             "def31_t_converged": 10.0, "train_acc": curve, "test_acc": curve,
                             "test_acc_subsampled": curve})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("sizes", [[100], [100, 200, 400]])
def test_curves_grid_is_one_figure_with_a_row_per_value(sizes: list[int]) -> None:
    plt.close("all")
    fig = curves_grid(_runs(sizes, [0.0, 0.2]), rows="n_train", by="f", panels=SHIFT_PANELS,
                      from_convergence=(False, True, True), title_fmt="{} samples")
    assert plt.get_fignums() == [fig.number]
    assert len(fig.axes) == len(sizes) * len(SHIFT_PANELS)
    assert [sub.get_suptitle() for sub in fig.subfigs] == [f"{n} samples" for n in sizes]
    # one mean line per f in every panel; test panels start where training converged
    # (t_converged = 10: steps 10, 100, 1000)
    first = fig.axes[0]
    assert len(first.get_lines()) == 2
    assert list(fig.axes[1].get_lines()[0].get_xdata()) == [10, 100, 1000]
    plt.close(fig)


def test_shift_curves_shows_one_image(monkeypatch: pytest.MonkeyPatch) -> None:
    plt.close("all")
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(len(plt.get_fignums())))
    shift_curves(_runs([100, 200, 400], [0.0, 0.05, 0.2]), rows="n_train", by="f",
                 label_fmt="f = {:g}", title_fmt="{}")
    assert shown == [1]
    plt.close("all")
