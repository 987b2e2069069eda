"""Ensembles sized by a memory budget, not a fixed count, and a chunk that runs out of memory
split and retried instead of failing the sweep, on a CPU with small budgets: hand-built
estimates and trainers first, then a real family under ``$GROKPAPER_MEMORY_BUDGET``, then a
real allocation failure (an address-space limit in a child process)."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import memory, sweep
from grokpaper.core.memory import Estimate
from grokpaper.core.store import Store

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Cfg:
    a: int = 0


def linear(per: int, shared: int):
    """A hand-built estimate: ``per`` bytes each member adds, ``shared`` once."""
    return lambda runs, members: Estimate(shared, members * per, 0)


@pytest.mark.parametrize(("text", "value"), [("6GiB", 6 * 2**30), ("800 MB", 800 * 10**6),
                                             ("1e9", 10**9), ("512kib", 512 * 1024)])
def test_budget_sizes(text, value):
    assert memory.parse_bytes(text) == value


@pytest.mark.parametrize("text", ["lots", "-1GB", "0", "5 parsecs"])
def test_bad_budget_sizes_are_named(text):
    with pytest.raises(ValueError, match="GROKPAPER_MEMORY_BUDGET"):
        memory.parse_bytes(text)


def test_the_budget_is_the_environment_or_a_share_of_what_is_free(monkeypatch):
    monkeypatch.setenv(memory.BUDGET_ENV, "3GiB")
    assert memory.budget("cpu") == 3 * 2**30
    monkeypatch.delenv(memory.BUDGET_ENV)
    monkeypatch.setattr(memory, "free_bytes", lambda device: 1000)
    assert memory.budget("cpu") == int(memory.USABLE * 1000)


def test_members_per_chunk_is_a_power_of_two_within_the_budget():
    est = lambda m: Estimate(1000, m * 100, 0)  # noqa: E731
    assert memory.per_member(est) == (100, 1000)
    assert memory.members_per_chunk(est, 1000 + 64 * 100, 64) == 64  # all fit
    assert memory.members_per_chunk(est, 1000 + 63 * 100, 64) == 32
    assert memory.members_per_chunk(est, 1000 + 550, 64) == 4
    assert memory.members_per_chunk(est, 1000 + 100, 64) == 1
    assert memory.members_per_chunk(est, 10, 64) == 1  # never none: the sweep tries one
    assert memory.members_per_chunk(est, 1e12, 48) == 48


def test_out_of_memory_errors_are_told_apart():
    assert memory.is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory."))
    assert memory.is_out_of_memory(RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory"))
    assert memory.is_out_of_memory(MemoryError())
    assert not memory.is_out_of_memory(RuntimeError("shape mismatch"))
    assert not memory.is_out_of_memory(ValueError("out of memory"))  # not an allocator's


def test_cut_sizes_each_group_to_the_budget():
    runs = [Cfg(a=i) for i in range(10)]
    fixed = sweep.cut(runs, lambda r: r.a % 2, 4)
    assert [len(c) for c in fixed] == [4, 1, 4, 1]
    small = sweep.cut(runs, lambda r: r.a % 2, 4, memory=linear(100, 50), budget=50 + 250)
    assert [len(c) for c in small] == [2, 2, 1, 2, 2, 1]  # 2 fit (a power of two <= 2.5)
    assert sum(small, []) == sorted(sum(small, []), key=lambda i: (i % 2, i))


def test_cut_halves_the_largest_chunk_until_each_process_has_one():
    runs = [Cfg(a=i) for i in range(10)]
    assert [len(c) for c in sweep.cut(runs, lambda r: 0, 8, min_chunks=2)] == [8, 2]
    halves = sweep.cut(runs, lambda r: 0, 8, min_chunks=3)
    assert [len(c) for c in halves] == [4, 4, 2]
    assert sum(halves, []) == list(range(10))  # still in the order given
    assert [len(c) for c in sweep.cut(runs[:5], lambda r: 0, 64, min_chunks=2)] == [2, 3]
    assert sweep.cut(runs[:1], lambda r: 0, 64, min_chunks=4) == [[0]]  # one run: one chunk


def test_costliest_chunks_train_first(tmp_path):
    order = []

    def train(runs, device):  # a closure: trains in this process, in the order it is given
        order.append(runs[0].a)
        return [{"value": np.array([1.0])} for _ in runs]

    kw = dict(group_key=lambda r: r.a, seed_of=lambda r: 0, store=Store(tmp_path),
              device="cpu", progress=False)
    runs = [Cfg(a=i) for i in (2, 9, 4, 7)]
    sweep.run_cached("cost", runs, train, cost=lambda rs: rs[0].a, **kw)
    assert order == [9, 7, 4, 2]
    order.clear()
    sweep.run_cached("no-cost", runs, train, **kw)
    assert order == [2, 9, 4, 7]  # without a cost: as given


def test_one_ensemble_is_shared_out_among_the_worker_processes(tmp_path):
    from tests.test_processes import Job, _record_pid

    out = sweep.run_cached("one-group", [Job(a=i) for i in range(6)], _record_pid,
                           group_key=lambda r: 0, seed_of=lambda r: r.seed,
                           store=Store(tmp_path), device="cpu", progress=False, workers=2)
    assert [int(r.arrays["a"][0]) for r in out] == list(range(6))
    assert [r.meta["ensemble_size"] for r in out] == [3] * 6  # two chunks, not one of 6
    assert os.getpid() not in {int(r.arrays["pid"][0]) for r in out}  # trained by workers


def _train(limit: int, calls: list[int]):
    """Trains up to ``limit`` members; more raise CUDA's out-of-memory error."""

    def train(runs, device):
        calls.append(len(runs))
        if len(runs) > limit:
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried {len(runs)} members")
        return [{"value": np.array([r.a * 10.0])} for r in runs]

    return train


