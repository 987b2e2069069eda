"""Liu's representation account on Carvalho's data: the subclass score and the jump rule on
cases with known answers, and the probed runs trained as the chapter trains them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from grokpaper.carvalho import experiments as carvalho
from grokpaper.core.models import MLPConfig
from grokpaper.core.store import Store
from grokpaper.core.train import TrainConfig
from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, problems
from grokpaper.cross import claims
from grokpaper.cross import representation as rep


def test_subclass_score_on_known_features() -> None:
    labels = torch.arange(4).repeat_interleave(5)  # 4 labels, 5 points each
    apart = torch.eye(4)[labels] * 10 + 0.01 * torch.randn(20, 4, generator=torch.Generator()
                                                             .manual_seed(0))
    same = torch.zeros(20, 4)  # every point at one place: the first label wins everywhere
    score = rep.subclass_score(torch.stack([apart, same]), labels, 4)
    assert score.tolist() == pytest.approx([1.0, 0.25])


def test_hidden_is_the_forward_pass_up_to_the_read_out() -> None:
    model = carvalho.build_ensemble(MLPConfig(hidden=(8, 6)), 3, [0, 1])
    x = torch.randn(5, 117, generator=torch.Generator().manual_seed(0))
    h = rep.hidden(model, x)
    assert h.shape == (2, 5, 6) and (h >= 0).all()  # relu features of the last hidden layer
    out = torch.matmul(h, model.weights[-1]) + model.biases[-1]
    assert torch.allclose(out, model(x))  # computed two ways


STEPS = np.arange(0, 10_001, 100, dtype=float)


def test_jump_step() -> None:
    rise = np.clip((STEPS - 4000) / 2000, 0, 1) * 0.5 + 0.4  # 0.4 -> 0.9 over steps 4k-6k
    assert rep.jump_step(STEPS, rise, 500.0) == 5000.0
    assert rep.jump_step(STEPS, np.full_like(STEPS, 0.8), 500.0) is None  # no rise
    assert rep.jump_step(STEPS, rise, 7000.0) is None  # risen already by then


def test_transitions_reads_the_window_of_definition_31() -> None:
    train = np.clip(STEPS / 300, 0, 1)
    test = np.where(STEPS >= 5000, 0.95, 0.3)  # plateau, then arrives at 5,000
    at = np.where(STEPS >= 5000, 0.9, 0.4)  # jumps with the test curve
    early = np.where(STEPS >= 1500, 0.9, 0.4)  # jumps on the plateau, before alpha0
    df = pd.DataFrame({"steps": [STEPS] * 3, "train_acc": [train] * 3,
                       "test_acc": [test, test, train], "subclass": [at, early, at]})
    out = rep.transitions(df)
    assert out["grokked"].tolist() == [True, True, False]
    assert out["at_transition"].tolist() == [True, False, False]
    assert out.loc[0, "jump"] == 5000.0 and out.loc[1, "jump"] == 1500.0


def test_the_probed_runs_are_the_chapters_runs(tmp_path) -> None:
    runs = rep.runs_for("smoke")
    assert runs and {r.base.data.n_train for r in runs} == {40}
    assert [r.base.seed for r in rep.runs_for("quick")] == [0]  # the budget: one seed
    assert all(r.base.data.f == 1.0 for r in runs)
    tiny = [rep.RepRun(carvalho.SyntheticRun(
        data=carvalho.SyntheticDataConfig(n_train=40, f=1.0, n_test=60),
        model=MLPConfig(hidden=(8,)), train=TrainConfig(steps=20, n_evals=4), seed=s),
        probe_points=50) for s in (0, 1)]
    df = rep.run(tiny, store=Store(tmp_path))
    assert len(df) == 2
    for score, steps in zip(df["subclass"], df["steps"], strict=True):
        assert len(score) == len(steps) and ((score >= 0) & (score <= 1)).all()


def test_the_representation_rule() -> None:
    def table(rows: list[tuple[bool, float | None]]) -> pd.DataFrame:
        """(grokked, jump step) per run; every transition window is [1000, 2000]."""
        return pd.DataFrame([{
            "seed": i, "grokked": g, "alpha0": 1000.0, "alpha1": 2000.0,
            "jump": np.nan if j is None else j, "score_start": 0.4, "score_end": 0.9,
            "at_transition": g and j is not None and 1000 <= j <= 2000, "diverged": False}
            for i, (g, j) in enumerate(rows)])

    cases = {SUPPORTED: [(True, 1500.0)] * 3, PARTLY: [(True, 1500.0), (True, 500.0)],
             NOT_SUPPORTED: [(True, 500.0), (True, None), (False, 1500.0)],
             INCONCLUSIVE: [(False, 1500.0)]}
    for want, rows in cases.items():
        [v] = claims.representation_jump(table(rows), page="p", n_train=100)
        assert v.verdict == want and not problems(v)
    [v] = claims.representation_jump(table(cases[NOT_SUPPORTED]), page="p", n_train=100)
    assert v.measured.startswith("the score jumps in [alpha0, alpha1] in 0 of 2 grokking runs "
                                 "(1 before alpha0, 1 without a jump)")
