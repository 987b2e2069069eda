"""Nothing lost, nothing wrong (issue #8): kills, damaged files, racing writers, divergence.

* A sweep killed with SIGKILL at random points keeps every run it finished, intact, and the
  rerun gives results identical to an uninterrupted sweep.
* A truncated or corrupted result file is detected (checksum), reported, moved aside and
  recomputed; it is never returned. So is a valid file on another key's path (swapped or
  copied): every file records its key and kind, checked on load.
* Two processes writing the same key leave one complete result, never a mix.
* A diverging ensemble member is recorded with its step; the other members are unaffected.

Heavy imports (torch) stay inside functions: the writer processes of the race test import this
module and should start fast.
"""

from __future__ import annotations

import dataclasses
import io
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grokpaper.core import processes, sweep
from grokpaper.core.store import DamagedResultWarning, Store, config_key

REPO_ROOT = Path(__file__).resolve().parent.parent
KIND = "tiny-mlp"


# A small sweep of real training runs: an MLP ensemble on random data drawn from each run's seed.

@dataclasses.dataclass(frozen=True)
class TinyRun:
    seed: int
    steps: int = 40
    lr: float = 1e-2
    hidden: tuple[int, ...] = (16,)


def tiny_runs(n: int, steps: int = 40) -> list[TinyRun]:
    return [TinyRun(seed=s, steps=steps) for s in range(n)]


def tiny_train(runs: list[TinyRun], device: str) -> list[dict[str, np.ndarray]]:
    import torch

    from grokpaper.core.models import EnsembleMLP, MLPConfig
    from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same arithmetic in this process and in the sweep children
    try:
        xs, ys = [], []
        for r in runs:
            g = torch.Generator().manual_seed(1000 + r.seed)
            xs.append(torch.randn(32, 6, generator=g))
            ys.append(torch.randint(0, 3, (32,), generator=g))
        x, y = torch.stack(xs), torch.stack(ys)
        g = torch.Generator().manual_seed(7)
        x_test, y_test = torch.randn(64, 6, generator=g), torch.randint(0, 3, (64,), generator=g)
        data = EnsembleData(x, y, torch.full((len(runs),), 32), x_test, y_test, 3)
        seeds = [r.seed for r in runs]
        model = EnsembleMLP(6, 3, MLPConfig(hidden=runs[0].hidden, alpha=1.0), seeds)
        cfg = TrainConfig(steps=runs[0].steps, lr=runs[0].lr, batch_size=8, n_evals=6)
        hist = train_ensemble(model.to(device), data.to(device), cfg, seeds=seeds)
    finally:
        torch.set_num_threads(threads)
    return [hist.member(e) for e in range(len(runs))]


def run_sweep(runs: list[TinyRun], store: Store, train=tiny_train, max_members: int = 2):
    return sweep.run_cached(KIND, runs, train, group_key=lambda r: (r.steps, r.lr, r.hidden),
                            seed_of=lambda r: r.seed, store=store, device="cpu",
                            max_members=max_members, progress=False)


def counting(calls: list[list[int]]):
    def train(runs, device):
        calls.append([r.seed for r in runs])
        return tiny_train(runs, device)
    return train


def assert_same(a, b) -> None:
    assert sorted(a.arrays) == sorted(b.arrays)
    for name in a.arrays:
        np.testing.assert_array_equal(a.arrays[name], b.arrays[name], err_msg=name)


@pytest.fixture
def one_thread():
    """Tiny tensors on a busy machine: one torch thread is faster and just as exact."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- SIGKILL at random points -----------------------------------------------------------------

#: The sweep the killed children run: 12 runs in 6 ensembles of 2, a few seconds in all.
KILL_RUNS = dict(n=12, steps=300)


def sweep_main(root: str) -> None:
    """Child process: run the kill test's sweep into ``root`` (``python -c``, see below)."""
    runs = tiny_runs(**KILL_RUNS)
    tiny_train([TinyRun(seed=99, steps=2)], "cpu")  # imports and warm-up: kills hit the sweep
    print("started", flush=True)
    run_sweep(runs, Store(root))
    print("done", flush=True)


