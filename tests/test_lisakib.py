"""Li & Sakib experiment plumbing: delay classes, mixed-split ensembles, stored weights,
landscapes, figure parameters and verdicts (tiny sizes)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from grokpaper.core.metrics import grokking_delay
from grokpaper.core.store import Store
from grokpaper.lisakib import claims as claims_lisakib
from grokpaper.lisakib import claims_weights
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib import figures as lisakib_figs

TINY = {"p": 5, "d_model": 8, "steps": 6, "batch_size": 4, "n_evals": 4, "train_frac": 0.5}


def test_delay_and_classes():
    steps = np.array([0, 500, 1000, 1500, 2000, 2500])
    train = np.array([0.1, 0.96, 1.0, 1.0, 1.0, 1.0])
    late = np.array([0.0, 0.1, 0.1, 0.2, 0.97, 1.0])
    soon = np.array([0.0, 0.5, 0.96, 1.0, 1.0, 1.0])
    assert grokking_delay(steps, train, late) == 1500
    assert grokking_delay(steps, train, soon) == 500
    assert grokking_delay(steps, train, np.full(6, 0.5)) is None
    assert lisakib.li_class(1500) == "grokking" and lisakib.li_class(1000) == "grokking"
    assert lisakib.li_class(500) == "comprehension" and lisakib.li_class(-20) == "comprehension"
    assert lisakib.li_class(None) == "confusion" and lisakib.li_class(np.nan) == "confusion"


def test_members_with_different_splits_equal_separate_runs(tmp_path):
    base = lisakib_figs.Base(**TINY)
    runs = [base.run(train_frac=0.5, seed=1, lr=1e-2), base.run(train_frac=0.7, seed=2)]
    together = lisakib.run(runs, store=Store(tmp_path / "a"), device="cpu", progress=False)
    for i, r in enumerate(runs):
        alone = lisakib.run([r], store=Store(tmp_path / f"b{i}"), device="cpu", progress=False)
        for k in ("train_loss", "test_loss", "test_acc", "extra_qkv"):
            np.testing.assert_allclose(together[k][i], alone[k][0], rtol=1e-4, atol=1e-5,
                                       err_msg=k)
    assert together["n_train"].tolist() == [10, 14]
    assert set(together["li_class"]) <= set(lisakib.LI_CLASSES)


def test_weights_are_stored_and_landscape_is_cached(tmp_path):
    store = Store(tmp_path)
    run = lisakib_figs.Base(**TINY).run(save_weights=True)
    (weights,) = lisakib.final_weights([run], store=store, device="cpu")
    assert "blocks.0.attn.in_proj.weight" in weights
    with pytest.raises(ValueError, match="save_weights"):
        lisakib.final_weights([dataclasses.replace(run, save_weights=False)], store=store)
    spec = lisakib.LandscapeSpec(run, normalization="tensor", resolution=3)
    (surf,) = lisakib.surfaces([spec], store=store)
    assert surf.shape == (3, 3) and np.isfinite(surf).all()
    (again,) = lisakib.surfaces([spec], store=store)
    np.testing.assert_array_equal(surf, again)


def test_figure_params_make_the_report_grid():
    sweep = lisakib_figs.SweepParams()
    n = (len(sweep.batch_sizes) * len(sweep.noises) * len(sweep.init_scales) * len(sweep.lrs)
         * len(sweep.weight_decays))
    assert n == 1350
    small = lisakib_figs.SweepParams(**TINY, batch_sizes=(2, 4), noises=(0.0, 1.0), sample=3)
    runs = small.runs()
    assert len(runs) == 3 and len(set(runs)) == 3
    norms = lisakib_figs.NormParams(**TINY, train_fracs=(0.5, 0.7), small_wds=(0.5, 1.0),
                                    large_wds=(1.0, 2.0))
    assert len(norms.runs()) == 2 + 3 - 1  # the default run appears once
    assert lisakib_figs.CurvesParams().runs()[0].train.betas == (0.9, 0.98)


def _row(**kw):
    base = {"op": "/", "seed": 0, "delay": np.nan, "li_class": "confusion",
            "t_train95": np.nan, "t_val95": np.nan, "budget": 10_000}
    return {**base, **kw}


def test_verdicts_follow_the_numbers():
    # The loss must climb within the pre-grokking stage (training at 95% from step 2,000,
    # validation from 4,000): the 'rising' run climbs from 2.5 to 3.6 there, 'flat' does not.
    s = np.arange(6.0) * 1000
    tr = np.array([0.1, 0.6, 1.0, 1.0, 1.0, 1.0])
    rising = _row(li_class="grokking", delay=2000.0, t_train95=2000.0, t_val95=4000.0, steps=s,
                  train_acc=tr, test_loss=np.array([3.0, 2.6, 2.5, 3.6, 1.0, 0.5]))
    flat = _row(li_class="grokking", delay=2000.0, t_train95=2000.0, t_val95=4000.0, steps=s,
                train_acc=tr, test_loss=np.array([3.0, 2.0, 2.0, 2.0, 1.0, 0.5]))
    found = claims_lisakib.curves(pd.DataFrame([rising, flat]), page="x")
    assert found[0].verdict == "supported"
    assert found[1].verdict == "partly supported" and "1/2" in found[1].measured
    table = pd.DataFrame({"normalization": ["filter"] * 5,
                          "li_class": ["grokking", "grokking", "comprehension", "comprehension",
                                       "confusion"],
                          "range": [4.0, 5.0, 1.0, 1.5, 9.0]})
    assert claims_weights.landscapes(table, page="x")[0].verdict == "supported"
    one_each = table.drop(index=[1, 3])  # clear ratio, but a single run per class
    assert claims_weights.landscapes(one_each, page="x")[0].verdict == "partly supported"
    slight = table.assign(range=[1.2, 1.3, 1.0, 1.1, 9.0])  # higher, but not 2x
    assert claims_weights.landscapes(slight, page="x")[0].verdict == "partly supported"
    flatter = table.assign(range=[0.5, 0.6, 1.0, 1.1, 9.0])
    assert claims_weights.landscapes(flatter, page="x")[0].verdict == "not supported"
    no_comprehension = table.drop(index=[2, 3])  # confusion runs do not count
    assert claims_weights.landscapes(no_comprehension, page="x")[0].verdict == "inconclusive"
