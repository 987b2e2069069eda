"""Carvalho et al.'s shift measure on the algorithmic splits: known answers for the features,
the MMD^2 of random and biased splits, the delay, and the verdict rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from grokpaper.core.verdicts import INCONCLUSIVE, NOT_SUPPORTED, PARTLY, SUPPORTED, problems
from grokpaper.cross import claims
from grokpaper.cross import shift as cross_shift
from grokpaper.lisakib import data as modular
from grokpaper.lisakib.experiments import ModRun
from grokpaper.liu.experiments import ToyRun


def test_pair_features_are_two_one_hot_codes() -> None:
    x = cross_shift.pair_features([[0, 2], [1, 1]], 3)
    assert x.tolist() == [[1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0]]
    with pytest.raises(ValueError, match="pairs must be"):
        cross_shift.pair_features([0, 1, 2], 3)


def test_a_random_split_has_no_shift_and_a_biased_one_has() -> None:
    seq, _ = modular.table("+", 31)
    x = cross_shift.pair_features(seq[:, [0, 2]], 31)
    bw = float(np.sqrt(2.0))  # the distance between pairs that differ in one operand
    rng = np.random.default_rng(0)
    random = []
    for frac in (0.1, 0.3, 0.7):
        mask = np.zeros(len(seq), bool)
        mask[rng.permutation(len(seq))[: int(frac * len(seq))]] = True
        random.append(abs(cross_shift.split_mmd(x, mask, bandwidth=bw)))
    biased = (seq[:, 0] < 15).numpy()  # the training set holds only the small first operands
    # The kernel factorizes over the two operands; the second is alike in both samples, the
    # first uniform on 15 values vs on the 16 others: the population MMD^2 is
    # (1 - e^-1/2) (1/15 + 1/16) (1/31 + 30/31 e^-1/2) = 0.031.
    assert cross_shift.split_mmd(x, biased, bandwidth=bw) > 0.02 > 20 * max(random)


def test_a_split_that_holds_out_fewer_than_two_pairs_has_no_shift() -> None:
    # The paper profile trains on up to every pair but one (a training fraction near 1): no
    # held-out distribution, so no MMD^2 (NaN, left out of the correlation), not an error.
    seq, _ = modular.table("+", 31)
    x = cross_shift.pair_features(seq[:, [0, 2]], 31)
    for held_out in (0, 1):
        mask = np.ones(len(seq), bool)
        mask[:held_out] = False
        assert np.isnan(cross_shift.split_mmd(x, mask, bandwidth=1.0))
    mask[:2] = False
    assert np.isfinite(cross_shift.split_mmd(x, mask, bandwidth=1.0))


def test_the_shift_reads_the_algorithmic_families() -> None:
    assert cross_shift.FAMILIES == ("Li & Sakib transformer", "Liu toy model")


def test_task_split_reproduces_each_studys_split() -> None:
    run = ModRun(op="/", p=11, train_frac=0.4, split_seed=3)
    task, key, x, mask = cross_shift.task_split(run)
    tr, _ = modular.split("/", 11, 0.4, seed=3)
    assert task == ("modular", "/", 11) and key[-2:] == (0.4, 3)
    assert np.flatnonzero(mask).tolist() == tr.tolist() and x.shape == (110, 22)
    toy = ToyRun(n_train=20, seed=1)
    task, _, x, mask = cross_shift.task_split(toy)
    assert task[0] == "toy" and mask.sum() == 20 and x.shape[0] == len(mask)
    assert torch.all(x.sum(1) == 2)
    assert cross_shift.task_split(object()) is None


def test_delay_to_end() -> None:
    s = np.arange(0, 1001, 100, dtype=float)
    up = (s >= 200).astype(float)
    late = (s >= 700).astype(float)
    assert cross_shift.delay_to_end(s, up, late) == 500
    assert cross_shift.delay_to_end(s, up, np.zeros_like(s)) == 800  # to the end: lower bound
    assert np.isnan(cross_shift.delay_to_end(s, np.zeros_like(s), up))


def test_shift_table_measures_each_split_once() -> None:
    s = np.arange(0, 3001, 100, dtype=float)
    train = (s >= 100).astype(float)
    runs = pd.DataFrame([
        {"family": "f", "run": ModRun(op="/", p=11, train_frac=0.4, seed=seed), "steps": s,
         "train_acc": train, "test_acc": (s >= 2000).astype(float), "diverged": False}
        for seed in (0, 1)] + [{"family": "g", "run": object(), "steps": s, "train_acc": train,
                                "test_acc": train, "diverged": False}])
    table = cross_shift.shift_table(runs)
    assert list(table["family"]) == ["f", "f"]  # a run of no algorithmic task is left out
    assert table["mmd2"].nunique() == 1  # same split (split_seed 0), same MMD^2
    assert table["delay"].tolist() == [1900.0, 1900.0] and not table["censored"].any()
    assert table["fraction"].iloc[0] == pytest.approx(44 / 110)


def table_of(mmd: list[float], delay: list[float], family: str = "f") -> pd.DataFrame:
    n = len(mmd)
    return pd.DataFrame({"family": family, "fraction": np.linspace(0.2, 0.8, n), "mmd2": mmd,
                         "delay": delay, "censored": False, "diverged": False})


def test_the_shift_rule_is_the_carvalho_shift_pages() -> None:
    up = list(np.arange(10.0))
    cases = {
        "rises": table_of(up, [10 * x for x in up]),
        "falls": table_of(up, [-x for x in up], "falls"),
        # rho = 0.41 (p = 0.009): a permutation of the ranks plus a weak trend
        "weak": table_of(list(np.arange(40.0)), list((np.arange(40.0) * 17) % 40
                                                     + 0.5 * np.arange(40.0)), "weak"),
        "few": table_of([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], "few"),
        "flat": table_of(up, [5.0] * 10, "flat"),
    }
    cases["rises"]["family"] = "rises"
    found = claims.shift_delay(pd.concat(cases.values(), ignore_index=True),
                               families=list(cases), page="cross/shift")
    assert [v.verdict for v in found] == [SUPPORTED, NOT_SUPPORTED, PARTLY, INCONCLUSIVE,
                                         INCONCLUSIVE]
    assert all(not problems(v) for v in found)
    assert found[0].measured.startswith("Spearman rho(MMD^2, delay) = 1.00")
    assert found[3].measured == "3 of 3 runs have a delay (3 distinct)"
    [absent] = claims.shift_delay(cases["few"], families=["absent"], page="p")
    assert absent.verdict == INCONCLUSIVE and absent.measured == "no stored run of this family"