def _child(root: Path, main: str = "sweep_main", ready: str = "started") -> subprocess.Popen:
    """``tests.test_faults.<main>(root)`` in a new process, once it has printed ``ready``.

    The sweep trains in that process (no worker processes): a SIGKILL then stops the training
    itself, as these tests mean, and the kill's timing is not eaten by starting workers."""
    code = f"from tests.test_faults import {main}; {main}({str(root)!r})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, processes.ENV: "1"})
    line = proc.stdout.readline().strip()
    if line != ready:
        proc.kill()
        proc.wait()
        pytest.fail(f"child printed {line!r}: {proc.stderr.read()}")
    return proc


def _stored(store: Store) -> dict[str, object]:
    """Every result file in ``store``, loaded; a damaged one fails the test."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedResultWarning)
        for path in sorted((store.root / KIND).rglob("*.npz")):
            res = store.load(KIND, path.stem)
            assert res is not None, f"{path} vanished"
            out[path.stem] = res
    assert not list(store.root.rglob("*.damaged"))
    return out


def test_sigkilled_sweep_keeps_finished_runs_and_resumes_identically(tmp_path):
    runs = tiny_runs(**KILL_RUNS)
    keys = [config_key(KIND, r) for r in runs]
    tiny_train([TinyRun(seed=99, steps=2)], "cpu")  # as the children do before "started"
    start = time.perf_counter()
    reference = dict(zip(keys, run_sweep(runs, Store(tmp_path / "reference")), strict=True))
    uninterrupted_s = time.perf_counter() - start
    print(f"uninterrupted sweep: {uninterrupted_s:.1f}s")

    store = Store(tmp_path / "killed")
    rng = random.Random(8)
    before: dict[str, object] = {}
    partial_kills = 0
    for _ in range(3):
        proc = _child(store.root)
        time.sleep(rng.uniform(0.1, 0.4) * uninterrupted_s)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()  # reaped: its claim is then recognized as a dead owner's
        if alive:
            assert proc.returncode == -signal.SIGKILL
        now = _stored(store)
        assert set(before) <= set(now), "a finished run was lost"
        for key, res in now.items():
            assert key in reference
            assert_same(res, reference[key])  # every stored run is complete and right
        partial_kills += 0 < len(now) < len(keys)
        print(f"kill {alive=}: {len(now)} of {len(keys)} runs stored")
        before = now
    assert partial_kills >= 1, "no kill landed in the middle of the sweep"

    proc = _child(store.root)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip() == "done", err
    final = _stored(store)
    assert sorted(final) == sorted(keys)
    for key in keys:
        assert_same(final[key], reference[key])
    # Dead owners' claims were taken over, and every claim is released now.
    assert set(store.claims.states().values()) == {"released"}
    # The resumed sweep reads the same results through the sweep API as well.
    for key, res in zip(keys, run_sweep(runs, store, train=counting(calls := [])), strict=True):
        assert_same(res, reference[key])
    assert calls == []


def fake_train(runs, device):
    """Deterministic stand-in for training (numpy only, no torch)."""
    return [{"value": np.full(1000, float(r.seed)), "seed": np.array(r.seed)} for r in runs]


def stalled_write_main(root: str) -> None:
    """Child process: a sweep whose second result write stalls just before its ``fsync``."""
    calls = 0
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            print("writing", flush=True)
            time.sleep(600)
        real_fsync(fd)

    os.fsync = fsync
    run_sweep(tiny_runs(3), Store(root), train=fake_train, max_members=3)


def test_kill_in_the_middle_of_a_write_leaves_no_partial_result(tmp_path):
    proc = _child(tmp_path, "stalled_write_main", ready="writing")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = Store(tmp_path)
    runs = tiny_runs(3)
    keys = [config_key(KIND, r) for r in runs]
    assert list((tmp_path / KIND).rglob("*.tmp"))  # the half-done write, under a temp name
    assert [store.has(KIND, k) for k in keys] == [True, False, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedResultWarning)
        assert store.load(KIND, keys[0]).arrays["value"][0] == 0.0  # the finished run: intact
        assert store.load(KIND, keys[1]) is None  # absent, not half there
        calls: list[list[int]] = []

        def train(todo, device):
            calls.append([r.seed for r in todo])
            return fake_train(todo, device)

        out = run_sweep(runs, store, train=train, max_members=3)
    assert calls == [[0, 1, 2]]  # the chunk trains whole, as it would have uninterrupted
    assert [int(r.arrays["seed"]) for r in out] == [0, 1, 2]


# --- damaged files ----------------------------------------------------------------------------

def _npz_entries(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _array_data_offset(path: Path, name: str) -> tuple[int, int]:
    """(offset, length) in ``path`` of the raw bytes of array ``name`` (a stored zip entry)."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(f"{name}.npy")
    assert info.compress_type == zipfile.ZIP_STORED
    local = info.header_offset
    name_len = int.from_bytes(raw[local + 26 : local + 28], "little")
    extra_len = int.from_bytes(raw[local + 28 : local + 30], "little")
    npy = local + 30 + name_len + extra_len
    assert raw[npy : npy + 6] == b"\x93NUMPY" and raw[npy + 6] == 1
    header_len = int.from_bytes(raw[npy + 8 : npy + 10], "little")
    start = npy + 10 + header_len
    return start, npy + info.file_size - start


