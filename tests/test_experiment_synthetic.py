"""The synthetic experiment end to end: ensemble runs, cache hits, Definition 3.1 columns."""

import numpy as np

from grokpaper.carvalho import experiments as synthetic
from grokpaper.core import profiles
from grokpaper.core.store import Store


def test_smoke_sweep_trains_once_then_loads(tmp_path):
    params = profiles.resolve("carvalho.fig3b", synthetic.ShiftSweep, "smoke")
    store = Store(tmp_path)
    df = synthetic.run(params.runs(), store=store, device="cpu", progress=False)
    assert len(df) == len(params.fs) * params.seeds
    assert {"def31_grokked", "def31_delta_S", "test_acc_subsampled"} <= set(df.columns)
    first = np.stack(df["test_acc"])
    files = sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*.npz"))
    again = synthetic.run(params.runs(), store=store, device="cpu", progress=False)
    np.testing.assert_array_equal(first, np.stack(again["test_acc"]))
    assert files == sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*.npz"))  # no retrain
    # f = 0: the removed subclasses are never seen, their test accuracy is not above chance x2
    zero = df[df["f"] == 0]
    # each run's provenance names the seeds of the ensemble it trained in (one per CPU core)
    for seed, prov in zip(df["seed"], df["provenance"], strict=True):
        assert seed in prov["seeds"] and prov["wall_time_s"] > 0
    assert zero["test_acc_subsampled"].map(lambda c: c[-1]).max() <= 0.5


def test_one_member_of_a_sweep_equals_the_same_run_alone(tmp_path):
    params = profiles.resolve("carvalho.fig3b", synthetic.ShiftSweep, "smoke")
    runs = params.runs()
    together = synthetic.run(runs, store=Store(tmp_path / "a"), device="cpu", progress=False)
    alone = synthetic.run([runs[-1]], store=Store(tmp_path / "b"), device="cpu", progress=False)
    np.testing.assert_allclose(together["test_acc"].iloc[-1], alone["test_acc"].iloc[0],
                               atol=1e-6)
    np.testing.assert_allclose(together["train_loss"].iloc[-1], alone["train_loss"].iloc[0],
                               rtol=1e-4)


def test_rows_follow_the_order_of_runs_across_subsampling_patterns(tmp_path):
    # Equivariant and equidistant runs subsample different numbers of subclasses, so they
    # train as separate ensembles; the rows must still come back in the order asked for.
    smoke = {k: profiles.resolve(k, synthetic.ShiftSweep, "smoke")
             for k in ("carvalho.fig3b", "carvalho.fig4")}
    a, b = smoke["carvalho.fig3b"].runs(), smoke["carvalho.fig4"].runs()
    runs = [b[0], a[0], b[-1], a[-1]]
    assert a[0].data.n_subsampled_per_class != b[0].data.n_subsampled_per_class
    df = synthetic.run(runs, store=Store(tmp_path), device="cpu", progress=False)
    assert list(df["dataset"]) == [r.data.dataset for r in runs]
    assert list(df["n_train"]) == [r.data.n_train for r in runs]
    assert list(df["f"]) == [r.data.f for r in runs]
