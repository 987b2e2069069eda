"""Liu et al. verdicts on hand-made frames with known answers: every rule can give each of its
outcomes where it should, a run too short for a claim is inconclusive (and says what would
decide it), and every verdict is one the landing page can show."""

import numpy as np
import pandas as pd
import pytest

from grokpaper.core.phases import DIVERGED
from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, problems
from grokpaper.liu import claims, phase_claims, transformer_claims
from grokpaper.mnist import claims as mnist_claims

STEPS = np.array([0, 10, 100, 1000, 10_000])


def _well_formed(found: list) -> list:
    for v in found:
        assert problems(v) == [], (v.figure, problems(v))
    return found


def _fig2(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"task": t, "seed": i, "test_final": acc, "structure": s,
                          "steps": STEPS} for i, (t, acc, s) in enumerate(rows)])


@pytest.mark.parametrize(("rows", "expected"), [
    ([("addition", 1.0, 0.99), ("modular", 0.95, 0.9)], SUPPORTED),
    ([("addition", 1.0, 0.99), ("modular", 0.95, 0.5)], PARTLY),
    ([("addition", 1.0, 0.99), ("modular", 0.2, 0.5)], PARTLY),  # a task never generalizes
    ([("addition", 1.0, 0.2), ("modular", 0.95, 0.5)], NOT_SUPPORTED),
    ([("addition", 0.3, 0.99), ("modular", 0.1, 0.9)], INCONCLUSIVE),
])
def test_fig2_generalizing_runs_must_be_structured(rows, expected):
    [v] = _well_formed(claims.liu_fig2(_fig2(rows), page="p"))
    assert v.verdict == expected
    assert ("10,000 steps" in v.decide) == (expected == INCONCLUSIVE)


def _fig2_curves(late_test: float) -> pd.DataFrame:
    """Two runs that fit their training set by step 1,000 at test accuracy 0.38; the last
    evaluation has ``late_test``."""
    train = np.array([0.1, 0.5, 0.9, 1.0, 1.0])
    test = np.array([0.0, 0.1, 0.3, 0.38, late_test])
    return pd.DataFrame([{"task": t, "seed": 0, "test_final": test[-1], "structure": 0.1,
                          "steps": STEPS, "train_acc": train, "test_acc": test}
                         for t in ("addition", "modular")])


def test_fig2_says_more_steps_would_not_help_runs_that_memorized():
    # Test accuracy flat from step 1,000 to 10,000 with the training set fitted: memorized.
    [v] = _well_formed(claims.liu_fig2(_fig2_curves(0.38), page="p"))
    assert v.verdict == INCONCLUSIVE
    assert "more steps would not decide it" in v.decide
    # Still rising over the second half of the budget: more steps might decide it.
    [v] = _well_formed(claims.liu_fig2(_fig2_curves(0.6), page="p"))
    assert v.verdict == INCONCLUSIVE
    assert v.decide.endswith(f"{claims.MORE_STEPS}.")


def test_memorized_needs_a_fitted_training_set_and_a_flat_test_curve():
    steps, flat = np.array([0, 500, 1000]), np.array([0.1, 0.4, 0.42])
    assert claims.memorized(steps, np.array([0.5, 1.0, 1.0]), flat)
    assert not claims.memorized(steps, np.array([0.5, 0.8, 0.9]), flat)  # not fitted
    assert not claims.memorized(steps, np.array([0.5, 1.0, 1.0]), np.array([0.1, 0.4, 0.6]))


def _fig3(rows: list[tuple[float, float, float, float, float]]) -> pd.DataFrame:
    cols = ["train_final", "acc_final", "acc_hat", "test_final", "acc_hat_test"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) | {"steps": STEPS} for r in rows])


