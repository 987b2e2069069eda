"""The synthetic experiment family beyond Fig. 3b: model choice, design tables, shift, claims."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from grokpaper.carvalho import claims
from grokpaper.carvalho import design as synthetic_design
from grokpaper.carvalho import experiments as synthetic
from grokpaper.carvalho import shift as synthetic_shift
from grokpaper.carvalho.transformer import TokenTransformerConfig
from grokpaper.core import profiles, report
from grokpaper.core.metrics import definition31
from grokpaper.core.models import MLPConfig
from grokpaper.core.store import Store

TINY = dict(seeds=1, sizes=(40,), fs=(0.0, 0.2), n_test=80, steps=6, n_evals=3, batch_size=20,
            hidden=(8,), d_model=8, n_heads=2)


def test_model_choice_builds_the_right_architecture():
    mlp = synthetic.ShiftSweep(**TINY)
    tf = dataclasses.replace(mlp, model="transformer")
    assert isinstance(mlp.runs()[0].model, MLPConfig)
    arch = tf.runs()[0].model
    assert isinstance(arch, TokenTransformerConfig) and arch.n_layers == 2 and arch.alpha == 8.0
    assert (arch.n_tokens, arch.token_dim) == (9, 13)
    with pytest.raises(ValueError, match="model"):
        dataclasses.replace(mlp, model="rnn").runs()


def test_transformer_runs_through_the_same_sweep_and_is_cached_apart(tmp_path):
    p = synthetic.ShiftSweep(**TINY)
    store = Store(tmp_path)
    runs = p.runs() + dataclasses.replace(p, model="transformer").runs()
    df = synthetic.run(runs, store=store, device="cpu", progress=False)
    assert sorted(df["model"]) == ["mlp", "mlp", "transformer", "transformer"]
    assert len(list(tmp_path.rglob("*.npz"))) == 4  # architectures never share a store key
    assert df["test_acc"].map(len).nunique() == 1


def test_half_the_subclasses_are_subsampled_by_default():
    p = synthetic.ShiftSweep(**TINY)
    assert p.subsampled_per_class() == 1
    eqv = dataclasses.replace(p, dataset="equivariant")
    assert eqv.subsampled_per_class() == 5
    assert eqv.runs()[0].data.n_subsampled_per_class == 5
    two = dataclasses.replace(eqv, n_subsampled_per_class=2)
    assert two.runs()[0].data.n_subsampled_per_class == 2


@pytest.mark.parametrize("figure", synthetic_design.FIGURES)
@pytest.mark.parametrize("profile", profiles.PROFILE_NAMES)
def test_every_carvalho_profile_builds_valid_runs_and_a_design_table(figure, profile):
    params = profiles.resolve(figure, synthetic.ShiftSweep, profile)
    runs = params.runs()
    assert len(runs) == len(params.sizes) * len(params.fs) * params.seeds
    table = report.paper_says_table(params, profile=profile, figure=figure,
                                    notes=synthetic_design.NOTES[figure]).data
    rows = table.set_index("parameter")
    assert rows.loc["`lr`", "paper says"] == "1e-3 (Sec. 5.1)"
    hidden_row = "`hidden`" in rows.index
    assert hidden_row == (params.model == "mlp") and ("`d_model`" in rows.index) != hidden_row


def test_more_missing_subclasses_mean_a_larger_train_test_mmd():
    p = dataclasses.replace(synthetic.ShiftSweep(**TINY), sizes=(200,), fs=(0.0, 0.2, 1.0),
                            n_test=300, seeds=2)
    mmd = synthetic_shift.train_test_mmd(p.runs()).groupby("f")["mmd2"].mean()
    assert mmd[0.0] > mmd[0.2] > mmd[1.0]
    assert abs(mmd[1.0]) < 0.5 * mmd[0.0]


STEPS = np.unique(np.geomspace(1, 20_000, 60).astype(int))


def _row(n: int, f: float, seed: int, gap: float, *, center: float = 1500) -> dict:
    """A run that memorizes by step 300 and then gains ``gap`` test accuracy around ``center``."""
    train = np.clip(STEPS / 300, 0, 1)
    test = (0.98 - gap) * train + gap / (1 + np.exp(-(STEPS - center) / 60))
    stats = definition31(STEPS, train, test).as_dict()
    return {"n_train": n, "f": f, "seed": seed, "steps": STEPS, "train_acc": train,
            "test_acc": test, **{f"def31_{k}": v for k, v in stats.items()}}


def test_fig3a_verdicts_follow_the_measured_intensities():
    shrink = pd.DataFrame([_row(n, 1.0, s, gap) for n, gap in ((100, 0.4), (500, 0.25),
                                                               (2000, 0.12)) for s in range(3)])
    found = claims.carvalho_fig3a(shrink, page="p")
    assert [v.verdict for v in found] == ["supported", "supported"]
    grow = pd.DataFrame([_row(n, 1.0, s, gap) for n, gap in ((100, 0.12), (2000, 0.4))
                         for s in range(3)])
    assert claims.carvalho_fig3a(grow, page="p")[1].verdict == "not supported"


def test_fig4_and_architecture_verdicts():
    df = pd.DataFrame([_row(n, f, s, gap) for f in (0.0, 0.2)
                       for n, gap in ((100, 0.4), (800, 0.2)) for s in range(2)])
    found = claims.carvalho_fig4(df, page="p")
    assert [v.verdict for v in found] == ["supported"] * 3
    flat = df.assign(def31_grokked=False, def31_delta_S=0.0)
    other = claims.carvalho_fig4(flat, page="p")
    both = claims.carvalho_architectures(found, other, page="p")
    assert both.verdict == "not supported" and "0/3" in both.measured
    assert claims.carvalho_architectures(found, found, page="p").verdict == "supported"
    # Agreeing that nothing groks is no shared pattern.
    assert claims.carvalho_architectures(other, other, page="p").verdict == "inconclusive"


def test_shift_verdict_reads_the_rank_correlation():
    rng = np.random.default_rng(0)
    mmd = rng.uniform(0, 1, 20)
    df = pd.DataFrame({"dataset": "equidistant", "mmd2": mmd, "def31_delta_S": mmd + 0.01})
    assert claims.carvalho_shift(df, page="p")[0].verdict == "supported"
    df["def31_delta_S"] = 1 - mmd
    assert claims.carvalho_shift(df, page="p")[0].verdict == "not supported"


def test_run_reusing_trains_only_what_the_store_lacks(tmp_path):
    store = Store(tmp_path)
    p = synthetic.ShiftSweep(**TINY)
    first = synthetic.run(p.runs(), store=store, device="cpu", progress=False)
    stamps = sorted(f.stat().st_mtime_ns for f in tmp_path.rglob("*.npz"))
    more = dataclasses.replace(p, fs=(0.0, 0.2, 1.0)).runs()
    df = synthetic.run_reusing(more, store=store, device="cpu", progress=False)
    assert sorted(df["f"]) == [0.0, 0.2, 1.0] and len(list(tmp_path.rglob("*.npz"))) == 3
    assert stamps == sorted(f.stat().st_mtime_ns for f in tmp_path.rglob("*.npz"))[:2]
    old = df[df["f"] < 1].sort_values("f")
    np.testing.assert_array_equal(np.stack(old["test_acc"]), np.stack(first["test_acc"]))


def test_a_model_that_does_not_learn_gives_no_evidence():
    df = pd.DataFrame([_row(n, f, s, gap) for f in (0.0, 0.2)
                       for n, gap in ((100, 0.4), (800, 0.2)) for s in range(2)])
    found = claims.carvalho_fig4(df, page="p")
    flat = claims.carvalho_fig4(df.assign(def31_grokked=False, def31_delta_S=0.0), page="p")
    assert claims.demote_if_weak(flat, final=0.8, reference=0.9) == flat  # close enough
    weak = claims.demote_if_weak(flat, final=0.45, reference=0.87)
    assert [v.verdict for v in weak] == ["inconclusive"] * 3
    assert all("does not learn the task" in v.measured for v in weak)
    assert claims.carvalho_architectures(found, weak, page="p").verdict == "inconclusive"
