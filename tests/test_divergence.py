"""Diverged runs are shown, counted apart and never read as a phase (issue 15, item 2).

``-p lr=1000000 lisakib/fig2_curves`` used to label its diverged runs "confusion" and count
them in the verdicts; a diverged cell of a phase diagram voted like any other seed. Now tables
say *diverged*, plots leave diverged runs out of the means and mark them, and the claim
functions (``@divergence.excluding``) judge the other runs and say how many they excluded.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from dataclasses import replace

import numpy as np
import pandas as pd

from grokpaper.core import divergence, mnist_data, phases, plots, report
from grokpaper.core.models import MLPConfig
from grokpaper.core.store import Store
from grokpaper.core.verdicts import Verdict
from grokpaper.lisakib import claims as lisakib_claims
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib import figures
from grokpaper.mnist import experiments as mnist
from grokpaper.mnist import report as mnist_report


def _runs(diverged_at: list[int]) -> pd.DataFrame:
    """Runs of one condition whose curves are flat at 0.9, or NaN from their divergence."""
    steps = np.array([0, 10, 100, 1000])
    rows = []
    for seed, at in enumerate(diverged_at):
        acc = np.full(len(steps), 0.5 + 0.1 * seed)
        if at >= 0:
            acc[steps >= at] = np.nan
        rows.append({"f": 0.2, "seed": seed, "steps": steps, "train_acc": acc, "test_acc": acc,
                     "diverged_step": np.array(at), "def31_alpha0": np.nan,
                     "def31_grokked": False, **{f"def31_{c}": np.nan for c in
                                                report.DEF31_COLUMNS if c != "alpha0"}})
    return pd.DataFrame(rows)


def test_diverged_runs_are_split_off_and_counted():
    df = _runs([-1, 50, -1])
    kept, gone = divergence.split(df)
    assert list(kept["seed"]) == [0, 2] and list(gone["seed"]) == [1]
    assert divergence.count(df) == 1
    assert divergence.note(df, by=["f"]).startswith("1 of 3 runs diverged (f = 0.2: 1 of 3)")
    assert divergence.note(_runs([-1])) == ""
    assert divergence.excluded(2) == " (2 diverged runs excluded)"
    assert divergence.excluded(0) == ""
    flagged = pd.DataFrame({"diverged": [True, False]})  # the boolean column some tables have
    assert divergence.mask(flagged).tolist() == [True, False]


def test_a_diverged_seed_does_not_vote_for_a_phase():
    assert phases.majority(["diverged", "grokking"]) == "grokking"
    assert phases.majority(["diverged", "diverged"]) == phases.DIVERGED
    assert phases.majority(["confusion", "diverged", "diverged"]) == "confusion"


def test_plots_leave_diverged_runs_out_of_the_mean_and_mark_them():
    df = _runs([-1, 50, -1])
    fig = plots.curves_by_condition(df, by="f", panels=[("test_acc", "test")])
    ax = fig.axes[0]
    [mean] = [line for line in ax.lines if line.get_label().startswith("0.2")]
    assert mean.get_label() == "0.2 (1 of 3 diverged, left out)"
    np.testing.assert_allclose(mean.get_ydata(), 0.6)  # the mean of seeds 0 and 2 only
    marks = [line for line in ax.lines if line.get_marker() == "x"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [50]
    everyone = plots.curves_by_condition(_runs([5, 50]), by="f", panels=[("test_acc", "t")])
    labels = [line.get_label() for line in everyone.axes[0].lines]
    assert "0.2 (all 2 diverged)" in labels  # nothing to average: only the marks


def test_tables_count_diverged_runs_apart():
    table = report.def31_table(_runs([-1, 50, -1]), by=["f"])
    assert table.loc[0, "diverged"] == "1/3" and table.loc[0, "grokked"] == "0/2"
    assert table.loc[0, "final test acc"] == "0.600 ± 0.141"  # seeds 0 and 2
    assert "diverged" not in report.def31_table(_runs([-1, -1]), by=["f"])


def test_a_diverged_modular_run_is_marked_diverged_not_confusion(tmp_path):
    """The issue's case: lisakib/fig2_curves with lr = 1e6."""
    params = figures.CurvesParams(ops=("+",), p=7, train_frac=0.5, d_model=8, steps=30,
                                  batch_size=8, n_evals=7, lr=1e6)
    df = lisakib.run(params.runs(), store=Store(tmp_path), device="cpu", progress=False)
    [row] = df.to_dict("records")
    assert row["diverged"] and int(row["diverged_step"]) >= 0
    assert row["li_class"] == row["liu_phase"] == "diverged"