@pytest.mark.parametrize(("rows", "expected"), [
    ([(1.0, 0.9, 0.92, 0.8, 0.85), (1.0, 0.5, 0.5, 0.3, 0.3)], SUPPORTED),
    ([(1.0, 0.9, 0.92, 0.5, 0.7), (1.0, 0.5, 0.5, 0.3, 0.5)], PARTLY),  # test samples disagree
    ([(1.0, 0.3, 0.9, 0.1, 0.8)], NOT_SUPPORTED),
    # Acc-hat counts the training set as learned: a run that has not learned it says nothing.
    ([(0.4, 0.2, 0.9, 0.1, 0.8)], INCONCLUSIVE),
    ([(0.4, 0.2, 0.9, 0.1, 0.8), (1.0, 0.9, 0.9, 0.8, 0.8)], SUPPORTED),
])
def test_fig3_compares_acc_hat_on_runs_that_fit_their_training_set(rows, expected):
    [v] = _well_formed(claims.liu_fig3(_fig3(rows), page="p"))
    assert v.verdict == expected


FRACS = np.array([0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0])


def _theory(shares: list[float]) -> pd.DataFrame:
    """Four training sets per fraction, the given share of them with nullity 2."""
    return pd.DataFrame([{"frac": f, "set": k, "nullity": 2 if k < round(4 * s) else 3}
                         for f, s in zip(FRACS, shares, strict=True) for k in range(4)])


def _runs(reached: list[float], *, budget: int = 1000, lambda3: float = 1.0) -> pd.DataFrame:
    """Two seeds per fraction; ``reached`` (one per fraction): how many reach RQI > 0.95."""
    return pd.DataFrame([{"frac": f, "seed": s, "t_rqi": 100.0 * (1 + s) if s < n else np.nan,
                          "steps": np.array([0, budget]), "lambda3": lambda3, "lr_emb": 1e-3}
                         for f, n in zip(FRACS, reached, strict=True) for s in range(2)])


def _fig4(theory_shares, reached, *, steps_net=300.0, steps_eff=300.0, n_h=100.0,
          n_h_sum=100.0, **kw):
    return _well_formed(claims.liu_fig4(_runs(reached, **kw), _theory(theory_shares),
                                        steps_net=steps_net, steps_eff=steps_eff, n_h=n_h,
                                        n_h_sum=n_h_sum, page="p"))


@pytest.mark.parametrize(("shares", "expected"), [
    ([0, 0, 0.5, 1, 1, 1, 1], SUPPORTED),  # crosses at 0.4
    ([0, 0, 0, 0.5, 1, 1, 1], SUPPORTED),  # 0.5
    ([0, 0, 0, 0, 0.5, 1, 1], PARTLY),  # 0.6
    ([0, 0, 0, 0, 0, 0, 0.5], NOT_SUPPORTED),  # 1.0
    ([1, 1, 1, 1, 1, 1, 1], INCONCLUSIVE),  # somewhere below 0.2: 0.0-0.2 differ
])
def test_fig4a_critical_fraction_of_the_theory(shares, expected):
    assert _fig4(shares, [2] * 7)[0].verdict == expected


def test_crossing_bounds_say_where_an_unresolved_crossing_can_lie():
    assert claims.crossing_bounds([0.2, 0.4], [0.0, 1.0]) == pytest.approx((0.3, 0.3))
    assert claims.crossing_bounds([0.2, 0.4], [0.6, 1.0]) == (0.0, 0.2)
    assert claims.crossing_bounds([0.2, 0.4], [0.0, 0.1]) == (0.4, 1.0)
    assert claims.near_verdict((0.45, 0.45), 0.4, 0.1, 0.2) == SUPPORTED
    assert claims.near_verdict((0.55, 1.0), 0.4, 0.1, 0.2) == INCONCLUSIVE  # partly or not
    assert claims.near_verdict((0.7, 1.0), 0.4, 0.1, 0.2) == NOT_SUPPORTED


def test_fig4b_needs_a_budget_long_enough_to_reach_the_structure():
    shares = [0, 0, 0.5, 1, 1, 1, 1]
    assert _fig4(shares, [0, 0, 1, 2, 2, 2, 2])[1].verdict == SUPPORTED
    assert _fig4(shares, [0, 0, 0, 0, 0, 1, 2])[1].verdict == NOT_SUPPORTED  # 0.8
    # Nobody gets there: with n_h = 1 / (1 * 1e-3) = 1,000 steps, a 1,000-step budget is short
    # of 9 n_h (inconclusive), a 100,000-step one is not (no transition: not supported).
    short = _fig4(shares, [0] * 7, budget=1000)[1]
    assert short.verdict == INCONCLUSIVE and "1,000 steps" in short.decide
    assert _fig4(shares, [0] * 7, budget=100_000)[1].verdict == NOT_SUPPORTED


