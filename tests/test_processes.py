"""Chunks trained side by side in worker processes: the same results as one after another."""

import dataclasses
import os
import subprocess
import sys
import time
import warnings
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from grokpaper.core import processes, sweep
from grokpaper.core.store import Store
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib.figures import Base


def _runs() -> list:
    """Three ensembles (three batch sizes) of a tiny Li & Sakib sweep; one member draws
    embedding noise, whose generator is seeded from all members of its ensemble."""
    base = Base(p=5, train_frac=0.5, d_model=8, steps=12, n_evals=4)
    return [base.run(batch_size=b, seed=s, noise=n)
            for b in (2, 4, 8) for s, n in ((0, 0.0), (1, 0.5))]


def _stored(store: Store, runs: list) -> list:
    return sweep.run_cached(lisakib.KIND, runs, lisakib.train_runs, group_key=lambda r: r.train,
                            seed_of=lambda r: r.seed, store=store, device="cpu",
                            progress=False, workers=1)  # all stored: nothing trains here


def test_side_by_side_equals_one_after_another(tmp_path):
    runs = _runs()
    kw = dict(group_key=lambda r: r.train, seed_of=lambda r: r.seed, device="cpu",
              progress=False)
    serial, side = Store(tmp_path / "serial"), Store(tmp_path / "side")
    sweep.run_cached(lisakib.KIND, runs, lisakib.train_runs, store=serial, workers=1, **kw)
    sweep.run_cached(lisakib.KIND, runs, lisakib.train_runs, store=side, workers=2, **kw)
    for a, b in zip(_stored(serial, runs), _stored(side, runs), strict=True):
        assert a.arrays.keys() == b.arrays.keys()
        for k in a.arrays:
            np.testing.assert_array_equal(a.arrays[k], b.arrays[k], err_msg=k)
        # each chunk's seeds, looked up in this process for the workers
        assert a.meta["provenance"]["seeds"] == b.meta["provenance"]["seeds"] == [0, 1]
        assert a.meta["ensemble_size"] == b.meta["ensemble_size"] == 2


@dataclasses.dataclass(frozen=True)
class Job:
    a: int
    seed: int = 0


def _record_pid(runs: list[Job], device: str) -> list[dict[str, np.ndarray]]:
    return [{"pid": np.array([os.getpid()]), "a": np.array([r.a])} for r in runs]


def _fail(runs: list[Job], device: str) -> list[dict[str, np.ndarray]]:
    raise RuntimeError(f"chunk {[r.a for r in runs]} failed")


def _die(runs: list[Job], device: str) -> list[dict[str, np.ndarray]]:
    os._exit(3)  # a worker killed mid-chunk (out of memory, a signal)