def values(runs, device):
    """A trainer that pickles (module level), as the wings' are: chunks may go to workers."""
    return [{"value": np.array([10.0 * r.a])} for r in runs]


def test_side_by_side_processes_share_the_budget(monkeypatch):
    # Four workers on this machine could each train a chunk at once: each plans for a quarter
    # of the free memory, not for all of it (four ensembles at 80% each would not fit).
    monkeypatch.delenv(memory.BUDGET_ENV, raising=False)
    monkeypatch.setattr(sweep, "budget", lambda device: 8000)
    runs = [Cfg(a=i) for i in range(8)]
    assert sweep.chunk_budget("cpu", values, runs, workers=4) == 2000
    assert sweep.chunk_budget("cpu", values, runs[:2], workers=4) == 4000  # two chunks at most
    assert sweep.chunk_budget("cpu", values, runs, workers=1) == 8000
    # A closure trains every chunk in this process; a cluster has its own memory per worker.
    assert sweep.chunk_budget("cpu", lambda r, d: [], runs, workers=4) == 8000
    assert sweep.chunk_budget("cpu", values, runs, workers=4, client=object()) == 8000
    # The chunks follow: 8 members of 1000 bytes in a budget of 8000, cut in four.
    sizes = [len(c) for c in sweep.cut(runs, lambda r: 0, 8, memory=linear(1000, 0),
                                       budget=sweep.chunk_budget("cpu", values, runs,
                                                                 workers=4))]
    assert sizes == [2, 2, 2, 2]


def test_the_budget_variable_is_one_ensembles_budget(monkeypatch):
    monkeypatch.setenv(memory.BUDGET_ENV, "3000")
    assert sweep.chunk_budget("cpu", values, [Cfg(a=i) for i in range(8)], workers=4) == 3000


def test_a_chunk_out_of_memory_is_split_until_it_fits(tmp_path):
    calls: list[int] = []
    runs = [Cfg(a=i) for i in range(8)]
    with pytest.warns(sweep.ChunkSplitWarning, match="8 members ran out of memory"):
        out = sweep.run_cached("k", runs, _train(2, calls), group_key=lambda r: 0,
                               seed_of=lambda r: r.a, store=Store(tmp_path), device="cpu",
                               max_members=8, progress=False)
    assert calls == [8, 4, 2, 2, 4, 2, 2]
    assert [float(r.arrays["value"][0]) for r in out] == [0, 10, 20, 30, 40, 50, 60, 70]
    assert {r.meta["ensemble_size"] for r in out} == {2}