@pytest.mark.parametrize(("kw", "expected"), [
    ({}, SUPPORTED),  # both at 3 n_h
    ({"steps_eff": 3000.0}, PARTLY),  # the theory misses 3 n_h
    ({"steps_net": 1500.0}, PARTLY),  # the network within 10x
    ({"steps_net": 30_000.0}, NOT_SUPPORTED),
    ({"steps_net": 30_000.0, "n_h_sum": 5000.0}, PARTLY),  # with the authors' n_h
    ({"steps_net": np.nan, "budget": 1000}, INCONCLUSIVE),  # could still come at ~3 n_h
    ({"steps_net": np.nan, "budget": 100_000}, NOT_SUPPORTED),  # > 300 n_h by the end
    ({"n_h": np.inf}, INCONCLUSIVE),  # lambda_3 = 0: no time scale to compare with
])
def test_fig4cd_both_trajectories_take_about_3_n_h(kw, expected):
    v = _fig4([0, 0, 0.5, 1, 1, 1, 1], [2] * 7, **kw)[2]
    assert v.verdict == expected
    assert bool(v.decide) == (expected == INCONCLUSIVE)


def _fig5(zero_below: bool, l3_rises: bool, t_falls: bool, pred_agrees: bool, n_reached=7):
    fr = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0])
    above = np.where(fr >= 0.4, fr if l3_rises else 2 - fr, 0.0)
    theory = pd.DataFrame({"frac": fr, "lambda3": np.where(fr < 0.35, 0.0 if zero_below else
                                                           0.5, above)})
    t = 1000 * (2 - fr if t_falls else fr)
    lam = fr if pred_agrees == t_falls else 2 - fr  # the prediction 1 / (lambda3 eta)
    df = pd.DataFrame({"frac": fr, "t_rqi": np.where(np.arange(7) < n_reached, t, np.nan),
                       "lambda3": lam, "lambda3_sum": lam, "steps": [STEPS] * 7})
    return _well_formed(claims.liu_fig5(df, theory, eta=1e-3, page="p"))


def test_fig5_rate_and_time_against_data_size():
    assert [v.verdict for v in _fig5(True, True, True, True)] == [SUPPORTED, SUPPORTED]
    assert [v.verdict for v in _fig5(True, False, True, False)] == [PARTLY, PARTLY]
    assert [v.verdict for v in _fig5(False, False, False, False)] == [NOT_SUPPORTED] * 2
    five_b = _fig5(True, True, True, True, n_reached=2)[1]
    assert five_b.verdict == INCONCLUSIVE and "2 runs reach" in five_b.decide


def _grid(rows: list[str]) -> pd.DataFrame:
    names = {"C": "comprehension", "G": "grokking", "M": "memorization", "X": "confusion",
             "D": DIVERGED}
    return pd.DataFrame([[names[c] for c in r] for r in rows],
                        index=np.arange(len(rows), dtype=float),
                        columns=10.0 ** -np.arange(len(rows[0]), 0, -1))


PAPER_LIKE = _grid(["CGM", "CGX"])  # lowest wd on top: corners (top right) M, (bottom right) X


def _fig6(grids: dict[str, pd.DataFrame]) -> list[str]:
    frames = {p: pd.DataFrame({"steps": [STEPS]}) for p in grids}
    return [v.verdict for v in _well_formed(phase_claims.liu_fig6(frames, grids, page="p"))]


