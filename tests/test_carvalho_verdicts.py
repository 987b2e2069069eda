"""Carvalho et al. verdicts on hand-made runs with known answers: every rule can give each of
its outcomes, each claim is judged on the quantity it names, and an empty or undecidable frame
is inconclusive with a line saying what would decide it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grokpaper.carvalho import claims, rules
from grokpaper.core.metrics import definition31
from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, Verdict
from grokpaper.mnist import claims as claims_mnist

STEPS = np.unique(np.geomspace(1, 20_000, 60).astype(int))
TRAIN = np.clip(STEPS / 300, 0, 1)  # memorizes by step 300


def _sigmoid(center: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(STEPS - center) / 60))


def grok(start: float = 0.55, end: float = 0.99, center: float = 1500) -> np.ndarray:
    """Rises with training to ``start``, sits there, then rises to ``end`` around ``center``."""
    return start * TRAIN + (end - start) * _sigmoid(center)


def flat(level: float) -> np.ndarray:
    """Rises with training to ``level`` and stays there."""
    return level * TRAIN


def run(test: np.ndarray, sub: np.ndarray | None = None, *, train: np.ndarray = TRAIN,
        **key: object) -> dict:
    """One run table row; the subsampled subclasses' curve is ``sub`` (default: ``test``)."""
    sub = test if sub is None else sub
    stats = definition31(STEPS, train, test).as_dict()
    sub_stats = definition31(STEPS, train, sub).as_dict()
    return {"n_train": 500, "f": 0.2, "seed": 0, "dataset": "equidistant", **key,
            "steps": STEPS, "train_acc": train, "test_acc": test, "test_acc_subsampled": sub,
            **{f"def31_{k}": v for k, v in stats.items()},
            **{f"sub31_{k}": v for k, v in sub_stats.items()}}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def seeds(test: np.ndarray, n: int = 2, **key: object) -> list[dict]:
    return [run(test, seed=s, **key) for s in range(n)]


NEVER = 0.2 + 0.6 * STEPS / STEPS[-1]  # a training curve still rising at the end


def test_intensity_is_delta_s_of_grokking_runs_zero_otherwise_nan_unconverged() -> None:
    df = frame(run(grok()), run(flat(0.6)), run(grok(), train=NEVER))
    got = rules.intensity(df)
    assert got[0] == pytest.approx(df["def31_delta_S"][0]) and got[0] > 0.3
    assert got[1] == 0.0 and df["def31_delta_S"][1] is not None  # defined, but no grokking
    assert np.isnan(got[2])


def test_late_gain_is_read_where_training_converged() -> None:
    df = frame(run(grok(start=0.5, end=0.9)))
    # the test curve at t_converged (~300) is 0.5; it ends at 0.9
    assert rules.late_gain(df)[0] == pytest.approx(0.4, abs=0.01)
    assert df["def31_alpha0"][0] > 2 * df["def31_t_converged"][0]  # alpha0 is the escape


@pytest.mark.parametrize(("curves", "expected"), [
    ([grok(), grok()], SUPPORTED),
    ([grok(), flat(0.6)], PARTLY),
    ([flat(0.6), flat(0.6)], NOT_SUPPORTED),
    ([flat(0.5), grok(start=0.5, end=0.53)], NOT_SUPPORTED),
    ([], INCONCLUSIVE),
])
def test_grokking_verdict_gives_each_outcome(curves: list[np.ndarray], expected: str) -> None:
    df = pd.DataFrame([r for i, c in enumerate(curves) for r in seeds(c, n_train=100 * (i + 1))])
    conds = rules.conditions(df, ["n_train"]) if len(df) else []
    assert rules.grokking_verdict(conds) == expected


def test_a_run_that_could_not_have_grokked_is_no_evidence() -> None:
    # training converged at step ~300: a run that stops before 2 x 300 has no room for a plateau
    short = run(flat(0.6))
    short["steps"] = STEPS[STEPS <= 500]
    long = run(flat(0.6))
    assert rules.could_grok(pd.DataFrame([short, long])).tolist() == [False, True]
    assert np.isnan(rules.intensity(pd.DataFrame([short])))[0]


def test_a_condition_that_never_converged_is_undecided() -> None:
    never = pd.DataFrame(seeds(grok(), train=NEVER))
    (c,) = rules.conditions(never, ["n_train"])
    assert not c.decidable and c.judged == 0
    assert rules.grokking_verdict([c]) == INCONCLUSIVE
    # next to a condition that groks, it keeps the claim from "supported"
    both = pd.concat([never, pd.DataFrame(seeds(grok(), n_train=900))])
    assert rules.grokking_verdict(rules.conditions(both, ["n_train"])) == PARTLY


