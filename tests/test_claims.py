"""Verdicts follow the measured numbers (hand-made curves with known answers)."""

import numpy as np
import pandas as pd
import pytest

from grokpaper.carvalho import claims
from grokpaper.core.metrics import definition31
from grokpaper.liu.claims import crossing_fraction
from grokpaper.liu.phase_claims import liu_fig6, liu_fig7_phases
from grokpaper.liu.transformer_claims import liu_fig7

STEPS = np.unique(np.geomspace(1, 20_000, 60).astype(int))


def _row(f: float, seed: int, test: np.ndarray) -> dict:
    train = np.clip(STEPS / 300, 0, 1)
    stats = definition31(STEPS, train, test).as_dict()
    return {"f": f, "seed": seed, "steps": STEPS, "train_acc": train, "test_acc": test,
            **{f"def31_{k}": v for k, v in stats.items()}}


def _plateau(level: float) -> np.ndarray:
    return np.minimum(np.clip(STEPS / 300, 0, 1), level)


def _grok(center: float) -> np.ndarray:
    return 0.55 * np.clip(STEPS / 300, 0, 1) + 0.44 / (1 + np.exp(-(STEPS - center) / 60))


def test_paper_like_runs_support_both_claims():
    df = pd.DataFrame([_row(0.0, s, _plateau(0.55)) for s in range(3)]
                      + [_row(0.2, s, _grok(1500)) for s in range(3)])
    found = claims.carvalho_fig3b(df, page="p")
    assert [v.verdict for v in found] == ["supported", "supported"]
    assert "0/3 runs grok" in found[0].measured and "3/3 grok" in found[1].measured


def test_grokking_without_a_subclass_contradicts_the_first_claim():
    df = pd.DataFrame([_row(0.0, s, _grok(1500)) for s in range(3)]
                      + [_row(0.2, s, _grok(1500)) for s in range(3)])
    assert claims.carvalho_fig3b(df, page="p")[0].verdict == "not supported"


def test_no_late_improvement_means_not_supported():
    df = pd.DataFrame([_row(0.0, s, _plateau(0.55)) for s in range(2)]
                      + [_row(0.2, s, _plateau(0.56)) for s in range(2)])
    found = claims.carvalho_fig3b(df, page="p")
    assert found[1].verdict == "not supported"
    # No grokking at f = 0, but no gap to f > 0 either: f = 0 ends as high as f > 0, so it is
    # on no *sub-optimal* plateau (issue 13: this must be able to say not supported; it was
    # "partly supported" before).
    assert found[0].verdict == "not supported"


def _liu_fig7_frames(t_test: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    pca = pd.DataFrame({"t_test": [np.nan], "circularity": [0.1], "circularity_init": [0.1],
                        "t_circle": [np.nan], "eff_dim": [np.array([1.0, 2.0])],
                        "steps": [np.array([0, 10])]})
    drop = pd.DataFrame({"dropout": [0.0, 0.0, 0.3, 0.3], "t_test": t_test,
                         "phase": ["grokking", "grokking", "comprehension", "comprehension"]})
    return pca, drop


def test_liu_fig7_transformer_that_never_generalizes_is_inconclusive() -> None:
    pca, drop = _liu_fig7_frames([np.nan] * 4)
    centre = liu_fig7(pca, drop, budget=4000, page="p")[2]
    assert centre.verdict == "inconclusive" and "No run reached" in centre.decide
    runs = pd.DataFrame({"wd_dec": [0.0, 0.0, 1.0, 1.0], "t_test": [np.nan] * 4})
    table = pd.DataFrame([["confusion", "confusion"], ["confusion", "confusion"]])
    right = liu_fig7_phases(runs, table, budget=4000, page="p")[0]
    assert right.verdict == "inconclusive" and "4,000-step budget" in right.decide

    # Dropout that speeds generalization up and leaves only comprehension: supported.
    _, drop = _liu_fig7_frames([3000.0, 2800.0, 400.0, 500.0])
    centre = liu_fig7(pca, drop, budget=4000, page="p")[2]
    assert centre.verdict == "supported" and "No run reached" not in centre.decide
    runs = pd.DataFrame({"wd_dec": [0.0, 0.0, 1.0, 1.0], "t_test": [np.nan, 3000, 800, 900]})
    assert liu_fig7_phases(runs, table, budget=4000, page="p")[0].verdict == "supported"


def test_crossing_fraction_interpolates():
    assert crossing_fraction([0.2, 0.4, 0.6], [0.0, 0.25, 0.75]) == pytest.approx(0.5)
    assert crossing_fraction([0.2, 0.4], [0.6, 1.0]) == 0.2
    assert np.isnan(crossing_fraction([0.2, 0.4], [0.0, 0.1]))


def test_fig6_verdicts_on_a_hand_made_diagram():
    grid = pd.DataFrame([["comprehension", "grokking", "memorization"],
                         ["comprehension", "grokking", "confusion"]],
                        index=[0.0, 10.0], columns=[1e-4, 1e-3, 1e-2])
    found = liu_fig6({"b": pd.DataFrame()}, {"b": grid}, page="x")
    assert [v.verdict for v in found] == ["supported", "supported", "supported"]
