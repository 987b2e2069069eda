"""The cost model against counts: each family's FLOP formula against torch's FLOP counter, and
its peak-memory estimate against the tensors alive while a small ensemble trains (through the
family's own ``train_runs``, as the benchmark and the calibration run it); the chunk sizes a
budget allows; the rate fit and the predicted time on hand-built numbers."""

import math
from dataclasses import replace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from grokpaper import bench
from grokpaper.core import cost
from grokpaper.core.cost import EnsembleCost, Forward
from grokpaper.core.throughput import H100, Calibration, Rate, fit, human_seconds, load_any
from tests.counting import LiveBytes

#: FLOPs: the formula within 15% of the count (it counts 3 forward passes per step; the
#: backward pass of a first layer needs no input gradient, and elementwise work is left out).
FLOPS_WITHIN = 0.15
#: Peak memory: the estimate within a factor 2 of the most bytes alive at once.
MEMORY_FACTOR = 2.0


@pytest.fixture(autouse=True)
def _small(monkeypatch):
    monkeypatch.setattr(bench, "RESNET_ARCH", "small")  # ResNet-18 steps take seconds here
    torch.set_num_threads(1)


def _family(name: str, steps: int = 3):
    fam = bench.REGISTRY[name]
    members = 1 if name == "resnet" else 3
    runs = fam.runs(members, steps, 32)
    return fam, runs, members, fam.cost(runs)


@pytest.mark.parametrize("name", bench.FAMILIES)
def test_flop_formula_matches_the_count(name):
    fam, runs, members, c = _family(name)
    with FlopCounterMode(display=False) as counter:
        fam.train(runs, "cpu")
    # The counter sees matmuls and convolutions only: the optimizer's elementwise FLOPs out.
    formula = c.flops(members) - members * c.steps * cost.optimizer_flops(c.params)
    assert formula == pytest.approx(counter.get_total_flops(), rel=FLOPS_WITHIN)


@pytest.mark.parametrize("name", bench.FAMILIES)
def test_memory_estimate_within_a_factor_two_of_the_peak(name):
    fam, runs, members, c = _family(name)
    with LiveBytes() as live:
        fam.train(runs, "cpu")
    ratio = c.peak_bytes(members) / live.peak
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
    base = EnsembleCost("f", params=1000, forward=Forward(100.0, 10.0, 4.0), batch=50,
                        steps=200, eval_rows=300, evals=5)
    return replace(base, **changes)


def test_the_cost_of_a_hand_built_ensemble():
    c = _toy_cost(shared_bytes=1e6, data_bytes=200.0, curve_bytes=40.0)
    assert c.train_flops == 3 * 100 * 50 + 10 * 1000
    assert c.eval_flops == 100 * 300 and c.eval_batches == 1
    assert c.flops(4) == 4 * (200 * c.train_flops + 5 * c.eval_flops)
    # weights, gradients, 2 moments; max(50 x 10, 300 x 4) floats; data; curves; hits+losses
    assert c.member_bytes() == 1000 * 4 * 4 + 4 * 1200 + 200 + 40 + 2 * 4 * 300
    assert c.peak_bytes(3) == 3 * c.member_bytes() + 1e6


def test_members_per_chunk_is_a_power_of_two_within_the_budget():
    c = _toy_cost(shared_bytes=1000.0)
    m = c.member_bytes()
    assert cost.members_per_chunk(c, 1000 + 64 * m, 64) == 64  # all fit
    assert cost.members_per_chunk(c, 1000 + 63 * m, 64) == 32
    assert cost.members_per_chunk(c, 1000 + 5.5 * m, 64) == 4
    assert cost.members_per_chunk(c, 1000 + 1.0 * m, 64) == 1
    assert cost.members_per_chunk(c, 10.0, 64) == 1  # never none: the sweep tries one
    assert cost.members_per_chunk(c, 1e12, 48) == 48


def test_the_paper_transformer_phases_would_not_fit_ci_in_one_ensemble():
    # Liu Fig. 7 right at the paper's scale: 256 members of the p = 53, d = 256 transformer
    # need ~40 GB; a 12 GiB budget (half of CI's 24 GiB) takes them 64 at a time.
    from grokpaper.liu.transformer_experiments import MAX_MEMBERS, TransformerPhases, cost as tc

    runs = TransformerPhases().runs()
    c = tc(runs)
    assert c.peak_bytes(MAX_MEMBERS) > 24 * 2**30
    assert cost.members_per_chunk(c, 12 * 2**30, MAX_MEMBERS) == 64


@pytest.mark.parametrize(("text", "value"), [("6GiB", 6 * 2**30), ("800 MB", 800 * 10**6),
                                             ("1e9", 10**9), ("512kib", 512 * 1024)])
def test_budget_sizes(text, value):
    assert cost.parse_bytes(text) == value


@pytest.mark.parametrize("text", ["lots", "-1GB", "0", "5 parsecs"])
def test_bad_budget_sizes_are_named(text):
    with pytest.raises(ValueError, match="GROKPAPER_MEMORY_BUDGET"):
        cost.parse_bytes(text)


def test_memory_budget_from_the_environment_or_the_ram(monkeypatch):
    monkeypatch.setenv(cost.BUDGET_ENV, "3GiB")
    assert cost.memory_budget("cpu") == 3 * 2**30
    monkeypatch.delenv(cost.BUDGET_ENV)
    assert cost.memory_budget("cpu") == int(cost.CPU_SHARE * cost.ram_bytes())


def test_out_of_memory_errors_are_told_apart():
    assert cost.is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory."))
    assert cost.is_out_of_memory(RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory"))
    assert cost.is_out_of_memory(MemoryError())
    assert not cost.is_out_of_memory(RuntimeError("shape mismatch"))
    assert not cost.is_out_of_memory(ValueError("out of memory"))  # not an allocator's


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
