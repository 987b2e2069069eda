"""Sweeps and notebooks on a real Dask LocalCluster of 2 worker processes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from grokpaper.book import cluster, runner
from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import profiles, sweep
from grokpaper.core.store import Store, config_key
from tests.test_runner import TINY, make_layout

distributed = pytest.importorskip("distributed")
# Workers unpickle this module's functions by value: the test folder is not on their path.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    with cluster.cluster(workers=2) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def test_sweep_split_across_workers_equals_in_process(client, tmp_path):
    params = profiles.resolve("carvalho.fig3b", synthetic.ShiftSweep, "smoke")
    runs = params.runs()
    local = synthetic.run(runs, store=Store(tmp_path / "local"), device="cpu", progress=False)
    keys = [config_key(synthetic.KIND, r) for r in runs]
    # max_members=1: every run is its own unit of work, spread over both workers
    results = sweep.run_cached(synthetic.KIND, runs, synthetic.train_runs, group_key=lambda r: 0,
                               seed_of=lambda r: r.seed, store=Store(tmp_path / "dask"),
                               device="cpu", max_members=1, progress=False, client=client)
    assert len(results) == len(keys)
    for row, res in zip(local.itertuples(), results, strict=True):
        np.testing.assert_allclose(row.test_acc, res.arrays["test_acc"], atol=1e-6)
        np.testing.assert_allclose(row.train_loss, res.arrays["train_loss"], rtol=1e-4)


def _slow_train(runs, device):
    time.sleep(1.5)
    return [{"value": np.array([float(r["a"]) * 2]), "pid": np.array([os.getpid()])}
            for r in runs]


def test_killing_a_worker_mid_sweep_loses_nothing(client, tmp_path):
    store = Store(tmp_path)
    runs = [{"a": i} for i in range(6)]
    pids = client.run(os.getpid)  # worker address -> pid
    victim = sorted(pids.values())[0]
    outcome: dict = {}

    import threading

    def go():
        outcome["results"] = sweep.run_cached(
            "slow", runs, _slow_train, group_key=lambda r: 0, seed_of=lambda r: r["a"],
            store=store, device="cpu", max_members=1, progress=False, client=client)

    t = threading.Thread(target=go)
    t.start()
    time.sleep(2.5)  # the first units have finished, others are running
    os.kill(victim, signal.SIGKILL)
    t.join(timeout=120)
    assert not t.is_alive()
    res = outcome["results"]
    assert [float(r.arrays["value"][0]) for r in res] == [0, 2, 4, 6, 8, 10]
    assert all(store.load("slow", config_key("slow", r)) is not None for r in runs)
    client.wait_for_workers(1, timeout=30)


def test_notebooks_run_as_tasks_with_summary_last(client, tmp_path: Path):
    layout = make_layout(tmp_path, {"a": TINY, "b": TINY, "summary": TINY})
    outcomes = runner.run(runner.discover(layout), "smoke", layout=layout, quiet=True,
                          client=client)
    assert sorted(o.notebook.name for o in outcomes[:2]) == ["a", "b"]
    assert outcomes[-1].notebook.name == "summary"
    assert all(o.status == "ran" for o in outcomes)
    assert all((layout.book / f"{n}.ipynb").exists() for n in ("a", "b", "summary"))


def _sweeping_notebook(store: Path) -> str:
    return ('# %% tags=["parameters"]\nprofile = "quick"\n\n# %%\nimport numpy as np\n'
            'from grokpaper.book import cluster\nfrom grokpaper.core import sweep\n'
            'from grokpaper.core.store import Store\n\n\n'
            'def train(runs, device):\n'
            '    return [{"value": np.array([3.0 * r["a"]])} for r in runs]\n\n\n'
            'assert cluster.current_client() is not None\n'
            'res = sweep.run_cached("nb", [{"a": i} for i in range(4)], train,\n'
            '                       group_key=lambda r: 0, seed_of=lambda r: r["a"],\n'
            f'                       store=Store({str(store)!r}), device="cpu", max_members=1,\n'
            '                       progress=False)\n'
            'assert [float(r.arrays["value"][0]) for r in res] == [0, 3, 6, 9]\n')


def test_a_notebook_kernel_shards_its_sweep_over_the_cluster(client, tmp_path: Path):
    # The kernel is a process of its own with no default Dask client: the sweep must use the
    # one it made for $GROKPAPER_SCHEDULER (this failed with "No clients found").
    store = tmp_path / "store"
    layout = make_layout(tmp_path, {"sweeping": _sweeping_notebook(store)})
    [out] = runner.run(runner.discover(layout), "smoke", layout=layout, quiet=True,
                       client=client)
    assert out.status == "ran", out.detail
    assert len(list(Store(store).root.rglob("*.npz"))) == 4


def test_settings_typed_on_the_client_reach_the_notebook_kernels(
        client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The workers started before these were set: only the task can hand them over.
    seen = tmp_path / "seen.txt"
    source = ('# %% tags=["parameters"]\nprofile = "quick"\n\n# %%\nimport os\n'
              f'open({str(seen)!r}, "w").write(os.environ["GROKPAPER_STORE"] + " " '
              '+ os.environ["GROKPAPER_MNIST"])\n')
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("GROKPAPER_MNIST", str(tmp_path / "mnist"))
    layout = make_layout(tmp_path, {"env": source})
    [out] = runner.run(runner.discover(layout), "smoke", layout=layout, quiet=True,
                       client=client)
    assert out.status == "ran", out.detail
    assert seen.read_text() == f"{tmp_path / 'store'} {tmp_path / 'mnist'}"


def _timed_notebook(log: Path, name: str) -> str:
    return ('# %% tags=["parameters"]\nprofile = "quick"\n\n# %%\nimport time\n'
            f'start = time.time()\ntime.sleep(1.0)\n'
            f'open({str(log / name)!r}, "w").write(f"{{start}} {{time.time()}}")\n')


def test_at_most_one_notebook_per_worker_thread_at_once(client, tmp_path: Path):
    # Notebook tasks secede from their threads, so without a limit all six would run at once.
    log = tmp_path / "log"
    log.mkdir()
    names = [f"nb{i}" for i in range(6)]
    layout = make_layout(tmp_path, {n: _timed_notebook(log, n) for n in names})
    assert cluster.notebook_slots(client) == 2
    outcomes = runner.run(runner.discover(layout), "smoke", layout=layout, quiet=True,
                          client=client)
    assert sorted(o.notebook.name for o in outcomes) == names
    assert all(o.status == "ran" for o in outcomes), [o.detail for o in outcomes]
    spans = [tuple(map(float, (log / n).read_text().split())) for n in names]
    most = max(sum(a <= t < b for a, b in spans) for t, _ in spans)
    assert most <= 2, spans


def test_cluster_arguments_are_validated(monkeypatch):
    monkeypatch.delenv(cluster.ENV, raising=False)  # the module's cluster may still be up
    with pytest.raises(ValueError, match="not both"), cluster.cluster(scheduler="tcp://x:1",
                                                                      workers=2):
        pass
    with pytest.raises(ValueError, match="workers"), cluster.cluster(workers=0):
        pass
    with cluster.cluster() as c:
        assert c is None and cluster.current_client() is None
