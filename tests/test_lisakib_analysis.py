"""Numbers the Li & Sakib pages quote and judge (grokpaper.lisakib.analysis)."""

import numpy as np
import pandas as pd
import pytest

from grokpaper.core import landscape
from grokpaper.lisakib import analysis, experiments
from grokpaper.lisakib.figures import LandscapeParams, NormParams


def test_delay_count_and_agreement_between_definitions():
    df = pd.DataFrame({"delay": [1500.0, np.nan, 200.0, 3000.0],
                       "li_class": ["grokking", "confusion", "comprehension", "grokking"],
                       "liu_phase": ["grokking", "confusion", "grokking", "memorization"],
                       "def31_grokked": [True, None, False, True]})
    assert analysis.n_with_delay(df) == 3
    # Liu agrees on runs 0 and 1 (grokking / not); Definition 3.1 on all four.
    assert analysis.agreement(df) == {"liu": 0.5, "def31": 1.0}


def test_norm_panels_split_the_runs_and_share_the_default():
    params = NormParams(train_frac=0.5, weight_decay=1.0, train_fracs=(0.3, 0.5),
                        small_wds=(0.5, 1.0), large_wds=(1.0, 2.0))
    df = pd.DataFrame({"train_frac": [0.3, 0.5, 0.5, 0.5, 0.7],
                       "weight_decay": [1.0, 1.0, 0.5, 2.0, 1.0]})
    fracs, decays = analysis.norm_panels(df, params)
    assert fracs.index.tolist() == [0, 1]  # 0.7 is not one of the training fractions
    assert decays.index.tolist() == [1, 2, 3]


def test_landscapes_pair_each_run_with_both_normalizations(monkeypatch):
    params = LandscapeParams(ops=("+",), batch_sizes=(8,), seeds=2, resolution=5, extent=1.0,
                             tensor_extent=0.2)
    runs = params.runs()
    df = pd.DataFrame({"op": "+", "batch_size": 8, "seed": [0, 1], "delay": [np.nan, 1200.0],
                       "li_class": ["confusion", "grokking"], "final_train_acc": [0.3, 1.0],
                       "final_val_acc": [0.1, 0.99]})
    x = np.linspace(-1, 1, 5)
    bowl = x[:, None] ** 2 + x[None, :] ** 2  # range 2, centre 0, discrete Laplacian 4 h^2 = 1
    asked = []

    def fake_surfaces(specs, *, store=None):
        asked.extend(specs)
        return [bowl * (1 + i) for i in range(len(specs))]

    monkeypatch.setattr(experiments, "surfaces", fake_surfaces)
    found, table = analysis.landscapes(params, df)
    assert [(s.run, s.normalization) for s in asked] == [
        (r, n) for r in runs for n in landscape.NORMALIZATIONS]
    assert [s.extent for s in asked] == [0.2, 1.0, 0.2, 1.0]  # tensor: the narrow window
    assert all(s.resolution == 5 and s.on == "train" for s in asked)
    assert table["seed"].tolist() == [0, 0, 1, 1]
    assert table["range"].tolist() == pytest.approx([2.0, 4.0, 6.0, 8.0])
    assert table["laplacian"].tolist() == pytest.approx([1.0, 2.0, 3.0, 4.0])
    assert table["centre"].tolist() == pytest.approx([0.0] * 4)
    assert table["li_class"].tolist() == ["confusion"] * 2 + ["grokking"] * 2
    assert found[3]["label"] == "x + y, batch 8, seed 1: grokking"
    np.testing.assert_allclose(found[0]["coords"], np.linspace(-0.2, 0.2, 5))
    with pytest.raises(ValueError):
        analysis.landscapes(params, df.iloc[:1])  # a table that is not params' runs