@pytest.fixture
def swept(tmp_path):
    """A finished 4-run sweep: (runs, store, results, path of run 1's file)."""
    runs = tiny_runs(4)
    store = Store(tmp_path)
    results = run_sweep(runs, store)
    return runs, store, results, store.path(KIND, config_key(KIND, runs[1]))


def _recomputes(runs, store, results, path, damaged_chunk) -> None:
    calls: list[list[int]] = []
    with pytest.warns(DamagedResultWarning, match=path.name) as record:
        again = run_sweep(runs, store, train=counting(calls))
    assert len(record) == 1 and "it will be recomputed" in str(record[0].message)
    assert calls == [damaged_chunk]  # only the damaged run's ensemble trains again
    for a, b in zip(again, results, strict=True):
        assert_same(a, b)
    assert path.with_name(path.name + ".damaged").exists()  # kept for inspection
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedResultWarning)
        assert_same(store.load(KIND, path.stem), results[1])


@pytest.mark.parametrize("keep", [0, 100, 0.5, -1])
def test_truncated_file_is_reported_and_recomputed(swept, keep):
    runs, store, results, path = swept
    raw = path.read_bytes()
    cut = int(len(raw) * keep) if isinstance(keep, float) else keep % len(raw)
    path.write_bytes(raw[:cut])  # a partial write (e.g. copied off a full disk)
    _recomputes(runs, store, results, path, [0, 1])


def test_flipped_bytes_in_array_data_are_reported_and_recomputed(swept):
    runs, store, results, path = swept
    start, length = _array_data_offset(path, "test_acc")
    raw = bytearray(path.read_bytes())
    for i in (start + length // 2, start + length // 2 + 1):
        raw[i] ^= 0x10
    path.write_bytes(bytes(raw))
    _recomputes(runs, store, results, path, [0, 1])


def test_checksum_catches_damage_that_numpy_reads_silently(swept):
    """A flipped byte in the zip's directory can hide or rename entries while every remaining
    entry still passes its CRC: np.load reads such a file without complaint. The checksum
    rejects each of them (without it these files would be returned as results)."""
    runs, store, results, path = swept
    raw = path.read_bytes()
    original = _npz_entries(raw)
    directory = raw.index(b"PK\x01\x02")  # the zip's central directory starts here
    silent = []
    for i in range(directory, len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        try:
            entries = _npz_entries(bytes(flipped))
        except Exception:
            continue  # numpy or zipfile noticed by itself
        if entries.keys() != original.keys() or any(
                not np.array_equal(entries[k], original[k]) for k in original):
            silent.append(bytes(flipped))
    print(f"{len(silent)} silent flips of {len(raw) - directory} directory bytes")
    assert silent, "expected directory flips that np.load does not notice"
    for damaged in silent[:4]:
        path.write_bytes(damaged)
        with pytest.warns(DamagedResultWarning, match="checksum|unreadable"):
            assert store.load(KIND, path.stem) is None
    path.unlink(missing_ok=True)
    calls: list[list[int]] = []
    for a, b in zip(run_sweep(runs, store, train=counting(calls)), results, strict=True):
        assert_same(a, b)
    assert calls == [[0, 1]]


def test_consistent_but_wrong_file_fails_its_checksum(swept):
    """A file rewritten with one changed value (valid zip, valid CRCs, e.g. damaged in memory
    before a copy) is caught by the checksum alone."""
    runs, store, results, path = swept
    entries = _npz_entries(path.read_bytes())
    entries["test_acc"] = entries["test_acc"].copy()
    entries["test_acc"][-1] += 0.25
    buf = io.BytesIO()
    np.savez(buf, **entries)
    path.write_bytes(buf.getvalue())
    assert _npz_entries(path.read_bytes())["test_acc"][-1] != results[1].arrays[
        "test_acc"][-1]  # numpy reads it fine
    with pytest.warns(DamagedResultWarning, match="checksum mismatch"):
        assert store.load(KIND, path.stem) is None


def test_lost_checksum_entry_is_damage_but_old_files_still_load(tmp_path):
    store = Store(tmp_path)
    path = store.save("k", "ab" * 16, {"x": np.arange(3.0)}, {"note": 1})
    entries = _npz_entries(path.read_bytes())
    del entries["__sha256__"]
    buf = io.BytesIO()
    np.savez(buf, **entries)
    path.write_bytes(buf.getvalue())
    with pytest.warns(DamagedResultWarning, match="checksum entry is missing"):
        assert store.load("k", "ab" * 16) is None
    # A file from before checksums (no checksum entry, no store_format in its meta) loads.
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array(json.dumps({"note": 2})), x=np.arange(3.0))
    path.write_bytes(buf.getvalue())
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedResultWarning)
        res = store.load("k", "ab" * 16)
    assert res.meta == {"note": 2} and res.arrays["x"].tolist() == [0.0, 1.0, 2.0]