def test_a_diverged_mnist_run_is_a_black_diverged_cell(tmp_path):
    """mnist/phase_diagram with a learning rate of 1e6: the run is "diverged", not a phase,
    and a cell whose seeds all diverged is drawn as such."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (80, 28, 28), dtype=np.uint8)
    labels = np.arange(80) % 10
    data = mnist_data.MnistData(images[:40], labels[:40], images[40:], labels[40:],
                                "t10k-parity", str(tmp_path))
    train = replace(mnist.OMNIGROK_TRAIN, steps=20, batch_size=10, n_evals=3)
    runs = [mnist.MnistRun(data.fingerprint, 20, model=MLPConfig(hidden=(8,)),
                                 train=replace(train, lr=lr), seed=0) for lr in (1e-3, 1e6)]
    df = mnist.run(runs, data, store=Store(tmp_path), device="cpu", progress=False)
    assert list(df["diverged"]) == [False, True]
    assert df["phase"].iloc[1] == "diverged" and df["phase"].iloc[0] != "diverged"
    grid = phases.phase_table(df, rows="lr", cols="weight_decay", descending=True)
    assert grid.loc[1e6].tolist() == ["diverged"]
    fig = mnist_report.phase_diagram(grid)
    assert "diverged" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


# --- verdicts: diverged runs excluded, and the verdicts say how many ------------------------

def _count_claim(df: pd.DataFrame, *, page: str) -> list[Verdict]:
    return [Verdict(paper="P", figure="F", claim="c", measured=f"{len(df)} runs",
                    verdict="supported", page=page)]


def test_a_claim_sees_no_diverged_run_and_says_how_many_it_excluded():
    judged = divergence.excluding(_count_claim)
    [v] = judged(_runs([-1, 50, -1]), page="x")
    assert v.measured == "2 runs (1 diverged run excluded)" and v.verdict == "supported"
    [v] = judged(_runs([-1, -1]), page="x")
    assert v.measured == "2 runs"  # nothing excluded, nothing said
    frames = {"a": _runs([3, -1]), "b": _runs([4, -1])}  # tables in a dict (Liu's Fig. 6)
    [v] = divergence.excluding(lambda fr, *, page: _count_claim(fr["a"], page=page))(
        frames, page="x")
    assert v.measured == "1 runs (2 diverged runs excluded)"


def test_when_every_run_diverged_the_verdict_is_inconclusive():
    [v] = divergence.excluding(_count_claim)(_runs([5, 50]), page="x")
    assert v.verdict == "inconclusive" and v.claim == "c"
    assert v.measured.startswith("every run diverged (2;") and "smaller learning rate" in v.decide


def test_the_issue_case_lr_1e6_gives_inconclusive_verdicts_not_confusion(tmp_path):
    params = figures.CurvesParams(ops=("+",), p=7, train_frac=0.5, d_model=8, steps=30,
                                  batch_size=8, n_evals=7, lr=1e6)
    df = lisakib.run(params.runs(), store=Store(tmp_path), device="cpu", progress=False)
    found = lisakib_claims.curves(df, page="lisakib/fig2_curves")
    assert found and {v.verdict for v in found} == {"inconclusive"}
    assert all("every run diverged (1;" in v.measured for v in found)