def test_chunks_go_to_worker_processes_and_results_come_back_in_order(tmp_path):
    jobs = [Job(a=i) for i in range(6)]
    out = sweep.run_cached("jobs", jobs, _record_pid, group_key=lambda r: r.a % 3,
                           seed_of=lambda r: r.seed, store=Store(tmp_path), device="cpu",
                           max_members=1, progress=False, workers=2)
    assert [int(r.arrays["a"][0]) for r in out] == list(range(6))
    pids = {int(r.arrays["pid"][0]) for r in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_a_closure_trains_in_this_process(tmp_path):
    calls = []

    def train(runs, device):
        calls.append([r.a for r in runs])
        return [{"pid": np.array([os.getpid()])} for r in runs]

    out = sweep.run_cached("jobs", [Job(a=i) for i in range(4)], train, group_key=lambda r: r.a,
                           seed_of=lambda r: r.seed, store=Store(tmp_path), device="cpu",
                           progress=False, workers=2)
    assert sorted(calls) == [[0], [1], [2], [3]]
    assert {int(r.arrays["pid"][0]) for r in out} == {os.getpid()}


def test_a_failing_chunk_raises_here_and_a_dead_worker_does_not_break_the_next_sweep(tmp_path):
    kw = dict(group_key=lambda r: r.a, seed_of=lambda r: r.seed, store=Store(tmp_path),
              device="cpu", progress=False, workers=2)
    with pytest.raises(RuntimeError, match="failed"):
        sweep.run_cached("fail", [Job(a=i) for i in range(2)], _fail, **kw)
    with pytest.raises(BrokenProcessPool):
        sweep.run_cached("die", [Job(a=i) for i in range(2)], _die, **kw)
    out = sweep.run_cached("after", [Job(a=i) for i in range(2)], _record_pid, **kw)
    assert [int(r.arrays["a"][0]) for r in out] == [0, 1]
    # the dead worker's claims are taken over: the chunks train again
    out = sweep.run_cached("die", [Job(a=i) for i in range(2)], _record_pid, **kw)
    assert [int(r.arrays["a"][0]) for r in out] == [0, 1]


def test_how_many_workers(monkeypatch):
    monkeypatch.delenv(processes.ENV, raising=False)
    cores = processes.usable_cores()
    assert processes.workers_for("cpu", 1) == 1  # one chunk: nothing to put side by side
    assert processes.workers_for("cuda", 8) == 1  # one GPU: its chunks share it
    assert processes.workers_for("cpu", 100) == cores
    assert processes.workers_for("cpu", 2) == min(2, cores)
    monkeypatch.setenv(processes.ENV, "3")
    assert processes.workers_for("cpu", 8) == 3 and processes.workers_for("cpu", 2) == 2
    monkeypatch.setenv(processes.ENV, "1")
    assert processes.workers_for("cpu", 8) == 1
    for bad in ("0", "two"):
        monkeypatch.setenv(processes.ENV, bad)
        with pytest.raises(ValueError, match=processes.ENV):
            processes.workers_for("cpu", 8)
    with pytest.raises(ValueError, match="workers"):
        sweep.run_cached("jobs", [Job(a=0)], _record_pid, group_key=lambda r: 0,
                         seed_of=lambda r: r.seed, device="cpu", workers=0)


def test_seeds_of_and_picklable():
    seeds = processes.SeedsOf([Job(a=1), Job(a=2)], [7, 9])
    assert seeds(Job(a=2)) == 9 and seeds(Job(a=1)) == 7
    assert processes.picklable(_record_pid, [Job(a=1)], seeds)
    assert not processes.picklable(lambda r: r)


_ORPHAN_PARENT = """
import os, sys
from grokpaper.core import processes
pids = [pid for _, pid in processes.side_by_side(os.getpid, [((), {}), ((), {})], 2)]
print(" ".join(map(str, pids)), flush=True)
os._exit(0)  # no exit handlers: the pool is never shut down
"""


def test_workers_end_when_their_parent_is_killed():
    # A kernel shut down from outside skips atexit; its workers used to stay, idle, for good.
    out = subprocess.run([sys.executable, "-c", _ORPHAN_PARENT], capture_output=True, text=True,
                         env={**os.environ, processes.ENV: "2"}, timeout=120, check=True)
    pids = {int(p) for p in out.stdout.split()}
    assert pids and os.getpid() not in pids
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # An exited child of init may linger as a zombie until reaped: that counts as ended.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


_UNGUARDED = """
import os
from grokpaper.core import sweep
from grokpaper.core.store import Store
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib.figures import Base

base = Base(p=5, train_frac=0.5, d_model=8, steps=4, n_evals=2)
runs = [base.run(batch_size=b, seed=0) for b in (2, 4)]
out = sweep.run_cached(lisakib.KIND, runs, lisakib.train_runs, group_key=lambda r: r.train,
                       seed_of=lambda r: r.seed, store=Store(os.environ["STORE"]),
                       device="cpu", progress=False, workers=2)
print("trained", len(out), flush=True)
"""


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_a_script_without_a_main_guard_trains_in_its_own_process(tmp_path, how):
    # A spawned worker imports the script again: unguarded, it would rerun the sweep inside the
    # worker (and crash it); from stdin there is no file to import.
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED)
    env = {**os.environ, "STORE": str(tmp_path / "store")}
    cmd, stdin = ([sys.executable, str(script)], None) if how == "script" else \
        ([sys.executable, "-"], _UNGUARDED)
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("trained 2") == 1
    assert "put its work under `if __name__" in done.stderr


def test_spawn_safe_reads_the_main_guard(tmp_path, monkeypatch):
    import types

    guarded, bare = tmp_path / "guarded.py", tmp_path / "bare.py"
    guarded.write_text("def main(): ...\n\nif __name__ == '__main__':\n    main()\n")
    bare.write_text("print('work')\n")
    for path, safe in ((guarded, True), (bare, False), (tmp_path / "<stdin>", False),
                       (None, True)):
        main = types.ModuleType("__main__")
        if path is not None:
            main.__file__ = str(path)
        monkeypatch.setitem(sys.modules, "__main__", main)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            assert processes.spawn_safe() is safe, path
