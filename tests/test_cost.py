"""The cost model against counts: each family's FLOP formula against torch's FLOP counter, and
its peak-memory estimate (grokpaper.core.memory, as the sweeps size ensembles with it) against
the tensors alive while a small ensemble trains, both through the family's own ``train_runs``
(as the benchmark and the calibration run it); the rate fit and the predicted time on
hand-built numbers."""

import math
from dataclasses import replace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from grokpaper import bench
from grokpaper.core import cost
from grokpaper.core.cost import EnsembleCost
from grokpaper.core.throughput import H100, Calibration, Rate, fit, human_seconds, load_any
from tests.counting import LiveBytes

#: FLOPs: the formula within 15% of the count (it counts 3 forward passes per step; the
#: backward pass of a first layer needs no input gradient, and elementwise work is left out).
FLOPS_WITHIN = 0.15
#: Peak memory: the estimate within a factor 2 of the most bytes of tensors alive at once (an
#: estimate may err high: the allocator's own overhead is not counted here).
MEMORY_FACTOR = 2.0


@pytest.fixture(autouse=True)
def _small(monkeypatch):
    monkeypatch.setattr(bench, "RESNET_ARCH", "small")  # ResNet-18 steps take seconds here
    torch.set_num_threads(1)


def _family(name: str, steps: int = 3):
    fam = bench.REGISTRY[name]
    members = 1 if name == "resnet" else 3
    return fam, fam.runs(members, steps, 32), members


@pytest.mark.parametrize("name", bench.FAMILIES)
def test_flop_formula_matches_the_count(name):
    fam, runs, members = _family(name)
    c = fam.cost(runs)
    with FlopCounterMode(display=False) as counter:
        fam.train(runs, "cpu")
    # The counter sees matmuls and convolutions only: the optimizer's elementwise FLOPs out.
    formula = c.flops(members) - members * c.steps * cost.optimizer_flops(c.params)
    assert formula == pytest.approx(counter.get_total_flops(), rel=FLOPS_WITHIN)


@pytest.mark.parametrize("name", bench.FAMILIES)
def test_memory_estimate_within_a_factor_two_of_the_peak(name):
    fam, runs, members = _family(name)
    with LiveBytes() as live:
        fam.train(runs, "cpu")
    ratio = fam.memory(runs, members).total / live.peak
    assert 1 / MEMORY_FACTOR <= ratio <= MEMORY_FACTOR, (name, ratio)


def test_the_live_byte_counter_sees_the_peak():
    with LiveBytes() as live:
        a = torch.ones(1000)  # 4,000 bytes
        b = a * 2  # 8,000 alive
        del a
        c = b + 1  # a is gone: 8,000 again
        del b, c
        torch.ones(10)
    assert live.peak == 8000


def _toy_cost(**changes) -> EnsembleCost:
    base = EnsembleCost("f", params=1000, forward=100.0, batch=50, steps=200, eval_rows=300,
                        evals=5)
    return replace(base, **changes)


def test_the_flops_of_a_hand_built_ensemble():
    c = _toy_cost()
    assert c.train_flops == 3 * 100 * 50 + 10 * 1000
    assert c.eval_flops == 100 * 300 and c.eval_batches == 1
    assert c.flops(4) == 4 * (200 * c.train_flops + 5 * c.eval_flops)
    assert _toy_cost(eval_rows=10_000).eval_batches == 3  # 4,096 rows per forward pass


def test_the_formulas_by_hand():
    assert cost.linear(3, 4, rows=5) == 2 * 3 * 4 * 5
    assert cost.mlp([3, 4, 2]) == 2 * (3 * 4 + 4 * 2)
    # 4 tokens, d = 8, d_ff = 32: K, V of 4 tokens, Q of 1, scores and mix, out, feed-forward
    assert cost.attention_layer(4, 8, 32, queries=1) == (
        2 * 8 * 16 * 4 + 2 * 8 * 8 + 2 * 2 * 1 * 4 * 8 + 2 * 8 * 8 + 2 * 8 * 32 * 2)


def test_a_rate_predicts_steps_and_evaluations():
    c = _toy_cost(checks=10)
    r = Rate(flops_per_s=1e6, step_s=0.01)
    want = 200 * (0.01 + 2 * c.train_flops / 1e6) + 15 * (0.01 / 3 + 2 * c.eval_flops / 1e6)
    assert r.seconds(c, 2) == pytest.approx(want)


def test_the_fit_recovers_a_rate_and_drops_a_negative_fixed_part():
    true = Rate(flops_per_s=5e9, step_s=0.002)
    points = [(u, f, u * true.step_s + f / true.flops_per_s, 1.0)
              for u, f in ((12.7, 1.7e9), (12.7, 13.6e9), (40.0, 9e9))]
    got = fit(points)
    assert got.flops_per_s == pytest.approx(5e9) and got.step_s == pytest.approx(0.002)
    # Timing noise puts the line's intercept below zero: the FLOPs alone carry the time.
    noisy = fit([(10.0, 1e9, 0.1, 1.0), (10.0, 8e9, 0.9, 1.0)])
    assert noisy.step_s == 0.0
    assert noisy.flops_per_s == pytest.approx((1 + 64) * 1e18 / (1e9 * 0.1 + 8e9 * 0.9))
    with pytest.raises(ValueError):
        fit([(10.0, 0.0, 1.0, 1.0)])


def test_throughput_files_round_trip(tmp_path):
    cal = Calibration("cpu", "test CPU", {"toy": Rate(1e9, 1e-3)}, {"toy": 200.0}, 0.5, "test")
    (tmp_path / "cal.json").write_text(cal.to_json())
    assert load_any(tmp_path / "cal.json") == cal
    (tmp_path / "gpu.json").write_text('{"name": "X", "peak_flops": 1e14, "efficiency": 0.5, '
                                       '"op_s": 5e-6, "memory_bytes": 1e10}')
    gpu = load_any(tmp_path / "gpu.json")
    assert gpu.flops_per_s == 5e13 and gpu.rate(200.0) == Rate(5e13, 1e-3)
    (tmp_path / "bad.json").write_text('{"name": "X"}')
    with pytest.raises(ValueError, match="peak_flops"):
        load_any(tmp_path / "bad.json")


def test_the_assumed_h100_says_where_its_numbers_come_from():
    assert H100.flops_per_s == pytest.approx(0.3 * 67e12)
    assert "datasheet" in H100.source and "assumed" in H100.name


@pytest.mark.parametrize(("s", "shown"), [(42, "42 s"), (300, "5.0 min"), (7200, "2.0 h"),
                                          (3 * 86400, "3.0 d"), (math.nan, "?")])
def test_human_seconds(s, shown):
    assert human_seconds(s) == shown