def test_one_member_out_of_memory_and_other_errors_fail_the_sweep(tmp_path):
    kw = dict(group_key=lambda r: 0, seed_of=lambda r: r.a, device="cpu", progress=False)
    with pytest.raises(torch.OutOfMemoryError), pytest.warns(sweep.ChunkSplitWarning):
        sweep.run_cached("k", [Cfg(0), Cfg(1)], _train(0, []), store=Store(tmp_path / "a"),
                         **kw)

    def broken(runs, device):
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        sweep.run_cached("k", [Cfg(0), Cfg(1)], broken, store=Store(tmp_path / "b"), **kw)


def test_a_real_family_trains_in_chunks_its_budget_allows(tmp_path, monkeypatch):
    # Carvalho's MLP, 6 members and room for 2.5 of them: ensembles of 2 (the store records
    # the ensemble each run was trained in).
    params = synthetic.ShiftSweep(sizes=(200,), fs=(0.0, 0.2), seeds=3, hidden=(16,),
                                  n_test=400, steps=3, n_evals=2)
    runs = params.runs()
    each, shared = memory.per_member(lambda m: synthetic.ensemble_memory(runs, m))
    budget = int(shared + 2.5 * each)
    want = memory.members_per_chunk(lambda m: synthetic.ensemble_memory(runs, m), budget, 64)
    assert want == 2
    monkeypatch.setenv(memory.BUDGET_ENV, str(budget))
    store = Store(tmp_path)
    synthetic.run(runs, store=store, device="cpu", progress=False)
    sizes = [store.load(synthetic.KIND, k).meta["ensemble_size"]
             for k in (synthetic.config_key(synthetic.KIND, r) for r in runs)]
    assert sizes == [want] * (len(runs) // want * want) + [len(runs) % want] * (
        len(runs) % want)


def oom_child(limit_mib: int, store: str) -> None:
    """Child process: an address-space limit ``limit_mib`` above what it uses, then a sweep
    whose 16-member ensemble needs more than that; prints what trained."""
    import re
    import resource
    import threading
    import warnings

    torch.set_num_threads(1)
    threading.stack_size(512 * 1024)  # the claims' heartbeat threads: 8 MB of address each
    vm = int(re.search(r"VmSize:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    resource.setrlimit(resource.RLIMIT_AS, ((vm + limit_mib * 1024) * 1024,
                                            resource.RLIM_INFINITY))

    def train(runs, device):  # ~52 MB of activations per member
        x = torch.ones(len(runs), 8192, 784)
        y = torch.relu(x @ torch.ones(784, 200))
        return [{"value": y[i].sum(dtype=torch.float64).reshape(1).numpy()}
                for i in range(len(runs))]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = sweep.run_cached("k", [Cfg(a=i) for i in range(16)], train,
                               group_key=lambda r: 0, seed_of=lambda r: r.a,
                               store=Store(store), device="cpu", max_members=16,
                               progress=False)
    print(json.dumps({"sizes": [r.meta["ensemble_size"] for r in out],
                      "values": [float(r.arrays["value"][0]) for r in out],
                      "splits": sum(w.category is sweep.ChunkSplitWarning for w in caught)}))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's VmSize")
def test_a_real_allocation_failure_on_the_cpu_is_split(tmp_path):
    code = (f"from tests.test_chunking import oom_child; "
            f"oom_child(400, {str(tmp_path)!r})")
    # One malloc arena: each new thread's arena reserves 64 MB of address space, which the
    # limit would count as memory used.
    env = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["splits"] >= 1 and max(out["sizes"]) < 16
    assert out["values"] == [8192 * 200 * 784.0] * 16  # every run trained, none lost


def test_paper_scale_transformer_phases_fit_ci_only_in_chunks():
    # Liu Fig. 7 right at the paper's scale: 256 members of the p = 53, d = 256 transformer
    # would not fit half of CI's 24 GiB; the budget cuts them into smaller ensembles.
    from grokpaper.liu import transformer_experiments as lt

    runs = lt.TransformerPhases().runs()
    group = runs[: lt.MAX_MEMBERS]
    assert lt.ensemble_memory(group, lt.MAX_MEMBERS).total > 12 * 2**30
    fit = memory.members_per_chunk(lambda m: lt.ensemble_memory(group, m), 12 * 2**30,
                                   lt.MAX_MEMBERS)
    assert 1 < fit < lt.MAX_MEMBERS
    assert lt.ensemble_memory(group, fit).total <= 12 * 2**30