def test_saved_meta_is_returned_as_given(tmp_path):
    store = Store(tmp_path)
    store.save("k", "cd" * 16, {"x": np.zeros(2)}, {"a": [1, 2]})
    assert store.load("k", "cd" * 16).meta == {"a": [1, 2]}
    with pytest.raises(ValueError, match="reserved"):
        store.save("k", "cd" * 16, {"__sha256__": np.zeros(1)}, {})
    with pytest.raises(ValueError, match="reserved"):
        store.save("k", "cd" * 16, {"x": np.zeros(1)}, {"store_format": 1})


def test_swapped_results_are_caught_reported_and_recomputed(swept):
    """Two valid results swapped (issue 15, item 1): each file passes its checksum, but holds
    another config's numbers; loaded for its path's key, each is damage."""
    runs, store, results, path1 = swept
    path0 = store.path(KIND, config_key(KIND, runs[0]))
    raw0, raw1 = path0.read_bytes(), path1.read_bytes()
    path0.write_bytes(raw1)
    path1.write_bytes(raw0)
    calls: list[list[int]] = []
    with pytest.warns(DamagedResultWarning, match="holds the result of another config") as rec:
        again = run_sweep(runs, store, train=counting(calls))
    assert len(rec) == 2 and {path0.name, path1.name} <= {
        Path(str(w.message).split(":")[0].split()[-1]).name for w in rec}
    assert calls == [[0, 1]]  # retrained, and the right numbers for each run
    for a, b in zip(again, results, strict=True):
        assert_same(a, b)
    assert path0.with_name(path0.name + ".damaged").exists()


def test_swapped_files_of_the_previous_format_are_caught_too(swept):
    """Files written before keys were recorded (format 2) are checked by recomputing the key
    of the config they record."""
    from grokpaper.core.store import payload_sha256

    runs, store, results, path1 = swept
    path0 = store.path(KIND, config_key(KIND, runs[0]))
    for path in (path0, path1):  # rewrite both as format 2: no key or kind in the meta
        entries = _npz_entries(path.read_bytes())
        meta = json.loads(str(entries.pop("__meta__")))
        del entries["__sha256__"], meta["store_key"], meta["store_kind"]
        meta["store_format"] = 2
        meta_json = json.dumps(meta)
        buf = io.BytesIO()
        np.savez(buf, __meta__=np.array(meta_json),
                 __sha256__=np.array(payload_sha256(meta_json, entries)), **entries)
        path.write_bytes(buf.getvalue())
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedResultWarning)
        assert_same(store.load(KIND, path0.stem), results[0])  # a format-2 file still loads
    raw0 = path0.read_bytes()
    path0.write_bytes(path1.read_bytes())
    path1.write_bytes(raw0)
    with pytest.warns(DamagedResultWarning, match="holds the result of another config"):
        assert store.load(KIND, path0.stem) is None


