"""Claims and file hygiene of a shared store (issue 15, items 7-9).

* Taking over a dead worker's claim is atomic: of processes racing for it, exactly one wins
  (200 trials of two processes released by a barrier at once, on a slow file system).
* A claim is judged by its owner's host, boot, pid *and start time*: a pid reused by another
  process does not keep a claim alive; a claim from another host lives while its heartbeat is
  fresh (the heartbeat is refreshed while the chunk trains); a waiting sweep says whom it
  waits for on stderr.
* Files respect the umask (workers of other users can read a shared store), and leftovers of
  killed writers are swept once old: temp files, released claims, ``build/.running-*``.

Heavy imports (torch) are not needed: the racing processes import the store only.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from grokpaper.core import claims, sweep
from grokpaper.core.store import Store, config_key

REPO_ROOT = Path(__file__).resolve().parent.parent
TRIALS, RACERS = 200, 2


def _claim_and_exit(root: Path, names: list[str]) -> None:
    """A worker process that claims ``names`` and ends without releasing them."""
    code = ("import sys; from grokpaper.core.store import Store; s = Store(sys.argv[1]); "
            "assert all(s.claim(n) for n in sys.argv[2:])")
    subprocess.run([sys.executable, "-c", code, str(root), *names], cwd=REPO_ROOT, check=True)


def _racer(root: str, names: list[str], barrier, results) -> None:
    # A slow file system (NFS, a loaded disk): every read of a claim takes a moment longer,
    # which widens any window between judging a claim stale and acting on it.
    read_text = Path.read_text

    def slow_read_text(self, *args, **kwargs):
        text = read_text(self, *args, **kwargs)
        time.sleep(0.002)
        return text

    Path.read_text = slow_read_text
    store = Store(root)
    for name in names:
        barrier.wait()
        results.put((name, store.claim(name)))


def test_taking_over_a_dead_workers_claim_has_exactly_one_winner(tmp_path):
    names = [f"chunk{i}" for i in range(TRIALS)]
    _claim_and_exit(tmp_path, names)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(RACERS), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(str(tmp_path), names, barrier, results))
             for _ in range(RACERS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(RACERS * TRIALS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    wins = Counter(name for name, won in outcomes if won)
    twice = sorted(n for n in names if wins[n] > 1)
    none = sorted(n for n in names if wins[n] == 0)
    assert not twice, f"{len(twice)} of {TRIALS} dead claims were taken over twice"
    assert not none, f"{len(none)} of {TRIALS} dead claims were taken over by nobody"


def _plant(root: Path, name: str, owner: dict, *, gen: int = 0, age: float = 0.0) -> Path:
    """A claim on ``name`` by ``owner`` whose heartbeat is ``age`` seconds old."""
    path = root / "claims" / name / f"{gen}.claim"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(owner))
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_a_reused_pid_does_not_keep_a_claim_alive(tmp_path):
    store = Store(tmp_path)
    # The pid of a live process (this one), but the claim was made by a process started at
    # another time: the pid has been reused since, and the owner is gone.
    _plant(tmp_path, "reused", {**claims.me(), "start": claims.me()["start"] - 3600.0})
    assert store.claims.states() == {"reused": "stale"}
    assert store.claim("reused")
    # The same pid and start time: the owner lives, whatever its heartbeat's age.
    _plant(tmp_path, "alive", {**claims.me()}, age=10 * claims.STALE_S)
    assert not Store(tmp_path).claim("alive")


def test_claims_of_other_hosts_live_while_their_heartbeat_is_fresh(tmp_path):
    store = Store(tmp_path)
    other = {**claims.me(), "host": "elsewhere", "pid": 1}
    _plant(tmp_path, "fresh", other, age=claims.STALE_S / 2)
    _plant(tmp_path, "silent", other, age=claims.STALE_S + 5)
    assert store.claims.states() == {"fresh": "held", "silent": "stale"}
    assert not store.claim("fresh")
    assert store.claim("silent")
    # A reboot of this host ends every claim made before it, at once.
    _plant(tmp_path, "before-reboot", {**claims.me(), "boot": "another-boot"})
    assert store.claim("before-reboot")


def test_the_heartbeat_is_refreshed_while_a_chunk_trains(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "HEARTBEAT_S", 0.05)
    store = Store(tmp_path)
    seen: list[float] = []

    def train(runs, device):
        [folder] = (tmp_path / "claims").iterdir()
        path = folder / "0.claim"
        first = path.stat().st_mtime
        os.utime(path, (first - 100, first - 100))  # as if the claim were old
        time.sleep(0.5)
        seen.extend([first - 100, path.stat().st_mtime])
        assert store.claims.states()[folder.name] == "held"
        return [{"value": np.array([1.0])} for _ in runs]

    keys = [config_key("k", {"a": 1})]
    assert sweep.train_chunk("k", [{"a": 1}], keys, train, root=str(tmp_path), device="cpu",
                             seed_of=lambda r: 0) == "trained"
    assert seen[1] > seen[0] + 50  # refreshed during training
    assert set(store.claims.states().values()) == {"released"}


def test_a_waiting_sweep_says_whom_it_waits_for(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sweep, "_POLL_S", 0.05)
    store = Store(tmp_path)
    runs = [{"a": 1}, {"a": 2}]
    keys = [config_key("k", r) for r in runs]
    name = sweep.chunk_key("k", keys)
    assert store.claim(name)  # "another worker" of this process

    def finish_elsewhere():
        for key in keys:
            store.save("k", key, {"value": np.array([5.0])}, {"by": "other"})
        store.release(name)

    timer = threading.Timer(0.3, finish_elsewhere)
    timer.start()
    out = sweep.run_cached("k", runs, lambda rs, dev: pytest.fail("trained twice"),
                           group_key=lambda r: 0, seed_of=lambda r: r["a"], store=store,
                           device="cpu", progress=False)
    timer.join()
    assert [r.meta["by"] for r in out] == ["other", "other"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"waiting for 2 run(s) of k that pid {os.getpid()} on {claims.HOST}" in err


# --- files: the umask, leftovers ------------------------------------------------------------

@pytest.fixture
def umask_002():
    old = os.umask(0o002)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_respect_the_umask(tmp_path, umask_002):
    from grokpaper.core import verdicts

    store = Store(tmp_path)
    path = store.save("k", "ab" * 16, {"x": np.zeros(2)}, {})
    assert _mode(path) == 0o664  # others of the group can read (and replace) it
    v = verdicts.Verdict(paper="p", figure="f", claim="c", measured="m", verdict="supported",
                         page="x/y")
    assert _mode(verdicts.record("x/y", [v], profile="smoke", root=tmp_path)) == 0o664
    assert store.claim("c")
    [claim] = (tmp_path / "claims" / "c").glob("*.claim")
    assert _mode(claim) == 0o664
    os.umask(0o077)
    assert _mode(store.save("k", "cd" * 16, {"x": np.zeros(2)}, {})) == 0o600


def _age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (then, then))
    return path


def test_leftovers_of_killed_writers_are_swept_once_old(tmp_path, monkeypatch):
    from grokpaper.book import runner
    from grokpaper.book.notebooks import Layout
    from grokpaper.core import files

    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    layout = Layout(notebooks=tmp_path / "notebooks", book=tmp_path / "book",
                    build=tmp_path / "build", package=tmp_path / "pkg")
    store = Store(tmp_path / "store")
    store.save("k", "ab" * 16, {"x": np.zeros(2)}, {})
    old = files.LEFTOVER_AGE_S + 60
    shard = tmp_path / "store" / "k" / "ab"
    dead_tmp, young_tmp = shard / ".abab.npz.1234.tmp", shard / ".cdcd.npz.5678.tmp"
    page_tmp = layout.book / "c" / ".fig.ipynb.99.tmp"
    page_tmp.parent.mkdir(parents=True)
    for path in (dead_tmp, young_tmp, page_tmp):
        path.write_bytes(b"half written")
    _age(dead_tmp, old)
    _age(page_tmp, old)
    assert store.claim("done")
    store.release("done")
    _age(tmp_path / "store" / "claims" / "done", old)
    assert store.claim("working")
    _age(tmp_path / "store" / "claims" / "working", old)  # old, but its owner lives

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    layout.build.mkdir()
    running = {}
    for label, owner in (("dead", {**claims.me(), "pid": int(dead)}), ("live", claims.me()),
                         ("unknown", None)):
        folder = layout.build / f"{runner.RUNNING_PREFIX}{label}"
        folder.mkdir()
        (folder / "fig.ipynb").write_text("{}")
        if owner is not None:
            (folder / runner.OWNER_FILE).write_text(json.dumps(owner))
        running[label] = _age(folder, old)
    young = layout.build / f"{runner.RUNNING_PREFIX}young"
    young.mkdir()
    (layout.build / "keep.txt").write_text("not a leftover")
    _age(layout.build / "keep.txt", old)

    swept = runner.sweep_leftovers(layout)
    assert sorted(map(str, swept)) == sorted(map(str, [
        dead_tmp, page_tmp, tmp_path / "store" / "claims" / "done", running["dead"],
        running["unknown"]]))
    assert young_tmp.exists() and young.exists() and running["live"].exists()
    assert (layout.build / "keep.txt").exists()
    assert store.load("k", "ab" * 16) is not None
    assert store.claims.states() == {"working": "held"}
