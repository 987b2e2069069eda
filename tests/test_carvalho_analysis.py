"""Numbers the Carvalho pages quote (grokpaper.carvalho.analysis), on hand-made run tables."""

import numpy as np
import pandas as pd
import pytest

from grokpaper.carvalho import analysis
from grokpaper.carvalho import experiments as synthetic
from grokpaper.carvalho import shift as synthetic_shift


def test_convergence_steps_are_medians_of_defined_steps():
    df = pd.DataFrame({"n_train": [100, 100, 100, 200], "model": ["mlp"] * 4,
                       "def31_alpha0": [10.0, 30.0, None, 5.0],
                       "def31_alpha1": [1000.0, 3000.0, 2000.0, None]})
    got = analysis.convergence_steps(df, "n_train")
    assert got.loc[100].to_dict() == {"def31_alpha0": 20.0, "def31_alpha1": 2000.0}
    assert got.loc[200, "def31_alpha0"] == 5.0 and np.isnan(got.loc[200, "def31_alpha1"])
    assert analysis.convergence_steps(df, "model").loc["mlp", "def31_alpha0"] == 10.0


def test_final_accuracies_by_f_use_the_largest_size_and_the_last_point():
    def curve(end: float) -> np.ndarray:
        return np.array([0.1, 0.5, end])

    df = pd.DataFrame({"n_train": [100, 500, 500, 500], "f": [0.0, 0.0, 0.0, 0.2],
                       "test_acc": [curve(0.0), curve(0.6), curve(0.8), curve(0.9)],
                       "test_acc_subsampled": [curve(0.0), curve(0.2), curve(0.3), curve(0.7)],
                       "model": ["mlp", "mlp", "transformer", "transformer"]})
    got = analysis.final_by_f(df)
    assert got.loc[0.0, "final_test"] == pytest.approx(0.7)
    assert got.loc[0.0, "final_sub"] == pytest.approx(0.25)
    assert got.loc[0.2].to_dict() == pytest.approx({"final_test": 0.9, "final_sub": 0.7})
    means = analysis.mean_final_test(df, "model")
    assert means == pytest.approx({"mlp": 0.3, "transformer": 0.85})


def test_train_test_mmd_joins_each_run_and_delta_s_becomes_a_number():
    p = synthetic.ShiftSweep(seeds=2, sizes=(40,), fs=(0.0, 1.0), n_test=80, batch_size=20)
    runs = p.runs()
    df = pd.DataFrame([{"dataset": r.data.dataset, "n_train": r.data.n_train, "f": r.data.f,
                        "seed": r.seed, "def31_delta_S": ds}
                       for r, ds in zip(runs, [2.0, None, "1.5", np.nan], strict=True)])
    got = analysis.with_train_test_mmd(df[::-1], runs)
    want = synthetic_shift.train_test_mmd(runs)
    merged = got.merge(want, on=["dataset", "n_train", "f", "seed"], suffixes=("", "_want"))
    np.testing.assert_allclose(merged["mmd2"], merged["mmd2_want"])
    assert sorted(got["delta_S"].dropna()) == [1.5, 2.0] and len(got) == 4
    with pytest.raises(pd.errors.MergeError):
        analysis.with_train_test_mmd(pd.concat([df, df]), runs)  # a run twice is a bug