# --- two writers of one key -------------------------------------------------------------------

def _payload(writer: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(writer)
    return {"big": rng.standard_normal(200_000), "small": np.full(3, float(writer))}


def _writer(root: str, writer: int, times: int, go) -> None:
    store = Store(root)
    payload = _payload(writer)
    go.wait()
    for i in range(times):
        store.save(KIND, "ee" * 16, payload, {"writer": writer, "i": i})


def test_two_writers_of_one_key_leave_one_complete_result(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 25, go)) for w in (1, 2)]
    for p in procs:
        p.start()
    store = Store(tmp_path)
    expected = {w: _payload(w) for w in (1, 2)}

    def check(res) -> None:
        assert res.arrays.keys() == {"big", "small"}
        want = expected[res.meta["writer"]]  # arrays and meta from the same writer
        for name in want:
            np.testing.assert_array_equal(res.arrays[name], want[name])

    go.set()
    reads = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedResultWarning)  # readers never see a partial file
        while any(p.is_alive() for p in procs):
            res = store.load(KIND, "ee" * 16)
            if res is not None:
                check(res)
                reads += 1
        for p in procs:
            p.join()
            assert p.exitcode == 0
        check(store.load(KIND, "ee" * 16))
    assert reads > 0
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{'ee' * 16}.npz"]


# --- divergence -------------------------------------------------------------------------------

def test_diverging_member_is_recorded_and_the_others_go_on(one_thread):
    import torch

    from grokpaper.core.models import EnsembleMLP, MLPConfig
    from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble

    def data(seeds: list[int]) -> EnsembleData:
        xs, ys = [], []
        for s in seeds:
            g = torch.Generator().manual_seed(100 + s)
            xs.append(torch.randn(24, 5, generator=g))
            ys.append(torch.randint(0, 3, (24,), generator=g))
        g = torch.Generator().manual_seed(0)
        return EnsembleData(torch.stack(xs), torch.stack(ys), torch.full((len(seeds),), 24),
                            torch.randn(40, 5, generator=g),
                            torch.randint(0, 3, (40,), generator=g), 3)

    # Full batch and an evaluation at every step: the recorded train loss is the loss the
    # divergence check saw. Member 1 (a large init scale is shared; its learning rate is 1e9)
    # blows up after a few steps.
    cfg = TrainConfig(steps=30, batch_size=None, n_evals=31, eval_spacing="linear",
                      optimizer="sgd", weight_decay=0.0)
    mcfg = MLPConfig(hidden=(16, 16), alpha=4.0)
    seeds, lrs = [0, 1, 2], torch.tensor([1e-2, 1e9, 3e-2])
    model = EnsembleMLP(5, 3, mcfg, seeds)
    hist = train_ensemble(model, data(seeds), cfg, seeds=seeds, lr=lrs)

    step = int(hist.diverged_step[1])
    assert hist.diverged_step[0] == hist.diverged_step[2] == -1
    assert 0 < step < cfg.steps
    assert np.isfinite(hist.train_loss[1, :step]).all()
    assert not np.isfinite(hist.train_loss[1, step:]).any()

    keep = [0, 2]
    alone = EnsembleMLP(5, 3, mcfg, [seeds[e] for e in keep])
    ref = train_ensemble(alone, data([seeds[e] for e in keep]), cfg,
                         seeds=[seeds[e] for e in keep], lr=lrs[keep])
    assert (ref.diverged_step == -1).all()
    for name in ("train_loss", "train_acc", "test_loss", "test_acc", "weight_norm"):
        np.testing.assert_allclose(getattr(hist, name)[keep], getattr(ref, name), rtol=1e-5,
                                   atol=1e-6, err_msg=name)
    for p_all, p_ref in zip(model.parameters(), alone.parameters(), strict=True):
        np.testing.assert_allclose(p_all[keep].detach().numpy(), p_ref.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_divergence_step_is_stored_with_the_run(tmp_path):
    runs = [TinyRun(seed=0), TinyRun(seed=1, lr=1e12)]
    res = run_sweep(runs, Store(tmp_path))
    assert int(res[0].arrays["diverged_step"]) == -1
    assert int(res[1].arrays["diverged_step"]) >= 0