def test_fig6_each_claim_judged_per_panel():
    assert _fig6({"b": PAPER_LIKE, "c": PAPER_LIKE}) == [SUPPORTED] * 3
    # No phase but comprehension and memorization, corners the wrong way round.
    assert _fig6({"b": _grid(["CMX", "CMM"])}) == [NOT_SUPPORTED] * 3
    # One corner right; one panel of two right: partly.
    assert _fig6({"b": _grid(["CGM", "CGM"])})[1] == PARTLY
    assert _fig6({"b": PAPER_LIKE, "c": _grid(["CMX", "CMM"])}) == [PARTLY] * 3


def test_fig6_a_diverged_corner_has_no_phase():
    assert _fig6({"b": _grid(["CGD", "CGX"])})[1] == PARTLY  # one corner told, and right
    assert _fig6({"b": _grid(["CGD", "CGM"])})[1] == NOT_SUPPORTED  # one told, wrong
    [_, corners, _] = _well_formed(phase_claims.liu_fig6(
        {"b": pd.DataFrame({"steps": [STEPS]})}, {"b": _grid(["CGD", "CGD"])}, page="p"))
    assert corners.verdict == INCONCLUSIVE and "diverged" in corners.decide


def test_fig6_a_grid_where_nothing_learns_decides_nothing():
    idle = _grid(["XXX", "XXX"])
    found = phase_claims.liu_fig6({"b": pd.DataFrame({"steps": [STEPS]})}, {"b": idle},
                                  page="p")
    assert [v.verdict for v in _well_formed(found)] == [INCONCLUSIVE] * 3
    assert all("10,000 steps" in v.decide for v in found)
    # Beside a panel that decides, it leaves the claim partly supported.
    assert _fig6({"b": PAPER_LIKE, "c": idle}) == [PARTLY] * 3


def _fig6a(phases_fast: str, phases_slow: str):
    names = {"C": "comprehension", "G": "grokking", "M": "memorization", "X": "confusion"}
    rows = ([{"lr_emb": 1e-2, "lr_dec": 1e-3, "phase": names[c]} for c in phases_fast]
            + [{"lr_emb": 1e-4, "lr_dec": 1e-3, "phase": names[c]} for c in phases_slow])
    frame = pd.DataFrame(rows).assign(steps=[STEPS] * len(rows))
    [v] = _well_formed(phase_claims.liu_fig6({"a": frame}, {}, page="p"))
    return v


def test_fig6a_representation_faster_than_decoder():
    assert _fig6a("CCG", "MMX").verdict == SUPPORTED
    assert _fig6a("CCG", "XXX").verdict == PARTLY  # learns when fast, does not memorize when slow
    assert _fig6a("MXX", "CMM").verdict == NOT_SUPPORTED
    idle = _fig6a("XXX", "XXX")
    assert idle.verdict == INCONCLUSIVE and "10,000 steps" in idle.decide
    one_side = _fig6a("CCG", "")
    assert one_side.verdict == INCONCLUSIVE and "wider grid" in one_side.decide


def _pca(rows: list[dict]) -> pd.DataFrame:
    base = {"circularity": 0.95, "circularity_init": 0.5, "t_circle": 1000.0, "t_test": 1000.0,
            "steps": np.array([0, 100, 1000, 10_000]), "eff_dim": np.array([5, 8, 12, 4.0]),
            "init_p": 0.001, "init_alignment": 0.6, "init_chance": 0.1}
    return pd.DataFrame([base | r for r in rows])


DROP_OK = pd.DataFrame({"dropout": [0.0, 0.0, 0.3, 0.3], "t_test": [3000.0, 2800, 400, 500],
                        "phase": ["grokking", "grokking", "comprehension", "comprehension"]})


def _fig7(rows: list[dict], drop: pd.DataFrame = DROP_OK) -> list:
    return _well_formed(transformer_claims.liu_fig7(_pca(rows), drop, budget=10_000, page="p"))


@pytest.mark.parametrize(("rows", "expected"), [
    ([{}, {}], SUPPORTED),
    ([{"t_circle": 9000.0}, {"t_circle": 9000.0}], PARTLY),  # a circle, long after
    ([{"t_circle": 0.0}, {}], SUPPORTED),  # one of two at the time
    ([{"circularity": 0.6}, {"circularity": 0.6}], NOT_SUPPORTED),
    ([{"circularity_init": 0.9}, {"circularity_init": 0.9}], NOT_SUPPORTED),  # there from init
    ([{"t_test": np.nan}, {"t_test": np.nan}], INCONCLUSIVE),
])
def test_fig1_circle_at_generalization(rows, expected):
    assert _fig7(rows)[0].verdict == expected