def _fig3b(zero: np.ndarray, pos: np.ndarray | None, *, n: int = 2) -> pd.DataFrame:
    rows = seeds(zero, n, f=0.0) + (seeds(pos, n, f=0.2) if pos is not None else [])
    return pd.DataFrame(rows + seeds(grok(end=0.99), n, f=1.0))  # f = 1: the reference


@pytest.mark.parametrize(("zero", "pos", "expected"), [
    (flat(0.55), grok(), SUPPORTED),  # stuck below f > 0
    (grok(end=0.8), grok(), PARTLY),  # below f > 0, but it groks
    (flat(0.9), flat(0.92), NOT_SUPPORTED),  # ends as high as f > 0: no sub-optimal plateau
    (grok(), grok(), NOT_SUPPORTED),  # groks as high as f > 0
    (flat(0.55), None, INCONCLUSIVE),  # only f = 1 to compare with: not the claim's reference
])
def test_fig3b_plateau_claim_gives_each_outcome(zero: np.ndarray, pos: np.ndarray | None,
                                                expected: str) -> None:
    found = claims.carvalho_fig3b(_fig3b(zero, pos), page="p")
    assert found[0].verdict == expected
    if expected == INCONCLUSIVE:
        assert "0 < f < 1" in found[0].decide
        assert found[1].verdict == INCONCLUSIVE and "No run" in found[1].decide


def test_fig3b_before_training_converged_is_inconclusive() -> None:
    df = pd.DataFrame([run(flat(0.3), train=NEVER, f=f, seed=s) for f in (0.0, 0.2)
                       for s in range(2)])
    found = claims.carvalho_fig3b(df, page="p")
    assert [v.verdict for v in found] == [INCONCLUSIVE, INCONCLUSIVE]
    assert all("more steps" in v.decide for v in found)


def test_fig4_f0_is_judged_on_the_removed_subclasses() -> None:
    # The whole test set groks through the subclasses that were seen, the removed ones stay
    # at chance: the claim about f = 0 is not supported.
    seen_only = [run(grok(start=0.5, end=0.75), flat(0.25), f=0.0, n_train=n, seed=s)
                 for n in (100, 800) for s in range(2)]
    df = pd.DataFrame(seen_only)
    assert df["def31_grokked"].all() and not df["sub31_grokked"].any()
    assert claims.carvalho_fig4(df, page="p")[0].verdict == NOT_SUPPORTED
    removed = pd.DataFrame([run(flat(0.7), grok(start=0.3, end=0.95), f=0.0, n_train=n, seed=s)
                            for n in (100, 800) for s in range(2)])
    assert not removed["def31_grokked"].any() and removed["sub31_grokked"].all()
    assert claims.carvalho_fig4(removed, page="p")[0].verdict == SUPPORTED


@pytest.mark.parametrize(("starts", "expected"), [
    ((0.82, 0.85), SUPPORTED), ((0.6, 0.85), PARTLY), ((0.5, 0.6), NOT_SUPPORTED)])
def test_fig4b_starts_at_a_very_high_accuracy(starts: tuple[float, float],
                                              expected: str) -> None:
    df = pd.DataFrame([r for n, a in zip((100, 800), starts, strict=True)
                       for r in seeds(grok(start=a), n_train=n, f=0.2)])
    (v,) = [v for v in claims.carvalho_fig4(df, page="p") if "starts" in v.claim]
    assert v.verdict == expected


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=list(run(grok()).keys()))


@pytest.mark.parametrize("judge", [claims.carvalho_fig3a, claims.carvalho_fig3b,
                                   claims.carvalho_fig3c, claims.carvalho_fig4])
def test_no_run_means_inconclusive_never_supported(judge) -> None:
    found = judge(_empty(), page="p")
    assert found and all(v.verdict == INCONCLUSIVE and v.decide for v in found)


def test_intensity_claims_need_a_grokking_run() -> None:
    nothing = pd.DataFrame([r for n in (100, 800) for r in seeds(flat(0.6), n_train=n, f=1.0)])
    found = claims.carvalho_fig3a(nothing, page="p")
    assert found[0].verdict == NOT_SUPPORTED  # nothing groks: the grokking claim fails
    assert found[1].verdict == INCONCLUSIVE and "No run grokked" in found[1].decide
    shrink = pd.DataFrame([r for n, a in ((100, 0.3), (800, 0.7))
                           for r in seeds(grok(start=a), n_train=n, f=1.0)])
    assert [v.verdict for v in claims.carvalho_fig3a(shrink, page="p")] == [SUPPORTED] * 2
    grow = pd.DataFrame([r for n, a in ((100, 0.7), (800, 0.3))
                         for r in seeds(grok(start=a), n_train=n, f=1.0)])
    assert claims.carvalho_fig3a(grow, page="p")[1].verdict == NOT_SUPPORTED


