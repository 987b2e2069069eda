"""Rates of each family on this machine, for ``grokpaper plan``: a short calibration, or the
benchmark's JSON (``scripts/benchmark.py``) read as one.

Each family of :mod:`grokpaper.bench` trains through its experiment's own ``train_runs`` at two
ensemble sizes; the two wall times, with the FLOPs and evaluation passes of the family's cost
model for exactly those runs, give its :class:`grokpaper.core.throughput.Rate` (a fixed time
per step and a FLOP rate). The operations a step dispatches are counted too (with the
elementwise optimizer a GPU runs, not the CPU's fused one): an accelerator's assumed rate needs
them. Like the benchmark, this module stands above every wing.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from unittest import mock

from torch.utils._python_dispatch import TorchDispatchMode

from grokpaper import bench
from grokpaper.core import optim
from grokpaper.core.files import atomic_write_text
from grokpaper.core.paths import store_root
from grokpaper.core.throughput import Calibration, Rate, fit

#: Optimizer steps per calibration run (and per op count) and the ensemble sizes it tries.
STEPS = 12
SIZES = (1, 8)
#: The families a plan needs a rate for (every family of the bench).
FAMILIES = bench.FAMILIES


class OpCounter(TorchDispatchMode):
    """Counts the aten operations that compute something (views are free), e.g. kernels on a
    GPU."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        if not func.is_view:
            self.count += 1
        return func(*args, **(kwargs or {}))


def ops_per_step(family: str, *, d_model: int = 128) -> float:
    """Operations one optimizer step of ``family`` dispatches (two runs of different lengths,
    so that setup and evaluations cancel), with the stacked optimizer update a GPU runs."""
    fam = bench.REGISTRY[family]
    counts = []
    for steps in (2, 4):
        with mock.patch.dict(optim.FUSED_KERNELS, clear=True), OpCounter() as counter:
            fam.train(fam.runs(1, steps, d_model), "cpu")
        counts.append(counter.count)
    return (counts[1] - counts[0]) / 2


def measure_rate(family: str, *, device: str, steps: int = STEPS,
                 sizes: Iterable[int] = SIZES, d_model: int = 128) -> Rate:
    """``family``'s rate on ``device`` from timed runs at each ensemble size (after a warm-up)."""
    rows = bench.run_family(family, list(sizes), steps=steps, warmup=2, device=device,
                            d_model=d_model)["results"]
    return rate_from_rows(family, rows, d_model)


def rate_from_rows(family: str, rows: list[dict[str, Any]], d_model: int) -> Rate:
    """The rate through benchmark rows (members, steps, wall_s) of ``family``."""
    fam = bench.REGISTRY[family]
    points = []
    for r in rows:
        cost = fam.cost(fam.runs(r["members"], r["steps"], d_model))
        units = cost.steps + (cost.evals + cost.checks) * cost.eval_batches / 3
        # Relative errors count alike: weigh each run by 1 / wall^2.
        points.append((units, cost.flops(r["members"]), r["wall_s"], 1.0 / r["wall_s"] ** 2))
    return fit(points)


def calibrate(device: str = "cpu", *, families: Iterable[str] = FAMILIES, steps: int = STEPS,
              sizes: Iterable[int] = SIZES) -> Calibration:
    """Measure every family's rate on ``device`` and count its operations per step."""
    families = list(families)
    return Calibration(
        device=device, device_name=bench.device_name(device),
        rates={f: measure_rate(f, device=device, steps=steps, sizes=sizes) for f in families},
        ops_per_step={f: ops_per_step(f) for f in families},
        load_avg=round(os.getloadavg()[0], 2),
        source=f"calibration on {socket.gethostname()}, "
               f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}: {steps} steps at "
               f"{', '.join(map(str, sizes))} members per family")


def from_benchmark(out: dict[str, Any]) -> Calibration:
    """The rates of a ``scripts/benchmark.py`` JSON (families it did not time are missing;
    operations per step are counted here, on the CPU)."""
    d_model = int(out.get("d_model", 128))
    families = [f for f in out["families"] if f["family"] in bench.REGISTRY]
    return Calibration(
        device=out["device"], device_name=out.get("device_name", out["device"]),
        rates={f["family"]: rate_from_rows(f["family"], f["results"], d_model)
               for f in families},
        ops_per_step={f["family"]: ops_per_step(f["family"]) for f in families},
        load_avg=float(out.get("load_avg_1m_at_start", 0.0)),
        source=f"scripts/benchmark.py of {out.get('date_utc', '?')} "
               f"(commit {out.get('git_sha', '?')})")


def cached_path(device: str) -> Path:
    """Where this machine's calibration for ``device`` is kept (in the result store)."""
    return store_root() / "calibration" / f"{socket.gethostname()}-{device}.json"


def load_or_calibrate(device: str, *, refresh: bool = False) -> Calibration:
    """This machine's calibration for ``device``: the cached one, else a new one (saved)."""
    path = cached_path(device)
    if path.is_file() and not refresh:
        found = Calibration.from_json(path.read_text())
        if set(found.rates) >= set(FAMILIES):
            return found
    found = calibrate(device)
    atomic_write_text(path, found.to_json())
    return found