@pytest.mark.parametrize(("rows", "expected"), [
    ([{}], SUPPORTED),  # peaks at generalization (1,000), ends at a third of the peak
    ([{"eff_dim": np.array([5, 8, 12, 11.0])}], NOT_SUPPORTED),  # no drop
    ([{"eff_dim": np.array([12, 8, 5, 4.0])}], NOT_SUPPORTED),  # peaks at initialization
    ([{}, {"eff_dim": np.array([12, 8, 5, 4.0])}], SUPPORTED),  # half the seeds
    ([{}, {}, {"eff_dim": np.array([12, 8, 5, 4.0])}] + [{"eff_dim": np.array([1, 1, 1, 9.0])}]
     * 2, PARTLY),
    # Generalizes at 5,000 of 10,000 steps: too late to see a drop within 3x.
    ([{"t_test": 5000.0}], INCONCLUSIVE),
])
def test_fig7_left_effective_dimension_peaks_then_drops(rows, expected):
    v = _fig7(rows)[1]
    assert v.verdict == expected
    assert ("generalizes early enough" in v.decide) == (expected == INCONCLUSIVE)


def test_fig7_centre_removing_grokking_needs_grokking_without_dropout():
    assert _fig7([{}])[2].verdict == SUPPORTED
    no_grok = DROP_OK.assign(phase="comprehension")
    assert _fig7([{}], no_grok)[2].verdict == PARTLY  # faster, but nothing to remove
    slower = DROP_OK.assign(t_test=[400.0, 500, 3000, 2800],
                            phase=["grokking", "grokking", "grokking", "memorization"])
    assert _fig7([{}], slower)[2].verdict == NOT_SUPPORTED



def test_fig7_centre_two_dropout_runs_decide_nothing():
    # One seed at each of two rates: Spearman's rho is undefined, which is no evidence against
    # the claim (before, the NaN failed the threshold and read as not supported).
    two = pd.DataFrame({"dropout": [0.0, 0.3], "t_test": [np.nan, 6930.0],
                        "phase": ["memorization", "grokking"]})
    v = _fig7([{}], two)[2]
    assert v.verdict == INCONCLUSIVE
    assert "three" in v.decide

def _closer(rows: list[str]):
    runs = pd.DataFrame({"wd_dec": [0.0, 1.0], "t_test": [100.0, 100.0]})
    return _well_formed(phase_claims.liu_fig7_phases(runs, _grid(rows), budget=1000,
                                                     page="p"))[1]


@pytest.mark.parametrize(("rows", "expected"), [
    (["MGM", "MMC"], SUPPORTED),  # borders 3 memorization cells; distance 1 vs 2
    (["MGM", "CCC"], PARTLY),  # borders 2 vs 1; both at distance 1
    (["CGC", "CCM"], NOT_SUPPORTED),
    (["MMM", "CCC"], INCONCLUSIVE),  # no grokking
    (["MGM", "MMX"], INCONCLUSIVE),  # no comprehension to be farther from
])
def test_fig7_right_grokking_closer_to_memorization(rows, expected):
    v = _closer(rows)
    assert v.verdict == expected
    assert bool(v.decide) == (expected == INCONCLUSIVE)


def test_fig7_right_weight_decay_helps():
    def verdict(t_test: list[float]) -> str:
        runs = pd.DataFrame({"wd_dec": [0.0, 0.0, 1.0, 1.0], "t_test": t_test})
        return _well_formed(phase_claims.liu_fig7_phases(runs, PAPER_LIKE, budget=4000,
                                                         page="p"))[0].verdict

    assert verdict([np.nan, 3000, 800, 900]) == SUPPORTED  # faster and more often
    assert verdict([1000, 3000, 400, np.nan]) == PARTLY  # faster only
    assert verdict([1000, 3000, np.nan, np.nan]) == NOT_SUPPORTED
    assert verdict([np.nan] * 4) == INCONCLUSIVE


