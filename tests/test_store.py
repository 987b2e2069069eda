"""Result store and cached sweeps: keys, atomic writes, resume after interruption."""

import dataclasses

import numpy as np
import pytest

from grokpaper.core import sweep
from grokpaper.core.store import DamagedResultWarning, Store, config_key


@dataclasses.dataclass(frozen=True)
class Cfg:
    a: int = 1
    b: tuple[float, ...] = (0.5,)


def test_config_key_is_stable_and_sensitive():
    assert config_key("k", Cfg()) == config_key("k", Cfg())
    assert config_key("k", Cfg()) != config_key("k", Cfg(a=2))
    assert config_key("k", Cfg()) != config_key("other", Cfg())
    assert config_key("k", {"x": 1, "y": 2}) == config_key("k", {"y": 2, "x": 1})
    with pytest.raises(TypeError, match="object"):
        config_key("k", {"x": object()})


def test_save_load_roundtrip_with_metadata(tmp_path):
    store = Store(tmp_path)
    key = config_key("k", Cfg())
    store.save("k", key, {"curve": np.arange(5.0)}, {"config": Cfg(), "note": "hi"})
    res = store.load("k", key)
    np.testing.assert_array_equal(res.arrays["curve"], np.arange(5.0))
    assert res.meta["note"] == "hi" and res.meta["config"]["a"] == 1
    assert store.load("k", "0" * 32) is None
    assert not list(tmp_path.rglob("*.tmp"))  # no temp files left behind


def test_damaged_file_reads_as_missing(tmp_path):
    store = Store(tmp_path)
    key = config_key("k", Cfg())
    path = store.save("k", key, {"x": np.ones(3)}, {})
    path.write_bytes(path.read_bytes()[:20])  # truncated write
    with pytest.warns(DamagedResultWarning, match=key):
        assert store.load("k", key) is None


def _fake_train(calls):
    def train(runs, device):
        calls.append([r.a for r in runs])
        return [{"value": np.array([r.a * 10.0])} for r in runs]
    return train


def test_sweep_trains_only_missing_runs_in_chunks(tmp_path):
    store = Store(tmp_path)
    runs = [Cfg(a=i) for i in range(5)]
    calls: list[list[int]] = []
    kw = dict(group_key=lambda r: 0, seed_of=lambda r: r.a, store=store, device="cpu",
              progress=False)
    out = sweep.run_cached("k", runs, _fake_train(calls), max_members=2, **kw)
    assert calls == [[0, 1], [2, 3], [4]]
    assert [float(r.arrays["value"][0]) for r in out] == [0, 10, 20, 30, 40]
    assert out[0].meta["provenance"]["seeds"] == [0, 1]
    calls.clear()
    sweep.run_cached("k", runs + [Cfg(a=7)], _fake_train(calls), max_members=2, **kw)
    # Chunks are fixed cuts of the run list: [0,1] [2,3] come from the store, while [4, 7]
    # trains whole so that its ensemble is the one an uninterrupted sweep would train.
    assert calls == [[4, 7]]


def test_interrupted_sweep_keeps_finished_chunks(tmp_path):
    store = Store(tmp_path)
    runs = [Cfg(a=i) for i in range(4)]

    def dies_on_second_chunk(todo, device):
        if todo[0].a == 2:
            raise KeyboardInterrupt
        return [{"value": np.array([1.0])} for _ in todo]

    kw = dict(group_key=lambda r: 0, seed_of=lambda r: r.a, store=store, device="cpu",
              progress=False, max_members=2)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_cached("k", runs, dies_on_second_chunk, **kw)
    calls: list[list[int]] = []
    sweep.run_cached("k", runs, _fake_train(calls), **kw)
    assert calls == [[2, 3]]


def test_groups_train_separately(tmp_path):
    calls: list[list[int]] = []
    sweep.run_cached("k", [Cfg(a=i) for i in range(4)], _fake_train(calls),
                     group_key=lambda r: r.a % 2, seed_of=lambda r: r.a, store=Store(tmp_path),
                     device="cpu", progress=False)
    assert sorted(calls) == [[0, 2], [1, 3]]


def test_claims_block_live_owners_and_take_over_dead_ones(tmp_path):
    import json
    import subprocess
    import sys

    from grokpaper.core import claims

    store = Store(tmp_path)
    assert store.claim("c") and not store.claim("c")  # held by this (live) process
    assert not Store(tmp_path).claim("c")  # ... also for another Store of this process
    store.release("c")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    path = tmp_path / "claims" / "c" / "1.claim"  # the newest generation, not released
    path.write_text(json.dumps({**claims.me(), "pid": int(dead), "start": 0.0}))
    assert store.claims.states() == {"c": "stale"}
    assert store.claim("c")  # its owner is gone: the claim is taken over
    assert store.claims.states() == {"c": "held"}


def test_sweep_waits_for_a_chunk_another_process_is_training(tmp_path, monkeypatch):
    import threading

    store = Store(tmp_path)
    runs = [Cfg(a=1), Cfg(a=2)]
    keys = [config_key("k", r) for r in runs]
    chunk = config_key("chunk", ["k", keys])
    assert store.claim(chunk)  # "another worker" holds the chunk
    monkeypatch.setattr(sweep, "_POLL_S", 0.05)

    def finish_elsewhere():
        for key in keys:
            store.save("k", key, {"value": np.array([5.0])}, {"by": "other"})
        store.release(chunk)

    timer = threading.Timer(0.3, finish_elsewhere)
    timer.start()
    calls: list[list[int]] = []
    out = sweep.run_cached("k", runs, _fake_train(calls), group_key=lambda r: 0,
                           seed_of=lambda r: r.a, store=store, device="cpu", progress=False)
    timer.join()
    assert calls == [] and [r.meta["by"] for r in out] == ["other", "other"]


def test_the_key_is_the_config_alone_and_provenance_records_the_device(tmp_path):
    """Issue 15, item 13: a result trained on one device is reused on another (same config,
    same seeds: the same experiment), and its provenance says where it trained; the README
    says the same."""
    from pathlib import Path

    store = Store(tmp_path)
    runs = [Cfg(a=1), Cfg(a=2)]
    kw = dict(group_key=lambda r: 0, seed_of=lambda r: r.a, store=store, progress=False)
    calls: list[list[int]] = []
    first = sweep.run_cached("k", runs, _fake_train(calls), device="cpu", **kw)
    again = sweep.run_cached("k", runs, _fake_train(calls), device="cuda:0", **kw)
    assert calls == [[1, 2]]  # trained once, on the CPU; reused for the GPU run
    assert [r.meta["provenance"]["device"] for r in again] == ["cpu", "cpu"]
    assert [float(r.arrays["value"][0]) for r in again] == [
        float(r.arrays["value"][0]) for r in first]
    assert config_key("k", runs[0]) == config_key("k", Cfg(a=1))  # no device in the key
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "store keys include the device" not in readme
    assert "a GPU run reuses results a CPU run stored" in " ".join(readme.split())