def test_shift_without_grokking_is_inconclusive() -> None:
    df = pd.DataFrame([run(flat(0.6), seed=s, f=f) for s in range(4) for f in (0.0, 0.2)])
    df["mmd2"] = np.linspace(0, 1, len(df))
    (v,) = claims.carvalho_shift(df, page="p")
    assert v.verdict == INCONCLUSIVE and "4 runs" in v.decide


#: Rises with training to 0.75, then creeps up 0.12 more: a late gain that never meets Def. 3.1.
CREEP = 0.75 * TRAIN + 0.12 * STEPS / STEPS[-1]


def _mnist(shifted: np.ndarray, random: np.ndarray, *, train: np.ndarray = TRAIN
           ) -> pd.DataFrame:
    rows = [{**run(shifted, train=train, seed=s), "condition": f"f = {f:g}", "f": f}
            for f in (0.05, 0.2) for s in range(2)]
    rows += [{**run(random, train=train, seed=s), "condition": "random (balanced)", "f": 1.0}
             for s in range(2)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("shifted", "random", "train", "expected"), [
    (grok(), flat(0.9), TRAIN, SUPPORTED),
    (grok(), grok(), TRAIN, PARTLY),  # the random subsample groks too
    (flat(0.6), flat(0.9), TRAIN, NOT_SUPPORTED),
    (grok(), flat(0.9), NEVER, INCONCLUSIVE),
    # a late gain short of grokking: the shift's only when the random subsample lacks it
    (CREEP, flat(0.9), TRAIN, PARTLY),
    (CREEP, CREEP, TRAIN, NOT_SUPPORTED),
])
def test_carvalho_mnist_gives_each_outcome(shifted: np.ndarray, random: np.ndarray,
                                           train: np.ndarray, expected: str) -> None:
    df = _mnist(shifted, random, train=train)
    assert not (shifted is CREEP and df["def31_grokked"].any())
    (v,) = claims_mnist.carvalho_mnist(df, page="p")
    assert v.verdict == expected
    assert bool(v.decide) == (expected == INCONCLUSIVE)


def _all_verdicts() -> list[Verdict]:
    df = _fig3b(flat(0.55), grok())
    eqv = pd.DataFrame([r for n in (100, 800) for f in (0.0, 0.2)
                        for r in seeds(grok(start=0.82 if f else 0.4), n_train=n, f=f)])
    return (claims.carvalho_fig3a(df, page="p") + claims.carvalho_fig3b(df, page="p")
            + claims.carvalho_fig3c(df, page="p") + claims.carvalho_fig4(eqv, page="p")
            + claims.carvalho_fig4(_empty(), page="p")
            + claims_mnist.carvalho_mnist(_mnist(grok(), flat(0.9)), page="p"))


def test_every_verdict_is_short_with_details_apart_and_says_what_would_decide_it() -> None:
    found = _all_verdicts()
    assert {v.verdict for v in found} >= {SUPPORTED, INCONCLUSIVE}
    for v in found:
        assert len(v.measured) <= 160 and "\n" not in v.measured, v.measured
        assert bool(v.decide) == (v.verdict == INCONCLUSIVE), v


def test_fig3b_a_size_too_short_to_tell_keeps_the_plateau_claim_from_supported() -> None:
    decided = _fig3b(flat(0.55), grok())
    short = pd.DataFrame([run(flat(0.3), train=NEVER, f=f, seed=s, n_train=900)
                          for f in (0.0, 0.2) for s in range(2)])
    assert claims.carvalho_fig3b(decided, page="p")[0].verdict == SUPPORTED
    v = claims.carvalho_fig3b(pd.concat([decided, short]), page="p")[0]
    assert v.verdict == PARTLY and "at 1/1 sizes" in v.measured


def test_partly_on_late_gains_alone_says_so_in_its_measured_line() -> None:
    creeping = pd.DataFrame([r for n in (100, 800) for r in seeds(CREEP, n_train=n, f=1.0)])
    v = claims.carvalho_fig3a(creeping, page="p")[0]
    assert v.verdict == PARTLY and v.measured.startswith("0/4 grok")
    assert "each gains >= 0.05 late" in v.measured and len(v.measured) <= 160
    # grokking runs, or runs without a late gain, get no such note
    for curve in (grok(), flat(0.6)):
        df = pd.DataFrame([r for n in (100, 800) for r in seeds(curve, n_train=n, f=1.0)])
        assert "late" not in claims.carvalho_fig3a(df, page="p")[0].measured