@pytest.mark.parametrize(("p_values", "expected"), [
    ([0.001] * 6 + [0.5] * 4, SUPPORTED),
    ([0.001] * 3 + [0.5] * 7, PARTLY),  # 3 of 10 at 5%: more than chance (P = 0.012)
    ([0.001] + [0.5] * 9, NOT_SUPPORTED),  # 1 of 10: what chance gives (P = 0.40)
    ([0.5] * 10, NOT_SUPPORTED),
])
def test_appendix_k_needs_more_aligned_seeds_than_chance(p_values, expected):
    [v] = _well_formed(transformer_claims.liu_appendix_k(
        _pca([{"init_p": p} for p in p_values]), budget=10_000, page="p"))
    assert v.verdict == expected


def test_appendix_k_without_a_generalizing_seed_is_inconclusive():
    [v] = transformer_claims.liu_appendix_k(_pca([{"t_test": np.nan}]), budget=500, page="p")
    assert v.verdict == INCONCLUSIVE and "500-step budget" in v.decide and not problems(v)


def _mnist_run(train: np.ndarray, test: np.ndarray, norm: np.ndarray, steps: np.ndarray,
               seed: int = 0) -> dict:
    return {"seed": seed, "steps": steps, "train_acc": train, "test_acc": test,
            "weight_norm": norm}


MNIST_STEPS = np.array([0, 100, 500, 1000, 5000, 10_000, 20_000])
FITS = np.array([0.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])  # memorized at step 100


def _fig8(runs: list[dict]) -> str:
    [v] = _well_formed(mnist_claims.liu_fig8_curves(pd.DataFrame(runs), page="p"))
    return v.verdict


def test_fig8_left_late_rise_while_the_norm_shrinks():
    shrinking = np.array([90, 100, 95, 90, 70, 50, 40.0])
    late = np.array([0.1, 0.3, 0.3, 0.3, 0.6, 0.85, 0.9])  # half the rise by 5,000 steps
    assert _fig8([_mnist_run(FITS, late, shrinking, MNIST_STEPS)]) == SUPPORTED
    growing = shrinking[::-1].copy()
    assert _fig8([_mnist_run(FITS, late, growing, MNIST_STEPS)]) == PARTLY  # rises, norm grows
    early = np.array([0.1, 0.8, 0.81, 0.81, 0.82, 0.82, 0.82])  # generalizes with training
    assert _fig8([_mnist_run(FITS, early, shrinking, MNIST_STEPS)]) == NOT_SUPPORTED


def test_fig8_left_cannot_tell_without_fitting_or_time_after_fitting():
    flat = np.full(7, 0.3)
    never = np.full(7, 0.5)
    assert _fig8([_mnist_run(never, flat, np.ones(7), MNIST_STEPS)]) == INCONCLUSIVE
    # Fits at step 5,000 of 20,000: a rise 5x later would come after the end.
    late_fit = np.array([0.1, 0.2, 0.3, 0.5, 1.0, 1.0, 1.0])
    assert _fig8([_mnist_run(late_fit, flat, np.ones(7), MNIST_STEPS)]) == INCONCLUSIVE
    # Fitted at step 100 with 20,000 steps to go and no rise at all: the claim fails.
    assert _fig8([_mnist_run(FITS, flat, np.ones(7), MNIST_STEPS)]) == NOT_SUPPORTED


@pytest.mark.parametrize(("rows", "expected"), [
    (["CGM", "CGX"], SUPPORTED),
    (["GGM", "MXX"], PARTLY),  # grokking and others, no comprehension
    (["CCM", "MMX"], NOT_SUPPORTED),  # no grokking
    (["XXX", "XXX"], INCONCLUSIVE),  # nothing fits: the budget
])
def test_fig8_right_four_phases_on_mnist(rows, expected):
    [v] = _well_formed(mnist_claims.liu_fig8_phases(_grid(rows), page="p"))
    assert v.verdict == expected
